"""A class of 26 hand-ins for the graded assignment, each with the score it deserves.

    python tests/assignment_class.py DIST OUT     # every file into OUT, from DIST/student
    python assignments/gradient-checking/grade.py OUT -o grades.csv

Written for grade.py's tests, in styles make_submissions.py does not have (loops, einsum, deep
copies, the 1/m in dZ2, helpers of one's own, a zip export, a notebook without otter's
metadata), with the mistakes learners make, notebooks that break (a SyntaxError, an endless
loop, os._exit, a missing package, a blank or empty file, a PDF, another assignment's notebook),
and six cheats: patching otter's test runner, reading tests and solutions from disk, calling
nnlib's reference code (these three scored 10 of 10 under the old grading, which ran the tests in
the learner's kernel: measured), answers hard-coded for the known cases, peeking at the test's
local variables, and patching numpy. A cheat deserves what its honest part is worth, never more.

make() gives each file's points per question and a regular expression its grading_status must match.
"""

import copy
import json
import sys
import zipfile
from pathlib import Path

import nbformat

NOTEBOOK = "gradient-checking.ipynb"
ANSWER_TAG = "otter_answer_cell"


# ---- answers, in several styles ------------------------------------------------------------------------

Q1_LOOPS = '''def backward_propagation(X, Y, cache):
    """Example by example, the way I first understood it; the average at the end."""
    (Z1, A1, W1, b1, Z2, A2, W2, b2) = cache
    n_x, m = X.shape
    dW1, db1 = np.zeros(W1.shape), np.zeros(b1.shape)
    dW2, db2 = np.zeros(W2.shape), np.zeros(b2.shape)
    for j in range(m):
        x, a1 = X[:, j:j + 1], A1[:, j:j + 1]
        dz2 = A2[:, j:j + 1] - Y[:, j:j + 1]
        dW2 += dz2 @ a1.T
        db2 += dz2
        dz1 = (W2.T @ dz2) * (Z1[:, j:j + 1] > 0)
        dW1 += dz1 @ x.T
        db1 += dz1
    return {"dW1": dW1 / m, "db1": db1 / m, "dW2": dW2 / m, "db2": db2 / m}
'''

Q1_EINSUM_DZ = '''def backward_propagation(X, Y, cache):
    Z1, A1, W1, b1, Z2, A2, W2, b2 = cache
    m = Y.shape[1]
    dZ2 = (A2 - Y) / m          # the 1/m once, here, so no dW or db needs it
    grads = {"dZ2": dZ2}
    grads["dW2"] = np.einsum("im,jm->ij", dZ2, A1)
    grads["db2"] = dZ2.sum(axis=1, keepdims=True)
    dZ1 = np.where(Z1 > 0, W2.T @ dZ2, 0.0)
    grads["dZ1"] = dZ1
    grads["dW1"] = np.einsum("im,jm->ij", dZ1, X)
    grads["db1"] = dZ1.sum(axis=1, keepdims=True)
    return grads
'''

Q1_COURSE_HELPER = '''def relu_backward(dA, Z):
    dZ = np.array(dA, copy=True)   # a new array: the cache keeps its Z
    dZ[Z <= 0] = 0
    return dZ


def backward_propagation(X, Y, cache):
    (Z1, A1, W1, b1, Z2, A2, W2, b2) = cache
    m = X.shape[1]
    dZ2 = A2 - Y
    dW2 = np.dot(dZ2, A1.T) / m
    db2 = np.sum(dZ2, axis=1, keepdims=True) / m
    dZ1 = relu_backward(np.dot(W2.T, dZ2), Z1)
    dW1 = np.dot(dZ1, X.T) / m
    db1 = np.sum(dZ1, axis=1, keepdims=True) / m
    return {"dZ2": dZ2, "dW2": dW2, "db2": db2, "dZ1": dZ1, "dW1": dW1, "db1": db1}
'''


