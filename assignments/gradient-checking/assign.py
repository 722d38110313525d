"""Make the hand-out: the student notebook and nothing that answers it, or nothing at all.

    python assignments/gradient-checking/assign.py [DIST] [--nnlib-from REQUIREMENT]

Grades the master with grade.py, as a learner's notebook is graded (in the sandbox, against
the hidden tests): its solutions must score full marks. Then runs `otter assign` on it into a
temporary folder and checks what that made: the student notebook must hold no line of the
solutions. Only then is DIST (default: dist/ next to this script) replaced, whole, by

    DIST/student/gradient-checking.ipynb     what learners get
    DIST/handout/                            that notebook, nnlib's wheel (the package alone: no
                                             master, no solutions), a requirements.txt and a
                                             README: the content of a student repository (Binder)
    DIST/gradient-checking-handout.zip       the same folder as one file to send

When anything fails, DIST is left as it was and the temporary folder is removed: no half-made
hand-out stays behind. otter's autograder zip is not kept: grade.py does not use it.
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
import grade  # noqa: E402
import make_submissions  # noqa: E402

NOTEBOOK = make_submissions.NOTEBOOK
NOT_FOR_LEARNERS = {"nbval", "pytest"}   # requirements.txt's test runners


class Failed(Exception):
    """What stops the hand-out from being made."""


def solution_lines(master):
    """Every line a learner writes: the master's solution lines, without their `# SOLUTION` marker."""
    return sorted({line.split("# SOLUTION")[0].strip() for cell in make_submissions.solution_cells(master)
                   for line in cell.splitlines() if "# SOLUTION" in line})


def check_student(student, master):
    """Stop when the student notebook shows a solution line or an otter marker."""
    nb = nbformat.read(student, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    shown = [line for line in solution_lines(master) if line in code]
    if shown:
        raise Failed(f"the student notebook shows solution lines: {shown[:3]}")
    markers = [m for m in ("# SOLUTION", "# BEGIN SOLUTION", "BEGIN QUESTION", "# IGNORE") if m in nbformat.writes(nb)]
    if markers:
        raise Failed(f"the student notebook still has otter's markers {markers}")


def check_solutions_score_full_marks(master, scratch, timeout):
    """Grade the master's solutions as grade.py grades a learner's notebook: they must score full marks.
    The notebook graded is the master without otter's raw cells and `# SOLUTION` markers (grade.py gives
    the master itself 0); its test cells run too, as any cell does."""
    nb = nbformat.read(master, as_version=4)
    nb.cells = [cell for cell in nb.cells if cell.cell_type != "raw"]
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = make_submissions.strip_markers(cell.source)
    copy = scratch / master.name
    nbformat.write(nb, copy)
    with grade.Grader(timeout) as grader:
        row = grader.grade(copy)
    possible = {q.name: q.points for q in grader.questions}
    if row.scores != possible:
        failed = "\n".join(f"  {test.name}: {message}" for _, test, message in row.outcomes if message)
        raise Failed(f"the master's solutions score {sum(row.scores.values()):g} of "
                         f"{sum(possible.values()):g} ({row.status}):\n{failed}")
    return row


def handout_requirements(nnlib):
    """requirements.txt and requirements-instructor.txt's pins a learner needs, and nnlib (a wheel's path,
    or a requirement such as a fork's URL)."""
    pins = []
    for name in ("requirements.txt", "requirements-instructor.txt"):
        for line in (ROOT / name).read_text().splitlines():
            line = line.split("#")[0].strip()
            if "==" in line and line.split("==")[0].lower() not in NOT_FOR_LEARNERS:
                pins.append(line)
    return ("# The assignment's environment: numpy, nnlib (for the data and the checks' networks), otter-grader\n"
            "# (for grader.check), JupyterLab. Python 3.11 or newer.\n" + "\n".join(pins) + f"\n{nnlib}\n")


def build_wheel(folder, scratch):
    """nnlib's wheel, built by pip from this clone's package files alone, into folder; its file name. Stop when
    it holds anything but nnlib and its metadata (the master and the solutions must not travel with it)."""
    src = scratch / "wheel-src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "nnlib", src / "nnlib", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(folder),
                           str(src)], capture_output=True, text=True)
    wheels = sorted(folder.glob("*.whl"))
    if done.returncode != 0 or len(wheels) != 1:
        raise Failed(f"pip could not build nnlib's wheel (it needs setuptools from PyPI, or pip's cache; or give "
                     f"--nnlib-from a requirement):\n{(done.stdout + done.stderr).strip()[-2000:]}")
    with zipfile.ZipFile(wheels[0]) as archive:
        other = [n for n in archive.namelist() if not n.startswith("nnlib/") and ".dist-info/" not in n]
    if other:
        raise Failed(f"nnlib's wheel holds more than nnlib: {other[:5]}")
    return wheels[0].name


