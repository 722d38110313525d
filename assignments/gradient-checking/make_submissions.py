"""Example submissions, made from the student notebook `otter assign` generated: one correct, four wrong.

    python assignments/gradient-checking/make_submissions.py DIST OUT

DIST is the folder assign.py (or `otter assign`) wrote, with student/ in it. Each submission is
the student notebook with its answer cells filled in from the master's solution cells; the wrong
ones then get one learner-style mistake by a small textual edit, so they follow the master
wherever it changes. Each mistake belongs to one question, and grading it should cost exactly
that question's points:

    correct                      nothing wrong: full marks
    checker-without-copy         q2: theta_plus = theta, a second name and not a copy (the vector
                                 form of a shallow dict.copy()): every numeric gradient is halved
    inv-m-twice                  q1: dZ2 = (A2 - Y) / m as well as the 1/m in every dW and db
    inplace-relu-derivative      q1: the ReLU derivative written into the cache's A1 (the
                                 gradients still come out right; the cache does not)
    one-sided-difference         q2: (J(theta + eps) - J(theta)) / eps

An edit whose text is not found exactly once in the answer cells stops the script: the master
changed, and the edit must follow it.
"""

import argparse
import copy
import sys
from pathlib import Path

import nbformat

NOTEBOOK = "gradient-checking.ipynb"
MASTER = Path(__file__).resolve().parent / NOTEBOOK
ANSWER_TAG = "otter_answer_cell"            # otter's tag on the cells a student writes in

# name -> (the question it breaks, [(text in the answer cells, what a learner wrote instead)])
MISTAKES = {
    "checker-without-copy": ("q2", [
        ("theta_plus = np.copy(theta)", "theta_plus = theta"),
    ]),
    "inv-m-twice": ("q1", [
        ("dZ2 = A2 - Y", "dZ2 = (A2 - Y) / m"),
    ]),
    "inplace-relu-derivative": ("q1", [
        ("def backward_propagation(X, Y, cache):",
         "def relu_derivative(x):\n    x[x <= 0] = 0\n    x[x > 0] = 1\n    return x\n\n\n"
         "def backward_propagation(X, Y, cache):"),
        ("dZ1 = dA1 * (Z1 > 0)", "dZ1 = dA1 * relu_derivative(A1)"),
    ]),
    "one-sided-difference": ("q2", [
        ("gradapprox = np.zeros((n, 1))",
         "gradapprox = np.zeros((n, 1))\n    J, _ = forward_propagation(X, Y, parameters, keep_prob, D1)"),
        ("gradapprox[i, 0] = (J_plus - J_minus) / (2 * epsilon)", "gradapprox[i, 0] = (J_plus - J) / epsilon"),
    ]),
}


def strip_markers(source):
    """The solution code as a student would type it: without otter's `# SOLUTION` markers."""
    return "\n".join(line.replace("  # SOLUTION", "").rstrip() for line in source.splitlines())


def solution_cells(master=MASTER):
    """The code cells between the master's `# BEGIN SOLUTION` and `# END SOLUTION` raw cells, in order."""
    inside, out = False, []
    for cell in nbformat.read(master, as_version=4).cells:
        first = cell.source.strip().split("\n", 1)[0] if cell.source.strip() else ""
        if cell.cell_type == "raw" and first.startswith(("# BEGIN SOLUTION", "# END SOLUTION")):
            inside = first.startswith("# BEGIN")
        elif inside and cell.cell_type == "code":
            out.append(cell.source)
    return out


def correct_submission(dist, master=MASTER):
    """The student notebook with every answer cell replaced by the master's solution, as a student types it."""
    student_path = Path(dist) / "student" / NOTEBOOK
    if not student_path.is_file():
        raise SystemExit(f"{dist} has no student/{NOTEBOOK}: give the folder assign.py (or `otter assign "
                         "gradient-checking.ipynb FOLDER`) wrote")
    student = nbformat.read(student_path, as_version=4)
    answers = [c for c in student.cells if ANSWER_TAG in c.metadata.get("tags", [])]
    solutions = solution_cells(master)
    if not answers or len(answers) != len(solutions):
        raise SystemExit(f"{dist}: {len(answers)} answer cells in student/{NOTEBOOK} but {len(solutions)} "
                         f"solution cells in the master; run assign.py again")
    for answer, solution in zip(answers, solutions, strict=True):
        answer.source = strip_markers(solution)
    return student


def with_mistake(notebook, edits):
    """A copy of notebook with each (old, new) edit made in its answer cells; each old must occur once."""
    notebook = copy.deepcopy(notebook)
    answers = [c for c in notebook.cells if ANSWER_TAG in c.metadata.get("tags", [])]
    for old, new in edits:
        found = sum(c.source.count(old) for c in answers)
        if found != 1:
            raise SystemExit(f"the edit of {old!r} found it {found} times in the answer cells (it must be once): "
                             "the master notebook changed; update MISTAKES in make_submissions.py")
        for cell in answers:
            cell.source = cell.source.replace(old, new)
    return notebook


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dist", help="the folder otter assign wrote (it holds student/ and autograder/)")
    parser.add_argument("out", help="folder to write the example submissions into")
    args = parser.parse_args(argv)
    correct = correct_submission(args.dist)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    nbformat.write(correct, out / "correct.ipynb")
    for name, (_, edits) in MISTAKES.items():
        nbformat.write(with_mistake(correct, edits), out / f"{name}.ipynb")
    print(f"wrote {1 + len(MISTAKES)} submissions to {out}: correct, {', '.join(MISTAKES)}")


if __name__ == "__main__":
    sys.exit(main())