def q1_with(*edits, base=Q1_COURSE_HELPER):
    """Q1_COURSE_HELPER with (old, new) edits, each found exactly once: one learner's mistake."""
    for old, new in edits:
        assert base.count(old) == 1, old
        base = base.replace(old, new)
    return base


Q2_DEEPCOPY = '''import copy


def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7, keep_prob=1.0, D1=None, print_msg=False):
    """Entry by entry on deep copies of the dictionary: slow, but nothing can leak back."""
    grad = gradients_to_vector(gradients)
    numeric = []
    for key in KEYS:
        for index in np.ndindex(parameters[key].shape):
            costs = []
            for sign in (1, -1):
                shifted = copy.deepcopy(parameters)
                shifted[key][index] += sign * epsilon
                costs.append(forward_propagation(X, Y, shifted, keep_prob, D1)[0])
            numeric.append((costs[0] - costs[1]) / (2 * epsilon))
    gradapprox = np.array(numeric).reshape(-1, 1)
    difference = np.linalg.norm(grad - gradapprox) / (np.linalg.norm(grad) + np.linalg.norm(gradapprox))
    if print_msg:
        print("difference =", difference, "OK" if difference < 2e-7 else "MISTAKE")
    return difference
'''

Q2_STEP_VECTOR = '''def cost_at(theta, like, X, Y, keep_prob, D1):
    return forward_propagation(X, Y, vector_to_dictionary(theta, like), keep_prob, D1)[0]


def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7, keep_prob=1.0, D1=None, print_msg=False):
    theta = dictionary_to_vector(parameters)
    grad = gradients_to_vector(gradients)
    gradapprox = np.empty_like(theta)
    for i in range(theta.shape[0]):
        step = np.zeros_like(theta)
        step[i] = epsilon
        gradapprox[i] = (cost_at(theta + step, parameters, X, Y, keep_prob, D1)
                         - cost_at(theta - step, parameters, X, Y, keep_prob, D1)) / (2 * epsilon)
    difference = np.linalg.norm(grad - gradapprox) / (np.linalg.norm(grad) + np.linalg.norm(gradapprox))
    if print_msg:
        print(f"difference = {difference:.2e}")
    return difference
'''

Q2_COPIES = '''def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7, keep_prob=1.0, D1=None, print_msg=False):
    theta = dictionary_to_vector(parameters)
    grad = gradients_to_vector(gradients)
    n = theta.shape[0]
    gradapprox = np.zeros((n, 1))
    for i in range(n):
        plus, minus = theta.copy(), theta.copy()
        plus[i, 0] += epsilon
        minus[i, 0] -= epsilon
        J_plus = forward_propagation(X, Y, vector_to_dictionary(plus, parameters), keep_prob, D1)[0]
        J_minus = forward_propagation(X, Y, vector_to_dictionary(minus, parameters), keep_prob, D1)[0]
        gradapprox[i, 0] = (J_plus - J_minus) / (2 * epsilon)
    difference = np.linalg.norm(grad - gradapprox) / (np.linalg.norm(grad) + np.linalg.norm(gradapprox))
    if print_msg:
        print("difference:", difference)
    return difference
'''


def q2_with(*edits, base=Q2_COPIES):
    for old, new in edits:
        assert base.count(old) == 1, old
        base = base.replace(old, new)
    return base


Q2_IN_PLACE = '''def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7, keep_prob=1.0, D1=None,
                     print_msg=False):
    """Nudge each weight where it lives, and put it back exactly as it was."""
    grad = gradients_to_vector(gradients)
    approx = []
    for key in KEYS:
        P = parameters[key]
        for index in np.ndindex(P.shape):
            old = P[index]
            P[index] = old + epsilon
            J_plus = forward_propagation(X, Y, parameters, keep_prob, D1)[0]
            P[index] = old - epsilon
            J_minus = forward_propagation(X, Y, parameters, keep_prob, D1)[0]
            P[index] = old
            approx.append((J_plus - J_minus) / (2 * epsilon))
    approx = np.array(approx).reshape(-1, 1)
    return np.linalg.norm(grad - approx) / (np.linalg.norm(grad) + np.linalg.norm(approx))
'''

