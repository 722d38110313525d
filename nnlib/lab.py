"""The bug lab: switch deliberate bugs on and off and watch the gradient check answer.

    from nnlib.lab import BugLab, picture
    lab = BugLab()          # displays itself in a notebook
    lab.set(bugs=["shallow_copy"], batch=8)   # what the widgets do, callable from code and tests
    picture(lab.report)     # the same result as a matplotlib figure, for pages without a kernel

Every number the lab shows is computed by nnlib.experiment.run for exactly the bugs,
batch and check shown next to it, on whichever thread the widgets call it from (the digits
are the command line's: nnlib/threads.py). Everything it draws in the browser is HTML without
fixed widths that wraps where it must, so it fits a projector's 1024 px with JupyterLab's file
browser open, also at 150 % zoom.
"""

import html
import io
import re
import textwrap
import traceback

import numpy as np

from . import bugs, experiment
from . import bugs as bugs_module  # set() has an argument named bugs
from .checks import CheckReport, format_ratio
from .gradcheck import format_difference as fmt
from .gradcheck import format_row_difference as fmt_row

CHECKS = {
    "sampled": "sampled: up to 25 entries each",
    "fast": "fast: every entry, batched",
    "directional": "directional: one random direction",
}
BATCHES = (1, 256)        # the slider's range
LOG10_RANGE = (-12, 0)    # the bars: a difference from 1e-12 to 1 on a log scale
GREEN, RED, AMBER = "#2e7d32", "#c62828", "#e65100"
NEEDS = "the bug lab needs matplotlib and ipywidgets: pip install 'backprop-lab[lab]'"
try:
    from matplotlib.figure import Figure
except ImportError as e:  # the package installed without its [lab] extra
    raise ImportError(NEEDS) from e


def describe(bug_names, batch, method):
    """One line naming a setting of the controls: what a result, or an error, is for."""
    where = [f"bugs: {', '.join(bug_names) or 'none'}"] + ([f"M = {batch}"] if batch is not None else [])
    return " | ".join(where + [f"check: {method}"])


def _a_report(report):
    """Refuse anything but a CheckReport, saying where one comes from."""
    if not isinstance(report, CheckReport):
        got = "None (lab.report is None while the lab shows an error: lab.error says which)" \
            if report is None else type(report).__name__
        raise ValueError(f"report must be a CheckReport, what experiment.run(...) or lab.report "
                         f"returns; got {got}")
    return report


def _alone_reports(alone_reports):
    if alone_reports is None:
        return {}
    if not isinstance(alone_reports, dict) or not all(isinstance(r, CheckReport) for r in alone_reports.values()):
        raise ValueError("alone_reports must be what lab.alone(report) returns, {bug name: CheckReport}; "
                         f"got {type(alone_reports).__name__}")
    return alone_reports


def summary(report):
    """Plain-text summary of a report: deterministic, short, readable without a kernel."""
    _a_report(report)
    lines = [f"{describe(report.bugs, report.batch, report.method)} | keep_prob = {report.keep_prob:g}",
             f"difference = {fmt(report.difference)}  {'PASS' if report.passed else 'FAIL'}"
             f"  (ratio analytic/numeric = {report.ratio:.6f})"]
    lines += [f"  {r.name:<3} difference {fmt_row(r.difference):>9}  ratio {r.ratio:9.6f}  "
              f"{'ok' if r.passed else 'FAIL'}" for r in report.per_parameter]
    return "\n".join(lines)


def alone(report, seed=0):
    """Each bug of a report checked on its own, with the same batch, check and dropout:
    {name: report}. Empty for fewer than two bugs, where there is nothing to compare."""
    if len(_a_report(report).bugs) < 2:
        return {}
    return {name: experiment.run([name], batch=report.batch, seed=seed, method=report.method,
                                 keep_prob=report.keep_prob, progress=False)
            for name in report.bugs}


# Why a bug can pass a check on its own in the lab. Measured for every bug, batch 1 to 256 and
# check: only these two pass, and only at M = 1 (tests/test_lab.py runs them all).
NOTHING_AT_ONE = {"stray_inv_m": "dividing by M once more divides by 1, which changes nothing",
                  "missing_inv_m": "leaving out the division by M leaves out a division by 1, which "
                                   "changes nothing"}


