"""Environments outside this repository, for tests/test_package.py and tests/test_browser.py: the
wheel as pip builds it, and virtual environments that have it installed the way a learner would.

Each is built once per test run, in a temporary folder that is removed at exit. The project's
own pip installs into them (`pip --python`), from pip's wheel cache when it has the files, so a
venv takes seconds and needs no pip of its own.
"""

import atexit
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Google Colab's packages that decide how the notebooks and the lab behave there
COLAB_PINS = ROOT / "tests" / "colab-requirements.txt"


@functools.cache
def _scratch():
    path = Path(tempfile.mkdtemp(prefix="backprop-lab-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def run(args, **kwargs):
    """A command that must succeed; on failure its output is the error message."""
    out = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=600, **kwargs)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, args))} exited {out.returncode}:\n{out.stdout}\n{out.stderr}")
    return out


def outside_env(**extra):
    """The environment for a process that must not see this repository."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    return {**env, "PYDEVD_DISABLE_FILE_VALIDATION": "1", **extra}


@functools.cache
def wheel():
    """The wheel pip builds from the files a source checkout has, copied out of the repository
    first (so that the build can neither read nor write anything else in it)."""
    src = _scratch() / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "nnlib", src / "nnlib", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = _scratch() / "dist"
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", dist, src])
    (built,) = dist.glob("*.whl")
    return built


def install(python, *requirements):
    run([sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-compile", *requirements])


def freeze(python):
    return run([sys.executable, "-m", "pip", "--python", python, "freeze"]).stdout.splitlines()


def new_venv(name, *requirements):
    """A fresh venv with these requirements installed; returns its python."""
    path = _scratch() / name
    run([sys.executable, "-m", "venv", "--without-pip", path])
    python = path / "bin" / "python"
    if requirements:
        install(python, *requirements)
    return python


def pinned(name, requirements=ROOT / "requirements.txt"):
    """`name==version` as a requirements file pins it."""
    for line in requirements.read_text().splitlines():
        if line.split("==")[0].strip().lower() == name:
            return line.split("#")[0].strip()
    raise LookupError(f"{name} is not pinned in {requirements}")


@functools.cache
def learner():
    """A venv with the wheel alone (no extras) and a Jupyter kernel: the doctor in a terminal, or
    in a hosted Jupyter (Coursera's) after one `%pip install`."""
    return new_venv("learner", wheel(), pinned("ipykernel"))


@functools.cache
def colab():
    """A venv pinned like Google Colab, then the wheel with its [lab] extra installed into it the way
    the notebooks' first cell does there: (python, pip freeze before, pip freeze after)."""
    python = new_venv("colab", "-r", COLAB_PINS)
    before = freeze(python)
    install(python, f"{wheel()}[lab]")
    return python, before, freeze(python)


def execute(notebook, python, workdir, **env):
    """Run a notebook top to bottom in a kernel of that venv, in `workdir`; return it with its outputs."""
    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    kernels = Path(workdir) / "kernels"
    spec = kernels / "python3" / "kernel.json"
    spec.parent.mkdir(parents=True, exist_ok=True)
    spec.write_text(json.dumps({"argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                                "display_name": "Python 3", "language": "python",
                                "env": {"PYDEVD_DISABLE_FILE_VALIDATION": "1", **env}}))
    km = KernelManager(kernel_name="python3", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)]))
    nb = nbformat.read(notebook, as_version=4)
    try:
        NotebookClient(nb, km=km, timeout=600, resources={"metadata": {"path": str(workdir)}}).execute()
    finally:  # nbclient stops only the kernels it made itself
        if km.has_kernel:
            km.shutdown_kernel(now=True)
    return nb


def problems(nb):
    """What a learner would see go wrong: errors, and anything written to stderr (warnings)."""
    return [(i, out.get("ename") or out.get("text", "")[:300]) for i, cell in enumerate(nb.cells)
            if cell.cell_type == "code" for out in cell.outputs
            if out.output_type == "error" or out.get("name") == "stderr"]