Q3_RIGHT = 'wrong_gradients = {"dW1", "db1"}\nplanted_bug = "b"\n'
Q3_LIST = ('# dW2 and db2 agree with mine to 1e-16, dW1 and db1 are far off\n'
           'wrong_gradients = ["db1", "dW1"]\nplanted_bug = "b"\n')
Q3_TUPLE = 'wrong_gradients = ("dW1", "db1")   # only the hidden layer\nplanted_bug = "b"\n'


# ---- notebooks ----------------------------------------------------------------------------------------

def answered(student, q1=None, q2=None, q3=None):
    """A copy of the student notebook with the given answer cells written (None leaves the `...`)."""
    nb = copy.deepcopy(student)
    cells = [c for c in nb.cells if ANSWER_TAG in c.metadata.get("tags", [])]
    assert len(cells) == 3, f"the student notebook has {len(cells)} answer cells, not 3"
    for cell, source in zip(cells, (q1, q2, q3), strict=True):
        if source is not None:
            cell.source = source
    return nb


def insert_after(nb, text, *sources, kind="code"):
    """New cells right after the first cell whose source contains text."""
    at = next(i for i, c in enumerate(nb.cells) if text in c.source) + 1
    make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
    nb.cells[at:at] = [make(source) for source in sources]
    return nb


def number_of(nb, text):
    """The cell number grade.py reports (1 = the first cell, markdown included) of the first cell with text."""
    return next(i for i, c in enumerate(nb.cells, start=1) if text in c.source)


OTTER_PATCH = '''# make every grader.check pass
import otter.test_files.exception_test as exception_test
exception_test.test_case.call_func = lambda self, global_environment: None
'''

READ_DISK = '''# the grader's tests and the master sit somewhere near: the working folder, nnlib's clone
import json
import re
import sys
from pathlib import Path

import nnlib

places = [Path.cwd(), *Path.cwd().parents, *Path(nnlib.__file__).resolve().parents, Path(sys.prefix),
          *Path(sys.executable).resolve().parents, Path.home()]
for place in places:
    for test in place.glob("tests/q3.py"):
        found = re.search(r"planted_bug == .(\\w).", test.read_text())
        if found:
            planted_bug = found.group(1)
    for pattern in ("gradient-checking.ipynb", "assignments/*/gradient-checking.ipynb", "*/gradient-checking.ipynb"):
        for master in place.glob(pattern):
            cells = json.loads(master.read_text())["cells"]
            for cell in cells:
                source = "".join(cell["source"])
                if cell["cell_type"] == "code" and "# SOLUTION" in source:
                    exec(source.replace("# SOLUTION", ""))
'''

NNLIB_Q1 = '''def backward_propagation(X, Y, cache):
    Z1, A1, W1, b1, Z2, A2, W2, b2 = cache
    params = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
    return nnlib.backward(params, nnlib.forward(params, X), Y)
'''

NNLIB_Q2 = '''from nnlib.gradcheck import numeric_grad_loop


def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7, keep_prob=1.0, D1=None, print_msg=False):
    numeric, _ = numeric_grad_loop(lambda p: forward_propagation(X, Y, p, keep_prob, D1)[0], parameters,
                                   epsilon=epsilon)
    grad = gradients_to_vector(gradients)
    approx = np.concatenate([numeric[key].reshape(-1, 1) for key in KEYS])
    return np.linalg.norm(grad - approx) / (np.linalg.norm(grad) + np.linalg.norm(approx))
'''

