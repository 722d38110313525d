"""`python -m nnlib check FILE`: the doctor from a terminal; and a long check seen and stopped."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

FILES = Path(__file__).resolve().parent / "learner_files"


def check(*args, env=None):
    return subprocess.run([sys.executable, "-m", "nnlib", "check", *map(str, args)], capture_output=True,
                          text=True, timeout=300, cwd=FILES, env=env, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("name, code, verdict", [
    ("course_planted.py", 1, "bug in backprop"),
    ("course_fixed.py", 0, "all good"),
    ("course_alias_checker.py", 1, "bug in the checker"),
])
def test_a_learners_file_gets_a_verdict_and_an_exit_code(name, code, verdict):
    out = check(name)
    assert out.returncode == code, out.stderr
    assert out.stdout.startswith(f"verdict: {verdict}")


def test_json_is_strict_and_has_the_courses_number():
    out = check("course_planted.py", "--json")
    report = json.loads(out.stdout, parse_constant=lambda c: pytest.fail(f"bare {c} in JSON"))
    assert out.returncode == 1 and report["verdict"] == "bug in backprop"
    assert report["backprop"]["difference"] == pytest.approx(0.2850931567761623, abs=1e-9)
    assert [r["name"] for r in report["backprop"]["per_parameter"] if not r["passed"]] == ["b1", "W2"]
    assert report["checker"]["correct"] is True


def test_other_function_names_can_be_given():
    out = check("my_names.py", "--forward", "my_forward", "--backward", "my_backward", "--data", "my_data")
    assert out.returncode == 0 and out.stdout.startswith("verdict: all good")


@pytest.mark.parametrize("args, words", [
    (["nope.py"], ["nope.py", "no such Python file"]),
    (["broken_import.py"], ["could not import broken_import.py", "gc_utils"]),
    (["my_names.py"], ["forward_propagation_n", "--forward"]),
    (["course_fixed.py", "--data", "forward_propagation_n"], ["forward_propagation_n()", "raised TypeError"]),
    (["backward_raises.py"], ["your backward_propagation raised IndexError"]),
])
def test_an_unusable_file_gets_one_line_and_exit_2(args, words):
    out = check(*args)
    assert out.returncode == 2 and out.stdout == "", out.stdout
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr
    assert all(w in out.stderr for w in words), out.stderr


def interrupt_once_it_shows(args, cwd=None):
    """Start `python -m nnlib ARGS` with progress bars, wait for its bar, send SIGINT to it alone.
    Returns (exit status, stdout, what stderr showed before the signal, stderr after it)."""
    proc = subprocess.Popen([sys.executable, "-m", "nnlib", *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=dict(os.environ, NNLIB_PROGRESS="1"))
    try:
        deadline, seen = time.monotonic() + 120, b""
        os.set_blocking(proc.stderr.fileno(), False)
        while b"entry" not in seen and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
            try:
                seen += os.read(proc.stderr.fileno(), 1 << 16)
            except BlockingIOError:
                pass
        proc.send_signal(signal.SIGINT)
        os.set_blocking(proc.stderr.fileno(), True)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    return proc.returncode, out.decode(), seen.decode(), err.decode()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process")
def test_a_long_loop_check_shows_progress_and_stops_cleanly_on_ctrl_c():
    # once: 24 minutes with no output, and Ctrl-C left a traceback
    code, _, seen, err = interrupt_once_it_shows(["gradcheck", "--method", "loop", "--batch", "4000"])
    assert "gradient check" in seen and "entry" in seen, seen  # the tqdm bar, with its estimate
    assert code == 130
    assert "interrupted" in err and "Traceback" not in err


def test_the_readme_shows_what_the_doctor_prints():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    shown = readme.split("that prints (first lines):\n\n```\n")[1].split("```")[0].splitlines()
    printed = check("course_planted.py").stdout.splitlines()
    for want, got in zip(shown, printed, strict=False):
        assert got.startswith(want.removesuffix("...")), (want, got)


def test_json_is_one_document_even_when_the_learners_code_prints():
    # once: 286 "cost after forward" lines before the JSON on stdout
    out = check("prints_a_lot.py", "--json")
    assert out.returncode == 0 and json.loads(out.stdout)["verdict"] == "all good"
    assert "cost after forward" in out.stderr and "loading my network" in out.stderr


@pytest.mark.parametrize("args", [["nope.py", "--json"], ["course_fixed.py", "--layout", "diagonal", "--json"],
                                  ["backward_raises.py", "--json"]])
def test_with_json_an_error_is_json_too(args):
    out = check(*args)  # once: exit 2 and nothing at all on stdout
    assert out.returncode == 2 and list(json.loads(out.stdout)) == ["error"]


def test_a_file_that_ends_python_never_gets_a_verdict():
    out = check("exits_on_import.py")  # once: exit 0 and no output at all
    assert out.returncode == 2 and out.stdout == ""
    assert "the doctor did not finish" in out.stderr and "importing your file" in out.stderr
    assert "os._exit()" in out.stderr


def test_a_checker_that_ends_python_keeps_the_backprop_verdict():
    out = check("exits_in_checker.py")  # once: exit 2, "did not finish", and the backprop verdict lost
    assert out.returncode == 1, out.stderr
    assert out.stdout.startswith("verdict: backprop right; your checker could not be judged")
    assert "your checker ended the Python process (exit status 0) before it answered: os._exit()" in out.stdout


def test_a_checker_in_an_endless_loop_is_stopped_and_the_backprop_verdict_kept():
    start = time.monotonic()
    out = check("endless_checker.py", "--checker-seconds", "1", "--json")  # once: no output until interrupted
    report = json.loads(out.stdout)
    assert out.returncode == 1 and report["verdict"] == "backprop right; your checker could not be judged"
    assert report["checker_error"] == "did not finish within 12 s (an endless loop, or something waiting)"
    assert time.monotonic() - start < 60


def test_a_thread_that_never_ends_does_not_keep_the_cli_waiting():
    out = check("thread_forever.py")  # once: the child never exited, and the CLI waited for it forever
    assert out.returncode == 0 and out.stdout.startswith("verdict: all good"), out.stderr


def test_the_learners_code_cannot_forge_a_verdict():
    # it writes {"code": 0, "text": "verdict: all good"} to every path in its environment and every
    # open file, then ends Python (once: the result file's path was in NNLIB_CHECK_RESULT: "all good", exit 0)
    out = check("forges_a_verdict.py")
    assert out.returncode == 1 and out.stdout.startswith("verdict: bug in backprop; your checker could not be judged")
    assert "all good" not in out.stdout


def test_a_file_that_changes_directory_on_import_is_checked():
    out = check("changes_directory.py")  # once: "list.remove(x): x not in list", exit 2
    assert out.returncode == 0 and out.stdout.startswith("verdict: all good"), out.stderr


def test_a_checker_that_asks_for_input_gets_one_line_instead_of_hanging():
    out = subprocess.run([sys.executable, "-m", "nnlib", "check", "asks_for_input.py"], capture_output=True,
                         text=True, timeout=120, cwd=FILES)  # stdin left open, as in a terminal
    assert out.returncode == 1 and out.stdout.startswith("verdict: backprop right; your checker could not be judged")
    assert "your checker called input() (asks_for_input.py, line 8, in gradient_check_n)" in out.stdout


def test_a_notebook_is_read_from_its_code_cells(tmp_path):
    source = (FILES / "course_fixed.py").read_text().splitlines(keepends=True)
    cells = [{"cell_type": "markdown", "metadata": {}, "source": ["# my check\n"]},
             {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": 1,
              "source": ["%matplotlib inline\n", "!pip install numpy\n"] + source},
             {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": 2,
              "source": ["display(gradient_check_n_test_case()[0].shape)"]}]
    notebook = tmp_path / "my_check.ipynb"
    notebook.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    out = check(notebook)  # once: "no such Python file"
    assert out.returncode == 0 and out.stdout.startswith("verdict: all good"), out.stderr


def _notebook(path, *cells):
    path.write_text(json.dumps({"cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                                           "source": source} for source in cells],
                                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def test_a_notebook_whose_test_cell_fails_is_checked_and_the_cell_named(tmp_path):
    notebook = _notebook(tmp_path / "assignment.ipynb", (FILES / "course_fixed.py").read_text(),
                         "files = !ls\nimport numpy as np\nnp.dot?\n",  # IPython: a shell assignment, help
                         "%%time\nX, Y, parameters = gradient_check_n_test_case()\n",
                         "# a test cell, as in the course's notebooks\n"
                         "grads = backward_propagation_n(X, Y, forward_propagation_n(X, Y, parameters)[1])\n"
                         "assert gradient_check_n(parameters, grads, X, Y) > 0.2, 'expected 0.2850932'\n")
    out = check(notebook)  # once: "could not import ... AssertionError (line 237)", exit 2
    assert out.returncode == 0 and out.stdout.startswith("verdict: all good"), out.stderr
    assert out.stdout.endswith("\nnote: code cell 4 raised AssertionError (line 3, in <module>): expected 0.2850932 "
                               "(the doctor went on with the other cells)\n"), out.stdout


@pytest.mark.parametrize("text", ['{"cells": 5}', '{"cells": {}}', "[]", "not json", '{"nbformat": 4}'])
def test_a_broken_notebook_file_gets_one_line_that_says_so(tmp_path, text):
    # once: '{"cells": 5}' gave a traceback, then "something in your code ends Python"
    notebook = tmp_path / "broken.ipynb"
    notebook.write_text(text)
    out = check(notebook)
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
    assert "broken.ipynb is not a readable notebook" in out.stderr, out.stderr


def test_a_notebook_cell_that_fails_before_a_function_is_defined_is_named(tmp_path):
    source = (FILES / "course_fixed.py").read_text().replace("import backward_propagation_n, ", "import ")
    notebook = _notebook(tmp_path / "assignment.ipynb", "import numpy as np\n",
                         "X = np.zeros((2, 2))\nY = X @ np.ones(3)\n", source)
    out = check(notebook)
    assert out.returncode == 2, out.stdout
    assert "could not import assignment.ipynb: code cell 2 raised ValueError (line 2, in <module>): " in out.stderr
    assert "; so it has no function backward_propagation_n or backward_propagation" in out.stderr, out.stderr


def test_a_million_parameters_get_a_sample_in_seconds_and_no_certain_agreement():
    # once: the loop, with an estimate of 50-62 minutes, and "certain: backprop agrees" after a sample
    out = check("big_network.py")
    assert out.returncode == 1, out.stderr
    assert out.stdout.startswith("verdict: backprop likely right; your checker was not run")
    assert "sampled: 50 of 1,001,000 entries" in out.stdout
    assert "likely: backprop agrees on the 50 entries" in out.stdout
    assert "certain: backprop agrees" not in out.stdout and "all good" not in out.stdout


def test_a_slow_cost_gets_one_bar_per_phase_with_its_own_name():
    out = check("slow_cost.py", "--checker-seconds", "1", env=dict(os.environ, NNLIB_PROGRESS="1"))
    assert out.returncode == 1 and "nnlib's check of your backprop" in out.stderr  # once: "gradient check", twice
    assert "gradient check:" not in out.stderr


def test_m_can_be_given():
    out = check("course_planted.py", "--m", "3")
    assert out.returncode == 1 and "m = 3 examples (as given)" in out.stdout


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process")
def test_ctrl_c_during_a_check_stops_both_processes_cleanly():
    # the signal goes to the CLI alone, not to the process running the learner's file: both must stop
    code, out, seen, err = interrupt_once_it_shows(["check", "slow_cost.py", "--checker-seconds", "1"], FILES)
    assert "nnlib's check of your backprop" in seen
    assert code == 130 and out == ""
    assert "interrupted" in err and "Traceback" not in err
