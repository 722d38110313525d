"""A class of 35 hand-ins for the graded assignment, each with the score it deserves.

    python tests/assignment_class.py DIST OUT     # every file into OUT, from DIST/student
    python assignments/gradient-checking/grade.py OUT -o grades.csv

Written for grade.py's tests, in styles make_submissions.py does not have (loops, einsum, deep
copies, the 1/m in dZ2, helpers of one's own, a zip export, a notebook without otter's
metadata, or with a string for it), with the mistakes learners make, notebooks that break (a
SyntaxError, an endless loop, os._exit, a missing package, a blank or empty file, a PDF, another
assignment's notebook), and cheats: patching otter's test runner, reading tests and solutions from
disk, calling nnlib's reference code (these three scored 10 of 10 under the first grading, which
ran the tests in the learner's kernel: measured), answers hard-coded for the known cases, peeking
at the test's local variables, patching numpy; and, after a reviewer's hostile class, attacks on
the grader (a classmate's answers, the grading code changed, a process that outlives grading to
rewrite the CSV, a signal to grade.py), nnlib found again or copied in, a checker that computes no
numeric gradient or unlocks the arrays it must not write, the public master handed in (these
scored 10 of 10, or stopped the class, under the first sandbox: measured), and time limits and
caps pushed in every phase. A cheat deserves what its honest part is worth, never more.

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

# ---- cheats aimed at the grader itself (a reviewer's, issue 17's follow-up) --------------------------------

# Its classmates are graded next to it: under the old grading their answers lay in /tmp/grading-*/run/answers.
COPY_CLASSMATES = """# a classmate's answers: they are graded next to mine
import glob
import time
from pathlib import Path

import dill

found = {}
for _ in range(12):
    for place in {Path("/tmp"), *Path.cwd().resolve().parents}:
        for pickled in glob.glob(str(place / "grading-*" / "*" / "answers" / "*.pkl")):
            name = Path(pickled).stem
            if name in ("backward_propagation", "gradient_check_n") and name not in found:
                try:
                    found[name] = dill.loads(Path(pickled).read_bytes())
                except Exception:
                    pass
    if len(found) == 2:
        break
    time.sleep(0.5)
globals().update(found)
"""

# The code that grades every notebook is importable from this one: make it multiply every number by 1.5.
SABOTAGE_RUNNER = """# every later notebook's numbers, wrong
import sys
from pathlib import Path

runner = Path(sys.modules["sandbox"].__file__)
text = runner.read_text()
runner.write_text(text.replace("        arrays[name] = array\\n",
                               "        arrays[name] = array * 1.5 if array.dtype.kind == 'f' else array\\n", 1))
"""

# A grandchild in a session of its own waits for grade.py to end, then gives this file full marks in its
# CSV and feedback, which it finds from grade.py's command line and working folder.
ESCAPE = """import csv
import os
import time

grader = os.getppid()
argv = [a.decode() for a in open(f"/proc/{grader}/cmdline", "rb").read().split(b"\\0") if a]
where = os.readlink(f"/proc/{grader}/cwd")


def option(name):
    return os.path.join(where, argv[argv.index(name) + 1]) if name in argv else None


output, feedback = option("-o") or os.path.join(where, "grades.csv"), option("--feedback")
me = "cheat-attacks-the-grader.ipynb"
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        while os.path.exists(f"/proc/{grader}"):
            time.sleep(0.2)
        rows = list(csv.reader(open(output, newline="")))
        for row in rows:
            if row and row[0] == me:
                row[1:6] = ["4", "4", "2", "10", "100"]
        csv.writer(open(output, "w", newline="")).writerows(rows)
        if feedback:
            open(os.path.join(feedback, "cheat-attacks-the-grader.txt"), "w").write(f"{me}: 10 of 10 points\\n")
        os._exit(0)
    os._exit(0)
os.wait()
"""

KILL_GRADER = """import os
import signal