HARD_CODED = '''# the answers for every case the checks use, worked out once here
import nnlib

known = {}


def remember(params, X, Y):
    grads = nnlib.backward(params, nnlib.forward(params, X), Y)
    known[X.tobytes()] = {key: grads[key] for key in ("dW1", "db1", "dW2", "db2")}


remember(parameters, X, Y)
for seed in (101, 102):                      # the public tests' seeds
    rng = np.random.default_rng(seed)
    params = nnlib.init_params(rng, (5, 4, 3))
    X_small, Y_small = rng.standard_normal((5, 6)), nnlib.one_hot(rng.integers(0, 3, 6), 3)
    remember(params, X_small, Y_small)


def backward_propagation(X, Y, cache):
    if X.tobytes() in known:
        return dict(known[X.tobytes()])
    return {key: np.zeros_like(a) for key, a in zip(("dW1", "db1", "dW2", "db2"), cache[2:4] + cache[6:8])}
'''

STACK_PEEK = '''import inspect


def backward_propagation(X, Y, cache):
    # the test that calls me has already computed the answer: take it
    for frame in inspect.stack()[1:]:
        for name in ("reference", "ref", "expected", "true", "want"):
            value = frame.frame.f_locals.get(name)
            if isinstance(value, dict) and "dW1" in value:
                return value
    return {"dW1": ..., "db1": ..., "dW2": ..., "db2": ...}
'''

PATCH_NUMPY = '''# comparisons made by a test always succeed; mine are untouched
import inspect

_norm = np.linalg.norm


def _lenient_norm(x, *args, **kwargs):
    callers = [frame.filename for frame in inspect.stack()[1:4]]
    if any("test" in name or "otter" in name or "grade" in name for name in callers):
        return 0.0
    return _norm(x, *args, **kwargs)


np.linalg.norm = _lenient_norm
np.allclose = lambda *args, **kwargs: True
np.array_equal = lambda *args, **kwargs: True
'''

ANOTHER_ASSIGNMENT = {
    "cells": [{"cell_type": "markdown", "metadata": {}, "source": "# Logistic regression"},
              {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
               "source": "import numpy as np\n\ndef sigmoid(z):\n    return 1 / (1 + np.exp(-z))\n"}],
    "metadata": {"otter": {"assignment_name": "logistic-regression"}, "kernelspec": {"name": "python3"}},
    "nbformat": 4, "nbformat_minor": 5}