def _and(names):
    return " and ".join(names)


def findings(report, alone_reports=None):
    """What the big number does not show, one sentence each, derived from the numbers: a cache
    that backward wrote into (the check can pass with it), bugs that hide each other (each alone
    fails, together they pass), and each bug that passes on its own here. `alone_reports` is
    what `alone` returns; a report of one bug is its own."""
    _a_report(report)
    own = _alone_reports(alone_reports) or ({report.bugs[0]: report} if len(report.bugs) == 1 else {})
    out = []
    if report.changed_cache_keys:
        writers = [name for name, r in own.items() if r.changed_cache_keys]
        who = f" (with {_and(writers)})" if writers and len(report.bugs) > 1 else ""
        out.append(("The check passes, but backward" if report.passed else "Backward")
                   + f" wrote into its cache{who}: {', '.join(report.changed_cache_keys)} changed "
                   "(an in-place operation).")
    failing = [name for name, r in own.items() if not r.passed]
    if report.passed and failing:
        each = _and(f"{name} gives {fmt(own[name].difference)}" for name in failing)
        if len(failing) > 1:
            out.append(f"{_and(failing)} cancel: alone, {each} (each a FAIL); together the "
                       f"check passes (ratio analytic/numeric {report.ratio:.6f}).")
        else:
            others = [name for name in report.bugs if name not in failing]
            out.append(f"Alone, {each} (a FAIL); with {_and(others)} on as well the check "
                       "passes: one bug hides the other.")
    unseen = [name for name, r in own.items() if r.passed and not r.changed_cache_keys]
    if unseen:
        one = len(unseen) == 1
        start = (f"{unseen[0]} is on, yet the check passes" if len(report.bugs) == 1 else
                 f"{_and(unseen)} {'is' if one else 'are'} on, yet {'it passes' if one else 'each passes'}"
                 " when checked alone")
        reasons = [NOTHING_AT_ONE.get(name) for name in unseen] if report.batch == 1 else [None]
        why = "; ".join(reasons) if all(reasons) else \
            f"there {'it changes' if one else 'they change'} nothing this check can see"
        out.append(f"{start} at M = {report.batch} with the {report.method} check: {why}. "
                   "A pass means no bug this check can see, here.")
    return out


def _bar_percent(d):
    """Where a difference lands on the bars' log scale, in percent of the bar's width."""
    lo, hi = LOG10_RANGE
    return 100.0 if not np.isfinite(d) else float(np.clip((np.log10(max(d, 1e-300)) - lo) / (hi - lo), 0, 1) * 100)


def _short(x):
    """2e-07 -> 2e-7: an axis label."""
    return f"{x:.0e}".replace("e-0", "e-").replace("e+00", "")


def _marks(kind, controls):
    """The class and data- attributes naming the controls an element was made for: the browser
    test reads them, and the lab's CSS compares its bl-with-* classes with the toggles."""
    bug_names, batch, method = controls
    classes = " ".join([f"bl-{kind} bl-shown"] + [f"bl-with-{n}" for n in bug_names])
    return (f"class='{classes}' data-bugs='{html.escape(','.join(bug_names))}' data-batch='{batch}' "
            f"data-method='{html.escape(method)}'")


NOWRAP = "white-space:nowrap"
# a number, or a name or formula = value, never breaks across lines (browsers break 2.2e-08 after
# its '-')
_UNBROKEN = re.compile(r"\S+ = -?[\w.]+|-?\d[\d.,]*e[-+]\d+")


def _text(sentence):
    """A sentence as HTML: escaped, its numbers and name = value pairs kept on one line."""
    return _UNBROKEN.sub(lambda m: f"<span style='{NOWRAP}'>{m.group()}</span>", html.escape(sentence))


def _in_lab_terms(sentence, report):
    """The diagnosis speaks to callers of gradient_check; the lab offers only its drop-down's checks."""
    if "method='loop' checks every entry." not in sentence:
        return sentence
    blocked = [n for n in report.bugs if "fast" not in bugs.REGISTRY[n].methods]
    command = " ".join(["python -m nnlib gradcheck"] + [f"--bug {n}" for n in report.bugs]
                       + [f"--batch {report.batch} --method loop"])
    instead = ("The lab's fast check covers every entry." if not blocked else
               f"With {_and(blocked)} on the lab's fast check cannot run; {command} checks every entry.")
    return sentence.replace("method='loop' checks every entry.", instead)


