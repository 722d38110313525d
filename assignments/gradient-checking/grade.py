"""Grade a class's notebooks into one CSV, with tests the notebooks cannot reach: one command.

    python assignments/gradient-checking/grade.py SUBMISSIONS... [-o grades.csv] [-j N] [-t 60] [--feedback DIR]

SUBMISSIONS are files (.ipynb, or the .zip the notebook's export cell makes) or folders of them;
every file handed in gets a row, with a grading_status that says what happened to it. For each
notebook:

1. its code cells run in a sandbox (sandbox.py): a fresh Python in an empty temporary folder,
   with copies of numpy, matplotlib, dill and nnlib but no path to this clone; after --timeout
   seconds the cell running is stopped and each later cell gets 2 s;
2. the answers the questions name are saved (dill) and, one question at a time, loaded into
   another fresh process where nnlib refuses every use (it is the reference) and called on
   inputs drawn for this run;
3. what they return comes back as plain data and is judged here, against values computed from
   nnlib before any notebook ran (questions.py). No learner code runs in this process.

The CSV is written as submissions finish (Ctrl-C keeps what is graded) and sorted at the end.
--feedback DIR writes DIR/<name>.txt per submission, safe to hand back: the public tests' results
with their messages, and the hidden tests' names and results only.
"""

import argparse
import csv
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import warnings
import zipfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import questions  # noqa: E402
import sandbox  # noqa: E402  (only its data functions run here: encode, decode, save_data, load_data)

MASTER = HERE / "gradient-checking.ipynb"
# What a graded notebook can import: requirements.txt's computing packages, dill to carry its
# answers out, and nnlib (a copy). Their dependencies come along; Jupyter and otter do not.
SANDBOX_PACKAGES = ("numpy", "matplotlib", "tqdm", "threadpoolctl", "dill")
MAX_NOTEBOOK_BYTES = 100 * 2**20
GRACE = 5   # seconds a notebook gets after its time is up to save its answers, before it is killed
COLUMNS_AFTER = ["total", "percent", "grading_status", "seconds", "failed_tests"]


# ---- the sandbox: an interpreter and packages with no path into this clone ----------------------------