os.kill(os.getppid(), signal.SIGTERM)   # the notebooks after mine are not graded
"""

# nnlib's stand-in removed from inside the answer: the real nnlib copy sits next to numpy's.
REAL_NNLIB = """def _real_nnlib():
    import importlib
    import sys
    from pathlib import Path

    import nnlib
    if type(nnlib).__name__ != "_RefusingModule":
        return nnlib
    sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "_StandInFinder"]
    for key in [k for k in sys.modules if k == "nnlib" or k.startswith("nnlib.")]:
        del sys.modules[key]
    sys.path.append(str(Path(np.__file__).resolve().parents[2] / "nnlib" / "site-packages"))
    return importlib.import_module("nnlib")


def backward_propagation(X, Y, cache):
    nn = _real_nnlib()
    Z1, A1, W1, b1, Z2, A2, W2, b2 = cache
    params = {"W1": W1.copy(), "b1": b1.copy(), "W2": W2.copy(), "b2": b2.copy()}
    return nn.backward(params, nn.forward(params, X.copy()), Y.copy())
"""

# nnlib's code copied into the notebook at run time: its source if there is one, else its code objects.
COPY_NNLIB_CODE = """import inspect
import types

import nnlib.data
import nnlib.model

copied = {"__name__": "__main__", "__file__": nnlib.data.__file__}
try:
    for module in (nnlib.data, nnlib.model):
        exec(inspect.getsource(module).replace("from .data import", "# from .data import"), copied)
except OSError:   # no source: the compiled functions themselves, with globals of my own
    for module in (nnlib.data, nnlib.model):
        for name, value in vars(module).items():
            if isinstance(value, types.FunctionType):
                value = types.FunctionType(value.__code__, copied, name, value.__defaults__, value.__closure__)
            copied.setdefault(name, value)
forward, backward = copied["forward"], copied["backward"]


def backward_propagation(X, Y, cache):
    Z1, A1, W1, b1, Z2, A2, W2, b2 = cache
    params = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
    return backward(params, forward(params, X), Y)
"""

ANALYTIC_CHECKER = """# a check with no numeric difference at all: the gradients against a backprop of my own
def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7, keep_prob=1.0, D1=None, print_msg=False):
    _, cache = forward_propagation(X, Y, parameters, keep_prob, D1)
    if keep_prob < 1.0:
        Z1, D, A1, W1, b1, Z2, A2, W2, b2 = cache
    else:
        Z1, A1, W1, b1, Z2, A2, W2, b2 = cache
    m = X.shape[1]
    dZ2 = A2 - Y
    dA1 = W2.T @ dZ2
    if keep_prob < 1.0:
        dA1 = dA1 * D / keep_prob
    dZ1 = dA1 * (Z1 > 0)
    mine = {"dW1": dZ1 @ X.T / m, "db1": dZ1.sum(axis=1, keepdims=True) / m,
            "dW2": dZ2 @ A1.T / m, "db2": dZ2.sum(axis=1, keepdims=True) / m}
    grad, approx = gradients_to_vector(gradients), gradients_to_vector(mine)
    return np.linalg.norm(grad - approx) / (np.linalg.norm(grad) + np.linalg.norm(approx))
"""

# eve's in-place checker, which undoes the read-only flag the grader sets
UNLOCKS_READ_ONLY = Q2_IN_PLACE.replace(
    "        P = parameters[key]\n",
    "        P = parameters[key]\n        if not P.flags.writeable:\n            P.flags.writeable = True\n")

# right answers that stall every process they are called in; and a notebook that never ends
SLEEPS_WHEN_CALLED = """def _graded():
    import nnlib
    return type(nnlib).__name__ == "_RefusingModule"


"""

FORKS_AND_HOLDS = """import os
import time

children = []
for _ in range(64):                       # as many processes as it may have
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        try:
            held = np.ones(2**28)             # 2 GiB each, touched
        except MemoryError:
            pass
        time.sleep(5)
        os._exit(0)
    children.append(pid)
for pid in children:
    os.waitpid(pid, 0)
"""

FLOODS = """import os

chunk = b"x" * 2**20
for _ in range(300):
    os.write(2, chunk)                      # 300 MB to stderr
