"""The graded assignment in assignments/gradient-checking: the hand-out, then grading a class.

The fast tests read the master notebook and exercise grade.py's parts that run no notebook
(reading what was handed in, the data that crosses the sandbox's wall, the statuses). The
tests marked `grading` make the hand-out with assign.py (otter assign, then the master's
solutions graded in the sandbox) and grade a class of hand-ins from tests/assignment_class.py
with grade.py, as an instructor would: every honest notebook gets what it deserves, no cheat
more than its honest work, every file a row; they look from inside a sandbox at what a notebook
can see and do, and time a submission that runs out of time everywhere. They take about 90 s
(measured: 94 s on a busy two-core machine); deselect them with `-m "not grading"`.
"""

import csv
import importlib.util
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import assignment_class
import nbformat
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "assignments" / "gradient-checking"
MASTER = FOLDER / "gradient-checking.ipynb"
POINTS = {"q1": 4.0, "q2": 4.0, "q3": 2.0}
# every example of make_submissions.py and the one question its mistake must cost (None: full marks)
LOSES = {
    "correct": None,
    "checker-without-copy": "q2",
    "inv-m-twice": "q1",
    "inplace-relu-derivative": "q1",
    "one-sided-difference": "q2",
}
# the class CI grades: one hand-in of each kind in assignment_class.py (the whole class is 35 files; the
# four that test time limits and caps take long), and three of make_submissions.py's examples: the
# master's solution in the student notebook, and a classic mistake for each of questions 1 and 2
CI_CLASS = ["ben-einsum-no-otter-metadata.ipynb", "kim-syntax-error.ipynb", "aaron-endless-training.ipynb",
            "mia-blank.ipynb", "pia-exits-early.ipynb", "empty.ipynb", "notes.pdf", "logistic-regression.ipynb",
            "cheat-patches-otter.ipynb", "cheat-reads-disk.ipynb", "cheat-calls-nnlib.ipynb", "cheat-hard-coded.ipynb",
            "cheat-attacks-the-grader.ipynb", "cheat-finds-nnlib-checks-nothing.ipynb",
            "cheat-copies-nnlib-unlocks-arrays.ipynb", "cheat-hands-in-the-master.ipynb",
            "olga-otter-metadata-a-string.ipynb"]
CI_EXAMPLES = ["correct", "inv-m-twice", "one-sided-difference"]
PUBLIC = {"q1 - 1", "q1 - 2", "q2 - 1", "q2 - 2", "q3 - 1"}
CI_TIMEOUT = 20   # seconds per notebook: the honest ones take 2-10 s on a busy two-core machine


def load_script(name):
    sys.path.insert(0, str(FOLDER))
    try:
        spec = importlib.util.spec_from_file_location(name, FOLDER / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(FOLDER))
    return module


grade = load_script("grade")
questions, sandbox = grade.questions, grade.sandbox   # the very modules grade.py uses
make_submissions = load_script("make_submissions")


def master_cells():
    return nbformat.read(MASTER, as_version=4).cells


# ---- the master ---------------------------------------------------------------------------------

def test_master_is_committed_without_outputs_and_starts_with_the_config():
    nb = nbformat.read(MASTER, as_version=4)
    nbformat.validate(nb)
    assert nb.cells[0].cell_type == "raw" and nb.cells[0].source.startswith("# ASSIGNMENT CONFIG")
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and not [c for c in code if c.outputs or c.execution_count is not None]
    assert nb.metadata.kernelspec.name == "python3"


def test_points_in_the_text_are_the_points_graded():
    master = questions.read_master(MASTER)
    assert master["questions"] == POINTS and master["assignment"] == "gradient-checking"
    configs = [c.source for c in master_cells() if c.cell_type == "raw" and c.source.startswith("# BEGIN QUESTION")]
    assert len(configs) == 3 and all("all_or_nothing: true" in c for c in configs)
    cells = master_cells()
    for number, (name, points) in enumerate(POINTS.items(), start=1):
        heading = [c.source for c in cells if c.cell_type == "markdown" and f"## Question {number}:" in c.source]
        assert len(heading) == 1 and f"({points:g} points)" in heading[0], name
    built = questions.build(MASTER, np.random.default_rng(0))
    assert {q.name: q.points for q in built} == POINTS