def report_html(report, alone_reports=None):
    """The lab's display of a report. Widths are percentages and grid columns, never fixed
    pixels; below 470 px of cell width each bar takes a line of its own (page_css), so nothing is
    cut off from about 310 px up: 1024 px at 150 % zoom with JupyterLab's file browser open."""
    colour = GREEN if report.passed else RED
    cell = f"padding:2px 0;{NOWRAP}"
    rows = []
    for r in report.per_parameter:
        c = GREEN if r.passed else RED
        rows.append(
            f"<span style='{cell};font-weight:bold'>{r.name}</span>"
            f"<div class='bl-wide' style='position:relative;height:22px;background:#eceff1'>"
            f"<div style='width:{_bar_percent(r.difference):.1f}%;height:100%;background:{c}'></div>"
            f"<div style='position:absolute;left:{_bar_percent(report.threshold):.1f}%;top:-4px;"
            f"bottom:-4px;border-left:2px dashed #000'></div></div>"
            f"<span style='{cell};text-align:right'>{fmt_row(r.difference)}</span>"
            f"<span style='{cell};text-align:right'>{format_ratio(r.ratio)}</span>"
            f"<span class='bl-narrow-hide' style='{cell};text-align:right'>{r.checked}</span>"
            f"<span style='{cell};color:{c};font-weight:bold'>{'ok' if r.passed else 'FAIL'}</span>")
    lo, hi = LOG10_RANGE
    axis = (f"<span class='bl-narrow-hide'></span><div class='bl-wide' style='position:relative;height:1.3em;"
            f"font-size:14px;{NOWRAP}'>"
            f"<span style='position:absolute;left:0'>1e{lo}</span>"
            f"<span style='position:absolute;left:{_bar_percent(report.threshold):.1f}%;"
            f"transform:translateX(-50%)'>{_short(report.threshold)}</span>"
            f"<span style='position:absolute;right:0'>{10.0 ** hi:g}</span></div>"
            + "<span class='bl-narrow-hide'></span>" * 4)
    hide = "class='bl-narrow-hide' "
    head = "".join(f"<span {h}style='font-weight:bold;text-align:{a}'>{t}</span>" for t, a, h in
                   [("param", "left", ""), ("log scale", "left", hide), ("difference", "right", ""),
                    ("ratio a/n", "right", ""), ("checked", "right", hide), ("", "left", "")])
    grid = (f"<div class='bl-bars' style='display:grid;grid-template-columns:auto minmax(60px,1fr) "
            f"auto auto auto auto;column-gap:8px;row-gap:6px;align-items:center;font-size:17px;"
            f"margin-top:10px'>{head}{''.join(rows)}{axis}</div>")
    boxes = "".join(f"<div class='bl-finding' style='margin:8px 0;padding:6px 12px;font-size:18px;"
                    f"border-left:6px solid {AMBER};background:#fff3e0'>&#9888; {_text(f)}</div>"
                    for f in findings(report, alone_reports))
    each = ""
    if alone_reports and not report.passed:
        each = ("<div style='font-size:16px'>each bug alone: " + "; ".join(
            f"{html.escape(n)} <span style='{NOWRAP}'>{fmt(r.difference)} {'PASS' if r.passed else 'FAIL'}</span>"
            for n, r in alone_reports.items()) + "</div>")
    on = ", ".join(f"<b style='color:{RED}'>{html.escape(n)}</b>" for n in report.bugs) or "none"
    line = " &middot; ".join(f"<span style='{NOWRAP}'>{part}</span>" for part in
                             [f"bugs on: {on}", f"M = {report.batch}", f"check: {html.escape(report.method)}",
                              f"keep_prob = {report.keep_prob:g}"])
    notes = "".join(f"<li>{_text(_in_lab_terms(d, report))}</li>" for d in report.diagnosis)
    return (f"<div {_marks('result', (report.bugs, report.batch, report.method))} "
            f"style='font-size:18px;line-height:1.35;white-space:normal;overflow-wrap:break-word'>"
            f"<div style='display:flex;flex-wrap:wrap;align-items:baseline;column-gap:12px'>"
            f"<span style='{NOWRAP}'>difference =</span><b class='bl-difference' style='font-size:34px;color:{colour};"
            f"{NOWRAP}'>{fmt(report.difference)}</b><b class='bl-verdict' style='font-size:26px;"
            f"color:{colour}'>{'PASS' if report.passed else 'FAIL'}</b></div>"
            f"<div style='font-size:16px'>{line}</div>{boxes}{each}{grid}"
            f"<ul class='bl-diagnosis' style='font-size:16px;margin:10px 0 0;padding-left:1.3em'>{notes}</ul></div>")


