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


def check(*args):
    return subprocess.run([sys.executable, "-m", "nnlib", "check", *map(str, args)], capture_output=True,
                          text=True, timeout=300, cwd=FILES)


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


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process")
def test_a_long_loop_check_shows_progress_and_stops_cleanly_on_ctrl_c():
    # once: 24 minutes with no output, and Ctrl-C left a traceback
    env = dict(os.environ, NNLIB_PROGRESS="1")
    proc = subprocess.Popen([sys.executable, "-m", "nnlib", "gradcheck", "--method", "loop", "--batch", "4000"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        deadline, seen = time.monotonic() + 120, b""
        os.set_blocking(proc.stderr.fileno(), False)
        while b"entry" not in seen and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.5)
            try:
                seen += os.read(proc.stderr.fileno(), 1 << 16)
            except BlockingIOError:
                pass
        assert b"gradient check" in seen and b"entry" in seen, seen  # the tqdm bar, with its estimate
        proc.send_signal(signal.SIGINT)
        os.set_blocking(proc.stderr.fileno(), True)
        _, err = proc.communicate(timeout=60)
        err = err.decode()
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert "interrupted" in err and "Traceback" not in err


def test_the_readme_shows_what_the_doctor_prints():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    shown = readme.split("that prints (first lines):\n\n```\n")[1].split("```")[0].splitlines()
    printed = check("course_planted.py").stdout.splitlines()
    for want, got in zip(shown, printed, strict=False):
        assert got.startswith(want.removesuffix("...")), (want, got)
