"""Learner programs for the doctor's truth table (tests/test_doctor_truth.py).

Each module is written the way one kind of learner writes: the course's functions, CS231n's
TwoLayerNet, Nielsen's Network, a micrograd-style autodiff, examples in rows, other activations
and costs. None of it is nnlib's code. Every module lists PROGRAMS: a name, the truth about it
(what is really wrong, worked out by hand from the code, not read off the doctor), and a
function that returns the keyword arguments for nnlib.triangulate.
"""

from dataclasses import dataclass, field


@dataclass
class Truth:
    wrong: dict = field(default_factory=dict)  # parameter -> the factor its gradient is off by (None: no clean one)
    causes: tuple = ()           # names of the true causes of a uniform factor (diagnosis' cause names)
    notes: dict = field(default_factory=dict)  # parameter -> "transposed" / "all zero"
    checker: object = None       # None (no checker), "right", "raises", "unreadable", or a set of true cause names
    checker_writes: bool = False  # it writes into the arrays it is given (and undoes it, or not)
    checker_leaves_changed: bool = False
    checker_blind: tuple = ()    # the parameters it never compares
    checker_formula: str = ""    # the comparison it computes (a name in nnlib.formulas.FORMULAS), when known
    checker_step: float = None   # its epsilon, when it is central differences at a fixed step
    checker_rounding: bool = False  # it leaves the arrays changed by rounding only (x += h; x -= h)
    checker_random: bool = False  # it draws its entries at random on every call
    judgeable: bool = True       # False: a right checker whose answers no formula of the doctor's can explain
    cost: str = "ok"             # "ok", "random", "nan" (at theta), "nan nearby", "writes"
    cost_writes: frozenset = frozenset()
    cache_changed: frozenset = frozenset()
    m: int = None                # the true number of examples, when the doctor can know it
    why: str = ""


@dataclass
class Program:
    name: str
    style: str
    truth: Truth
    kwargs: object  # () -> keyword arguments for nnlib.triangulate