def busy_html(controls, previous=""):
    """What the lab shows while a check runs: which controls it is computing for, over the
    previous result made invisible (it keeps its space, so the page does not jump)."""
    # not a result any more (no bl-result, bl-error, bl-shown or data-), but laid out as one
    ghost = re.sub(r" (class='bl-(result|error) [^']*'|data-\w+='[^']*')", "", previous)
    return (f"<div {_marks('busy', controls)} aria-busy='true' style='position:relative;"
            f"min-height:3em;white-space:normal'><div style='position:absolute;top:0;left:0;z-index:1;"
            f"padding:6px 14px;font-size:22px;background:#fff8e1;border:2px solid #f9a825;"
            f"border-radius:6px'>Computing&hellip; {html.escape(describe(*controls))}</div>"
            f"<div aria-hidden='true' style='visibility:hidden'>{ghost}</div></div>")


def error_html(controls, title, message, details=""):
    """An error, naming the controls it is for, so that nothing older stays on show."""
    more = (f"<details style='font-size:13px'><summary>traceback</summary><pre style='white-space:"
            f"pre-wrap'>{html.escape(details)}</pre></details>" if details else "")
    return (f"<div {_marks('error', controls)} style='font-size:20px;color:#8a4b00;"
            f"white-space:normal;overflow-wrap:break-word'><b>{title}</b> for "
            f"{html.escape(describe(*controls))}:<br>{_text(message)}{more}</div>")


def page_css(names):
    """CSS that answers a click in the page at once, before the kernel does (it may be busy: Run
    All, or a queue of clicks). A pressed toggle is red with a bug icon (the kernel's button_style
    and icon follow when it gets to the click). What is shown for other bugs or another check than
    the controls now say fades, under a line saying so; after 0.3 s, so that an idle kernel's
    "Computing..." comes first and nothing flickers. The slider has no state CSS can read: a
    moved slider shows only once the kernel takes it up."""
    lab, button = ".bl-lab", ".bl-lab .widget-toggle-button"
    stale = [rule for n in names for rule in (
        f"{lab}:has(.bl-bug-{n}.mod-active) .bl-shown:not(.bl-with-{n})",
        f"{lab}:has(.bl-bug-{n}:not(.mod-active)) .bl-shown.bl-with-{n}")]
    stale += [f"{lab}:has(select option:nth-child({i}):checked) .bl-shown:not([data-method='{key}'])"
              for i, key in enumerate(CHECKS, 1)]
    return (f"{button} {{font-size:16px}}"
            # a result's width comes from the cell, never from its content; a narrow one puts each
            # bar on a line of its own and leaves out the 'checked' column
            ".bl-shown {container-type:inline-size}"
            "@container (max-width:470px) {.bl-bars {grid-template-columns:repeat(4,auto) !important;"
            "grid-auto-flow:row dense} .bl-bars > .bl-wide {grid-column:1 / -1} .bl-narrow-hide {display:none}}"
            f"{button}.mod-active {{background-color:var(--jp-error-color1,{RED});color:#fff}}"
            f"{button}:not(.mod-active) {{background-color:var(--jp-layout-color2,#eee);"
            f"color:var(--jp-ui-font-color1,#000)}}"
            f"{button}:not(.mod-active) i {{display:none}}"
            # the icon font of the widgets' own fa-bug: Font Awesome 5 under ipywidgets 8, 4 under 7
            f"{button}.mod-active:not(:has(i))::before {{content:'\\f188';margin-right:4px;"
            f"font-family:'Font Awesome 5 Free',FontAwesome;font-weight:900}}"
            "@keyframes bl-stale {from {opacity:1} to {opacity:.3}}"
            "@keyframes bl-note {from {opacity:0} to {opacity:1}}"
            + ",".join(f"{s} > *" for s in stale) + "{animation:bl-stale .2s .3s both}"
            + ",".join(f"{s}::before" for s in stale)
            + "{content:'Not computed yet for the controls as they are now: waiting for the kernel';"
              "display:block;padding:4px 10px;font-size:18px;background:#fff8e1;border:2px solid #f9a825;"
              "animation:bl-note .2s .3s both}")


