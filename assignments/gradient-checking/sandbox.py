"""The learner's side of the wall: run a notebook, then call its answers, in processes grade.py starts.

grade.py never runs a learner's code itself. For each submission it starts this file in fresh
interpreters (`python -I -S`, with packages copied out of your environment, so that no path
leads back to your clone), in empty temporary folders, under a time limit:

    run FOLDER SECONDS   execute the notebook's code cells top to bottom, then save every answer
                         the questions name (a function or a value) with dill
    call FOLDER          in a new process, for one question: load its answers, with nnlib replaced
                         by a stand-in that refuses every use, call them on the inputs grade.py
                         wrote, and write down what they return

What comes back is data: JSON, and .npz files of plain arrays that grade.py opens without
unpickling (`decode`). grade.py compares it with the values it computed before any learner's
code ran, so nothing a notebook does to its own process (patching otter, numpy or nnlib,
reading files) reaches the comparison.
"""

import builtins
import importlib.util
import io
import json
import os
import signal
import sys
import time
import types
from pathlib import Path

import numpy as np

# What a sandbox may use: enough for numpy and matplotlib, far less than a runaway loop wants.
MEMORY_BYTES = 4 * 2**30
FILE_BYTES = 2**30
# How much of a value comes back: a learner's answer is a few arrays, not a data set.
MAX_ELEMENTS = 10_000_000
MAX_ITEMS = 200
MAX_DEPTH = 6
AFTER_TIME_UP = 2.0   # seconds for each cell after the notebook's time is up: a definition takes milliseconds


class TimeUp(BaseException):
    """The notebook's time is up. A BaseException, so that `except Exception:` in a learner's loop lets it through."""


class NnlibNotAvailable(Exception):
    """An answer used nnlib, the reference its results are compared with."""


# ---- data that crosses the wall ------------------------------------------------------------------

ARRAY_KINDS = "biuf"   # bool, int, unsigned, float: what an answer's numbers can be


def encode(value, arrays, depth=0):
    """A JSON-able description of `value`; its arrays go into `arrays` (name -> ndarray) as copies."""
    if value is None or value is Ellipsis:
        return {"t": "none" if value is None else "ellipsis"}
    if isinstance(value, bool):
        return {"t": "bool", "v": value}
    if isinstance(value, str):
        return {"t": "str", "v": value[:1000]}
    if isinstance(value, (int, float)) and type(value) in (int, float):
        return {"t": type(value).__name__, "v": value}
    kind = type(value).__name__
    if depth < MAX_DEPTH and isinstance(value, dict):
        items = [(k, v) for k, v in list(value.items())[:MAX_ITEMS] if isinstance(k, str)]
        return {"t": "dict", "v": [[k, encode(v, arrays, depth + 1)] for k, v in items]}
    if depth < MAX_DEPTH and isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        t = next(t for t in (list, tuple, set, frozenset) if isinstance(value, t)).__name__
        return {"t": t, "v": [encode(v, arrays, depth + 1) for v in list(items)[:MAX_ITEMS]]}
    try:
        array = np.array(value, copy=True) if isinstance(value, (np.ndarray, np.generic)) else None
    except Exception:  # an ndarray subclass whose copy fails is not an answer
        array = None
    if array is not None and array.dtype.kind in ARRAY_KINDS:
        if array.size > MAX_ELEMENTS:
            return {"t": "other", "type": kind, "v": f"{array.size:,} numbers, more than grading takes back"}
        name = f"a{len(arrays)}"
        arrays[name] = array
        return {"t": "array", "v": name, "type": kind}
    try:
        shown = repr(value)[:200]
    except Exception:
        shown = "?"
    return {"t": "other", "type": kind, "v": shown}


class Other:
    """A value that did not cross the wall as data: only its type's name and its repr did."""

    def __init__(self, type_name, shown):
        self.type_name, self.shown = type_name, shown

    def __repr__(self):
        return f"<{self.type_name}: {self.shown}>"


