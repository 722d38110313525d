"""How the doctor meets a learner's code: names, shapes, calls, answers and files.

Nothing here judges. It turns what a learner wrote into arrays and numbers, and says in one
line what it could not use: doctor.py measures, diagnosis.py judges.
"""

import json
import re
import sys
import traceback
from pathlib import Path

import numpy as np

# -- names and shapes -------------------------------------------------------------------------


def match_gradients(parameters, gradients):
    """{parameter key: gradient key}, the way learners name them: dW1 or dw1 for W1, db1 for b1 or
    B1, or the parameter's own name (CS231n's grads['W1']). Other entries (dZ1, dA1, ...) are ignored."""
    if not isinstance(parameters, dict) or not parameters:
        raise ValueError("parameters must be a non-empty dict of arrays, e.g. {'W1': ..., 'b1': ...}")
    if not isinstance(gradients, dict):
        raise ValueError(f"gradients must be a dict such as {{'dW1': ..., 'db1': ...}}, got {type(gradients).__name__}")
    by_lower = {}
    for g in gradients:
        by_lower.setdefault(str(g).lower(), []).append(g)
    matched, missing = {}, []
    for p in parameters:
        for name in ("d" + str(p), str(p)):
            if name in gradients:
                matched[p] = name
                break
            if len(by_lower.get(name.lower(), [])) == 1:
                matched[p] = by_lower[name.lower()][0]
                break
        else:
            missing.append(p)
    if missing:
        raise ValueError(f"no gradient for parameter(s) {missing}: the parameters are {list(parameters)} "
                         f"and the gradients {list(gradients)}; name the gradient of W1 dW1 (or dw1, or W1 "
                         "itself), of b1 db1")
    for p, g in matched.items():
        if gradients[g] is None:
            raise ValueError(f"{g} is None: your backward leaves it out (a forgotten assignment or return?)")
        P, G = np.shape(parameters[p]), np.shape(gradients[g])
        if P != G:
            hint = " (transposed?)" if G == P[::-1] else ""
            raise ValueError(f"{g} has shape {G} but {p} has shape {P}{hint}: every gradient must have "
                             "the shape of its parameter")
    return matched


LAYOUTS = ("columns", "rows")


def examples_in(X, parameters, m=None, layout=None):
    """(m, how): the number of examples and a line that says how it was found.

    The course puts examples in columns (X is (n_x, m), W1 is (n_h, n_x)); CS231n and most
    libraries in rows (X is (m, n_x), W1 is (n_x, n_h)). The first weight matrix decides which,
    when only one layout fits its shape; m= or layout= decide when both fit or neither does.
    """
    if m is not None and (isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 1):
        raise ValueError(f"m must be the number of examples, a whole number >= 1, got {m!r}")
    if layout is not None and layout not in LAYOUTS:
        raise ValueError(f"layout must be 'columns' (X is (n_x, m), the course's) or 'rows' (X is (m, n_x)), "
                         f"got {layout!r}")
    if m is not None:
        sides = tuple(np.shape(X)) if X is not None and np.ndim(X) == 2 else ()
        odd = f"; but X is {sides}: neither side is {m}, is m right?" if sides and m not in sides else ""
        return int(m), f"m = {m} examples (as given{odd})"
    if X is None or np.ndim(X) != 2:
        return None, ""
    shape = tuple(np.shape(X))
    if layout is not None:
        m = shape[1] if layout == "columns" else shape[0]
        return int(m), f"m = {m} examples: X is {shape} with examples in {layout} (as given)"
    weights = [(k, np.shape(v)) for k, v in parameters.items() if np.ndim(v) == 2 and str(k).lower().startswith("w")]
    weights = weights or [(k, np.shape(v)) for k, v in parameters.items() if np.ndim(v) == 2]
    for key, W in weights:
        columns, rows = shape[0] == W[1], shape[1] == W[0]
        if columns and rows:
            return int(shape[1]), (f"m = {shape[1]} examples, assuming examples in columns (the course's): X {shape} "
                                   f"and {key} {W} fit either layout; give m= (--m) or layout='rows' if not")
        if columns:
            return int(shape[1]), f"m = {shape[1]} examples in the columns of X {shape} ({key} is {W})"
        if rows:
            return int(shape[0]), f"m = {shape[0]} examples in the rows of X {shape} ({key} is {W})"
    return None, (f"m unknown: X {shape} fits no weight matrix's shape in either layout; give m= (--m) to have "
                  "a factor of 1/m or m named")