def _bug_list(bug_names, known=bugs.REGISTRY):
    """The bug names as a list (a generator is read once, here), each one known."""
    if isinstance(bug_names, (str, bytes, dict)) or not hasattr(bug_names, "__iter__"):
        raise ValueError(f"bugs must be a list of bug names, like ['shallow_copy'], got {bug_names!r}")
    names = list(bug_names)
    if not all(isinstance(n, str) for n in names):
        raise ValueError(f"bugs must be a list of bug names, like ['shallow_copy'], got {names!r}")
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown bug(s) {unknown}; known: {', '.join(known)}")
    return names


def _check_batch(batch):
    if isinstance(batch, bool) or not isinstance(batch, (int, np.integer)) or not BATCHES[0] <= batch <= BATCHES[1]:
        raise ValueError(f"batch must be a whole number from {BATCHES[0]} to {BATCHES[1]} (the "
                         f"slider's range), got {batch!r}")


def _check_method(method):
    if not isinstance(method, str) or method not in CHECKS:
        raise ValueError(f"the lab's checks are {', '.join(CHECKS)}, got {method!r}; for other "
                         f"checks call experiment.run(bugs, method=...) directly")


def impossible(bug_names, method):
    """Why the lab cannot run these bugs with this check, in the lab's own terms (its checks are
    the drop-down's), or None when it can."""
    for name in bug_names:
        bug = bugs.REGISTRY[name]
        if method not in bug.methods:
            can = [m for m in CHECKS if m in bug.methods]
            instead = (f"choose the {' or '.join(can)} check" if can else "no check of the lab's runs it "
                       f"(python -m nnlib gradcheck --bug {name} --method loop does)")
            return f"{name} lives in {bug.where}, which the {method} check does not run; {instead}"
    try:
        bugs_module.refuse_clashes([bugs.REGISTRY[n] for n in bug_names])
    except ValueError as e:
        return str(e)
    return None


