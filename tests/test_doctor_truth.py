"""The doctor's truth table: learner programs in many styles (tests/learners/), each with the
truth worked out from its code by hand, against what nnlib.triangulate says about it.

(a) No verdict contradicts the truth: backprop right or wrong, which gradients fail, the checker
    right or wrong (or not judged, when the cost cannot be read or the checker raised).
(b) Every "certain:" statement is true: each carries a claim (statement.claim), checked here
    against the truth. A "certain:" statement without a claim fails the test.

    python tests/test_doctor_truth.py      prints the table and the count of "certain:" lines checked
"""

import contextlib
import io
import os
import sys
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("NNLIB_PROGRESS", "0")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from learners import (  # noqa: E402
    activations,
    checkers,
    course_style,
    cs231n,
    hostile,
    micrograd_style,
    more_networks,
    nielsen,
    numerics,
    rows,
)

import nnlib  # noqa: E402

PROGRAMS = [p for module in (course_style, cs231n, nielsen, micrograd_style, rows, activations, more_networks, hostile,
                             numerics, checkers) for p in module.PROGRAMS]
CHECKER_CAUSES = {  # the doctor's names for what a checker's numeric gradient is, and the truth's
    "half": "half", "double": "double", "zero": "zero", "eps squared": "eps squared", "sign": "sign"}


def run(program):
    with contextlib.redirect_stdout(io.StringIO()):  # what the learner's code prints
        return nnlib.triangulate(**program.kwargs())


def statements(triage):
    """Every statement the doctor made, once."""
    seen, out = set(), []
    lists = [triage.findings, triage.backprop.diagnosis] + ([triage.checker.diagnosis] if triage.checker else [])
    for s in (s for group in lists for s in group):
        if isinstance(s, nnlib.diagnosis.Statement) and id(s) not in seen:
            seen.add(id(s))
            out.append(s)
    return out


def contradictions(truth, triage):
    """What the verdict says that the truth does not."""
    bp, out = triage.backprop, []
    if truth.cost in ("random", "nan", "nan nearby", "float32"):
        if not triage.verdict.startswith("no verdict"):
            out.append(f"verdict {triage.verdict!r} for a cost that is {truth.cost}")
        return out
    judged_right = bp.passed or bp.kink_only  # failing only at kinks, where a right backprop takes one slope
    if judged_right != (not truth.wrong):
        out.append(f"backprop {'judged right' if judged_right else 'failed'}, truth: wrong {sorted(truth.wrong)}")
    failing = {r.name for r in bp.per_parameter if not r.passed}
    if bp.method == "loop" and not bp.kink_only and failing != set(truth.wrong):
        out.append(f"failing {sorted(failing)}, truth {sorted(truth.wrong)}")
    if set(bp.changed_cache_keys) != set(truth.cache_changed):
        out.append(f"cache changed {bp.changed_cache_keys}, truth {sorted(truth.cache_changed)}")
    if truth.m is not None and bp.batch != truth.m:
        out.append(f"m = {bp.batch}, truth {truth.m}")
    if set(bp.cost_writes) != set(truth.cost_writes):
        out.append(f"cost writes {bp.cost_writes}, truth {sorted(truth.cost_writes)}")
    if truth.checker is None:
        if triage.checker is not None or triage.checker_error:
            out.append("a checker was judged where there is none")
    elif truth.checker in ("raises", "unreadable"):
        if not triage.checker_error:
            out.append(f"checker {truth.checker}, but no error reported")
        if truth.checker == "raises" and "raised" not in triage.checker_error:
            out.append(f"checker raises, reported: {triage.checker_error}")
    elif triage.checker is None:
        out.append(f"checker not judged: {triage.checker_error}")
    elif triage.checker.correct != ((truth.checker == "right") if truth.judgeable else None):
        out.append(f"checker judged {triage.checker.correct}, truth {truth.checker}"
                   + ("" if truth.judgeable else " (its numbers cannot tell: None expected)"))
    all_good = (not truth.wrong and truth.checker in (None, "right") and truth.judgeable and not truth.cache_changed
                and truth.cost == "ok")
    if triage.all_good != all_good:
        out.append(f"verdict {triage.verdict!r} (all good: {triage.all_good})")
    return out