# -- calling the learner's code ---------------------------------------------------------------

def where(error):
    """' (my_network.py, line 12, in gradient_check_n)': the learner's line that raised."""
    frames = [f for f in traceback.extract_tb(error.__traceback__)
              if not (Path(f.filename).parent == Path(__file__).parent or "site-packages" in f.filename
                      or f.filename.startswith("<frozen ")
                      or f"{Path('lib', 'python')}" in f.filename)]
    if not frames:
        return ""
    f = frames[-1]
    name = Path(f.filename).name
    place = "" if name.startswith("<") or name[:-3].isdigit() else f"{name}, "  # a notebook cell has no useful name
    if re.fullmatch(r"<code cell \d+>", f.filename):  # load_file's name for a notebook's cell
        place = f"{f.filename[1:-1]}, "
    return f" ({place}line {f.lineno}, in {f.name})"


def call(fn, what, *args):
    """Call the learner's function; whatever it raises becomes one line that says what and where."""
    if not callable(fn):
        raise ValueError(f"{what} must be a function, got {type(fn).__name__}")
    try:
        return fn(*args)
    except KeyboardInterrupt:
        raise
    except EOFError as e:
        raise ValueError(f"your {what} called input(){where(e)}, which waits for someone to type: the doctor "
                         "runs with no keyboard. Remove the input() call.") from e
    except (Exception, SystemExit) as e:  # the learner's code can fail in any way: say which, in one line
        message = str(e).splitlines()[0] if str(e) else ""
        raise ValueError(f"your {what} raised {type(e).__name__}{where(e)}: {message}") from e


def scalar_cost(value, what):
    """The cost as one float64 number, or one line that says why it is not one."""
    if isinstance(value, tuple):
        raise ValueError(f"{what} must return one number, got a tuple of {len(value)}: return the cost alone (for a "
                         "forward pass that returns (cost, cache): cost=lambda p: forward(p)[0])")
    if value is None or isinstance(value, (str, bytes, bool, np.bool_)):
        hint = " (a forgotten return?)" if value is None else ""
        raise ValueError(f"{what} must return a number, got {type(value).__name__}{hint}")
    x = np.asarray(value)
    if x.size != 1 or x.dtype.kind not in "fiu":
        raise ValueError(f"{what} must return one real number (the cost), got {x.dtype} of shape {x.shape}")
    if x.dtype.kind in "iu":
        raise ValueError(f"{what} returns a whole number ({x.dtype.name} {x.reshape(()).item()}): a cost that "
                         "cannot change by a tiny step has a numeric gradient of 0 everywhere. Return the float "
                         "(no int(), round() or //).")
    if x.dtype.itemsize < 8:
        raise ValueError(f"{what} returns {x.dtype}: a gradient check needs the cost in float64 (float32's "
                         "rounding alone fails the check). Compute it from float64 arrays.")
    return float(x.reshape(()))


# -- what a checker answered ------------------------------------------------------------------

_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?!\w)|\b(?:nan|inf)\b", re.IGNORECASE)
# What a checker calls its answer: first 'difference' (or 'diff'), then a (relative) error. Whole words
# (an underscore counts as a break: rel_error, max_rel_error), so 'ReLU' or 'differentiable' is no label.
_DIFFERENCE = re.compile(r"(?<![a-z])diff(?:erence)?s?(?![a-z])", re.IGNORECASE)
_ERROR = re.compile(r"(?<![a-z])(?:rel(?:ative)?[ _-]?(?:err(?:or)?|diff(?:erence)?)?|err(?:or)?s?)(?![a-z])",
                    re.IGNORECASE)