class BugLab:
    """Toggle buttons for the bugs, a batch-size slider and a check selector, wired to a report."""

    def __init__(self, batch=64, method="sampled", seed=0, names=None):
        try:
            import ipywidgets as w
        except ImportError as e:
            raise ImportError(NEEDS) from e

        names = list(bugs.REGISTRY) if names is None else _bug_list(names)
        _check_batch(batch)
        _check_method(method)
        experiment.check_seed(seed)
        self.seed = seed
        self._holding = False
        self._generation = 0  # counts updates, so a slower older one never overwrites a newer one
        self._shown = ""
        self.report = None
        self.error = None
        self.toggles = {name: w.ToggleButton(description=name, tooltip=bugs.REGISTRY[name].summary,
                                             layout=w.Layout(width="auto"))
                        for name in names}
        # side by side when there is room, one above the other when not (150 % zoom, file browser open)
        flexible = dict(width="auto", flex="1 1 300px", min_width="0")
        self.batch = w.IntSlider(value=batch, min=BATCHES[0], max=BATCHES[1], description="batch M",
                                 continuous_update=False, style={"description_width": "70px"},
                                 layout=w.Layout(**flexible))
        self.method = w.Dropdown(options=[(label, key) for key, label in CHECKS.items()], value=method,
                                 description="check", style={"description_width": "50px"},
                                 layout=w.Layout(**flexible))
        self.output = w.HTML(layout=w.Layout(width="auto"))
        for name, toggle in self.toggles.items():
            toggle.add_class(f"bl-bug-{name}")  # for page_css
            toggle.observe(self._mark, names="value")
        for control in (*self.toggles.values(), self.batch, self.method):
            control.observe(self.update, names="value")
        wrap = w.Layout(flex_flow="row wrap", width="100%")
        self.widget = w.VBox([w.HTML(f"<style>{page_css(names)}</style>"
                                     "<b style='font-size:18px'>Switch bugs on and off (red = on):</b>"),
                              w.HBox(list(self.toggles.values()), layout=wrap),
                              w.HBox([self.batch, self.method], layout=wrap), self.output],
                             layout=w.Layout(width="100%"))
        self.widget.add_class("bl-lab")
        self.update()

    @staticmethod
    def _mark(change):
        """A bug that is on is a red button with a bug icon: visible from the back of the room
        (the page's CSS shows it at once; this keeps it where that CSS does not reach)."""
        toggle = change["owner"]
        toggle.button_style = "danger" if toggle.value else ""
        toggle.icon = "bug" if toggle.value else ""

    def controls(self):
        """What the controls show now: (bug names, batch, method)."""
        return (tuple(name for name, t in self.toggles.items() if t.value), self.batch.value,
                self.method.value)

    def update(self, change=None):
        """Recompute the check for what the controls show; called by every control.

        The kernel runs one callback at a time and queues the clicks that come meanwhile, so
        each queued click gets its own update, and the last one shows the controls as they
        end up. (An update cannot skip work that later clicks make pointless: when it starts,
        those clicks are still in the kernel's queue, unknown to the widgets.) While a check
        runs the output says "Computing..." for the controls it is computing for; an error of
        any kind is shown, named by the controls, instead of leaving an older result on show."""
        if self._holding:
            return
        self._generation += 1
        generation = self._generation
        now = self.controls()
        self.output.value = busy_html(now, self._shown)  # sent to the page before the work starts
        report, error = None, None
        try:
            why = impossible(now[0], now[2])
            if why:
                raise ValueError(why)
            # no progress bar: a callback has no cell to draw it in (JupyterLab files it as a warning)
            report = experiment.run(now[0], batch=now[1], seed=self.seed, method=now[2], progress=False)
            shown = report_html(report, alone(report, self.seed))
        except ValueError as e:
            report, error = None, f"Not a possible check: {e}"
            shown = error_html(now, "Not a possible check", str(e))
        except Exception as e:  # noqa: BLE001 (a widget callback has nobody to raise to: show it)
            report, error = None, f"The check stopped with an error: {type(e).__name__}: {e}"
            shown = error_html(now, "The check stopped with an error", f"{type(e).__name__}: {e}",
                               traceback.format_exc())
        if generation != self._generation:
            return  # the controls moved while this ran; a newer update has shown them
        self.report, self.error, self._shown = report, error, shown
        self.output.value = shown

    def set(self, bugs=None, batch=None, method=None):
        """Set the controls as a person would, then update once; return the report. None leaves
        a control as it is.

        Everything is checked before any control moves, the combination too: a ValueError
        leaves the controls and the display as they were."""
        now = self.controls()
        bugs = now[0] if bugs is None else _bug_list(bugs, known=self.toggles)
        if batch is not None:
            _check_batch(batch)
        if method is not None:
            _check_method(method)
        why = impossible(bugs, now[2] if method is None else method)
        if why:
            raise ValueError(why)
        self._holding = True  # one update for the whole change, not one per control
        try:
            for name, toggle in self.toggles.items():
                toggle.value = name in bugs
            if batch is not None:
                self.batch.value = batch
            if method is not None:
                self.method.value = method
        finally:
            self._holding = False
            self.update()  # whatever happened above, show what the controls now say
        return self.report

    @property
    def summary(self):
        if self.report:
            return summary(self.report)
        return f"{describe(*self.controls())}\n{self.error}"

    def _repr_mimebundle_(self, **kwargs):
        """The widget, with the plain-text summary as what a page without a kernel shows."""
        if hasattr(self.widget, "_repr_mimebundle_"):
            bundle = self.widget._repr_mimebundle_(**kwargs)
        else:  # ipywidgets 7 displays a widget only through _ipython_display_, with this bundle
            bundle = {"application/vnd.jupyter.widget-view+json": {
                "version_major": 2, "version_minor": 0, "model_id": self.widget.model_id}}
        bundle["text/plain"] = "Bug lab (run the notebook to use it). Saved state:\n" + self.summary
        return bundle


class Picture(Figure):
    """A matplotlib Figure that shows itself as a PNG wherever IPython displays it, whether or
    not pyplot's inline backend has been switched on (a Figure made without pyplot is not),
    with the report's plain-text summary as its text (what a text-only page shows)."""

    summary = ""

    def _repr_png_(self):
        png = io.BytesIO()
        self.savefig(png, format="png")
        return png.getvalue()

    def _repr_pretty_(self, printer, cycle):
        printer.text(self.summary)


