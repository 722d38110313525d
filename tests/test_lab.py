"""The bug-lab widgets without a browser: change a control, read what the lab shows."""

import html
import io
import os
import re
import threading

import numpy as np
import pytest

import nnlib
from nnlib import bugs, experiment
from nnlib import lab as lab_module
from nnlib.lab import BugLab, fingerprint_table, fmt


@pytest.fixture(scope="module")
def lab():
    return BugLab(batch=64)


def shown_difference(lab):
    return float(lab.output.value.split("class='bl-difference'")[1].split(">")[1].split("<")[0])


def controls(lab):
    """What a person sees on the controls."""
    return [name for name, t in lab.toggles.items() if t.value], lab.batch.value, lab.method.value


def test_starts_passing_with_no_bug(lab):
    lab.set(bugs=[], batch=64, method="sampled")
    assert "PASS" in lab.summary and "bugs: none" in lab.summary


def test_clicking_shallow_copy_shows_one_third_and_clicking_again_restores(lab):
    lab.set(bugs=[], batch=64, method="sampled")
    lab.toggles["shallow_copy"].value = True  # what a click does
    # 1/3 up to the leaked step's truncation and the rounding of the numeric gradient: a few 1e-8, CPU to CPU
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


def test_an_impossible_combination_clicked_is_explained_in_the_labs_own_terms(lab):
    lab.set(bugs=[], batch=64, method="fast")
    lab.toggles["shallow_copy"].value = True  # a click: the fast check has no parameter copy
    assert lab.report is None and "choose the sampled check" in lab.summary
    assert "bl-error" in lab.output.value and "bugs: shallow_copy | M = 64 | check: fast" in lab.output.value
    assert "loop" not in lab.output.value.replace("the loop check&#x27;s parameter copy", "")  # not a lab check
    lab.set(bugs=[], method="sampled")


def test_set_refuses_an_impossible_combination_before_moving_anything(lab):
    lab.set(bugs=[], batch=64, method="sampled")
    shown, before = lab.output.value, controls(lab)
    with pytest.raises(ValueError, match="which the fast check does not run; choose the sampled check"):
        lab.set(bugs=["shallow_copy"], method="fast")
    lab.set(bugs=["shallow_copy"])
    with pytest.raises(ValueError, match="choose the sampled check"):
        lab.set(method="fast")  # the combination with the toggle already on
    assert controls(lab) == (["shallow_copy"], 64, "sampled") and lab.report.bugs == ("shallow_copy",)
    lab.set(bugs=[])
    assert controls(lab) == before and lab.output.value == shown


def test_set_refuses_unknown_bugs(lab):
    with pytest.raises(ValueError, match="unknown bug"):
        lab.set(bugs=["nope"])


@pytest.mark.parametrize("change, allowed", [
    (dict(bugs=["stray_inv_m"], method="loop"), "sampled, fast, directional"),
    (dict(bugs=["stray_inv_m"], batch=0), "1 to 256"),
    (dict(bugs=["stray_inv_m"], batch=300), "1 to 256"),
    (dict(bugs=["stray_inv_m"], batch=8.0), "1 to 256"),
    (dict(bugs="stray_inv_m"), "list of bug names"),
    (dict(bugs=["stray_inv_m", "nope"]), "known: inplace_relu_deriv"),
])
def test_a_change_that_cannot_be_made_moves_no_control(lab, change, allowed):
    lab.set(bugs=[], batch=64, method="sampled")
    shown, before = lab.output.value, controls(lab)
    with pytest.raises(ValueError, match=re.escape(allowed)):
        lab.set(**change)
    assert controls(lab) == before and lab.output.value == shown
    assert "bugs: none" in lab.summary and "PASS" in lab.summary


def test_unknown_name_for_a_new_lab_is_a_value_error_naming_the_known_ones():
    with pytest.raises(ValueError, match="unknown bug.*'nope'.*known: inplace_relu_deriv"):
        BugLab(names=["nope"])
    with pytest.raises(ValueError, match="sampled, fast, directional"):
        BugLab(method="loop")


def test_a_bug_switched_on_is_red_with_a_marker(lab):
    lab.set(bugs=["shallow_copy"], batch=64, method="sampled")
    on = lab.toggles["shallow_copy"]
    assert on.button_style == "danger" and on.icon
    for name, toggle in lab.toggles.items():
        if name != "shallow_copy":
            assert toggle.button_style == "" and not toggle.icon, name
    on.value = False  # a click
    assert on.button_style == "" and not on.icon