def decode(node, arrays, depth=0):
    """The value `encode` described, built from plain types only. Raises ValueError on anything else."""
    if depth > MAX_DEPTH + 1 or not isinstance(node, dict) or not isinstance(node.get("t"), str):
        raise ValueError("not an encoded value")
    t, v = node["t"], node.get("v")
    if t in ("none", "ellipsis"):
        return None if t == "none" else Ellipsis
    simple = {"bool": bool, "str": str, "int": int, "float": float}
    if t in simple:
        if type(v) is not simple[t] and not (t == "float" and type(v) is int):
            raise ValueError(f"a {t} that is a {type(v).__name__}")
        return simple[t](v)
    if t == "dict":
        return {str(k): decode(item, arrays, depth + 1) for k, item in v}
    if t in ("list", "tuple", "set", "frozenset"):
        items = [decode(item, arrays, depth + 1) for item in v]
        if t in ("set", "frozenset"):
            if not all(isinstance(item, (str, int, float, bool, type(None))) for item in items):
                raise ValueError("a set of things that are not plain values")
            return set(items) if t == "set" else frozenset(items)
        return items if t == "list" else tuple(items)
    if t == "array":
        array = arrays[v]
        if not isinstance(array, np.ndarray) or array.dtype.kind not in ARRAY_KINDS:
            raise ValueError("an array that is not numbers")
        return array.copy()
    if t == "other":
        return Other(str(node.get("type"))[:100], str(v)[:200])
    raise ValueError(f"unknown kind {t!r}")


def save_data(base, tree, arrays):
    """tree as base.json and arrays as base.npz, each written whole or not at all."""
    base = Path(base)
    _write(base.with_suffix(".json"), json.dumps(tree).encode())
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    _write(base.with_suffix(".npz"), buffer.getvalue())