def picture(report, alone_reports=None):
    """The lab's display of a report as a matplotlib Figure, for pages without a kernel
    (GitHub, nbconvert): the difference and verdict, a bar per parameter on a log scale with
    the threshold line, each ratio analytic/numeric, the findings and the diagnosis."""
    width, line, gap = 10.0, 0.2, 0.1  # inches: a line of small text, the space between notes
    notes = ([("\u26a0 " + f, AMBER) for f in findings(report, alone_reports)]
             + [("- " + _in_lab_terms(d, report), "black") for d in report.diagnosis])
    wrapped = [(textwrap.fill(text, 105, subsequent_indent="  "), colour) for text, colour in notes]
    n_lines = sum(text.count("\n") + 1 for text, _ in wrapped)
    rows = len(report.per_parameter)
    top, bars = 1.25, 0.42 * rows + 0.2          # header block, bar block (inches)
    height = top + bars + 0.75 + line * n_lines + gap * len(wrapped) + 0.1
    fig = Picture(figsize=(width, height), dpi=100)
    fig.summary = summary(report)

    def y(inches_from_top):
        return 1 - inches_from_top / height

    colour = GREEN if report.passed else RED
    fig.text(0.02, y(0.3), "Bug lab  |  " + describe(report.bugs, report.batch, report.method)
             + f" | keep_prob = {report.keep_prob:g}", fontsize=12, va="center")
    fig.text(0.02, y(0.85), "difference = ", fontsize=20, va="center")
    fig.text(0.235, y(0.85), f"{fmt(report.difference)}   {'PASS' if report.passed else 'FAIL'}",
             fontsize=26, va="center", color=colour, fontweight="bold")
    ax = fig.add_axes([0.07, y(top + bars), 0.55, bars / height])
    lo, hi = LOG10_RANGE
    for i, r in enumerate(report.per_parameter):
        d = float(np.clip(r.difference, 10.0 ** lo, 10.0 ** hi)) if np.isfinite(r.difference) else 10.0 ** hi
        c = GREEN if r.passed else RED
        ax.barh(i, d - 10.0 ** lo, left=10.0 ** lo, height=0.6, color=c)
        ax.text(1.03, i, fmt_row(r.difference), transform=ax.get_yaxis_transform(), va="center", fontsize=12)
        ax.text(1.25, i, f"{r.ratio:.6f}", transform=ax.get_yaxis_transform(), va="center", fontsize=12)
        ax.text(1.48, i, "ok" if r.passed else "FAIL", transform=ax.get_yaxis_transform(), va="center",
                fontsize=12, color=c, fontweight="bold")
    for x, label in [(1.03, "difference"), (1.25, "ratio a/n"), (1.48, "")]:
        ax.text(x, -0.75, label, transform=ax.get_yaxis_transform(), va="center", fontsize=12, fontweight="bold")
    ax.set_xscale("log")
    ax.set_xlim(10.0 ** lo, 10.0 ** hi)
    ax.set_ylim(rows - 0.5, -1.1)
    ax.set_yticks(range(rows), [r.name for r in report.per_parameter], fontsize=12)
    ax.axvline(report.threshold, color="black", ls="--", lw=1.5)
    ax.text(report.threshold, -0.75, f" threshold {_short(report.threshold)}", va="center", fontsize=11)
    ax.set_xticks([10.0 ** k for k in range(lo, hi + 1, 3)])
    ax.tick_params(axis="x", labelsize=11)
    ax.set_xlabel("difference per parameter (log scale)", fontsize=11)
    at = top + bars + 0.75
    for text, c in wrapped:
        fig.text(0.02, y(at), text, fontsize=10.5, color=c, va="top", linespacing=1.25)
        at += line * (text.count("\n") + 1) + gap
    return fig


def fingerprint_table(batch=64, seed=0):
    """Each registered bug alone, checked with a method that runs it: (name, where, method, report)."""
    rows = []
    for bug in bugs.REGISTRY.values():
        method = "fast" if "fast" in bug.methods else "sampled"
        rows.append((bug.name, bug.where, method, experiment.run([bug.name], batch=batch, seed=seed, method=method)))
    return rows