def test_the_output_says_computing_while_a_check_runs(lab, monkeypatch):
    lab.set(bugs=[], batch=64, method="sampled")
    seen = []
    real_run = experiment.run

    def watched(*args, **kwargs):
        seen.append(lab.output.value)  # what the page shows while the check runs
        return real_run(*args, **kwargs)

    monkeypatch.setattr(lab_module.experiment, "run", watched)
    lab.batch.value = 8
    assert seen and all("bl-busy" in s and "omputing" in s for s in seen)
    assert "M = 8" in seen[0] and "bugs: none" in seen[0]
    assert "bl-busy" not in lab.output.value and "data-batch='8'" in lab.output.value


def test_a_result_for_controls_that_have_since_changed_is_never_shown(lab, monkeypatch):
    lab.set(bugs=["stray_inv_m"], batch=64, method="sampled")
    real_run = experiment.run

    def slow_run(names, batch, **kwargs):
        if batch == 8:  # a person moves the slider again while the M = 8 check runs
            lab.batch.value = 2
        return real_run(names, batch=batch, **kwargs)

    monkeypatch.setattr(lab_module.experiment, "run", slow_run)
    lab.batch.value = 8
    assert lab.batch.value == 2
    assert shown_difference(lab) == pytest.approx(1 / 3, abs=1e-6)  # (2-1)/(2+1), not 7/9
    assert "data-batch='2'" in lab.output.value and "data-batch='8'" not in lab.output.value
    assert lab.report.batch == 2


def test_any_exception_shows_an_error_naming_the_controls(lab, monkeypatch):
    lab.set(bugs=["inplace_relu_deriv"], batch=255, method="sampled")
    real_run = experiment.run

    def broken_at_one(names, batch, **kwargs):
        if batch == 1:
            raise KeyError("W1")  # what the diagnosis once raised here
        return real_run(names, batch=batch, **kwargs)

    monkeypatch.setattr(lab_module.experiment, "run", broken_at_one)
    lab.batch.value = 1  # a drag of the slider: nobody to raise to
    assert "bl-error" in lab.output.value and "M = 255" not in lab.output.value
    assert "M = 1 " in lab.output.value and "inplace_relu_deriv" in lab.output.value
    assert "KeyError" in lab.output.value and lab.report is None
    assert "M = 1 " in lab.summary and "KeyError" in lab.summary
    lab.batch.value = 64
    assert "bl-error" not in lab.output.value and lab.report.batch == 64


def test_real_check_at_one_example_never_leaves_a_stale_display(lab):
    lab.set(bugs=["inplace_relu_deriv"], batch=255, method="sampled")
    lab.batch.value = 1
    assert "data-batch='1'" in lab.output.value and "data-batch='255'" not in lab.output.value


def boxes(lab):
    """The amber boxes' sentences, as the page shows them."""
    return [html.unescape(re.sub(r"<[^>]+>", "", b))
            for b in re.findall(r"class='bl-finding'[^>]*>(.*?)</div>", lab.output.value)]


def finding(lab):
    return " ".join(boxes(lab))


def test_cache_damage_that_the_check_passes_is_shown_above_the_table(lab):
    lab.set(bugs=[], batch=64, method="sampled")
    clean = shown_difference(lab)
    lab.set(bugs=["inplace_relu_deriv_z"])
    assert shown_difference(lab) == clean and "PASS" in lab.summary  # the big number does not move
    assert "Z1" in finding(lab) and "cache" in finding(lab)
    assert lab.output.value.index("bl-finding") < lab.output.value.index("bl-bars")
    lab.set(bugs=[])
    assert finding(lab) == ""


@pytest.mark.parametrize("names, m, cancel", [
    (["stray_inv_m", "missing_inv_m"], 16, True),
    (["shallow_copy", "stray_inv_m"], 2, True),    # r = 2/M = 1
    (["shallow_copy", "stray_inv_m"], 8, False),   # r = 2/8: both show
    (["inplace_relu_deriv_z", "stray_inv_m"], 16, False),
])
def test_bugs_that_cancel_are_named_from_the_numbers(lab, names, m, cancel):
    lab.set(bugs=names, batch=m, method="sampled")
    said = finding(lab)
    assert ("cancel" in said) == cancel, said
    if cancel:
        assert all(name in said for name in names) and "PASS" in lab.summary
        for name in names:  # the numbers it quotes are each bug's own check
            alone = experiment.run([name], batch=m, method="sampled").difference
            assert fmt(alone) in said


def test_lab_leaves_no_bug_switched_on(lab):
    lab.set(bugs=["inplace_relu_deriv", "shallow_copy", "stray_inv_m"])
    assert bugs.active() == []