# A line that states a setting ("error threshold 2e-07", "epsilon = 1e-07") is not an answer.
_SETTING = re.compile(r"threshold|toleran|(?<![a-z])eps(?:ilon)?(?![a-z])", re.IGNORECASE)


def _labelled(key):
    return bool(_DIFFERENCE.search(key) or _ERROR.search(key))


def _is_number(x):
    return not isinstance(x, (bool, np.bool_, str, bytes)) and np.size(x) == 1 and \
        np.asarray(x).dtype.kind in "fiu"


def read_answer(returned, printed, names=()):
    """What a checker answered: (value, how). value is a float (its difference), or a bool for a
    checker that only says pass/fail (np.allclose-style). Read from what it returned: a number, a
    string with a number, (bool, difference), (gradapprox, difference), {'difference': ...}, or a
    dict of one number per parameter (the worst is its answer; names: the parameters' and the
    gradients' names); else from what it printed: the number after 'difference' or 'error' (the
    worst, when it prints one per parameter), or the only number. Raises ValueError when there is
    no answer to read."""
    given = returned
    if isinstance(returned, dict):
        named = [v for k, v in returned.items() if _labelled(str(k)) and _is_number(v)]
        if len(named) != 1 and returned and set(map(str, returned)) <= set(names) \
                and all(_is_number(v) for v in returned.values()):
            worst = max(returned, key=lambda k: float(np.asarray(returned[k], dtype=float).reshape(())))
            return (float(np.asarray(returned[worst], dtype=float).reshape(())),
                    f"returned: the largest of its {len(returned)} per-parameter numbers")
        returned = named[0] if len(named) == 1 else tuple(returned.values())
    if isinstance(returned, (tuple, list)):
        numbers = [x for x in returned if _is_number(x)]
        flags = [x for x in returned if isinstance(x, (bool, np.bool_))]
        if len(numbers) > 1:
            raise ValueError(f"your checker returned {len(returned)} numbers {_short(returned)}: return the "
                             "difference alone, so that the doctor knows which one it is")
        returned = numbers[0] if numbers else flags[0] if len(flags) == 1 else None
    if _is_number(returned):
        return float(np.asarray(returned, dtype=float).reshape(())), "returned"
    texts = [("printed", printed)]
    if isinstance(returned, (str, bytes)):  # a message: its number first, then what it printed
        texts.insert(0, ("returned", returned.decode(errors="replace") if isinstance(returned, bytes) else returned))
    for source, text in texts:
        found = _number_in(text)
        if found:
            value, count, nans = found
            left_out = f" ({nans} NaN left out)" if nans else ""
            return value, (source if count == 1 else f"{source}: the worst of {count}{left_out}")
    if isinstance(returned, (bool, np.bool_)):
        return bool(returned), "returned True/False"
    kind = type(given).__name__
    said = (f"returned the {kind} {_excerpt(given)}" if isinstance(given, (str, bytes)) else
            "returned None (a forgotten return?)" if given is None else f"returned {kind}")
    out = re.sub(r"\x1b\[[0-9;]*m", "", printed).strip()
    said += f" and printed {out[:80]!r}" if out else " and printed nothing"
    raise ValueError(f"your checker {said}, with no number in it: return the difference itself (or print it "
                     "after the word 'difference')")