def test_the_master_holds_public_tests_only_and_the_grader_tests_every_question():
    test_cells = [c.source for c in master_cells() if c.cell_type == "code" and re.search(r"def test_q\d", c.source)]
    assert len(test_cells) == 5 and not [c for c in test_cells if "hidden" in c]
    built = questions.build(MASTER, np.random.default_rng(0))
    public = {q.name: [t.name for t in q.tests if not t.hidden] for q in built}
    hidden = {q.name: [t.name for t in q.tests if t.hidden] for q in built}
    assert {q: len(names) for q, names in public.items()} == {"q1": 2, "q2": 2, "q3": 1}   # the master's five
    assert {q: len(names) for q, names in hidden.items()} == {"q1": 2, "q2": 5, "q3": 2}


def test_the_grader_draws_new_cases_each_run():
    first, second = (questions.build(MASTER, np.random.default_rng(seed)) for seed in (1, 2))
    a, b = first[0].tests[2].calls[0].args[0], second[0].tests[2].calls[0].args[0]   # q1 - 3's digits at m = 2
    assert a.shape == b.shape == (784, 2) and not np.array_equal(a, b)


def test_every_mistake_is_one_edit_of_the_solution():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell(make_submissions.strip_markers(source),
                                  metadata={"tags": [make_submissions.ANSWER_TAG]})
        for source in make_submissions.solution_cells()])
    assert len(nb.cells) == 3
    assert set(make_submissions.MISTAKES) == set(LOSES) - {"correct"}
    for name, (question, edits) in make_submissions.MISTAKES.items():
        assert question == LOSES[name]
        wrong = make_submissions.with_mistake(nb, edits)      # exits when an edit is not found exactly once
        assert [c.source for c in wrong.cells] != [c.source for c in nb.cells], name


def nnlib_version():
    import nnlib

    return nnlib.__version__


def requirement_lines(path):
    return [line.split("#")[0].strip() for line in path.read_text().splitlines() if line.split("#")[0].strip()]


def test_otter_and_dill_are_pinned_for_instructors_and_kept_out_of_the_learners_requirements():
    lines = requirement_lines(ROOT / "requirements-instructor.txt")
    assert lines[0] == "-r requirements.txt" and "otter-grader==7.0.0" in lines
    assert any(line.startswith("dill==") for line in lines)   # grade.py carries answers out with it
    learners = {re.split(r"[=<>@ ]", line)[0].lower() for line in requirement_lines(ROOT / "requirements.txt")}
    for line in lines[1:]:
        assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[0-9][\w.]*", line), line
        assert re.split(r"[=\[]", line)[0].lower() not in learners, f"{line} re-pins a package of requirements.txt"
    assert "otter-grader" not in learners


# ---- what crosses the wall -------------------------------------------------------------------------

def test_values_cross_the_wall_as_plain_data():
    arrays = {}
    value = {"dW1": np.arange(6.0).reshape(2, 3), "n": 3, "ok": True, "x": 0.5, "s": "b", "none": None,
             "todo": Ellipsis, "names": {"dW1", "db1"}, "pair": (np.float64(2.5), [1, 2]),
             "weird": object()}
    back = sandbox.decode(json.loads(json.dumps(sandbox.encode(value, arrays))), arrays)
    assert back["dW1"].tolist() == value["dW1"].tolist() and back["names"] == {"dW1", "db1"}
    assert (back["n"], back["ok"], back["x"], back["s"], back["none"], back["todo"]) == (3, True, 0.5, "b", None, ...)
    assert back["pair"][0] == 2.5 and back["pair"][1] == [1, 2] and isinstance(back["pair"], tuple)
    assert isinstance(back["weird"], sandbox.Other) and back["weird"].type_name == "object"
    with pytest.raises(ValueError):
        sandbox.decode({"t": "pickle", "v": "..."}, {})


def test_what_comes_back_is_read_without_unpickling():
    buffer = io.BytesIO()
    np.savez(buffer, a0=np.array([{"a": 1}], dtype=object))   # a pickle inside
    with pytest.raises(ValueError, match="allow_pickle"):
        sandbox.unpack(json.dumps({"t": "array", "v": "a0", "type": "ndarray"}).encode(), buffer.getvalue())