def test_fingerprint_table_covers_every_bug():
    rows = fingerprint_table(batch=16)
    assert [r[0] for r in rows] == list(bugs.REGISTRY)
    diffs = {name: report.difference for name, _, _, report in rows}
    assert diffs["stray_inv_m"] == pytest.approx(15 / 17, abs=1e-7)
    assert diffs["shallow_copy"] == pytest.approx(1 / 3, abs=1e-6)


def test_fmt_is_short_for_rounding_noise():
    assert fmt(1 / 3) == "0.3333333" and fmt(2.345e-8) == "2.3e-08"


def test_picture_shows_what_the_lab_shows():
    import matplotlib.text
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    report = experiment.run(["shallow_copy"], batch=64, method="sampled")
    fig = lab_module.picture(report)
    assert isinstance(fig, Figure)
    texts = [t for t in fig.findobj(matplotlib.text.Text) if t.get_visible() and t.get_text()]
    words = " ".join(t.get_text() for t in texts)
    flat = " ".join(words.split())
    assert fmt(report.difference) in words and "FAIL" in words and "shallow_copy" in words
    assert f"{report.per_parameter[0].ratio:.6f}" in words and "2e-7" in words
    assert all(" ".join(d.split()) in flat for d in report.diagnosis)
    (bars,) = fig.axes
    assert bars.get_xscale() == "log"
    assert any(np.allclose(line.get_xdata(), report.threshold) for line in bars.get_lines())
    assert [t.get_text() for t in bars.get_yticklabels()] == [r.name for r in report.per_parameter]
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    page = fig.bbox
    for t in texts:  # nothing cut off at the edge of the image
        box = t.get_window_extent(canvas.get_renderer())
        assert page.x0 <= box.x0 and box.x1 <= page.x1 and page.y0 <= box.y0 and box.y1 <= page.y1, t.get_text()
    png = io.BytesIO()
    fig.savefig(png, format="png")
    assert png.getvalue().startswith(b"\x89PNG")


def test_picture_shows_as_png_and_summary_in_a_notebook_without_pyplot():
    from IPython.core.formatters import DisplayFormatter

    report = experiment.run(["shallow_copy"], batch=64, method="sampled")
    data, _ = DisplayFormatter().format(lab_module.picture(report))
    assert data["image/png"].startswith(b"\x89PNG")
    assert data["text/plain"] == lab_module.summary(report)


def test_picture_of_a_pass_with_a_damaged_cache_says_so():
    import matplotlib.text

    report = experiment.run(["inplace_relu_deriv_z"], batch=64, method="sampled")
    words = " ".join(t.get_text() for t in lab_module.picture(report).findobj(matplotlib.text.Text))
    assert "PASS" in words and "Z1" in words


def test_a_page_without_a_kernel_shows_the_summary(lab):
    lab.set(bugs=["stray_inv_m"], batch=8, method="sampled")
    bundle = lab._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "difference = 0.7777778  FAIL" in bundle["text/plain"]


def test_a_bug_the_check_cannot_see_here_is_said_to_be_on():
    from nnlib.lab import findings
    report = experiment.run(["stray_inv_m"], batch=1, method="sampled")
    assert report.passed
    assert any("is on, yet the check passes" in f and "M = 1" in f for f in findings(report))
    assert findings(experiment.run([], batch=1, method="sampled")) == []


def test_a_clashing_pair_set_from_code_moves_no_control(lab):
    lab.set(bugs=["stray_inv_m"], batch=8, method="sampled")
    with pytest.raises(ValueError, match="both replace"):
        lab.set(bugs=["inplace_relu_deriv", "inplace_relu_deriv_z"])
    assert lab.controls()[0] == ("stray_inv_m",)
    with pytest.raises(ValueError, match="seed"):
        BugLab(seed=-1)


# --- the lab on a widget callback's thread ------------------------------------------------------

def _on_another_thread(fn):
    """Run fn on a new thread, as ipykernel runs a widget callback (on a subshell's thread); its result."""
    box = {}
    thread = threading.Thread(target=lambda: box.setdefault("value", fn()))
    thread.start()
    thread.join()
    return box["value"]


def test_an_update_on_another_thread_computes_what_the_main_thread_computes(lab):
    # The main thread checks first, as a notebook's cells and the command line do. Same process,
    # same inputs, same BLAS kernel: only the number of BLAS threads could make the digits differ,
    # so they must be equal to the last bit (with 2 threads W1's row moved from 7.8e-10 to 6.9e-10).
    main = experiment.run([], batch=256, method="fast")
    lab.set(bugs=[], batch=255, method="fast")
    _on_another_thread(lambda: lab.set(batch=256))
    assert [r.difference for r in lab.report.per_parameter] == [r.difference for r in main.per_parameter]
    assert lab.report.difference == main.difference and lab.summary == lab_module.summary(main)
    lab.set(bugs=[], batch=64, method="sampled")


