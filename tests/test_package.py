"""The package as learners get it without this repository: the wheel, a fresh venv outside the
repository (a terminal, or a hosted Jupyter after one `%pip install`), and Google Colab, whose
ipywidgets is 7.7.1 (tests/colab-requirements.txt). The lab clicked in a browser under ipywidgets 7
is in tests/test_browser.py."""

import re
import shutil
import subprocess
import sys
import tomllib
import types
import zipfile
from pathlib import Path

import nbformat
import pytest
import venvs
from packaging.requirements import Requirement

ROOT = venvs.ROOT
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
VERSION = re.search(r'^__version__ = "([^"]+)"', (ROOT / "nnlib" / "__init__.py").read_text(), re.M)[1]


def metadata(wheel):
    with zipfile.ZipFile(wheel) as z:
        return z.read(f"backprop_lab-{VERSION}.dist-info/METADATA").decode()


def requirements(wheel):
    """{(name, extra or None): Requirement} as the wheel declares them."""
    out = {}
    for line in re.findall(r"^Requires-Dist: (.+)$", metadata(wheel), re.M):
        req = Requirement(line)
        extra = re.search(r'extra == "(\w+)"', str(req.marker)) if req.marker else None
        out[req.name, extra and extra[1]] = req
    return out


def test_the_wheel_holds_nnlib_its_digits_and_its_licence():
    wheel = venvs.wheel()
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
    code = {p.relative_to(ROOT).as_posix() for p in (ROOT / "nnlib").rglob("*.py")}
    package = {n for n in names if not n.startswith(f"backprop_lab-{VERSION}.dist-info/")}
    assert package == code | {"nnlib/mnist_5k.npz"}
    assert f"backprop_lab-{VERSION}.dist-info/licenses/LICENSE" in names
    assert re.search(rf"^Name: backprop-lab\nVersion: {re.escape(VERSION)}$", metadata(wheel), re.M)
    assert "CC BY-SA 3.0" in metadata(wheel)  # the digits' licence, in the description (README)


def test_one_version_and_extras_that_take_colabs_and_binders_versions():
    reqs = requirements(venvs.wheel())
    assert PROJECT["dynamic"] == ["version"] and "version" not in PROJECT
    colab = {line.split("==")[0]: line.split("==")[1] for line in venvs.COLAB_PINS.read_text().splitlines()
             if "==" in line and not line.startswith("#")}
    for name, extra in [("numpy", None), ("matplotlib", "lab"), ("ipywidgets", "lab")]:
        binder = venvs.pinned(name).split("==")[1]
        assert reqs[name, extra].specifier.contains(colab[name]), (name, colab[name])
        assert reqs[name, extra].specifier.contains(binder), (name, binder)
    assert not reqs["ipywidgets", "lab"].specifier.contains("7.6.5")  # the lab needs 7.7's widgets
    assert not reqs["ipywidgets", "lab"].specifier.contains("8.1.9")  # not rendered in VS Code
    assert ("backprop-lab", "instructor") in reqs and ("otter-grader", "instructor") in reqs


def _outside(tmp_path, *args):
    return subprocess.run([str(venvs.learner()), *args], capture_output=True, text=True, timeout=600,
                          cwd=tmp_path, env=venvs.outside_env(NNLIB_PROGRESS="0"))


def test_the_cli_and_the_doctor_from_a_fresh_venv_outside_the_repository(tmp_path):
    where = _outside(tmp_path, "-c", "import importlib.metadata as m, nnlib; "
                     "print(nnlib.__file__); print(nnlib.__version__, m.version('backprop-lab'))")
    path, versions = where.stdout.splitlines()
    assert Path(path).is_relative_to(venvs.learner().parent.parent) and not Path(path).is_relative_to(ROOT)
    assert versions == f"{VERSION} {VERSION}"

    out = _outside(tmp_path, "-m", "nnlib", "gradcheck", "--bug", "shallow_copy")
    assert out.returncode == 1 and "difference = 0.3333333" in out.stdout, out.stdout + out.stderr

    shutil.copy(ROOT / "tests" / "learner_files" / "course_planted.py", tmp_path)
    out = _outside(tmp_path, "-m", "nnlib", "check", "course_planted.py")
    assert out.returncode == 1, out.stdout + out.stderr
    assert out.stdout.splitlines()[:2] == ["verdict: bug in backprop",
                                           "  - backprop is WRONG: nnlib's check gives 0.2850932 (threshold 2e-07)."]