README = """# Graded assignment: backpropagation and gradient checking

Open `{notebook}` and follow it: write the three answers, run each `grader.check` cell
as you go, and hand in what its last cell makes, as your instructor asks.

In your browser: the Binder link your instructor gives you. On your own computer, once,
with Python 3.11 or newer:

    python3 -m venv .venv && . .venv/bin/activate && python -m pip install -r requirements.txt && jupyter lab {notebook}
"""


def make_handout(student, folder, nnlib_from, scratch):
    """folder/handout/ (notebook, nnlib's wheel unless nnlib_from says otherwise, requirements.txt, README.md)
    and folder/gradient-checking-handout.zip."""
    handout = folder / "handout"
    handout.mkdir()
    shutil.copy2(student, handout / NOTEBOOK)
    nnlib = nnlib_from or f"./{build_wheel(handout, scratch)}"   # a path pip reads from the folder it runs in
    (handout / "requirements.txt").write_text(handout_requirements(nnlib))
    (handout / "README.md").write_text(README.format(notebook=NOTEBOOK))
    with zipfile.ZipFile(folder / f"{Path(NOTEBOOK).stem}-handout.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(handout.iterdir()):
            archive.write(path, path.name)


def replace(dist, new):
    """dist becomes new in two renames; an old dist goes only once the new one is in place."""
    old = None
    if dist.exists():
        old = dist.with_name(f".{dist.name}-old")
        shutil.rmtree(old, ignore_errors=True)
        dist.rename(old)
    new.rename(dist)
    if old:
        shutil.rmtree(old)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dist", nargs="?", default=str(HERE / "dist"),
                        help="the folder to write (default: %(default)s)")
    parser.add_argument("--master", default=str(HERE / NOTEBOOK), help=argparse.SUPPRESS)   # for the tests
    parser.add_argument("--nnlib-from", metavar="REQUIREMENT",
                        help="how learners install nnlib instead of the wheel built from this clone, e.g. "
                             "'backprop-lab==0.1.0' once it is on PyPI (never the repository's archive: it holds "
                             "the master and the solutions)")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="grade.py's time limit for the solutions' notebook (default: %(default)g)")
    args = parser.parse_args(argv)
    dist, master = Path(args.dist).resolve(), Path(args.master).resolve()
    dist.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{dist.name}-new-", dir=dist.parent))
    try:
        (work / "scratch").mkdir()
        row = check_solutions_score_full_marks(master, work / "scratch", args.timeout)
        done = subprocess.run([sys.executable, "-m", "otter", "assign", "--no-run-tests", str(master),
                               str(work / "otter")], cwd=master.parent, capture_output=True, text=True)
        if done.returncode != 0:
            raise Failed(f"otter assign failed:\n{(done.stdout + done.stderr).strip()[-3000:]}")
        student = work / "otter" / "student" / NOTEBOOK
        check_student(student, master)
        new = work / "dist"
        (new / "student").mkdir(parents=True)
        shutil.copy2(student, new / "student" / NOTEBOOK)
        make_handout(student, new, args.nnlib_from, work)
        replace(dist, new)
    except Failed as e:
        print(f"{e}\n{dist} is unchanged, and nothing was left behind.", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"wrote {dist}: student/{NOTEBOOK}, handout/ and {Path(NOTEBOOK).stem}-handout.zip; the master's "
          f"solutions score {sum(row.scores.values()):g} points in grade.py. Hand out only these.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