def _number_in(text):
    """(the number after 'difference', the worst if several lines have one, how many, how many of
    them were NaN); failing that the same for '(relative) error', on lines that state no setting
    (threshold, epsilon); failing that (the only number, 1, 0), or None. A NaN among other numbers
    (a 0/0 at an entry where both gradients are 0) is left out of the worst."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    lines = text.splitlines()
    for label_of, lines_of in ((_DIFFERENCE, lines), (_ERROR, [x for x in lines if not _SETTING.search(x)])):
        labelled = []
        for line in lines_of:
            label = label_of.search(line)
            after = _NUMBER.findall(line[label.end():]) if label else []
            if after:
                labelled.append(float(after[0]))
        if labelled:
            numbers = [x for x in labelled if x == x] or labelled
            return max(numbers), len(labelled), len(labelled) - len(numbers) if len(labelled) > 1 else 0
    numbers = _NUMBER.findall(text)
    return (float(numbers[0]), 1, 0) if len(numbers) == 1 else None


def _excerpt(text):
    text = text.decode(errors="replace") if isinstance(text, bytes) else text
    return repr(text if len(text) <= 80 else text[:77] + "...")


def _short(values):
    return "(" + ", ".join(f"{float(np.asarray(v).reshape(())):.3g}" if _is_number(v) else type(v).__name__
                           for v in values) + ")"


# -- a learner's file, for `python -m nnlib check my_network.py` ------------------------------

COURSE_NAMES = {
    "forward": ("forward_propagation_n", "forward_propagation"),
    "backward": ("backward_propagation_n", "backward_propagation"),
    "checker": ("gradient_check_n", "gradient_check"),
    "data": ("gradient_check_n_test_case", "gradient_check_test_case", "test_case"),
}


def notebook_cells(path):
    """The code cells of a .ipynb file, as [(number, Python source)], numbered as code cells from 1.
    IPython's syntax becomes plain Python: a line magic (%time ...) or shell line (!ls) becomes
    `pass` (so an `if` whose body it was stays Python), `files = !ls` or `t = %timeit ...` an empty
    result, `np.dot?` (help) `pass`; a %%time or %%capture cell keeps its body, other %% cells
    (%%bash, %%html, %%writefile) are skipped."""
    try:
        cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
        if not isinstance(cells, list):
            raise TypeError(f"its 'cells' is a {type(cells).__name__}, not a list")
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError(f"{Path(path).name} is not a readable notebook ({type(e).__name__}): save it from Jupyter "
                         "again, or export it as a .py file (File > Save and Export Notebook As > Executable "
                         "Script)") from e
    out = []
    for cell in (c for c in cells if isinstance(c, dict) and c.get("cell_type") == "code"):
        source = cell.get("source", [])
        source = "".join(source) if isinstance(source, list) else str(source)
        if source.lstrip().startswith("%%"):  # a cell magic: the body is Python only under %%time, %%capture
            first, _, body = source.lstrip().partition("\n")
            source = body if first.startswith(("%%time", "%%capture")) else ""
        out.append((len(out) + 1, "\n".join(_plain_python(line) for line in source.splitlines())))
    return out


_SHELL_ASSIGN = re.compile(r"^(\s*[\w.\[\]'\", ]+?)\s*=\s*[!%]")  # files = !ls, t = %timeit f()
_HELP = re.compile(r"^\s*(\?\??[\w.]+|[\w.]+\?\??)\s*$")  # np.dot? np.dot?? ?np.dot


def _plain_python(line):
    indent = line[:len(line) - len(line.lstrip())]
    if line.lstrip().startswith(("%", "!")) or _HELP.match(line):
        return indent + "pass"
    assign = _SHELL_ASSIGN.match(line)
    return f"{assign.group(1)} = []" if assign else line


def load_file(path, forward=None, backward=None, checker=None, data=None, notes=None):
    """Import a learner's .py file (or the code cells of a .ipynb) and find its functions by the
    course's names (or the names given). What the file prints is left alone: the CLI runs it in a
    child process whose stdout is the terminal's stderr. Returns keyword arguments for doctor.triangulate().

    A notebook's cells run one by one, as Jupyter runs them: a cell that fails (a test cell's assert,
    a file it cannot find) is told in `notes` (a list, when given), naming the cell and its line, and
    the doctor goes on with what the other cells defined. A .py file runs as one module.
    Raises ValueError with one line on anything unusable: a missing file or function (and the
    failure that kept it from being defined), a data function that does not return (X, Y, parameters)."""
    import types

    path = Path(path)
    if not path.is_file() or path.suffix not in (".py", ".ipynb"):
        raise ValueError(f"{path}: no such Python file or notebook (.py or .ipynb)")
    folder = str(path.resolve().parent)  # resolved now: the file's own code may os.chdir()
    module = types.ModuleType(f"learner_{path.stem}")
    module.__file__ = str(path.resolve())
    module.display = print  # a notebook's display(...) outside Jupyter
    pieces = notebook_cells(path) if path.suffix == ".ipynb" else [(None, path.read_text(encoding="utf-8"))]
    failures = []
    sys.path.insert(0, folder)  # the learner's own helper modules, next to it
    try:
        for number, source in pieces:
            failure = _run_piece(source, f"<code cell {number}>" if number else str(path), module)
            if failure and number:  # its line is told in the cell: "code cell 3 raised X (line 2, ...)"
                failure = f"code cell {number} raised {failure.replace(f'(code cell {number}, ', '(')}"
            if failure:
                failures.append(failure)
    finally:
        if folder in sys.path:
            sys.path.remove(folder)
    if notes is not None:
        rest = "the other cells" if path.suffix == ".ipynb" else "what the file defined before that"
        notes += [f"{failure} (the doctor went on with {rest})" for failure in failures]
    given = {"forward": forward, "backward": backward, "checker": checker, "data": data}
    found = {}
    for role, names in COURSE_NAMES.items():
        candidates = [given[role]] if given[role] else list(names)
        hit = next((n for n in candidates if callable(getattr(module, n, None))), None)
        if hit is None and (role != "checker" or given[role]):
            if failures:  # what kept it from being defined
                raise ValueError(f"could not import {path.name}: {failures[0]}; so it has no function "
                                 f"{' or '.join(candidates)}")
            raise ValueError(f"{path.name} has no function {' or '.join(candidates)} (name it with "
                             f"--{role} NAME)")
        found[role] = getattr(module, hit) if hit else None
    data = call(found["data"], f"{found['data'].__name__}()")
    if not (isinstance(data, tuple) and len(data) == 3):
        raise ValueError(f"{found['data'].__name__}() must return (X, Y, parameters), got {type(data).__name__}")
    X, Y, parameters = data
    if not isinstance(parameters, dict):
        raise ValueError(f"{found['data'].__name__}() must return (X, Y, parameters) with parameters a dict, "
                         f"got {type(parameters).__name__}")
    kwargs = dict(parameters=parameters, forward_propagation=found["forward"],
                  backward_propagation=found["backward"], X=X, Y=Y)
    if found["checker"] is not None:
        learner_checker = found["checker"]

        def checker(p, g):
            return learner_checker(p, g, X, Y)
        checker.__name__ = learner_checker.__name__
        kwargs["checker"] = checker
    return kwargs


def _run_piece(source, name, module):
    """Run one cell (or a whole .py file) in the module; what it raised, in one line, or ""."""
    try:
        exec(compile(source, name, "exec"), module.__dict__)  # noqa: S102 (the learner's own file)
    except SyntaxError as e:
        return f"SyntaxError (line {e.lineno}): {e.msg}"
    except EOFError as e:
        return f"EOFError{where(e)}: it calls input(), which waits for someone to type; the doctor has no keyboard"
    except (Exception, SystemExit) as e:  # whatever the learner's file raises on import, in one line
        message = str(e).splitlines()[0] if str(e) else ""
        return f"{type(e).__name__}{where(e)}" + (f": {message}" if message else "")
    return ""