def test_the_doctor_from_the_wheel_reads_the_notebook_a_learner_has_open(tmp_path):
    """`!python -m nnlib check "My assignment.ipynb"` in Coursera's Jupyter: the code cells, magics skipped."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Gradient checking"),
                nbformat.v4.new_code_cell('%pip install "backprop-lab @ git+https://example.invalid/x"'),
                nbformat.v4.new_code_cell((ROOT / "tests" / "learner_files" / "course_planted.py").read_text())]
    nbformat.write(nb, tmp_path / "My assignment.ipynb")
    out = _outside(tmp_path, "-m", "nnlib", "check", "My assignment.ipynb")
    assert out.returncode == 1, out.stdout + out.stderr
    assert "  - backprop is WRONG: nnlib's check gives 0.2850932 (threshold 2e-07)." in out.stdout.splitlines()


def test_the_lab_without_its_extra_says_what_to_install(tmp_path):
    out = _outside(tmp_path, "-c", "import nnlib.lab")
    assert out.returncode == 1
    assert out.stderr.strip().splitlines()[-1] == ("ImportError: the bug lab needs matplotlib and ipywidgets: "
                                                   "pip install 'backprop-lab[lab]'")


def test_notebook_6_runs_on_the_package_alone_in_a_plain_jupyter_kernel(tmp_path):
    """A hosted Jupyter (Coursera's) after `%pip install backprop-lab`: no matplotlib, no ipywidgets."""
    nb = venvs.execute(ROOT / "notebooks" / "06-check-your-own-code.ipynb", venvs.learner(), tmp_path)
    assert venvs.problems(nb) == []
    printed = "".join(out.get("text", "") for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs)
    assert "0.2850932" in printed and "0.3333333" in printed


# The notebooks' first code cell: in Google Colab, and only there, it installs the package.

def _first_code_cell(path):
    return next(c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code").source


def _run_cell(source, in_colab, monkeypatch):
    """The cell as IPython runs it, with Colab's module present or not; returns the commands it ran."""
    from IPython.core.inputtransformer2 import TransformerManager

    commands = []
    monkeypatch.setattr(subprocess, "run", lambda args, **kwargs: commands.append((args, kwargs)))
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    if in_colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    exec(TransformerManager().transform_cell(source), {})
    return commands


def test_every_notebook_starts_with_the_same_colab_install_cell():
    cells = {path.name: _first_code_cell(path) for path in NOTEBOOKS}
    assert len(set(cells.values())) == 1, cells


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_the_first_cell_installs_the_package_in_colab_and_does_nothing_elsewhere(path, monkeypatch):
    source = _first_code_cell(path)
    assert _run_cell(source, in_colab=False, monkeypatch=monkeypatch) == []
    ((args, kwargs),) = _run_cell(source, in_colab=True, monkeypatch=monkeypatch)
    # pip of the kernel's own Python; a failed install stops the notebook there
    assert args[:4] == [sys.executable, "-m", "pip", "install"] and kwargs == {"check": True}
    # the package at this version from the repository named in pyproject.toml, and nothing else
    # (never requirements.txt: its ipywidgets 8 does not render in Colab)
    source_url = PROJECT["urls"]["Source"]
    assert [a for a in args[4:] if not a.startswith("-")] == [f"backprop-lab[lab] @ git+{source_url}@v{VERSION}"]


def test_the_doctor_can_read_a_notebook_of_the_series():
    """A learner pastes their functions into notebook 6 and checks it as a file: the install cell
    must stay Python once the doctor leaves out IPython's % and ! lines."""
    from nnlib.learner import notebook_cells

    for path in NOTEBOOKS:
        for cell, source in notebook_cells(path):
            compile(source, f"{path.name}, cell {cell}", "exec")


def test_the_docs_name_one_repository_and_one_release():
    """The GitHub address is a placeholder until the repository is published: pyproject.toml's
    Source URL, the notebooks' install cell, the README's badges and the install commands in the
    README and docs/instructors.md change together."""
    readme = (ROOT / "README.md").read_text()
    docs = readme + (ROOT / "docs" / "instructors.md").read_text()
    source = PROJECT["urls"]["Source"]
    repo = source.removeprefix("https://github.com/")
    colab = re.findall(r"\(https://colab\.research\.google\.com/github/([^)]+)\)", readme)
    assert colab == [f"{repo}/blob/v{VERSION}/notebooks/{p.name}" for p in NOTEBOOKS]
    assert set(re.findall(r'"backprop-lab(?:\[\w+\])? @ (\S+)"', docs)) == {f"git+{source}@v{VERSION}"}
    assert re.findall(r"mybinder\.org/v2/gh/([\w.-]+/[\w.-]+)/", readme) == [repo]


def test_installing_into_colab_changes_none_of_its_packages():
    _, before, after = venvs.colab()
    assert [p for p in before if p not in after] == []  # nothing up- or downgraded, nothing removed
    assert any(p.startswith("backprop-lab @ ") for p in after)


def test_the_six_notebooks_run_under_colabs_ipywidgets_7_without_an_error_or_a_warning(tmp_path):
    python, _, _ = venvs.colab()
    for path in NOTEBOOKS:
        # progress bars on, as a learner has them: tqdm's are ipywidgets 7 widgets there
        nb = venvs.execute(path, python, tmp_path, NNLIB_PROGRESS="1")
        assert venvs.problems(nb) == [], path.name


LAB_UNDER_WARNINGS_AS_ERRORS = """
import warnings
import ipywidgets, matplotlib.figure  # their own import-time warnings are not the lab's
from nnlib.lab import BugLab
warnings.simplefilter("error")
lab = BugLab(batch=8)
lab.toggles["shallow_copy"].value = True
bundle = lab._repr_mimebundle_()
print(ipywidgets.__version__, sorted(bundle), lab.toggles["shallow_copy"].button_style)
print(lab.summary.splitlines()[1])
"""


def test_the_lab_raises_no_warning_under_ipywidgets_7(tmp_path):
    python, _, _ = venvs.colab()
    out = venvs.run([python, "-c", LAB_UNDER_WARNINGS_AS_ERRORS], cwd=tmp_path,
                    env=venvs.outside_env(NNLIB_PROGRESS="0"))
    assert out.stdout.splitlines() == [
        "7.7.1 ['application/vnd.jupyter.widget-view+json', 'text/plain'] danger",
        "difference = 0.3333333  FAIL  (ratio analytic/numeric = 2.000000)"]
