"""The graded assignment in assignments/gradient-checking: otter assign, then grading.

The fast tests read the master notebook. The tests marked `grading` run `otter assign` into a
temporary folder, check that the student notebook gives nothing away, and grade a correct and
four learner-style wrong submissions (made by make_submissions.py) with grade.py, as an
instructor would: the correct one scores full marks, each wrong one loses exactly the points of
the question it gets wrong. They take a minute or two; deselect them with `-m "not grading"`.
"""

import csv
import importlib.util
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "assignments" / "gradient-checking"
MASTER = FOLDER / "gradient-checking.ipynb"
POINTS = {"q1": 4.0, "q2": 4.0, "q3": 2.0}
# every example submission and the one question its mistake must cost (None: full marks)
LOSES = {
    "correct": None,
    "checker-without-copy": "q2",
    "inv-m-twice": "q1",
    "inplace-relu-derivative": "q1",
    "one-sided-difference": "q2",
}


def load_script(name):
    spec = importlib.util.spec_from_file_location(name, FOLDER / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def master_cells():
    return nbformat.read(MASTER, as_version=4).cells


def blocks(cells, begin, end):
    """The cells between raw cells that start with `begin` and `end` (otter's block markers)."""
    inside, out = False, []
    for cell in cells:
        first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
        if cell.cell_type == "raw" and first.startswith(begin):
            inside = True
        elif cell.cell_type == "raw" and first.startswith(end):
            inside = False
        elif inside:
            out.append(cell)
    return out


def question_configs(cells):
    return [yaml.safe_load(c.source.split("\n", 1)[1]) for c in cells
            if c.cell_type == "raw" and c.source.startswith("# BEGIN QUESTION")]


def test_master_is_committed_without_outputs_and_starts_with_the_config():
    nb = nbformat.read(MASTER, as_version=4)
    nbformat.validate(nb)
    assert nb.cells[0].cell_type == "raw" and nb.cells[0].source.startswith("# ASSIGNMENT CONFIG")
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and not [c for c in code if c.outputs or c.execution_count is not None]
    assert nb.metadata.kernelspec.name == "python3"


def test_points_in_the_text_are_the_points_graded():
    cells = master_cells()
    configs = question_configs(cells)
    graded = {q["name"]: float(sum(q["points"])) for q in configs}
    assert graded == POINTS
    assert all(q.get("all_or_nothing") for q in configs)
    for number, (name, points) in enumerate(POINTS.items(), start=1):
        heading = [c.source for c in cells if c.cell_type == "markdown" and f"## Question {number}:" in c.source]
        assert len(heading) == 1 and f"({points:g} points)" in heading[0], name


def test_every_mistake_is_one_edit_of_the_solution():
    make = load_script("make_submissions")
    solution = blocks(master_cells(), "# BEGIN SOLUTION", "# END SOLUTION")
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell(make.strip_markers(c.source), metadata={"tags": [make.ANSWER_TAG]})
        for c in solution])
    assert set(make.MISTAKES) == set(LOSES) - {"correct"}
    for name, (question, edits) in make.MISTAKES.items():
        assert question == LOSES[name]
        wrong = make.with_mistake(nb, edits)      # exits when an edit is not found exactly once
        assert [c.source for c in wrong.cells] != [c.source for c in nb.cells], name


def requirement_lines(path):
    return [line.split("#")[0].strip() for line in path.read_text().splitlines() if line.split("#")[0].strip()]


def test_otter_is_pinned_for_instructors_and_kept_out_of_the_learners_requirements():
    lines = requirement_lines(ROOT / "requirements-instructor.txt")
    assert lines[0] == "-r requirements.txt" and "otter-grader==7.0.0" in lines
    learners = {re.split(r"[=<>@ ]", line)[0].lower() for line in requirement_lines(ROOT / "requirements.txt")}
    for line in lines[1:]:
        assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[0-9][\w.]*", line), line
        assert re.split(r"[=\[]", line)[0].lower() not in learners, f"{line} re-pins a package of requirements.txt"
    assert "otter-grader" not in learners


# ---- otter assign and grading (slow: marked) ------------------------------------------------

def run(*args, cwd=ROOT):
    done = subprocess.run([sys.executable, *map(str, args)], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, f"{' '.join(map(str, args))} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    """What `otter assign` writes for the master (the solutions run later, in the grading test)."""
    try:
        import otter  # noqa: F401
    except ImportError:  # CI installs it: there a skip would hide a broken set-up
        (pytest.fail if os.environ.get("CI") else pytest.skip)(
            "otter-grader is not installed: pip install -r requirements-test.txt")
    out = tmp_path_factory.mktemp("assignment") / "dist"
    run("-m", "otter", "assign", "--no-run-tests", MASTER, out)
    return out


@pytest.mark.grading
def test_student_notebook_gives_no_solution_and_no_hidden_test(dist):
    cells = master_cells()
    student = nbformat.read(dist / "student" / MASTER.name, as_version=4)
    text = nbformat.writes(student)    # cells and metadata (where otter keeps the public tests)
    code = "\n".join(c.source for c in student.cells if c.cell_type == "code")
    given = {line.strip() for c in cells if c.cell_type == "code" for line in c.source.splitlines()
             if "# SOLUTION" not in line}
    solution = {line.split("# SOLUTION")[0].strip() for c in blocks(cells, "# BEGIN SOLUTION", "# END SOLUTION")
                for line in c.source.splitlines() if "# SOLUTION" in line}
    secret = sorted(solution - given)
    assert secret == sorted(solution) and len(secret) >= 15   # every line a learner writes
    assert [line for line in secret if line in code] == []   # (the prompts give the formulas, not the code)
    answers = [c.source for c in student.cells if "otter_answer_cell" in c.metadata.get("tags", [])]
    assert len(answers) == 3 and all("..." in a for a in answers)

    tests = blocks(cells, "# BEGIN TESTS", "# END TESTS")
    names = {c.source: re.search(r"def (test_\w+)", c.source).group(1) for c in tests}
    hidden = [n for src, n in names.items() if "hidden: true" in src]
    public = [n for src, n in names.items() if "hidden: true" not in src]
    assert len(hidden) >= 8 and len(public) >= 5
    assert [n for n in hidden if n in text] == []
    assert all(n in text for n in public)   # the public tests ship with the notebook


@pytest.mark.grading
def test_grading_gives_full_marks_and_costs_each_mistake_its_question(dist, tmp_path):
    submissions = tmp_path / "submissions"
    run(FOLDER / "make_submissions.py", dist, submissions)
    assert sorted(p.stem for p in submissions.glob("*.ipynb")) == sorted(LOSES)
    grades = tmp_path / "grades.csv"
    start = time.perf_counter()
    log = run(FOLDER / "grade.py", submissions, "-a", dist, "-o", grades, "-j", "2")
    elapsed = time.perf_counter() - start
    print(log, f"graded {len(LOSES)} submissions in {elapsed:.1f} s")

    rows = {row["file"]: row for row in csv.DictReader(grades.open())}
    assert {q: float(rows["points-per-question"][q]) for q in POINTS} == POINTS
    for name, loses in LOSES.items():
        row = rows[f"{name}.ipynb"]
        assert row["grading_status"] == "Completed", (name, row)
        want = {q: 0.0 if q == loses else points for q, points in POINTS.items()}
        assert {q: float(row[q]) for q in POINTS} == want, (name, row["failed_tests"])
        assert float(row["total_points_earned"]) == sum(want.values())
        failed = set(re.findall(r"\b(q\d) - \d+:", row["failed_tests"]))
        assert failed == ({loses} if loses else set()), (name, row["failed_tests"])
