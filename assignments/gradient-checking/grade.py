"""Grade a class's notebooks into one CSV, with tests the notebooks cannot reach: one command.

    python assignments/gradient-checking/grade.py SUBMISSIONS... [-o grades.csv] [-j N] [-t 60] [--feedback DIR]

SUBMISSIONS are files (.ipynb, or the .zip the notebook's export cell makes) or folders of them;
every file handed in gets a row, with a grading_status that says what happened to it. For each
notebook:

1. its code cells run in a sandbox (sandbox.py, contained as isolation.py says): a fresh Python
   with copies of numpy, matplotlib, dill and nnlib (compiled, without its source), which sees no
   path to this clone, no other submission and no test; after --timeout seconds the cell running
   is stopped, each later cell gets 2 s, and at 1.5 x --timeout the notebook ends;
2. the answers the questions name are taken out (pickled with dill) and, one question at a time,
   loaded into another fresh process where nnlib cannot be imported (it is the reference) and
   called on inputs drawn for this run, within what is left of 2 x --timeout;
3. what they return comes back as plain data and is judged here, against values computed from
   nnlib before any notebook ran (questions.py). No learner code runs in this process.

The CSV is written as submissions finish (Ctrl-C keeps what is graded) and sorted at the end; its
points-per-question row says which isolation graded it. --feedback DIR writes DIR/<name>.txt per
submission, safe to hand back: the public tests' results with their messages, and the hidden
tests' names and results only.
"""

import argparse
import csv
import json
import os
import re
import signal
import sys
import threading
import time
import warnings
import zipfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
import isolation  # noqa: E402
import questions  # noqa: E402
import sandbox  # noqa: E402  (only its data functions run here: encode, decode, pack, unpack, messages)

MASTER = HERE / "gradient-checking.ipynb"
MAX_NOTEBOOK_BYTES = 100 * 2**20
GRACE = 5   # seconds a notebook gets after its time is up to hand back its answers, before it is killed
COLUMNS_AFTER = ["total", "percent", "grading_status", "seconds", "failed_tests"]


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
    if is_master(nb):
        return None, ("not graded: this is the assignment's master notebook, with its solutions (public in the "
                      "repository), not a learner's work: 0 points")
    otter = nb.metadata.get("otter") if isinstance(nb.metadata, dict) else None
    named = otter.get("assignment_name") if isinstance(otter, dict) else None   # otter's, or anything at all
    if isinstance(named, str) and named and named != assignment:
        return None, f"not this assignment: its otter metadata says {named!r}"
    if not any(re.search(rf"\b{name}\b", cell["source"]) for cell in code for name in answers):
        return None, f"not this assignment: no code cell mentions {', '.join(answers)}"
    return code, None


