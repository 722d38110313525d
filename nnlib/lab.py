"""The bug lab: switch deliberate bugs on and off and watch the gradient check answer.

    from nnlib.lab import BugLab
    lab = BugLab()          # displays itself in a notebook
    lab.set(bugs=["shallow_copy"], batch=8)   # what the widgets do, callable from code and tests

Every number the lab shows is computed by nnlib.experiment.run for exactly the bugs,
batch and check shown next to it.
"""

import html

import numpy as np

from . import bugs, experiment
from .gradcheck import format_difference as fmt

CHECKS = {
    "sampled": "sampled: the loop on 25 entries of each parameter",
    "fast": "fast: every entry, batched",
    "directional": "directional: one random direction per parameter",
}


def summary(report):
    """Plain-text summary of a report: deterministic, short, readable without a kernel."""
    lines = [f"bugs: {', '.join(report.bugs) or 'none'} | M = {report.batch} | check: {report.method}"
             f" | keep_prob = {report.keep_prob:g}",
             f"difference = {fmt(report.difference)}  {'PASS' if report.passed else 'FAIL'}"
             f"  (ratio analytic/numeric = {report.ratio:.6f})"]
    lines += [f"  {r.name:<3} difference {fmt(r.difference):>9}  ratio {r.ratio:9.6f}  "
              f"{'ok' if r.passed else 'FAIL'}" for r in report.per_parameter]
    return "\n".join(lines)


def bar_chart(report, width=460, row=34):
    """An SVG bar per parameter: log10 of its difference, with the 2e-7 threshold marked."""
    lo, hi, left = -12.0, 0.0, 60
    scale = (width - left - 70) / (hi - lo)

    def x(d):
        return left + (np.clip(np.log10(max(d, 1e-300)), lo, hi) - lo) * scale

    parts = [f'<svg class="bl-chart" width="{width}" height="{row * len(report.per_parameter) + 40}" '
             'xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="16">']
    for n, r in enumerate(report.per_parameter):
        y = 10 + n * row
        colour = "#2e7d32" if r.passed else "#c62828"
        parts.append(f'<text x="0" y="{y + 20}">{r.name}</text>'
                     f'<rect x="{left}" y="{y + 4}" width="{x(r.difference) - left:.1f}" height="{row - 10}" '
                     f'fill="{colour}"/><text x="{x(r.difference) + 6:.1f}" y="{y + 20}">{fmt(r.difference)}</text>')
    bottom = 10 + row * len(report.per_parameter)
    t = x(report.threshold)
    parts.append(f'<line x1="{t:.1f}" y1="4" x2="{t:.1f}" y2="{bottom}" stroke="black" stroke-dasharray="5,4"/>'
                 f'<text x="{t - 30:.1f}" y="{bottom + 22}" font-size="13">2e-7</text>'
                 f'<text x="{left}" y="{bottom + 22}" font-size="13">1e-12</text>'
                 f'<text x="{x(1.0) - 10:.1f}" y="{bottom + 22}" font-size="13">1</text></svg>')
    return "".join(parts)


def report_html(report):
    verdict = "PASS" if report.passed else "FAIL"
    colour = "#2e7d32" if report.passed else "#c62828"
    rows = "".join(f"<tr><td>{r.name}</td><td>{r.checked}</td><td>{fmt(r.difference)}</td>"
                   f"<td>{r.ratio:.6f}</td><td style='color:{'#2e7d32' if r.passed else '#c62828'}'>"
                   f"{'ok' if r.passed else 'FAIL'}</td></tr>" for r in report.per_parameter)
    notes = "".join(f"<li>{html.escape(d)}</li>" for d in report.diagnosis)
    return (f"<div style='font-size:20px;line-height:1.4'>"
            f"<div>difference = <b class='bl-difference' style='font-size:34px;color:{colour}'>"
            f"{fmt(report.difference)}</b> <b class='bl-verdict' style='color:{colour}'>{verdict}</b></div>"
            f"<div style='font-size:16px'>M = {report.batch}, check: {html.escape(report.method)}, "
            f"keep_prob = {report.keep_prob:g}, bugs: {html.escape(', '.join(report.bugs) or 'none')}</div>"
            f"<div style='display:flex;gap:24px;align-items:flex-start;margin-top:8px'>"
            f"<table style='font-size:17px'><tr><th>param</th><th>checked</th><th>difference</th>"
            f"<th>ratio a/n</th><th></th></tr>{rows}</table>{bar_chart(report)}</div>"
            f"<ul style='font-size:16px'>{notes}</ul></div>")