def test_messages_are_read_up_to_the_first_that_is_not_well_formed():
    good = sandbox.message("status", "-", b'{"cell": 3}') + sandbox.message("answer", "planted_bug", b"\x80\x04.")
    assert sandbox.messages(good) == [("status", "-", b'{"cell": 3}'), ("answer", "planted_bug", b"\x80\x04.")]
    for junk in (b"hello\n", b"answer x 99999\nshort", b"pickle x 1\nz", b"\xff" * 400, b"status - -1\n"):
        assert sandbox.messages(good + junk + good) == sandbox.messages(good)   # what follows junk is not read
    status = sandbox.message("status", "-", b"[" * 100_000 + b"]" * 100_000)
    assert grade.read_status(sandbox.messages(good + status)) == {}   # garbled: as if there were none
    assert grade.read_status(sandbox.messages(good)) == {"cell": 3}


def test_read_only_arguments_cannot_be_made_writable():
    params = sandbox._immutable({"W1": np.ones((2, 3)), "b1": [np.zeros((2, 1))], "n": 3})
    for array in (params["W1"], params["b1"][0]):
        base = array
        while isinstance(base, np.ndarray):
            base = base.base
        assert not array.flags.writeable and isinstance(base, bytes)   # its memory is a bytes object's
        with pytest.raises(ValueError):
            array.flags.writeable = True   # what a checker that writes into them tried (issue 17's follow-up)
    assert params["W1"].tolist() == np.ones((2, 3)).tolist() and params["n"] == 3


def test_the_changed_cost_reaches_every_forward_propagation_an_answer_can_call():
    import dill

    source = """import numpy as np
def forward_propagation(X, Y, parameters, keep_prob=1.0, D1=None):
    return float(np.sum(parameters["W1"])), ("cache",)
fp = forward_propagation
def cost_at(p):
    return fp(None, None, p)[0]
def checker(p, f=forward_propagation):
    return forward_propagation(None, None, p)[0], cost_at(p), f(None, None, p)[0]
def no_forward(p):
    return 0.0
"""
    main = type(sys)("__main__")
    saved = sys.modules["__main__"]
    sys.modules["__main__"] = main
    try:
        exec(source, main.__dict__)
        checker, no_forward = (dill.loads(dill.dumps(main.__dict__[name], recurse=True))
                               for name in ("checker", "no_forward"))
    finally:
        sys.modules["__main__"] = saved
    p = {"W1": np.full((2, 2), 3.0)}   # sum 12, squares 36
    with sandbox._cost_with_l2(checker, {"lambda": 0.5, "keys": ["W1"]}):
        assert checker(p) == (21.0, 21.0, 21.0)   # 12 + 0.5 / 2 * 36, by its name, an alias and a default
    assert checker(p) == (12.0, 12.0, 12.0)       # and put back
    with pytest.raises(sandbox.ForwardNotUsed):
        with sandbox._cost_with_l2(no_forward, {"lambda": 0.5, "keys": ["W1"]}):
            pass


def test_magics_and_shell_lines_become_pass_on_the_same_lines():
    source = "%matplotlib inline\nx = 1\n  !pip install seaborn\ny = 2"
    assert sandbox.without_magics(source) == "pass\nx = 1\n  pass\ny = 2"
    assert sandbox.without_magics("%%time\nz = 3") == "\nz = 3"


# ---- what was handed in -------------------------------------------------------------------------------

ANSWERS = ["backward_propagation", "gradient_check_n", "wrong_gradients", "planted_bug"]


