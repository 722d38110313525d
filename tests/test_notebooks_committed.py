"""The notebooks as committed: what GitHub shows, nbval compares and JupyterLab opens."""

import json
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))


def test_the_series_is_complete_and_numbered():
    assert [p.name[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04", "05", "06"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_executed_in_order_without_errors(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    assert nb.metadata.kernelspec.name == "python3"  # without it JupyterLab asks for a kernel


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_widget_state_is_in_the_form_github_renders(path):
    widgets = json.loads(path.read_text())["metadata"].get("widgets")
    if widgets is None:
        return
    for mime, entry in widgets.items():
        assert "state" in entry and entry["version_major"] == 2, mime


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_cell_has_slide_metadata_and_the_first_starts_a_slide(path):
    nb = nbformat.read(path, as_version=4)
    types = [c.metadata.get("slideshow", {}).get("slide_type") for c in nb.cells]
    assert None not in types and types[0] == "slide"


def test_ignored_outputs_are_rare():
    ignored = [(p.name, c.source.splitlines()[0]) for p in NOTEBOOKS
               for c in nbformat.read(p, as_version=4).cells if "nbval-ignore-output" in c.metadata.get("tags", [])]
    assert len(ignored) <= 1, ignored  # only the training progress bar, which shows timings


def test_ci_runs_the_kernels_the_readme_says_it_runs():
    ci = (ROOT / ".ci" / "run").read_text()
    kernels = re.search(r"check_kernels\.py --ci (?:--jobs \d+ )?--kernels (\S+)", ci).group(1)
    paragraph = (ROOT / "README.md").read_text().split("**Same numbers on every CPU.**")[1].split("\n\n")[0]
    said = paragraph.split(".ci/run")[1].split(";")[0]  # "also runs nbval ... under `Sandybridge` and `Prescott`"
    assert sorted(re.findall(r"`(\w+)`", said)) == sorted(kernels.split(",")), (said, kernels)