def is_master(nb):
    """True for otter's master notebook: its configuration cells, or its solution lines with their markers."""
    raw = [c.source.lstrip() for c in nb.cells if c.cell_type == "raw" and isinstance(c.source, str)]
    if any(r.startswith(("# ASSIGNMENT CONFIG", "# BEGIN QUESTION", "# BEGIN SOLUTION")) for r in raw):
        return True
    marked = sum(len(re.findall(r"#\s*SOLUTION\s*$", c.source, re.M)) for c in nb.cells
                 if c.cell_type == "code" and isinstance(c.source, str))
    return marked >= 3   # a line or two copied with its marker is a learner's; the master has 20


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
    """Everything a grading run shares: the sandbox, and the tests with their inputs already encoded.
    A context manager: the sandbox's folder goes when it ends."""

    def __init__(self, timeout, rng=None, isolation_mode="auto", hidden=()):
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
                      "read_only": list(c.read_only), "l2": c.l2,
                      "args": sandbox.encode(tuple(c.args), arrays), "kwargs": sandbox.encode(c.kwargs, arrays)}
                     for c in unique]
            self.jobs[question.name] = ({"answers": list(question.answers), "calls": specs}, arrays,
                                        {id(call): i for i, call in enumerate(unique)})
        self.sandbox = isolation.Sandbox(isolation_mode)
        self.sandbox.hidden = [Path(p).resolve() for p in (ROOT, sys.prefix, *hidden)]
        self.lock = threading.Lock()
        self.grading, self.tampered = set(), set()   # the processes way: who ran while the packages changed

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.sandbox.close()

    def grade(self, path):
        """The Row of one file handed in, whatever the file is or does."""
        start = time.perf_counter()
        folder = None
        try:
            cells, why = read_notebook(path, self.master["assignment"], self.answers)
            if cells is None:
                row = Row(path.name, {q.name: 0.0 for q in self.questions}, why)
            else:
                with self.lock:
                    self.grading.add(path.name)
                folder = self.sandbox.new_folder()
                row = self.grade_notebook(path.name, cells, folder, start)
        except KeyboardInterrupt:
            raise
        except Exception as e:   # grade.py's own failure on this file: a row that says so, and the class goes on
            row = Row(path.name, {q.name: 0.0 for q in self.questions},
                      f"not graded: grade.py failed on it ({type(e).__name__}: {str(e)[:200]}); please report this")
        finally:
            if folder is not None:
                self.sandbox.remove_folder(folder)
            with self.lock:
                self.grading.discard(path.name)
                if path.name in self.tampered:
                    self.tampered.discard(path.name)
                    row.status += ("; the sandbox's packages were changed while it was graded (by this notebook, or "
                                   "one graded at the same time) and were restored: grade it again with -j 1")
        row.seconds = time.perf_counter() - start
        row.feedback = self.feedback(row)
        return row

    def talk(self, phase, payload, seconds, folder):
        outcome = self.sandbox.talk(phase, payload, seconds, folder)
        with self.lock:
            if not self.sandbox.intact():
                self.tampered |= self.grading
        return outcome

    def grade_notebook(self, name, cells, folder, start):
        """Run the notebook (1.5 x timeout at most), then call its answers, all within 2 x timeout and GRACE."""
        end = start + 2 * self.timeout + GRACE
        job = {"answers": self.answers, "cells": cells, "seconds": self.timeout, "limit": 1.5 * self.timeout}
        outcome = self.talk("run", sandbox.message("cells", "-", json.dumps(job).encode()),
                            job["limit"] + GRACE, folder)
        received = sandbox.messages(outcome.output)
        status = read_status(received)
        answers = {n: payload for kind, n, payload in received if kind == "answer" and n in self.answers}
        for kind, n, _ in received:
            if kind == "gone":
                answers.pop(n, None)
        saved = status.get("saved") if isinstance(status.get("saved"), dict) else {}
        parts = [describe_run(status, outcome.code, outcome.timed_out, self.timeout, saved)]
        if outcome.too_much:
            parts.append(f"its answers took more than {isolation.MAX_OUTPUT // 2**20} MB")
        problems = {}
        for answer, data in answers.items():
            if isolation.NNLIB_MARK.encode() in data:   # read as bytes, never unpickled here
                problems[answer] = (f"{answer} is nnlib's own code (its pickle holds nnlib's compiled functions): "
                                    "answers may not use nnlib")
                parts.append(f"{answer} carries nnlib's code")
        crash = [payload for kind, _, payload in received if kind == "crash"]
        if crash:
            last = (crash[-1].decode("utf-8", "replace").strip().splitlines() or ["?"])[-1]
            parts.append(f"grade.py's sandbox failed ({last[:200]}); please report this")
        row = Row(name, {}, "")
        for i, question in enumerate(self.questions):
            # each question's calls get at most an equal share of the time left: one slow answer cannot
            # leave the next question without any
            share = min(self.timeout, (end - time.perf_counter()) / (len(self.questions) - i))
            results, why = self.call(question, answers, saved, problems, share, folder)
            if why:
                parts.append(f"{question.name}: {why}")
            outcomes = [(question.name, test, judge(test, results)) for test in question.tests]
            row.outcomes += outcomes
            passed = all(message is None for _, _, message in outcomes)   # all or nothing
            row.scores[question.name] = question.points if passed else 0.0
        row.status = "; ".join(p for p in parts if p != "completed") or "completed"
        return row

    def call(self, question, answers, saved, problems, seconds, folder):
        """(the Results of the question's calls, by id of their Call; what went wrong with the calls or None),
        the calls made within `seconds`."""
        job, arrays, index = self.jobs[question.name]
        problems = {name: problems[name] for name in question.answers if name in problems}
        for name in question.answers:
            if name in problems:
                continue
            if isinstance(saved.get(name), str):
                problems[name] = f"{name} could not be taken out of the notebook ({saved[name]})"
            elif name not in answers:
                problems[name] = f"the notebook does not define {name}"
        calls = [call for test in question.tests for call in test.calls]
        if len(problems) == len(question.answers):
            return {id(c): questions.Result(c.answer, [], problem=problems[c.answer]) for c in calls}, None
        if seconds < 1:
            why = f"its answers were not called: the submission's {2 * self.timeout:g} s were used up"
            return {id(c): questions.Result(c.answer, [], problem=why) for c in calls}, why
        tree, npz = sandbox.pack(dict(job, seconds=seconds), arrays)
        payload = b"".join([sandbox.message("job", "-", tree), sandbox.message("arrays", "-", npz)] +
                           [sandbox.message("answer", n, answers[n]) for n in question.answers if n not in problems])
        outcome = self.talk("call", payload, seconds, folder)
        received = sandbox.messages(outcome.output)
        try:
            got = [p for kind, _, p in received if kind == "results"]
            npz = [p for kind, _, p in received if kind == "arrays"]
            if not got or not npz:
                raise LookupError("no results")
            tree, out = sandbox.unpack(got[-1], npz[-1])
            got = tree["results"]
            if len(got) != len(job["calls"]):
                raise ValueError(f"{len(got)} results for {len(job['calls'])} calls")
        except Exception as e:   # anything the learner's process left: no results, or unreadable ones
            crash = [p for kind, _, p in received if kind == "crash"]
            if outcome.timed_out:
                why = f"its answers did not return within {seconds:.0f} s"
            elif crash:
                last = (crash[-1].decode("utf-8", "replace").strip().splitlines() or ["?"])[-1]
                why = f"grade.py's sandbox failed ({last[:200]}); please report this"
            elif isinstance(e, LookupError):
                why = f"the process calling its answers ended without results (exit code {outcome.code})"
            else:
                why = f"the process calling its answers wrote unreadable results ({type(e).__name__}: {e})"
            return {id(c): questions.Result(c.answer, [], problem=why) for c in calls}, why
        results = {}
        for call in calls:
            raw = got[index[id(call)]]
            try:
                results[id(call)] = result_from(call, raw, out, problems)
            except Exception as e:
                results[id(call)] = questions.Result(call.answer, [], problem=f"an unreadable result ({e})")
        return results, None

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