class BugLab:
    """Toggle buttons for the bugs, a batch-size slider and a check selector, wired to a report."""

    def __init__(self, batch=64, method="sampled", seed=0, names=None):
        import ipywidgets as w

        self.seed = seed
        self._holding = False
        self.report = None
        self.error = None
        big = {"font_size": "16px"}
        self.toggles = {name: w.ToggleButton(description=name, tooltip=bugs.REGISTRY[name].summary,
                                             layout=w.Layout(width="auto"), style=big)
                        for name in (names or bugs.REGISTRY)}
        self.batch = w.IntSlider(value=batch, min=1, max=256, description="batch M",
                                 continuous_update=False, style={"description_width": "70px"},
                                 layout=w.Layout(width="420px"))
        self.method = w.Dropdown(options=[(label, key) for key, label in CHECKS.items()], value=method,
                                 description="check", layout=w.Layout(width="420px"))
        self.output = w.HTML()
        for control in (*self.toggles.values(), self.batch, self.method):
            control.observe(self.update, names="value")
        self.widget = w.VBox([w.HTML("<b style='font-size:18px'>Switch bugs on and off:</b>"),
                              w.HBox(list(self.toggles.values()), layout=w.Layout(flex_flow="row wrap")),
                              w.HBox([self.batch, self.method]), self.output])
        self.update()

    def update(self, change=None):
        """Recompute the check for what the controls show; called by every control."""
        if self._holding:
            return
        chosen = [name for name, t in self.toggles.items() if t.value]
        try:
            self.report = experiment.run(chosen, batch=self.batch.value, seed=self.seed,
                                         method=self.method.value)
            self.error = None
            self.output.value = report_html(self.report)
        except ValueError as e:
            self.report, self.error = None, str(e)
            self.output.value = (f"<div class='bl-error' style='font-size:20px;color:#8a4b00'>"
                                 f"Not a possible check: {html.escape(str(e))}</div>")

    def set(self, bugs=None, batch=None, method=None):
        """Set the controls as a person would, then update once; return the report."""
        if bugs is not None and set(bugs) - set(self.toggles):
            raise ValueError(f"unknown bug(s) {sorted(set(bugs) - set(self.toggles))}; "
                             f"known: {', '.join(self.toggles)}")
        self._holding = True  # one update for the whole change, not one per control
        try:
            for name, toggle in self.toggles.items():
                if bugs is not None:
                    toggle.value = name in bugs
            if batch is not None:
                self.batch.value = batch
            if method is not None:
                self.method.value = method
        finally:
            self._holding = False
        self.update()
        return self.report

    @property
    def summary(self):
        return summary(self.report) if self.report else f"Not a possible check: {self.error}"

    def _repr_mimebundle_(self, **kwargs):
        """The widget, with the plain-text summary as what a page without a kernel shows."""
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = "Bug lab (run the notebook to use it). Saved state:\n" + self.summary
        return bundle


def fingerprint_table(batch=64, seed=0):
    """Each registered bug alone, checked with a method that runs it: (name, where, method, report)."""
    rows = []
    for bug in bugs.REGISTRY.values():
        method = "fast" if "fast" in bug.methods else "sampled"
        rows.append((bug.name, bug.where, method, experiment.run([bug.name], batch=batch, seed=seed, method=method)))
    return rows


_MYSTERY = ("missing_relu_mask", "stray_inv_m", "inplace_relu_deriv", "missing_inv_m")


def mystery_report(number, batch=16):
    """The report of a network with one hidden bug (number 1-4), for the exercise."""
    if number not in range(1, len(_MYSTERY) + 1):
        raise ValueError(f"mystery number must be 1 to {len(_MYSTERY)}, got {number!r}")
    return experiment.run([_MYSTERY[number - 1]], batch=batch, method="fast")


def check_guess(number, name):
    """Say whether `name` is the bug hidden in mystery `number`."""
    bugs.get(name)
    right = _MYSTERY[number - 1] == name
    return f"mystery {number}: {name} is " + ("right." if right else "not it. Read the per-parameter ratios again.")