def claim_is_true(claim, truth, triage):
    kind, rest = claim[0], claim[1:]
    bp = triage.backprop
    wrong = truth.wrong
    if kind == "agrees":
        return not wrong
    if kind == "failing":
        return set(rest[0]) == set(wrong)
    if kind == "ratio":
        name, r = rest
        return name in wrong and wrong[name] is not None and np.isclose(r, wrong[name], rtol=1e-3)
    if kind == "same ratio":
        names, r = rest
        return all(name in wrong and wrong[name] is not None and np.isclose(r, wrong[name], rtol=1e-3)
                   for name in names)
    if kind == "uniform ratio":
        return len(wrong) == len(bp.per_parameter) and all(
            f is not None and np.isclose(rest[0], f, rtol=1e-3) for f in wrong.values())
    if kind == "cause":
        return rest[0] in truth.causes
    if kind in ("transposed", "all zero"):
        return truth.notes.get(rest[0]) == kind
    if kind == "gradient nan":
        return rest[0] in wrong
    if kind in ("cost nan", "cost random", "cost float32"):
        return truth.cost == kind.split()[1]
    if kind == "cost noisy":
        return truth.cost == "float32"
    if kind == "cost nan nearby":
        return truth.cost == "nan nearby"
    if kind == "cost writes":
        return set(rest[0]) == set(truth.cost_writes)
    if kind == "cache changed":
        return set(rest[0]) == set(truth.cache_changed)
    if kind == "checker right":  # ("checker right", formula or formulas, step or None)
        formula, step = (rest + (None, None))[:2]
        return truth.checker == "right" and _formula_is(formula, step, truth)
    if kind == "checker formula":
        return _formula_is(*rest, truth)
    if kind == "checker wrong":
        return truth.checker not in (None, "right")
    if kind == "checker unknown":
        return not truth.judgeable
    if kind == "checker passes wrong":
        return bool(wrong) and truth.checker != "right"
    if kind == "checker rounding":
        return truth.checker_rounding
    if kind == "checker random":
        return truth.checker_random
    if kind == "checker writes":
        return truth.checker_writes
    if kind == "checker left changed":
        return truth.checker_leaves_changed
    if kind == "checker blind":
        return set(truth.checker_blind) == set(rest[0])
    if kind in ("checker numeric", "checker cause"):
        names = rest[0].split(" + ") if isinstance(rest[0], str) else []
        return isinstance(truth.checker, set) and bool(names) and all(n in truth.checker for n in names)
    raise AssertionError(f"a claim this test does not know: {claim}")


def _formula_is(formula, step, truth):
    """A claim about the checker's comparison and step, against the truth where the truth says."""
    if formula and truth.checker_formula and formula not in (truth.checker_formula, (truth.checker_formula,)):
        return False
    return step is None or truth.checker_step is None or np.isclose(step, truth.checker_step)


def false_certain(truth, triage):
    """(number of "certain:" statements, the false ones)."""
    sure = [s for s in statements(triage) if s.startswith("certain:")]
    false = [s for s in sure if s.claim is None or not claim_is_true(s.claim, truth, triage)]
    return len(sure), false


@pytest.mark.parametrize("program", PROGRAMS, ids=[p.name for p in PROGRAMS])
def test_no_verdict_contradicts_the_truth_and_every_certain_line_is_true(program):
    triage = run(program)
    assert contradictions(program.truth, triage) == [], str(triage)
    count, false = false_certain(program.truth, triage)
    assert false == [], "\n".join(false)


def test_the_table_has_30_programs_in_many_styles_right_and_wrong():
    assert len(PROGRAMS) >= 30
    assert len({p.style for p in PROGRAMS}) >= 8
    assert sum(not p.truth.wrong for p in PROGRAMS) >= 10 and sum(bool(p.truth.wrong) for p in PROGRAMS) >= 10
    checkers = [p.truth.checker for p in PROGRAMS if p.truth.checker is not None]
    assert checkers.count("right") >= 5 and sum(isinstance(c, set) for c in checkers) >= 10


def test_an_int_cost_is_refused_and_says_so():
    X, Y, parameters = course_style.data()
    with pytest.raises(ValueError, match="whole number"):
        nnlib.check(parameters, cost=lambda p: int(course_style.forward_propagation_n(X, Y, p)[0] * 1000),
                    gradients=course_style.backward_propagation_n(X, Y, course_style.forward_propagation_n(
                        X, Y, parameters)[1]))


def test_a_wrong_checker_is_blamed_for_the_answer_that_is_wrong():
    # once: "certain: it says 0.3333333 for doubled gradients, where every right formula ... says 0.333 ..."
    # for a sign-blind checker, whose doubled answer is right and whose sign-flipped one (2e-09) is not
    program = next(p for p in PROGRAMS if p.name == "checker: compares absolute values (sign-blind)")
    sure = [s for s in statements(run(program)) if s.startswith("certain: it says")]
    assert len(sure) == 1 and "for sign flipped gradients" in sure[0], sure


def test_a_gradient_that_fails_at_kinks_only_is_not_blamed_alone():
    # once: "likely: 4 entries sit on a kink ... not backprop" and, below it, "likely: db1 fails while dW1 agrees:
    # the error is in the line that computes db1", for a db1 that fails only at those entries
    program = next(p for p in PROGRAMS if p.name.startswith("ReLU'(0) = 1 at a blank example's kinks"))
    lines = [s for s in statements(run(program)) if "db1 fails while dW1" in s]
    assert len(lines) == 1 and lines[0].endswith("or no error at all, only its 4 entries on a kink."), lines


def _table():
    rows, total = [], 0
    for program in PROGRAMS:
        triage = run(program)
        count, false = false_certain(program.truth, triage)
        total += count
        t = program.truth
        truth = ("backprop right" if not t.wrong else "wrong: " + ", ".join(
            f"{k}" + (f" x{v:g}" if v is not None else "") for k, v in t.wrong.items()))
        if t.cost != "ok":
            truth = f"cost {t.cost}" + ("" if t.cost == "writes" else "")
        checker = "-" if t.checker is None else t.checker if isinstance(t.checker, str) else "wrong: " + "/".join(
            sorted(t.checker))
        problems = contradictions(t, triage) + [f"FALSE: {s}" for s in false]
        rows.append((program.name, truth, checker, triage.verdict, count, "; ".join(problems) or "ok"))
    return rows, total


if __name__ == "__main__":
    rows, total = _table()
    print("| program | truth: backprop | truth: checker | doctor's verdict | certain: lines | against the truth |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(str(x) for x in row) + " |")
    print(f"\n{len(rows)} programs, {total} 'certain:' statements checked against the truth")