def notebook_bytes(*sources, metadata=None):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# mine")] +
                                  [nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata.update(metadata or {})
    return nbformat.writes(nb).encode()


def archive(files):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize("name, data, status", [
    ("a.ipynb", b"", "not a notebook: an empty file"),
    ("a.pdf", b"%PDF-1.4", "not a notebook: a .pdf file"),
    ("a", b"text", "not a notebook: a file without extension"),
    ("a.ipynb", b"{not json", "not a notebook: JSONDecodeError"),
    ("a.ipynb", b'{"a": 1}', "not a notebook: JSON without cells"),
    ("a.ipynb", b"\xff\xfe\x00", "not a notebook: UnicodeDecodeError"),
    ("a.zip", b"PK not really", "not a notebook: a .zip that cannot be read"),
    ("a.zip", archive({"notes.txt": "x"}), "not a notebook: a zip with no .ipynb in it"),
    ("a.zip", archive({"x.ipynb": notebook_bytes("wrong_gradients = 1"), "y.ipynb": notebook_bytes("planted_bug = 1")}),
     "not graded: a zip with 2 notebooks"),
    ("a.ipynb", notebook_bytes("def sigmoid(z): ..."), "not this assignment: no code cell mentions"),
    ("a.ipynb", notebook_bytes("planted_bug = 'b'", metadata={"otter": {"assignment_name": "other"}}),
     "not this assignment: its otter metadata says 'other'"),
    ("a.ipynb", MASTER.read_bytes(), "not graded: this is the assignment's master notebook"),
    ("a.ipynb", notebook_bytes("def backward_propagation(X, Y, cache):\n    dZ2 = A2 - Y  # SOLUTION\n"
                               "    dW2 = dZ2 @ A1.T / m  # SOLUTION\n    db2 = dZ2.sum(1)  # SOLUTION"),
     "not graded: this is the assignment's master notebook"),
])
def test_a_file_that_cannot_be_graded_says_why(tmp_path, name, data, status):
    path = tmp_path / name
    path.write_bytes(data)
    cells, why = grade.read_notebook(path, "gradient-checking", ANSWERS)
    assert cells is None and why.startswith(status), why


def test_a_notebook_is_graded_with_any_metadata_and_from_a_zip(tmp_path):
    for metadata in ({"otter": "gradient-checking"}, {"otter": ["x"]}, {"otter": {"assignment_name": 7}}):
        path = tmp_path / "m.ipynb"
        path.write_bytes(notebook_bytes("planted_bug = 'b'  # SOLUTION", metadata=metadata))
        assert grade.read_notebook(path, "gradient-checking", ANSWERS)[1] is None, metadata
    data = notebook_bytes("import numpy as np", "%matplotlib inline\nplanted_bug = 'b'")
    for name, content in (("a.ipynb", data), ("a.zip", archive({"gradient-checking.ipynb": data,
                                                                 "__MACOSX/._gradient-checking.ipynb": "x"}))):
        (tmp_path / name).write_bytes(content)
        cells, why = grade.read_notebook(tmp_path / name, "gradient-checking", ANSWERS)
        assert why is None and [c["number"] for c in cells] == [2, 3]   # cells counted from 1, markdown too


def test_every_entry_of_a_folder_is_a_submission(tmp_path):
    for name in ("b.ipynb", "a.pdf", ".DS_Store"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "c").mkdir()
    assert [p.name for p in grade.find_submissions([tmp_path])] == ["a.pdf", "b.ipynb", "c"]
    assert grade.read_notebook(tmp_path / "c", "gradient-checking", ANSWERS)[1] == \
        "not a notebook: a folder with no .ipynb or .zip in it"
    (tmp_path / "c" / "gradient-checking.ipynb").write_bytes(notebook_bytes("planted_bug = 'b'"))   # Moodle's way
    assert grade.read_notebook(tmp_path / "c", "gradient-checking", ANSWERS)[1] is None
    (tmp_path / "c" / "old.zip").write_bytes(b"")
    assert "a folder with 2 notebooks or zips" in grade.read_notebook(tmp_path / "c", "gradient-checking", ANSWERS)[1]


def test_the_status_says_what_happened_first_things_first():
    def status(**kw):
        base = {"cell": 5, "errors": [], "timed_out": None, "finished": True}
        base.update(kw)
        return grade.describe_run(base, 0, False, 60, {})

    assert status() == "completed"
    assert status(errors=[{"cell": 5, "type": "SyntaxError", "line": 3}]) == "SyntaxError in cell 5 line 3"
    assert status(errors=[{"cell": 4, "type": "ModuleNotFoundError", "line": 1, "module": "seaborn"},
                          {"cell": 9, "type": "NameError", "line": 2, "message": "x"}]) == \
        "import of seaborn failed in cell 4 line 1 (and 1 more cells raised errors)"
    assert status(timed_out=14, last=20) == "timed out after 60 s in cell 14; the cells after it got 2 s each"
    assert status(timed_out=14, last=40, not_run=12) == (
        "timed out after 60 s in cell 14; the cells after it got 2 s each, and the last 12 were not run (a notebook "
        "ends at 90 s)")
    assert status(not_run=3) == "ran past 60 s: the last 3 cells were not run (a notebook ends at 90 s)"
    assert status(timed_out=20, last=20) == "timed out after 60 s in cell 20"
    assert grade.describe_run({"cell": 7}, -9, True, 60, {}) == "timed out after 60 s in cell 7; it was killed there"
    assert grade.describe_run({"cell": 7}, -9, False, 60, {}) == "the notebook's process ended in cell 7 (exit code -9)"
    assert grade.describe_run({}, 1, False, 60, {}) == "the notebook could not be run (exit code 1)"
    # status.json is the learner's to write: nothing in it can break the description
    assert grade.describe_run({"cell": {"x": 1}, "errors": [7, {"type": ["a"], "cell": None}], "finished": True},
                              0, False, 60, {"x": 3}) == "['a'] in cell None: None"


def test_a_garbled_or_huge_status_reads_as_no_status():
    for text in (b"[" * 100_000 + b"]" * 100_000, b"{", b'"a string"', b" " * (2**20 + 1), b"\xff"):
        assert grade.read_status([("status", "-", text)]) == {}
    assert grade.read_status([]) == {}


# ---- the hand-out and grading (slow: marked) ------------------------------------------------------------

def run(*args, cwd=ROOT, check=True, env=None):
    done = subprocess.run([sys.executable, *map(str, args)], cwd=cwd, capture_output=True, text=True, env=env)
    if check:
        assert done.returncode == 0, f"{' '.join(map(str, args))} failed:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    """What assign.py makes: it grades the master's solutions in the sandbox, then runs otter assign."""
    try:
        import otter  # noqa: F401
    except ImportError:  # CI installs it: there a skip would hide a broken set-up
        (pytest.fail if os.environ.get("CI") else pytest.skip)(
            "otter-grader is not installed: pip install -r requirements-test.txt")
    out = tmp_path_factory.mktemp("assignment") / "dist"
    start = time.perf_counter()
    log = run(FOLDER / "assign.py", out).stdout
    print(log, f"assign.py took {time.perf_counter() - start:.1f} s")
    assert "score 10 points" in log
    return out


@pytest.mark.grading
def test_the_handout_gives_no_solution_and_no_hidden_test(dist):
    assert sorted(p.name for p in dist.iterdir()) == ["gradient-checking-handout.zip", "handout", "student"]
    with zipfile.ZipFile(dist / "gradient-checking-handout.zip") as z:
        wheel = f"backprop_lab-{nnlib_version()}-py3-none-any.whl"
        assert sorted(z.namelist()) == ["README.md", wheel, "gradient-checking.ipynb", "requirements.txt"]
        assert z.read("gradient-checking.ipynb") == (dist / "student" / "gradient-checking.ipynb").read_bytes()
        requirements = z.read("requirements.txt").decode()
        with zipfile.ZipFile(io.BytesIO(z.read(wheel))) as package:   # nnlib alone: not the repository's archive
            assert {name.split("/")[0] for name in package.namelist()} == {"nnlib", f"backprop_lab-{nnlib_version()}"
                                                                                     ".dist-info"}
    assert "otter-grader==7.0.0" in requirements and requirements.splitlines()[-1] == f"./{wheel}"
    assert "http" not in requirements   # nothing that downloads the repository, master and solutions included
    student = nbformat.read(dist / "student" / "gradient-checking.ipynb", as_version=4)
    code = "\n".join(c.source for c in student.cells if c.cell_type == "code")
    secret = load_script("assign").solution_lines(MASTER)   # (the prompts give the formulas, not the code)
    assert len(secret) >= 15 and [line for line in secret if line in code] == []
    answers = [c.source for c in student.cells if make_submissions.ANSWER_TAG in c.metadata.get("tags", [])]
    assert len(answers) == 3 and all("..." in a for a in answers)
    public = [re.search(r"def (test_\w+)", c.source).group(1) for c in master_cells()
              if c.cell_type == "code" and c.source.startswith("def test_")]
    shipped = "\n".join(student.metadata.otter.tests.values())   # what grader.check runs
    assert len(public) == 5 and all(name in shipped for name in public)
    assert "hidden=True" not in shipped and shipped.count("hidden=False") == 5
    assert [line for line in secret if line in (dist / "handout" / "README.md").read_text()] == []


@pytest.mark.grading
def test_a_failing_assign_leaves_the_previous_handout_and_nothing_else(dist, tmp_path):
    master = tmp_path / "master" / "gradient-checking.ipynb"
    master.parent.mkdir()
    nb = nbformat.read(MASTER, as_version=4)
    for cell in nb.cells:
        cell.source = cell.source.replace("dZ2 = A2 - Y  # SOLUTION", "dZ2 = (A2 - Y) / m  # SOLUTION")
    nbformat.write(nb, master)
    previous = tmp_path / "course" / "dist"
    previous.parent.mkdir()
    shutil.copytree(dist, previous)
    before = {p.relative_to(previous): p.read_bytes() for p in previous.rglob("*") if p.is_file()}
    done = run(FOLDER / "assign.py", previous, "--master", master, check=False)
    assert done.returncode == 1 and "the master's solutions score 6 of 10" in done.stderr, done.stderr
    assert {p.relative_to(previous): p.read_bytes() for p in previous.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in previous.parent.iterdir()) == ["dist"]
    assert sorted(p.name for p in master.parent.iterdir()) == ["gradient-checking.ipynb"]


@pytest.mark.grading
def test_a_class_grades_into_a_complete_csv_that_nobody_can_game(dist, tmp_path):
    submissions = tmp_path / "submissions"
    expected = assignment_class.write(dist, submissions, CI_CLASS)
    examples = tmp_path / "examples"
    run(FOLDER / "make_submissions.py", dist, examples)
    for name in CI_EXAMPLES:
        shutil.copy2(examples / f"{name}.ipynb", submissions)
        expected[f"{name}.ipynb"] = ({q: 0 if q == LOSES[name] else p for q, p in POINTS.items()}, "completed")
    grades, feedback = tmp_path / "grades.csv", tmp_path / "feedback"
    start = time.perf_counter()
    log = run(FOLDER / "grade.py", submissions, "-o", grades, "-j", "2", "-t", CI_TIMEOUT, "--feedback", feedback)
    print(log.stdout, f"graded {len(expected)} files in {time.perf_counter() - start:.1f} s")
    written = grades.read_bytes(), {p.name: p.read_bytes() for p in feedback.iterdir()}
    time.sleep(3)   # a process the attacker left would rewrite its row once grade.py has ended
    assert (grades.read_bytes(), {p.name: p.read_bytes() for p in feedback.iterdir()}) == written

    rows = list(csv.DictReader(grades.open()))
    assert {q: float(rows[0][q]) for q in POINTS} == POINTS and rows[0]["file"] == "points-per-question"
    assert rows[0]["grading_status"].startswith("isolation: ") and rows[0]["grading_status"] in log.stdout
    rows = {row["file"]: row for row in rows[1:]}
    assert sorted(rows) == sorted(expected), "a file handed in has no row, or a row no file"
    for name, (deserved, status) in expected.items():
        row = rows[name]
        given = {q: float(row[q]) for q in POINTS}
        assert given == deserved and float(row["total"]) == sum(deserved.values()), (name, row["failed_tests"])
        assert re.search(status, row["grading_status"]), (name, row["grading_status"])
        fed_back = (feedback / f"{Path(name).stem}.txt").read_text()
        assert fed_back.startswith(f"{name}: {sum(deserved.values()):g} of 10 points")
        lines = fed_back.splitlines()
        for i, line in enumerate(lines):   # a hidden test: its name, points and verdict, never its message
            if "(hidden)" in line and i + 1 < len(lines):
                assert not lines[i + 1].startswith("      "), (name, line, lines[i + 1])
        failures = re.findall(r"(q\d - \d): (.*?)(?=; q\d - \d: |$)", row["failed_tests"])
        shown = {message for test, message in failures if test in PUBLIC}
        for test, message in failures:
            assert (message[:60] in fed_back) == (test in PUBLIC or message in shown), (name, test, message)
    assert "NnlibNotAvailable: nnlib.forward was used" in rows["cheat-calls-nnlib.ipynb"]["failed_tests"]
    failed = rows["cheat-finds-nnlib-checks-nothing.ipynb"]["failed_tests"]
    assert "No module named 'nnlib'" in failed and "q2 - 7: with forward_propagation's cost given an L2 term" in failed
    assert "q2 - 4: the check wrote into the caller's parameter arrays (ValueError: cannot set WRITEABLE flag" in \
        rows["cheat-copies-nnlib-unlocks-arrays.ipynb"]["failed_tests"]


# What a notebook sees from inside the sandbox, sent back in one of its answers (the test unpickles it: the
# probe is this file's code). It reports what it finds; the test says what it must not find.
PROBE = """import inspect, json, os, resource, socket, sys, time
from pathlib import Path
import nnlib.model
import otter
seen = {"path": sys.path, "executable": sys.executable, "cwd": os.getcwd(), "environ": dict(os.environ),
        "argv": sys.orig_argv, "home": str(Path.home()), "pid": os.getpid(), "ppid": os.getppid(),
        "nnlib": nnlib.__file__,
        "otter": "a stand-in" if "stand-in" in (otter.__doc__ or "") else "otter",
        "top": sorted(os.listdir("/")), "pids": sorted(p for p in os.listdir("/proc") if p.isdigit()),
        "modules": [str(getattr(m, "__file__", "")) for m in list(sys.modules.values())],
        "nproc": resource.getrlimit(resource.RLIMIT_NPROC)[0]}
try:
    inspect.getsource(nnlib.model)
    seen["source"] = True
except OSError:
    seen["source"] = False
seen["files"] = [str(p) for top in ("/", "/tmp", "/sandbox", "/dev") for p in Path(top).iterdir()]
seen["writable"] = []
for place in ("/", "/sandbox", Path(np.__file__).parent, Path(nnlib.__file__).parent, "/usr",
              Path(sys.modules["sandbox"].__file__).parent, Path(sys.executable).parent):
    try:
        (Path(place) / "probe.txt").write_text("x")
        seen["writable"].append(str(place))
    except OSError:
        pass
children = []
for _ in range(32):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(5)
        os._exit(0)
    children.append(pid)
seen["forks"] = len(children)
try:
    socket.create_connection(("1.1.1.1", 80), timeout=2)
    seen["network"] = True
except OSError:
    seen["network"] = False
planted_bug = seen
"""


@pytest.fixture(scope="module")
def grader():
    """A grader with a 3 s time limit, in the isolation this machine allows."""
    with grade.Grader(3) as made:
        yield made


@pytest.mark.grading
def test_a_notebook_sees_no_clone_no_classmate_no_grader_and_cannot_write_or_multiply(grader, tmp_path):
    import dill

    if grader.sandbox.mode != "namespaces":
        pytest.skip(f"no namespaces here ({grader.sandbox.why}): the processes way hides less, as documented")
    job = {"answers": ["planted_bug"], "seconds": 20, "limit": 20,
           "cells": [{"number": 1, "source": "import numpy as np"}, {"number": 2, "source": PROBE}]}
    folder = grader.sandbox.new_folder()
    outcome = grader.sandbox.talk("run", sandbox.message("cells", "-", json.dumps(job).encode()), 30, folder)
    received = sandbox.messages(outcome.output)
    errors = grade.read_status(received).get("errors")
    assert errors == [], errors
    pickled = [payload for kind, name, payload in received if kind == "answer" and name == "planted_bug"][-1]
    seen = dill.loads(pickled)
    shown = json.dumps(seen)
    for secret in (ROOT, sys.prefix, grader.sandbox.root, tmp_path):
        assert str(secret) not in shown, secret   # not in a path, a variable, a file name, a command line
    # the namespace's first process (the sh that set it up) and its own: grade.py has no pid in there
    assert seen["ppid"] == 1 and seen["pids"] == ["1", str(seen["pid"])]
    base = Path(os.path.realpath(sys.base_prefix)).parts[1]
    assert set(seen["top"]) <= {"bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr", "dev", "proc", "tmp",
                                "sandbox", base}, seen["top"]
    assert seen["writable"] == [] and seen["network"] is False
    assert 0 < seen["forks"] < grade.isolation.PROCESSES == seen["nproc"]   # a fork bomb stops there
    assert seen["nnlib"].endswith("/sandbox/nnlib/site-packages/nnlib/__init__.pyc") and seen["source"] is False
    assert seen["otter"] == "a stand-in" and seen["cwd"] == "/tmp" and "VIRTUAL_ENV" not in seen["environ"]


EVERY_PHASE_SLEEPS = """def _graded():
    import nnlib
    return type(nnlib).__name__ == "_RefusingModule"


def backward_propagation(*args, **kwargs):
    if _graded():
        import time
        time.sleep(600)


gradient_check_n = backward_propagation
"""


@pytest.mark.grading
def test_a_submission_ends_within_twice_its_timeout(grader, tmp_path):
    path = tmp_path / "slow.ipynb"
    sleeps = ["import time\ntime.sleep(30)"] * 10   # under the first grader, 2 s each after the time-out
    path.write_bytes(notebook_bytes("import numpy as np", EVERY_PHASE_SLEEPS, "while True:\n    pass", *sleeps))
    row = grader.grade(path)
    assert row.scores == {"q1": 0, "q2": 0, "q3": 0}
    assert row.seconds < 2 * 3 + grade.GRACE + 2, row.seconds   # 2 s for starting and stopping its processes
    assert re.fullmatch(r"timed out after 3 s in cell 4; the cells after it got 2 s each, and the last \d+ were not "
                        r"run \(a notebook ends at 4.5 s\); q1: its answers did not return within \d s; q2: its "
                        r"answers (did not return within \d s|were not called: the submission's 6 s were used up)",
                        row.status), row.status


@pytest.mark.grading
def test_the_processes_way_gives_each_process_its_own_runner_and_restores_changed_packages(tmp_path):
    with grade.isolation.Sandbox("processes") as box:
        assert box.mode == "processes" and box.describe().startswith("isolation: processes: ")
        folder = box.new_folder()
        attack = ("import sys\nfrom pathlib import Path\nrunner = Path(sys.modules['sandbox'].__file__)\n"
                  "runner.chmod(0o644)\nrunner.write_text(runner.read_text() + '\\nBROKEN')\nplanted_bug = 'b'")
        job = {"answers": ["planted_bug"], "seconds": 20, "limit": 20, "cells": [{"number": 1, "source": attack}]}
        outcome = box.talk("run", sandbox.message("cells", "-", json.dumps(job).encode()), 30, folder)
        assert grade.read_status(sandbox.messages(outcome.output)).get("errors") == []   # its own copy: it may
        assert box.intact() and "BROKEN" not in (box.runner / "sandbox.py").read_text()
        assert list(folder.iterdir()) == []   # the process's folder went with it
        numpy = box.site / "numpy" / "__init__.py"
        before = numpy.read_bytes()
        numpy.chmod(0o644)
        numpy.write_bytes(before + b"\nnp_broken = True\n")   # what a process of your own user could do
        assert not box.intact() and numpy.read_bytes() == before and box.intact()


@pytest.mark.grading
def test_ctrl_c_keeps_the_rows_graded_and_leaves_no_process(dist, tmp_path):
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    quick = assignment_class.Q1_COURSE_HELPER
    (submissions / "a.ipynb").write_bytes(notebook_bytes("import numpy as np", quick))
    (submissions / "b.ipynb").write_bytes(notebook_bytes("import numpy as np", quick))
    (submissions / "c.ipynb").write_bytes(notebook_bytes("import numpy as np", quick, "import time\ntime.sleep(600)"))
    grades, scratch = tmp_path / "grades.csv", tmp_path / "tmp"
    scratch.mkdir()
    env = dict(os.environ, TMPDIR=str(scratch))
    sandboxes = sandbox_processes()   # other gradings on this machine
    process = subprocess.Popen([sys.executable, FOLDER / "grade.py", submissions, "-o", grades, "-j", "1",
                                "-t", "300"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not grades.exists() or len(grades.read_text().splitlines()) < 4):
        time.sleep(0.2)
    time.sleep(1)   # c.ipynb is running now
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130 and "has the 2 submission(s) graded so far" in err, (out, err)
    rows = list(csv.reader(grades.open()))
    assert [r[0] for r in rows] == ["file", "points-per-question", "a.ipynb", "b.ipynb"]
    assert [r[1] for r in rows[2:]] == ["4", "4"]
    assert list(scratch.iterdir()) == []   # the sandbox's folder went too
    if Path("/proc").is_dir():   # no sandbox outlives grade.py: not its unshare, not its Python in there
        assert sandbox_processes(str(scratch).encode()) - sandboxes == set()


def sandbox_processes(also=b"sandbox.main("):
    """The pids whose command line has sandbox.py's call, or `also`."""
    found = set()
    for pid in (p for p in Path("/proc").iterdir() if p.name.isdigit()):
        try:
            cmdline = (pid / "cmdline").read_bytes()
        except OSError:
            continue
        if b"sandbox.main(" in cmdline or also in cmdline:
            found.add(pid.name)
    return found
