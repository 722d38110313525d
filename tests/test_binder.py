"""Binder must build the environment that README's set-up builds."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def requirement_lines(path):
    lines = []
    for raw in path.read_text().splitlines():
        line = raw.split("#")[0].strip()
        if line.startswith("-r "):
            lines += requirement_lines((path.parent / line[3:]).resolve())
        elif line:
            lines.append(line)
    return lines


def test_binder_installs_exactly_the_top_level_requirements():
    assert requirement_lines(ROOT / "binder" / "requirements.txt") == requirement_lines(ROOT / "requirements.txt")


def test_every_requirement_is_pinned():
    for line in requirement_lines(ROOT / "requirements.txt"):
        assert line == "-e .[lab]" or re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[0-9][\w.]*", line), line


def test_binder_installs_what_the_notebooks_need_and_no_test_tools():
    names = {re.split(r"[=\[ ]", line)[0].lower() for line in requirement_lines(ROOT / "binder" / "requirements.txt")}
    assert {"-e", "numpy", "matplotlib", "ipywidgets", "jupyterlab", "ipykernel"} <= names
    assert not names & {"pytest", "nbval", "hypothesis", "ruff", "playwright", "otter-grader"}, names


def test_binder_python_meets_the_project_minimum():
    runtime = (ROOT / "binder" / "runtime.txt").read_text().strip()
    minimum = re.search(r'requires-python = ">=(\d+)\.(\d+)"', (ROOT / "pyproject.toml").read_text())
    version = tuple(int(x) for x in runtime.removeprefix("python-").split("."))
    assert version >= tuple(int(x) for x in minimum.groups())
