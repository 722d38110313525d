"""The bug-lab widgets without a browser: change a control, read what the lab shows."""

import pytest

from nnlib import bugs
from nnlib.lab import BugLab, check_guess, fingerprint_table, fmt, mystery_report


@pytest.fixture(scope="module")
def lab():
    return BugLab(batch=64)


def shown_difference(lab):
    return float(lab.output.value.split("class='bl-difference'")[1].split(">")[1].split("<")[0])


def test_starts_passing_with_no_bug(lab):
    lab.set(bugs=[], batch=64, method="sampled")
    assert "PASS" in lab.summary and "bugs: none" in lab.summary


def test_clicking_shallow_copy_shows_one_third_and_clicking_again_restores(lab):
    lab.set(bugs=[], batch=64, method="sampled")
    lab.toggles["shallow_copy"].value = True  # what a click does
    assert shown_difference(lab) == pytest.approx(1 / 3, abs=1e-6)
    assert "difference = 0.3333333  FAIL" in lab.summary
    lab.toggles["shallow_copy"].value = False
    assert "PASS" in lab.summary and "PASS" in lab.output.value


@pytest.mark.parametrize("m", [1, 8, 64])
def test_batch_slider_moves_the_stray_inv_m_fingerprint(lab, m):
    lab.set(bugs=["stray_inv_m"], method="sampled")
    lab.batch.value = m
    assert shown_difference(lab) == pytest.approx((m - 1) / (m + 1), abs=1e-6)
    assert ("PASS" in lab.summary) == (m == 1)


def test_every_toggle_changes_what_is_shown(lab):
    lab.set(bugs=[], batch=16, method="sampled")
    baseline = lab.output.value
    for name, toggle in lab.toggles.items():
        toggle.value = True
        assert lab.output.value != baseline, name
        assert f"bugs: {name}" in lab.summary
        toggle.value = False
        assert lab.output.value == baseline


def test_impossible_combination_is_explained_not_raised(lab):
    lab.set(bugs=["shallow_copy"], method="fast")
    assert lab.report is None and "loop or sampled" in lab.summary
    assert "bl-error" in lab.output.value
    lab.set(bugs=[], method="sampled")


def test_set_refuses_unknown_bugs(lab):
    with pytest.raises(ValueError, match="unknown bug"):
        lab.set(bugs=["nope"])


def test_lab_leaves_no_bug_switched_on(lab):
    lab.set(bugs=list(bugs.REGISTRY)[:3])
    assert bugs.active() == []


def test_fingerprint_table_covers_every_bug():
    rows = fingerprint_table(batch=16)
    assert [r[0] for r in rows] == list(bugs.REGISTRY)
    diffs = {name: report.difference for name, _, _, report in rows}
    assert diffs["stray_inv_m"] == pytest.approx(15 / 17, abs=1e-7)
    assert diffs["shallow_copy"] == pytest.approx(1 / 3, abs=1e-6)


def test_mysteries_are_bugs_that_fail_and_guesses_are_judged():
    for n in range(1, 5):
        assert not mystery_report(n).passed
    assert check_guess(2, "stray_inv_m").endswith("right.")
    assert "not it" in check_guess(2, "missing_inv_m")
    with pytest.raises(ValueError):
        mystery_report(9)


def test_fmt_is_short_for_rounding_noise():
    assert fmt(1 / 3) == "0.3333333" and fmt(2.345e-8) == "2.3e-08"


def test_a_page_without_a_kernel_shows_the_summary(lab):
    lab.set(bugs=["stray_inv_m"], batch=8, method="sampled")
    bundle = lab._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "difference = 0.7777778  FAIL" in bundle["text/plain"]