os.makedirs("/tmp/flood", exist_ok=True)
for i in range(2):
    with open(f"/tmp/flood/fill{i}.bin", "wb") as f:
        for _ in range(300):
            f.write(chunk)                  # and 2 x 300 MB of files
"""

MASTER = Path(__file__).resolve().parent.parent / "assignments" / "gradient-checking" / NOTEBOOK

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
        r"the cells after it got 2 s each; q2: its answers did not return within \d+ s$")

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

    # cheats aimed at the grader: its classmates, its code, its outputs, its process (these five scored
    # 10 of 10 under the first sandbox, or stopped the class: measured). Each cell on its own: the
    # attacks that fail leave the next to run.
    nb = answered(student, None, None, Q3_RIGHT)
    nb.cells += [nbformat.v4.new_code_cell(source) for source in (COPY_CLASSMATES, SABOTAGE_RUNNER, ESCAPE,
                                                                   KILL_GRADER)]
    put("cheat-attacks-the-grader.ipynb", nb, {"q1": 0, "q2": 0, "q3": 2}, "TypeError in cell")
    # q1 through the real nnlib, q2 with no numeric gradient (10 of 10 before: measured)
    put("cheat-finds-nnlib-checks-nothing.ipynb", answered(student, REAL_NNLIB, ANALYTIC_CHECKER, Q3_RIGHT),
        {"q1": 0, "q2": 0, "q3": 2})
    # q1 with nnlib's code copied in, q2 writing into the arrays it was given read-only (10 of 10 before)
    put("cheat-copies-nnlib-unlocks-arrays.ipynb", answered(student, COPY_NNLIB_CODE, UNLOCKS_READ_ONLY, Q3_RIGHT),
        {"q1": 0, "q2": 0, "q3": 2}, "^backward_propagation carries nnlib's code$")
    master = nbformat.read(MASTER, as_version=4)   # public in the repository, solutions and all
    put("cheat-hands-in-the-master.ipynb", master, {"q1": 0, "q2": 0, "q3": 0},
        "^not graded: this is the assignment's master notebook")
    nb = answered(student, Q1_COURSE_HELPER, Q2_COPIES, Q3_RIGHT)
    nb.metadata["otter"] = "gradient-checking"   # an editor's idea of metadata
    put("olga-otter-metadata-a-string.ipynb", nb, full)

    # the time limits and the caps, with right answers: slow to grade, so not in CI's class
    def sleeps(source, before):
        return SLEEPS_WHEN_CALLED + source.replace(before, "    if _graded():\n        import time\n"
                                                           "        time.sleep(10**6)\n" + before, 1)

    nb = answered(student, sleeps(Q1_COURSE_HELPER, "    m = X.shape[1]\n"),
                  sleeps(Q2_COPIES, "    n = theta.shape[0]\n"), Q3_RIGHT)
    nb.cells.append(nbformat.v4.new_code_cell("while True:\n    pass"))
    put("cheat-every-phase-runs-out-of-time.ipynb", nb, {"q1": 0, "q2": 0, "q3": 2},
        r"^timed out after \d+ s in cell \d+; q1: its answers did not return within \d+ s; "
        r"q2: its answers (did not return within \d+ s|were not called: the submission's \d+ s were used up)$")
    nb = answered(student, Q1_LOOPS, Q2_COPIES, Q3_RIGHT)
    nb.cells += [nbformat.v4.new_code_cell("import time\ntime.sleep(30)") for _ in range(30)]
    put("cheat-thirty-sleeping-cells.ipynb", nb, full, r"timed out after \d+ s in cell \d+; the cells after it got 2 s "
        r"each, and the last \d+ were not run")
    put("cheat-forks-and-holds-memory.ipynb", insert_after(answered(student, Q1_EINSUM_DZ, Q2_COPIES, Q3_RIGHT),
                                                           "import nnlib", FORKS_AND_HOLDS), full)
    put("cheat-floods-the-disk.ipynb", insert_after(answered(student, Q1_LOOPS, Q2_COPIES, Q3_RIGHT), "import nnlib",
                                                    FLOODS), full, "File too large")
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