def test_one_blas_thread_holds_on_every_thread_until_the_last_block_ends():
    from nnlib import threads

    before = threads.blas_threads()
    if before == 1:
        pytest.skip("BLAS uses one thread here anyway: nothing to limit")
    with threads.one_blas_thread():  # the main thread first (threadpoolctl 3.8 then let only it set limits)
        pass
    assert _on_another_thread(lambda: _count_inside(threads)) == 1
    inside, leave = threading.Event(), threading.Event()
    seen = []

    def other():
        with threads.one_blas_thread():
            inside.set()
            leave.wait(10)
        seen.append(threads.blas_threads())  # the main thread's block is still open

    thread = threading.Thread(target=other)
    thread.start()
    inside.wait(10)
    with threads.one_blas_thread():
        leave.set()
        thread.join()
        seen.append(threads.blas_threads())
    assert seen == [1, 1] and threads.blas_threads() == before


def _count_inside(threads):
    with threads.one_blas_thread():
        return threads.blas_threads()


# --- what the amber boxes say ------------------------------------------------------------------

@pytest.mark.parametrize("m", [1, 2, 8])
@pytest.mark.parametrize("name", list(bugs.REGISTRY))
def test_each_bug_that_passes_alone_gets_a_true_sentence(name, m):
    from nnlib.lab import CHECKS, NOTHING_AT_ONE, findings, impossible

    for method in CHECKS:
        if impossible([name], method):
            continue
        report = experiment.run([name], batch=m, method=method)
        said = " ".join(findings(report))
        unseen = report.passed and not report.changed_cache_keys
        assert ("yet the check passes" in said) == unseen, (method, said)
        if unseen:  # the lab's reason must be the one that holds: only the 1/M bugs, only at M = 1
            assert m == 1 and name in NOTHING_AT_ONE, (name, m, method)
            assert said.startswith(f"{name} is on") and NOTHING_AT_ONE[name] in said and "M = 1" in said
        if report.changed_cache_keys:
            assert "cache" in said and all(k in said for k in report.changed_cache_keys)


def test_a_missing_inv_m_at_one_example_is_not_called_a_stray_one(lab):
    lab.set(bugs=["missing_inv_m"], batch=1, method="sampled")
    said = finding(lab)
    assert "missing_inv_m is on, yet the check passes" in said and "leaving out the division by M" in said
    assert "stray" not in said


def test_two_bugs_that_each_change_nothing_at_one_example_are_each_named(lab):
    lab.set(bugs=["stray_inv_m", "missing_inv_m"], batch=1, method="sampled")
    said = finding(lab)
    assert "stray_inv_m and missing_inv_m are on, yet each passes when checked alone at M = 1" in said
    assert "dividing by M once more divides by 1" in said and "leaving out the division by M" in said
    assert "cancel" not in said and "the bug" not in said  # M = 1 shows no cancelling, and there are two


def test_a_cache_finding_does_not_shut_out_a_bug_the_check_cannot_see(lab):
    lab.set(bugs=["inplace_relu_deriv_z", "stray_inv_m"], batch=1, method="sampled")
    shown = boxes(lab)
    assert len(shown) == 2, shown
    assert "wrote into its cache (with inplace_relu_deriv_z)" in shown[0] and "Z1" in shown[0]
    assert shown[1].startswith("\u26a0 stray_inv_m is on, yet it passes when checked alone at M = 1")


def test_a_bug_the_check_cannot_see_is_named_when_another_fails():
    from nnlib.lab import alone, findings

    report = experiment.run(["shallow_copy", "stray_inv_m"], batch=1, method="sampled")
    assert not report.passed
    said = " ".join(findings(report, alone(report)))
    assert "stray_inv_m is on, yet it passes when checked alone at M = 1" in said and "shallow_copy" not in said


# --- words: what the lab offers, and lines that do not break inside a number ----------------------

def test_the_diagnosis_points_to_a_check_the_lab_has(lab):
    lab.set(bugs=[], batch=64, method="sampled")
    assert "The lab&#x27;s fast check covers every entry." in lab.output.value
    assert "method=&#x27;" not in lab.output.value
    lab.set(bugs=["shallow_copy", "stray_inv_m"], batch=2)  # they cancel; the fast check cannot run
    assert "With shallow_copy on the lab&#x27;s fast check cannot run" in lab.output.value
    assert "method=&#x27;" not in lab.output.value
    lab.set(bugs=[], batch=64)