class Sandbox:
    """A folder with copies of SANDBOX_PACKAGES, of nnlib (apart) and of sandbox.py (runner/), and the
    base interpreter of this environment, run isolated (-I -S): a notebook finds neither this clone nor
    its virtual environment through sys.path, sys.executable or nnlib.__file__."""

    def __init__(self, root):
        self.root = Path(root)
        # "site-packages" in both paths: dill saves a module found elsewhere by value, which would carry
        # numpy, or the real nnlib, into the process that calls the answers
        self.site, self.nnlib = self.root / "site-packages", self.root / "nnlib" / "site-packages"
        self.runner = self.root / "runner"
        self.python = Path(getattr(sys, "_base_executable", "") or sys.executable)
        for name, dist in distributions(SANDBOX_PACKAGES).items():
            copy_distribution(name, dist, self.site)
        spec = importlib.util.find_spec("nnlib")
        shutil.copytree(Path(spec.origin).parent, self.nnlib / "nnlib",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        self.runner.mkdir()
        shutil.copy2(HERE / "sandbox.py", self.runner / "sandbox.py")
        (self.root / "matplotlib").mkdir()
        done = subprocess.run(self.command("import numpy, dill, nnlib, sandbox", nnlib=True),
                              env=self.environ(self.root), capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise SystemExit(f"the grading sandbox does not start ({self.python} -I -S with the copied "
                             f"packages):\n{done.stderr.strip()[-2000:]}")

    def command(self, code, nnlib):
        paths = [str(self.site)] + ([str(self.nnlib)] if nnlib else []) + [str(self.runner)]
        return [str(self.python), "-I", "-S", "-X", "utf8", "-c", f"import sys; sys.path[:0] = {paths!r}; {code}"]

    def environ(self, home):
        env = {"PATH": os.defpath, "HOME": str(home), "TMPDIR": str(home), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
               "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               "MPLBACKEND": "Agg", "MPLCONFIGDIR": str(self.root / "matplotlib"), "NNLIB_PROGRESS": "0"}
        for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "SYSTEMROOT"):   # what this machine's BLAS needs
            if key in os.environ:
                env[key] = os.environ[key]
        return env

    def start(self, what, folder, seconds):
        """Start sandbox.py's `what` ("run" or "call") on folder, in a session of its own (killed whole)."""
        command = self.command("import sandbox; sandbox.main(sys.argv[1:])", nnlib=(what == "run"))
        with LIVE_LOCK, open(folder / "stderr.txt", "wb") as stderr:
            if STOPPING.is_set():
                raise KeyboardInterrupt   # Ctrl-C: no new sandbox
            process = subprocess.Popen(command + [what, str(folder), f"{seconds:g}"], cwd=folder / "work",
                                       env=self.environ(folder / "work"), stdin=subprocess.DEVNULL,
                                       stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)
            LIVE.add(process)
        return process


def distributions(names):
    """The installed distributions `names` need, theirs included (extras and absent optional ones left out)."""
    found, todo = {}, list(names)
    while todo:
        name = re.sub(r"[-_.]+", "-", todo.pop()).lower()
        if name in found:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            if name in names:
                raise SystemExit(f"{name} is not installed: python -m pip install -r requirements-instructor.txt") \
                    from None
            continue   # a dependency for another platform (colorama on Windows)
        found[name] = dist
        for requirement in dist.requires or []:
            if not re.search(r"\bextra\s*==", requirement):
                todo.append(re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement).group(1))
    return found


def copy_distribution(name, dist, site):
    """Copy (not link: a learner's write must not reach your environment) the files a distribution installed."""
    if dist.files is None:
        raise SystemExit(f"{name} lists no installed files (no RECORD): reinstall it with pip to grade")
    for file in dist.files:
        parts = Path(file).parts
        if parts[0] == ".." or "__pycache__" in parts or file.suffix == ".pyc":
            continue
        source = Path(dist.locate_file(file))
        if source.is_file():
            target = site / file
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


# ---- processes: started, timed, and killed whole ----------------------------------------------------------

LIVE = set()
LIVE_LOCK = threading.Lock()
STOPPING = threading.Event()


def wait(process, seconds):
    """(exit code, timed out) of process, killed with all its children when seconds have passed."""
    try:
        process.wait(timeout=seconds)
        timed_out = False
    except subprocess.TimeoutExpired:
        timed_out = True
    finally:
        kill(process)
        with LIVE_LOCK:
            LIVE.discard(process)
    return process.wait(), timed_out


def kill(process):
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


# ---- what was handed in -----------------------------------------------------------------------------------

def find_submissions(paths):
    """Every file given, and every entry of every folder given (hidden files aside), sorted by name."""
    found = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found += sorted(p for p in path.iterdir() if not p.name.startswith("."))
        elif path.exists():
            found.append(path)
        else:
            raise SystemExit(f"{raw}: no such file or folder")
    if not found:
        raise SystemExit(f"nothing to grade in {', '.join(map(str, paths))}")
    names = [p.name for p in found]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise SystemExit(f"two submissions share the name {twice[0]}: the CSV names rows by file name; rename one")
    return found


def read_notebook(path, assignment, answers):
    """(code cells as [{"number", "source"}], None), or (None, why this file is not graded)."""
    import nbformat

    if path.is_dir():   # a folder per learner, as some course platforms export hand-ins
        inside = sorted(p for p in path.iterdir() if p.suffix.lower() in (".ipynb", ".zip")
                        and p.is_file() and not p.name.startswith("."))
        if len(inside) != 1:
            return None, (f"not graded: a folder with {len(inside)} notebooks or zips in it; it must hold one"
                          if inside else "not a notebook: a folder with no .ipynb or .zip in it")
        return read_notebook(inside[0], assignment, answers)
    suffix = path.suffix.lower()
    if suffix == ".zip":
        try:
            with zipfile.ZipFile(path) as archive:
                inside = [i for i in archive.infolist() if i.filename.lower().endswith(".ipynb")
                          and not i.is_dir() and "__MACOSX" not in i.filename
                          and not Path(i.filename).name.startswith(".")]
                named = [i for i in inside if Path(i.filename).name == f"{assignment}.ipynb"]
                if not inside:
                    return None, "not a notebook: a zip with no .ipynb in it"
                if len(inside) > 1 and len(named) != 1:
                    return None, f"not graded: a zip with {len(inside)} notebooks; hand in one"
                info = (named or inside)[0]
                if info.file_size > MAX_NOTEBOOK_BYTES:
                    return None, f"not graded: its notebook is {info.file_size / 2**20:.0f} MB"
                data = archive.read(info)
        except (zipfile.BadZipFile, OSError, RuntimeError) as e:
            return None, f"not a notebook: a .zip that cannot be read ({e})"
    elif suffix in (".ipynb", ".json"):
        if path.stat().st_size > MAX_NOTEBOOK_BYTES:
            return None, f"not graded: {path.stat().st_size / 2**20:.0f} MB is too large for a notebook"
        data = path.read_bytes()
    else:
        return None, f"not a notebook: a {suffix} file" if suffix else "not a notebook: a file without extension"
    if not data.strip():
        return None, "not a notebook: an empty file"
    try:
        text = data.decode("utf-8-sig")
        raw = json.loads(text)
        if not isinstance(raw, dict) or not ("cells" in raw or "worksheets" in raw):
            return None, "not a notebook: JSON without cells"
        with warnings.catch_warnings():   # a notebook written without cell ids is still a notebook
            warnings.simplefilter("ignore")
            nb = nbformat.reads(text, as_version=4)
        cells = [(i, cell) for i, cell in enumerate(nb.cells, start=1)]
        code = [{"number": i, "source": cell.source} for i, cell in cells if cell.cell_type == "code"]
    except Exception as e:   # UnicodeDecodeError, JSONDecodeError, nbformat's own
        return None, f"not a notebook: {type(e).__name__}: {str(e)[:100]}"
    named = (nb.metadata.get("otter") or {}).get("assignment_name") if isinstance(nb.metadata, dict) else None
    if named and named != assignment:
        return None, f"not this assignment: its otter metadata says {named!r}"
    if not any(re.search(rf"\b{name}\b", cell["source"]) for cell in code for name in answers):
        return None, f"not this assignment: no code cell mentions {', '.join(answers)}"
    return code, None


# ---- grading one submission -------------------------------------------------------------------------------

@dataclass
class Row:
    file: str
    scores: dict
    status: str
    seconds: float = 0.0
    outcomes: list = field(default_factory=list)   # (question, Test, None when it passed or what failed)
    feedback: str = ""


class Grader:
    """Everything a grading run shares: the sandbox, and the tests with their inputs already encoded."""

    def __init__(self, sandbox_root, timeout, rng=None):
        self.timeout = timeout
        self.master = questions.read_master(MASTER)
        # drawn before any notebook runs; fresh each run, so that no learner can know the cases
        self.questions = questions.build(MASTER, rng or np.random.default_rng())
        self.answers = [name for q in self.questions for name in q.answers]
        self.jobs = {}
        for question in self.questions:
            calls = [call for test in question.tests for call in test.calls]
            unique = list({id(call): call for call in calls}.values())   # a call shared by two tests runs once
            arrays = {}
            specs = [{"answer": c.answer, "kind": c.kind, "times": c.times, "report_args": c.report_args,
                      "read_only": list(c.read_only),
                      "args": sandbox.encode(tuple(c.args), arrays), "kwargs": sandbox.encode(c.kwargs, arrays)}
                     for c in unique]
            self.jobs[question.name] = ({"answers": list(question.answers), "calls": specs}, arrays,
                                        {id(call): i for i, call in enumerate(unique)})
        self.sandbox = Sandbox(sandbox_root)

    def grade(self, path):
        """The Row of one file handed in, whatever the file is or does."""
        start = time.perf_counter()
        try:
            cells, why = read_notebook(path, self.master["assignment"], self.answers)
            if cells is None:
                row = Row(path.name, {q.name: 0.0 for q in self.questions}, why)
            else:
                with tempfile.TemporaryDirectory(prefix="grading-") as folder:
                    row = self.grade_notebook(path.name, cells, Path(folder))
        except KeyboardInterrupt:
            raise
        except Exception as e:   # grade.py's own failure on this file: a row that says so, and the class goes on
            row = Row(path.name, {q.name: 0.0 for q in self.questions},
                      f"not graded: grade.py failed on it ({type(e).__name__}: {str(e)[:200]}); please report this")
        row.seconds = time.perf_counter() - start
        row.feedback = self.feedback(row)
        return row

    def grade_notebook(self, name, cells, folder):
        run = folder / "run"
        (run / "work").mkdir(parents=True)
        (run / "answers").mkdir()
        (run / "cells.json").write_text(json.dumps({"answers": self.answers, "cells": cells}), encoding="utf-8")
        limit = self.timeout + GRACE + sandbox.AFTER_TIME_UP * len(cells)
        code, timed_out = wait(self.sandbox.start("run", run, self.timeout), limit)
        status = read_status(run / "status.json")
        saved = status.get("saved") if isinstance(status.get("saved"), dict) else {}
        row = Row(name, {}, describe_run(status, code, timed_out, self.timeout, saved))
        for question in self.questions:
            results = self.call(question, run / "answers", folder / question.name, saved)
            outcomes = [(question.name, test, judge(test, results)) for test in question.tests]
            row.outcomes += outcomes
            passed = all(message is None for _, _, message in outcomes)   # all or nothing
            row.scores[question.name] = question.points if passed else 0.0
        return row

    def call(self, question, answers, folder, saved):
        """The Results of the question's calls, in the order of its tests' calls (one per Call object)."""
        job, arrays, index = self.jobs[question.name]
        problems = {}
        for name in question.answers:
            if isinstance(saved.get(name), str):
                problems[name] = f"{name} could not be taken out of the notebook ({saved[name]})"
            elif not (answers / f"{name}.pkl").exists():
                problems[name] = f"the notebook does not define {name}"
        calls = [call for test in question.tests for call in test.calls]
        if len(problems) == len(question.answers):
            return {id(c): questions.Result(c.answer, [], problem=problems[c.answer]) for c in calls}
        (folder / "work").mkdir(parents=True)
        (folder / "answers").mkdir()
        for name in question.answers:
            if name not in problems:
                shutil.copy2(answers / f"{name}.pkl", folder / "answers" / f"{name}.pkl")
        sandbox.save_data(folder / "calls", job, arrays)
        code, timed_out = wait(self.sandbox.start("call", folder, self.timeout), self.timeout)
        try:
            tree, out = sandbox.load_data(folder / "results")
            got = tree["results"]
            if len(got) != len(job["calls"]):
                raise ValueError(f"{len(got)} results for {len(job['calls'])} calls")
        except Exception as e:   # anything the learner's process left: no results, or unreadable ones
            if timed_out:
                why = f"its answers did not return within {self.timeout:g} s"
            elif isinstance(e, OSError):
                why = f"the process calling its answers ended without results (exit code {code})"
            else:
                why = f"the process calling its answers wrote unreadable results ({type(e).__name__}: {e})"
            return {id(c): questions.Result(c.answer, [], problem=why) for c in calls}
        results = {}
        for call in calls:
            raw = got[index[id(call)]]
            try:
                results[id(call)] = result_from(call, raw, out, problems)
            except Exception as e:
                results[id(call)] = questions.Result(call.answer, [], problem=f"an unreadable result ({e})")
        return results

    def feedback(self, row):
        """What a learner may read: status, points, public tests with messages, hidden tests by name only."""
        lines = [f"{row.file}: {sum(row.scores.values()):g} of {sum(q.points for q in self.questions):g} points",
                 f"grading: {row.status}", ""]
        if not row.outcomes:
            return "\n".join(lines) + "\n"
        outcomes = {(q, t.name): (t, message) for q, t, message in row.outcomes}
        for question in self.questions:
            lines.append(f"{question.name}: {row.scores[question.name]:g} of {question.points:g} points "
                         "(all of them when every test passes, 0 otherwise)")
            for test in question.tests:
                _, message = outcomes[(question.name, test.name)]
                verdict = "passed" if message is None else "FAILED"
                lines.append(f"  {test.name} ({'hidden' if test.hidden else 'public'}) {verdict}: {test.title}")
                if message is not None and not test.hidden:
                    lines += ["      " + line for line in message.splitlines()]
            lines.append("")
        return "\n".join(lines)


def read_status(path, max_bytes=2**20):
    """status.json as the learner's process left it: a dict, or {} when it is missing, huge or garbled."""
    try:
        if path.stat().st_size > max_bytes:
            return {}
        status = json.loads(path.read_text(encoding="utf-8"))
    except Exception:   # RecursionError for nesting, ValueError, OSError
        return {}
    return status if isinstance(status, dict) else {}


def result_from(call, raw, arrays, problems):
    """A Result built from the JSON the learner's process wrote; values decoded as plain data only."""
    problem = raw.get("problem")
    if problem is not None:
        detail = problems.get(call.answer) or (f"the notebook does not define {call.answer}" if problem == "missing"
                                               else f"{call.answer} {problem}")
        return questions.Result(call.answer, [], problem=detail)
    returns = [sandbox.decode(node, arrays) for node in raw.get("returns") or []]
    error = raw.get("error")
    after = sandbox.decode(raw["args_after"], arrays) if raw.get("args_after") is not None else None
    return questions.Result(call.answer, returns, error=str(error) if error is not None else None, args_after=after)


def judge(test, results):
    """None when the test passes, else what is wrong."""
    try:
        test.judge([results[id(call)] for call in test.calls])
    except questions.Fail as e:
        return str(e)
    except Exception as e:   # a value the judge did not foresee is a failed test, never a crash
        return f"{type(e).__name__}: {e}"
    return None


def describe_run(status, code, timed_out, seconds, saved):
    """grading_status in words: "completed", or what went wrong, first things first. `status` was
    written by the learner's process: every value is checked before it is used."""
    def number(key):
        value = status.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    parts, cell = [], number("cell")
    stopped = number("timed_out") or (cell if timed_out else None)
    finished = status.get("finished") is True
    if stopped is not None:
        if not finished:   # killed: it would not stop
            later = "; it was killed there"
        elif stopped == number("last"):
            later = ""
        else:
            later = f"; the cells after it got {sandbox.AFTER_TIME_UP:g} s each"
        parts.append(f"timed out after {seconds:g} s in cell {stopped}{later}")
    elif not finished:
        parts.append(f"the notebook's process ended in cell {cell} (exit code {code})" if cell
                     else f"the notebook could not be run (exit code {code})")
    errors = status.get("errors") if isinstance(status.get("errors"), list) else []
    errors = [e for e in errors if isinstance(e, dict) and e.get("type") != "TimeUp"]
    if errors:
        parts.append(describe_error(errors[0]) + (f" (and {len(errors) - 1} more cells raised errors)"
                                                  if len(errors) > 1 else ""))
    for name, problem in saved.items():
        if isinstance(problem, str):
            parts.append(f"{str(name)[:40]} could not be saved for grading ({problem[:80]})")
    return "; ".join(part for part in parts if part) or "completed"


def describe_error(error):
    text = {key: str(error.get(key))[:80] for key in ("cell", "line", "type", "module", "message")}
    where = f"cell {text['cell']}" + (f" line {text['line']}" if error.get("line") else "")
    if error.get("module"):
        return f"import of {text['module']} failed in {where}"
    if error.get("type") in ("SyntaxError", "IndentationError", "TabError"):
        return f"{text['type']} in {where}"
    return f"{text['type']} in {where}: {text['message']}"


# ---- the CSV ----------------------------------------------------------------------------------------------

def csv_row(row, names, possible):
    total = sum(row.scores.values())
    failed = "; ".join(f"{test.name}: {message.replace(chr(10), ' / ')[:300]}"
                       for _, test, message in row.outcomes if message is not None)
    return ([row.file] + [f"{row.scores[n]:g}" for n in names] +
            [f"{total:g}", f"{100 * total / possible:.0f}", row.status, f"{row.seconds:.1f}", failed])


def grade_all(grader, submissions, jobs, rows, on_row):
    """Grade every submission, `jobs` at a time, appending each Row to rows and handing it to on_row as it
    comes. Ctrl-C kills every sandbox at once and starts no other."""
    bar = progress_bar(len(submissions))
    pool = ThreadPoolExecutor(max_workers=jobs)
    try:
        futures = [pool.submit(grader.grade, path) for path in submissions]
        for future in as_completed(futures):
            row = future.result()
            rows.append(row)
            on_row(row, bar)
            if bar:
                bar.update()
    except KeyboardInterrupt:
        with LIVE_LOCK:
            STOPPING.set()
            for process in LIVE:
                kill(process)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        if bar:
            bar.close()


def interrupt(signum, frame):
    raise KeyboardInterrupt


def progress_bar(total):
    if os.environ.get("NNLIB_PROGRESS") == "0":   # the project's switch for bars (tests, CI)
        return None
    from tqdm import tqdm
    return tqdm(total=total, unit="notebook", disable=None)   # None: no bar when not on a terminal


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("submissions", nargs="+", help="files handed in, or folders of them")
    parser.add_argument("-o", "--output", default="grades.csv", help="the CSV to write (default: %(default)s)")
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1,
                        help="submissions graded at the same time (default: the number of cores, %(default)s)")
    parser.add_argument("-t", "--timeout", type=float, default=60.0,
                        help="seconds a notebook may run, and each question's calls may take (default: %(default)g)")
    parser.add_argument("--feedback", metavar="DIR", help="write DIR/<name>.txt per submission, safe to hand back")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be 1 or more, got {args.jobs}")
    if not args.timeout > 0:
        parser.error(f"--timeout must be a positive number of seconds, got {args.timeout:g}")
    if os.name != "posix":
        raise SystemExit("grade.py runs notebooks in POSIX processes (time limits, process groups): use Linux, "
                         "macOS, or WSL on Windows")
    feedback = Path(args.feedback) if args.feedback else None
    ours = {Path(args.output).resolve()} | ({feedback.resolve()} if feedback else set())
    submissions = [p for p in find_submissions(args.submissions) if p.resolve() not in ours]
    stems = [Path(p.name).stem for p in submissions]
    feedback_name = {p.name: (Path(p.name).stem if stems.count(Path(p.name).stem) == 1 else p.name) + ".txt"
                     for p in submissions}
    if feedback:
        feedback.mkdir(parents=True, exist_ok=True)

    start = time.perf_counter()
    rows = []
    signal.signal(signal.SIGTERM, interrupt)   # a `kill` cleans up as Ctrl-C does
    with tempfile.TemporaryDirectory(prefix="grading-sandbox-") as root:
        grader = Grader(Path(root) / "env", args.timeout)
        names = [q.name for q in grader.questions]
        possible = sum(q.points for q in grader.questions)
        header = ["file"] + names + COLUMNS_AFTER
        points = ["points-per-question"] + [f"{q.points:g}" for q in grader.questions] + [f"{possible:g}", "100"]
        points += [""] * (len(header) - len(points))
        jobs = min(args.jobs, len(submissions))
        print(f"grading {len(submissions)} submission(s), {jobs} at a time, each notebook stopped after "
              f"{args.timeout:g} s (sandbox ready in {time.perf_counter() - start:.1f} s)", flush=True)

        with open(args.output, "w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerows([header, points])
            out.flush()

            def on_row(row, bar):
                writer.writerow(csv_row(row, names, possible))
                out.flush()
                if feedback:
                    (feedback / feedback_name[row.file]).write_text(row.feedback, encoding="utf-8")
                line = f"  {row.file}: {sum(row.scores.values()):g} / {possible:g} in {row.seconds:.1f} s: {row.status}"
                if bar:
                    bar.write(line)
                else:
                    print(line, flush=True)

            try:
                grade_all(grader, submissions, jobs, rows, on_row)
            except KeyboardInterrupt:
                print(f"\ninterrupted: {args.output} has the {len(rows)} submission(s) graded so far",
                      file=sys.stderr)
                return 130
        partial = Path(str(args.output) + ".partial")
        with open(partial, "w", newline="", encoding="utf-8") as out:   # the same rows, sorted by file
            csv.writer(out).writerows([header, points] + [csv_row(r, names, possible)
                                                          for r in sorted(rows, key=lambda r: r.file)])
        os.replace(partial, args.output)
    each = sum(r.seconds for r in rows) / len(rows)
    print(f"wrote {args.output}: {len(rows)} submission(s) in {time.perf_counter() - start:.1f} s "
          f"({each:.1f} s each on average, {jobs} at a time)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