def read_status(received, max_bytes=2**20):
    """The last status message the notebook's process sent: a dict, or {} when there is none, or it is huge or
    garbled (the process is the learner's: it can send anything)."""
    payloads = [payload for kind, _, payload in received if kind == "status"]
    try:
        if not payloads or len(payloads[-1]) > max_bytes:
            return {}
        status = json.loads(payloads[-1].decode("utf-8"))
    except Exception:   # RecursionError for nesting, ValueError, UnicodeDecodeError
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
    not_run = number("not_run") or 0
    end = f"a notebook ends at {1.5 * seconds:g} s"
    if stopped is not None:
        if not finished:   # killed: it would not stop
            later = "; it was killed there"
        elif stopped == number("last"):
            later = ""
        else:
            later = f"; the cells after it got {sandbox.AFTER_TIME_UP:g} s each"
            if not_run:
                later += f", and the last {not_run} were not run ({end})"
        parts.append(f"timed out after {seconds:g} s in cell {stopped}{later}")
    elif finished and not_run:
        parts.append(f"ran past {seconds:g} s: the last {not_run} cells were not run ({end})")
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
        isolation.kill_all()
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
                        help="seconds a notebook may run before its cell is stopped; a submission ends within twice "
                             "that, its answers' calls included (default: %(default)g)")
    parser.add_argument("--isolation", choices=("auto", "namespaces", "processes"), default="auto",
                        help="how notebooks are kept in: Linux namespaces where they work (auto), or plain processes "
                             "(isolation.py says what each prevents; default: %(default)s)")
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
    hidden = [Path(args.output).resolve().parent] + ([feedback.resolve()] if feedback else [])
    hidden += sorted({p.resolve().parent for p in submissions})
    with Grader(args.timeout, isolation_mode=args.isolation, hidden=hidden) as grader:
        names = [q.name for q in grader.questions]
        possible = sum(q.points for q in grader.questions)
        header = ["file"] + names + COLUMNS_AFTER
        points = ["points-per-question"] + [f"{q.points:g}" for q in grader.questions] + [f"{possible:g}", "100"]
        points += [grader.sandbox.describe()]
        points += [""] * (len(header) - len(points))
        jobs = min(args.jobs, len(submissions))
        print(f"grading {len(submissions)} submission(s), {jobs} at a time, each notebook stopped after "
              f"{args.timeout:g} s and each submission within {2 * args.timeout + GRACE:g} s (sandbox ready in "
              f"{time.perf_counter() - start:.1f} s)\n{grader.sandbox.describe()}", flush=True)

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