def test_numbers_and_name_value_pairs_never_break():
    from nnlib.lab import _text, report_html

    assert _text("d 2.2e-08 < 2e-07 at keep_prob = 1") == (
        "d <span style='white-space:nowrap'>2.2e-08</span> < <span style='white-space:nowrap'>2e-07</span> at "
        "<span style='white-space:nowrap'>keep_prob = 1</span>").replace(" < ", " &lt; ")
    for names, m in [([], 64), (["stray_inv_m"], 1), (["inplace_relu_deriv_z"], 64), (["shallow_copy"], 64)]:
        page = report_html(experiment.run(names, batch=m, method="sampled"))
        unbroken = re.sub(r"<(span|b|div) [^>]*white-space:nowrap[^>]*>.*?</\1>", "", page)
        text = re.sub(r"<[^>]*>", " ", unbroken)
        assert not re.search(r"\de-\d| = ", text), re.findall(r".{30}(?:\de-\d| = ).{10}", text)


# --- no progress bars from a callback -------------------------------------------------------------

def test_an_update_draws_no_progress_bar(lab, monkeypatch):
    import tqdm.auto

    from nnlib import checks

    bars = []
    monkeypatch.setenv("NNLIB_PROGRESS", "1")
    monkeypatch.setattr(tqdm.auto, "tqdm", lambda *a, **k: bars.append(k) or _NoBar())
    real_init = checks.Progress.__init__
    monkeypatch.setattr(checks.Progress, "__init__",  # as if every loop were slow enough for a bar
                        lambda self, total, desc, show=None, unit="entry":
                        real_init(self, total, desc, True if show is None else show, unit))
    experiment.run([], batch=8, method="sampled")
    assert bars, "the check outside the lab draws its bar (else this test could not fail)"
    bars.clear()
    lab.set(bugs=["stray_inv_m", "missing_inv_m"], batch=8, method="sampled")  # three checks
    assert bars == [] and os.environ["NNLIB_PROGRESS"] == "1"
    lab.set(bugs=[], batch=64)


class _NoBar:
    def update(self, n=1):
        pass

    def close(self):
        pass


# --- bad input: one clear ValueError, nothing moved ------------------------------------------------

@pytest.mark.parametrize("call, words", [
    (lambda: lab_module.summary(None), "got None"),
    (lambda: lab_module.summary({"difference": 0.3}), "got dict"),
    (lambda: lab_module.picture(None), "lab.error says which"),
    (lambda: lab_module.picture("report"), "got str"),
    (lambda: lab_module.picture(experiment.run(["stray_inv_m"], batch=8), alone_reports=[1, 2]),
     "what lab.alone"),
    (lambda: lab_module.picture(experiment.run(["stray_inv_m"], batch=8), alone_reports={"x": None}),
     "what lab.alone"),
    (lambda: BugLab(batch=8, method=None), "the lab's checks are"),
    (lambda: BugLab(batch=None), "batch must be a whole number"),
    (lambda: BugLab(names="shallow_copy"), "list of bug names"),
])
def test_bad_input_is_one_clear_value_error(call, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        call()


def test_the_report_of_an_impossible_combination_is_refused_with_the_reason(lab):
    lab.set(bugs=[], batch=8, method="fast")
    lab.toggles["shallow_copy"].value = True  # clicked: the lab shows an error, and has no report
    with pytest.raises(ValueError, match="lab.error says which"):
        lab_module.picture(lab.report)
    lab.set(bugs=[], method="sampled")


def test_bugs_given_as_any_collection_are_read_once(lab):
    lab.set(bugs=[], batch=8, method="sampled")
    lab.set(bugs=(n for n in ["stray_inv_m"]))
    assert controls(lab)[0] == ["stray_inv_m"] and lab.report.bugs == ("stray_inv_m",)
    lab.set(bugs={"missing_inv_m"})
    assert controls(lab)[0] == ["missing_inv_m"]
    with pytest.raises(ValueError, match="list of bug names"):
        lab.set(bugs={"stray_inv_m": False})  # a dict could mean on/off: refused, nothing moves
    assert controls(lab)[0] == ["missing_inv_m"]
    assert list(BugLab(batch=8, names=(n for n in ["shallow_copy"])).toggles) == ["shallow_copy"]
    lab.set(bugs=[], batch=64)


def test_a_summary_of_a_report_without_a_batch_names_no_batch():
    report = nnlib.check({"w": np.array([1.0, 2.0])}, cost=lambda p: float(p["w"] @ p["w"]),
                         gradients={"dw": np.array([2.0, 4.0])})
    assert report.batch is None and "M = None" not in lab_module.summary(report)