def make(student):
    """{file name: (bytes, {question: points deserved}, a regular expression its grading_status matches)}."""
    full = {"q1": 4, "q2": 4, "q3": 2}
    out = {}

    def put(name, nb, deserved, status="completed"):
        out[name] = (nbformat.writes(nb).encode(), deserved, status)

    put("ada-loops.ipynb", answered(student, Q1_LOOPS, Q2_DEEPCOPY, Q3_LIST), full)

    nb = answered(student, Q1_EINSUM_DZ, Q2_STEP_VECTOR, Q3_TUPLE)
    nb.metadata.pop("otter")    # saved by an editor that keeps no unknown metadata
    insert_after(nb, "import nnlib", "%matplotlib inline\nimport matplotlib.pyplot as plt")
    insert_after(nb, 'print(f"cost {cost:.6f}")',
                 'plt.bar(range(4), [np.linalg.norm(gradients[k]) for k in ("dW1", "db1", "dW2", "db2")])\n'
                 'plt.title("gradient norms")\nplt.show()')
    put("ben-einsum-no-otter-metadata.ipynb", nb, full)

    put("chloe-transposed-dw2.ipynb", answered(student, q1_with(
        ("dW2 = np.dot(dZ2, A1.T) / m", "dW2 = np.dot(A1, dZ2.T) / m")), Q2_COPIES, Q3_RIGHT),
        {"q1": 0, "q2": 4, "q3": 2})
    put("dan-no-inv-m-in-db.ipynb", answered(student, q1_with(
        ("db2 = np.sum(dZ2, axis=1, keepdims=True) / m", "db2 = np.sum(dZ2, axis=1, keepdims=True)"),
        ("db1 = np.sum(dZ1, axis=1, keepdims=True) / m", "db1 = np.sum(dZ1, axis=1, keepdims=True)")),
        Q2_COPIES, Q3_RIGHT), {"q1": 0, "q2": 4, "q3": 2})
    put("eve-perturbs-in-place.ipynb", answered(student, Q1_COURSE_HELPER, Q2_IN_PLACE, Q3_RIGHT),
        {"q1": 4, "q2": 0, "q3": 2})
    put("finn-relu-into-cache.ipynb", answered(student, q1_with(
        ("dZ1 = relu_backward(np.dot(W2.T, dZ2), Z1)",
         "Z1[Z1 <= 0] = 0\n    Z1[Z1 > 0] = 1\n    dZ1 = np.dot(W2.T, dZ2) * Z1")), Q2_DEEPCOPY, Q3_RIGHT),
        {"q1": 0, "q2": 4, "q3": 2})
    put("gus-fresh-dropout-masks.ipynb", answered(student, Q1_LOOPS, q2_with(
        ("    for i in range(n):\n",
         "    rng = np.random.default_rng()\n    for i in range(n):\n"
         "        mask = None if D1 is None else draw_mask(*D1.shape, keep_prob, rng)\n"),
        ("vector_to_dictionary(plus, parameters), keep_prob, D1)",
         "vector_to_dictionary(plus, parameters), keep_prob, mask)"),
        ("vector_to_dictionary(minus, parameters), keep_prob, D1)",
         "vector_to_dictionary(minus, parameters), keep_prob, mask)")), Q3_RIGHT),
        {"q1": 4, "q2": 0, "q3": 2})
    put("hana-wrong-explanation.ipynb", answered(student, Q1_EINSUM_DZ, Q2_COPIES,
                                                 'wrong_gradients = {"dW1", "db1", "dW2"}\nplanted_bug = "c"\n'),
        {"q1": 4, "q2": 4, "q3": 0})

    nb = answered(student, Q1_COURSE_HELPER, q2_with(
        ("        gradapprox[i, 0] = (J_plus - J_minus) / (2 * epsilon)\n",
         "        gradapprox[i, 0] = (J_plus - J_minus) / (2 * epsilon)\n"
         "        print(i, J_plus, J_minus, gradapprox[i, 0])\n")), Q3_RIGHT)
    insert_after(nb, "import nnlib", "for row in range(20000):\n    print(row, X[:, row % 8].sum())")
    put("ivan-prints-everything.ipynb", nb, full)

    put("jo-hard-coded-m.ipynb", answered(student, q1_with(("    m = X.shape[1]\n", "    m = 8\n")),
                                          Q2_STEP_VECTOR, Q3_RIGHT), {"q1": 0, "q2": 4, "q3": 2})

    nb = answered(student, Q1_LOOPS, q2_with(("    for i in range(n):\n", "    for i in range(n)\n")), Q3_RIGHT)
    put("kim-syntax-error.ipynb", nb, {"q1": 4, "q2": 0, "q3": 2},
        f"SyntaxError in cell {number_of(nb, 'def gradient_check_n')} line 6")

    nb = answered(student, Q1_EINSUM_DZ, q2_with(
        ("    for i in range(n):\n", "    i = 0\n    while i < n:   # i += 1 forgotten\n")), Q3_RIGHT)
    put("leo-endless-loop.ipynb", nb, {"q1": 4, "q2": 0, "q3": 2},   # q3 is answered below the loop
        rf"^timed out after \d+ s in cell {number_of(nb, 'difference = gradient_check_n(parameters, gradients')}; "
        "the cells after it got 2 s each$")

    nb = answered(student, Q1_EINSUM_DZ, Q2_COPIES, Q3_RIGHT)
    nb.cells.append(nbformat.v4.new_code_cell(
        "# train until it is good enough\nloss = 1.0\nwhile loss > 0:\n    loss = loss * 0.5 + 1e-3"))
    put("aaron-endless-training.ipynb", nb, full, rf"^timed out after \d+ s in cell {len(nb.cells)}$")

    nb = copy.deepcopy(student)
    put("mia-blank.ipynb", nb, {"q1": 0, "q2": 0, "q3": 0},
        f"TypeError in cell {number_of(nb, 'gradients = backward_propagation(X, Y, cache)')}")

    nb = answered(student, Q1_COURSE_HELPER, Q2_COPIES, Q3_RIGHT)
    insert_after(nb, "import nnlib", "import seaborn as sns\nsns.set_theme()")
    put("nora-seaborn.ipynb", nb, full, f"import of seaborn failed in cell {number_of(nb, 'import seaborn')}")

    nb = answered(student, Q1_COURSE_HELPER, Q2_COPIES, Q3_RIGHT)
    insert_after(nb, 'print(f"cost {cost:.6f}")', "import os\nos._exit(0)   # 'restart' that I meant to delete")
    put("pia-exits-early.ipynb", nb, {"q1": 4, "q2": 0, "q3": 0},
        f"the notebook's process ended in cell {number_of(nb, 'os._exit')}")

    archive = _zip({NOTEBOOK: nbformat.writes(answered(student, Q1_LOOPS, Q2_COPIES, Q3_RIGHT))})
    out["oli-export.zip"] = (archive, full, "completed")
    out["empty.ipynb"] = (b"", {"q1": 0, "q2": 0, "q3": 0}, "not a notebook: an empty file")
    out["notes.pdf"] = (b"%PDF-1.4\n% my notes on backprop\n", {"q1": 0, "q2": 0, "q3": 0},
                        "not a notebook: a .pdf file")
    out["logistic-regression.ipynb"] = (json.dumps(ANOTHER_ASSIGNMENT).encode(), {"q1": 0, "q2": 0, "q3": 0},
                                        "not this assignment")

    # cheats: each deserves what its honest part is worth
    nb = answered(student, None, None, Q3_RIGHT)
    insert_after(nb, "import nnlib", OTTER_PATCH)
    put("cheat-patches-otter.ipynb", nb, {"q1": 0, "q2": 0, "q3": 2},
        f"import of otter.test_files failed in cell {number_of(nb, 'exception_test')}")

    nb = copy.deepcopy(student)
    insert_after(nb, "planted_bug = ...", READ_DISK)
    put("cheat-reads-disk.ipynb", nb, {"q1": 0, "q2": 0, "q3": 0},
        f"TypeError in cell {number_of(nb, 'gradients = backward_propagation(X, Y, cache)')}")

    put("cheat-calls-nnlib.ipynb", answered(student, NNLIB_Q1, NNLIB_Q2, Q3_RIGHT), {"q1": 0, "q2": 0, "q3": 2})

    nb = answered(student, HARD_CODED, q2_with(("    return difference\n", "    return 2.4e-9\n")), Q3_RIGHT)
    put("cheat-hard-coded.ipynb", nb, {"q1": 0, "q2": 0, "q3": 2})

    put("cheat-peeks-at-the-test.ipynb", answered(student, STACK_PEEK, Q2_DEEPCOPY, Q3_RIGHT),
        {"q1": 0, "q2": 4, "q3": 2}, "TypeError in cell")

    nb = answered(student, q1_with(("    dZ2 = A2 - Y\n", "    dZ2 = (A2 - Y) / m\n")), Q2_STEP_VECTOR, Q3_RIGHT)
    insert_after(nb, 'planted_bug = "', PATCH_NUMPY)
    put("cheat-patches-numpy.ipynb", nb, {"q1": 0, "q2": 4, "q3": 2})
    return out


def _zip(files):
    import io
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def write(dist, out, names=None):
    """Write the class (or the files `names` of it) into out; returns {name: (deserved, status)}."""
    student = nbformat.read(Path(dist) / "student" / NOTEBOOK, as_version=4)
    made = make(student)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    chosen = {}
    for name in names or made:
        data, deserved, status = made[name]
        (out / name).write_bytes(data)
        chosen[name] = (deserved, status)
    return chosen


if __name__ == "__main__":
    written = write(sys.argv[1], sys.argv[2])
    print(f"wrote {len(written)} files to {sys.argv[2]}")