def load_data(base, max_bytes=2**28):
    """(tree, arrays) that save_data wrote, read as data only: no pickles, at most max_bytes of JSON and
    of arrays (unpacked: a small .npz may unpack to a huge one)."""
    import zipfile

    base = Path(base)
    json_path, npz_path = base.with_suffix(".json"), base.with_suffix(".npz")
    if json_path.stat().st_size > max_bytes // 8:
        raise ValueError(f"{json_path.name} is {json_path.stat().st_size / 2**20:.0f} MB")
    with zipfile.ZipFile(npz_path) as archive:
        unpacked = sum(info.file_size for info in archive.infolist())
    if unpacked > max_bytes:
        raise ValueError(f"{npz_path.name} unpacks to {unpacked / 2**20:.0f} MB")
    tree = json.loads(json_path.read_text(encoding="utf-8"))
    with np.load(npz_path, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    return tree, arrays


def _write(path, data):
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    os.replace(partial, path)


# ---- stand-ins for otter and nnlib -----------------------------------------------------------------

class _StandInFinder:
    """Imports `top` (and, if `package`, every `top.x`) as stand-in modules made by `make(name)`."""

    def __init__(self, top, make, package):
        self.top, self.make, self.package = top, make, package

    def find_spec(self, fullname, path=None, target=None):
        if fullname == self.top or (self.package and fullname.startswith(self.top + ".")):
            return importlib.util.spec_from_loader(fullname, self, is_package=self.package)
        return None

    def create_module(self, spec):
        return self.make(spec.name)

    def exec_module(self, module):
        pass


class _OtterNotebook:
    """otter.Notebook where a notebook is graded: every method (check, export, ...) does nothing."""

    def __init__(self, *args, **kwargs):
        pass

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return lambda *args, **kwargs: None


def _otter(name):
    module = types.ModuleType(name, "otter-grader's stand-in: no test runs in the learner's process")
    module.Notebook = _OtterNotebook
    return module


class _Refused:
    """Whatever an answer takes from nnlib: any use raises NnlibNotAvailable, naming what was used."""

    def __init__(self, name):
        self._name = name

    def _refuse(self, *args, **kwargs):
        raise NnlibNotAvailable(
            f"{self._name} was used; answers are called where nnlib is not available, because nnlib "
            "holds the reference they are compared with: compute with numpy")

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return _Refused(f"{self._name}.{attr}")


for _method in ("__call__", "__iter__", "__getitem__", "__len__", "__bool__", "__array__", "__float__",
                "__index__", "__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__",
                "__truediv__", "__rtruediv__", "__matmul__", "__rmatmul__", "__neg__", "__contains__"):
    setattr(_Refused, _method, _Refused._refuse)


class _RefusingModule(types.ModuleType):
    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return _Refused(f"{self.__name__}.{attr}")


def _nnlib(name):
    module = _RefusingModule(name, "nnlib's stand-in: answers may not use nnlib")
    module.__path__ = []
    return module


def _stand_ins(nnlib):
    """otter always; nnlib too when `nnlib` is true. Installed ahead of every other importer."""
    finders = [_StandInFinder("otter", _otter, package=False)]
    if nnlib:
        sys.modules.pop("nnlib", None)
        finders.append(_StandInFinder("nnlib", _nnlib, package=True))
    sys.meta_path[:0] = finders


# ---- the process itself ------------------------------------------------------------------------------

def _limit(seconds):
    """Memory and file-size caps, and a CPU cap that stops this process even if grade.py is gone."""
    try:
        import resource
    except ImportError:   # not POSIX: the wall-clock limit of grade.py still holds
        return
    caps = [(resource.RLIMIT_AS, MEMORY_BYTES), (resource.RLIMIT_FSIZE, FILE_BYTES),
            (resource.RLIMIT_CPU, int(2 * seconds) + 30)]
    for which, cap in caps:
        try:
            resource.setrlimit(which, (cap, cap))
        except (ValueError, OSError):   # macOS refuses RLIMIT_AS: no memory cap there
            pass
    if hasattr(signal, "SIGXFSZ"):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # a write past the cap fails instead of killing


class _Discard(io.TextIOBase):
    """Where a learner's prints go: a notebook may print a million lines, and nobody reads them here."""

    def writable(self):
        return True

    def write(self, text):
        return len(text)


# ---- run: the notebook -------------------------------------------------------------------------------

def run(folder, seconds):
    """Run cells.json's cells in a fresh __main__ (cwd: FOLDER/work); keep status.json up to date;
    save the answers named in cells.json to FOLDER/answers/NAME.pkl.

    The notebook has `seconds` in all. A cell still running then is stopped, and each later cell
    gets AFTER_TIME_UP seconds: an answer defined below a slow cell still counts."""
    folder = Path(folder)
    job = json.loads((folder / "cells.json").read_text(encoding="utf-8"))
    names, cells = job["answers"], job["cells"]
    (folder / "answers").mkdir(exist_ok=True)
    status = {"cell": None, "errors": [], "timed_out": None, "saved": {}, "finished": False}

    def report():
        _write(folder / "status.json", json.dumps(status).encode())

    main = types.ModuleType("__main__")   # dill saves what is defined in __main__ by value
    sys.modules["__main__"] = main
    namespace = main.__dict__
    builtins.display = lambda *args, **kwargs: None   # IPython's, used in notebooks without an import
    builtins.exit = builtins.quit = sys.exit
    _stand_ins(nnlib=False)
    sys.stdout = sys.stderr = _Discard()
    os.chdir(folder / "work")

    def time_up(signum, frame):
        raise TimeUp()

    signal.signal(signal.SIGALRM, time_up)
    deadline = time.monotonic() + seconds
    saved = {}
    status["last"] = cells[-1]["number"] if cells else None
    for cell in cells:
        status["cell"] = cell["number"]
        report()
        left = deadline - time.monotonic()
        try:
            # again every second after the first: a loop that swallows one TimeUp meets the next
            signal.setitimer(signal.ITIMER_REAL, left if left > 0 else AFTER_TIME_UP, 1.0)
            error = run_cell(cell["number"], cell["source"], namespace)
            signal.setitimer(signal.ITIMER_REAL, 0)
            if error:
                status["errors"].append(error)
                if error["type"] == "TimeUp" and status["timed_out"] is None:
                    status["timed_out"] = cell["number"]
            save_answers(namespace, names, saved, folder / "answers", status)
        except TimeUp:   # it struck between the cell's end and the timer's, or while an answer was saved
            signal.setitimer(signal.ITIMER_REAL, 0)
            if status["timed_out"] is None:
                status["timed_out"] = cell["number"]
    save_answers(namespace, names, saved, folder / "answers", status, final=True)
    status["finished"] = True
    report()


def run_cell(number, source, namespace):
    """Execute one cell; None, or what went wrong: its type, the line in this cell, the message."""
    filename = f"<cell {number}>"
    try:
        code = compile(without_magics(source), filename, "exec")
    except (SyntaxError, ValueError) as e:   # ValueError: a null byte in the source
        return {"cell": number, "type": type(e).__name__, "line": getattr(e, "lineno", None),
                "message": str(getattr(e, "msg", e))[:300]}
    try:
        exec(code, namespace)
    except BaseException as e:   # SystemExit and KeyboardInterrupt included: the next cell still runs
        trace, line = e.__traceback__, None
        while trace is not None:
            if trace.tb_frame.f_code.co_filename == filename:
                line = trace.tb_lineno
                break
            trace = trace.tb_next
        error = {"cell": number, "type": type(e).__name__, "line": line}
        try:
            error["message"] = str(e)[:300]
        except Exception:
            error["message"] = "?"
        if isinstance(e, ImportError) and isinstance(e.name, str):
            error["module"] = e.name
        return error
    return None


def without_magics(source):
    """IPython's `%magic` and `!shell` lines become `pass` (same indentation, same line numbers);
    a `%%cell magic` line is dropped and the cell's body runs as Python."""
    lines = source.split("\n")
    out = []
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")) and not (i == 0 and stripped.startswith("%%")):
            out.append(line[:len(line) - len(stripped)] + "pass")
        elif i == 0 and stripped.startswith("%%"):
            out.append("")
        else:
            out.append(line)
    return "\n".join(out)


def save_answers(namespace, names, saved, folder, status, final=False):
    """Save each answer newly bound since the last call (every one when final) as NAME.pkl."""
    import dill

    for name in names:
        path = folder / f"{name}.pkl"
        if name not in namespace:
            if final and path.exists():
                path.unlink()   # deleted again by a later cell: the notebook ends without it
                status["saved"].pop(name, None)
            continue
        value = namespace[name]
        if not final and name in saved and saved[name] is value:
            continue
        try:
            data = dill.dumps(value, recurse=True)
        except TimeUp:
            raise
        except BaseException as e:
            status["saved"][name] = f"{type(e).__name__}: {str(e)[:200]}"
            continue
        _write(path, data)
        saved[name] = value
        status["saved"][name] = None


# ---- call: one question's answers ---------------------------------------------------------------------

def call(folder):
    """Load the answers calls.json names from FOLDER/answers, make its calls, write results.json/.npz."""
    folder = Path(folder)
    job, arrays = load_data(folder / "calls")
    _stand_ins(nnlib=True)
    sys.stdout = sys.stderr = _Discard()
    os.chdir(folder / "work")
    import dill

    answers, problems = {}, {}
    for name in job["answers"]:
        path = folder / "answers" / f"{name}.pkl"
        if not path.exists():
            problems[name] = "missing"
            continue
        try:
            answers[name] = dill.loads(path.read_bytes())
        except BaseException as e:
            problems[name] = f"could not be loaded: {type(e).__name__}: {str(e)[:200]}"
    out, results = {}, []
    for spec in job["calls"]:
        results.append(call_one(spec, answers, problems, arrays, out))
    save_data(folder / "results", {"problems": problems, "results": results}, out)


def call_one(spec, answers, problems, arrays, out):
    """{"returns": [encoded value per call], "error": None or "Type: message", "args_after": ...}."""
    name = spec["answer"]
    if name not in answers:
        return {"returns": [], "error": None, "problem": problems.get(name, "missing")}
    if spec["kind"] == "value":
        return {"returns": [encode(answers[name], out)], "error": None}
    args, kwargs = decode(spec["args"], arrays), decode(spec["kwargs"], arrays)
    if spec.get("read_only"):
        for array in _arrays_in(args):
            array.flags.writeable = False
    returns, error = [], None
    try:
        for _ in range(spec.get("times", 1)):
            returns.append(encode(answers[name](*args, **kwargs), out))
    except BaseException as e:
        try:
            error = f"{type(e).__name__}: {str(e)[:300]}"
        except Exception:
            error = type(e).__name__
    result = {"returns": returns, "error": error}
    if spec.get("report_args"):
        result["args_after"] = encode(args, out)
    return result


def _arrays_in(value):
    if isinstance(value, np.ndarray):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _arrays_in(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _arrays_in(item)


def main(argv):
    command, folder = argv[0], argv[1]
    seconds = float(argv[2]) if len(argv) > 2 else 60.0
    _limit(seconds)
    if command not in ("run", "call"):
        raise SystemExit(f"unknown command {command!r}: run or call")
    try:
        run(folder, seconds) if command == "run" else call(folder)
    except BaseException:   # this file's own failure: to stderr.txt, where grade.py's maintainer looks
        import traceback
        traceback.print_exc(limit=20, file=sys.__stderr__)
        raise SystemExit(3) from None
