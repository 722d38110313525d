import json
import subprocess
import sys

import numpy as np
import pytest

from nnlib import __main__ as cli
from nnlib import data


def run(*args):
    return subprocess.run([sys.executable, "-m", "nnlib", *args], capture_output=True, text=True, timeout=120)


def test_gradcheck_json_has_every_field_and_the_fingerprint():
    out = run("gradcheck", "--bug", "stray_inv_m", "--batch", "8", "--seed", "3", "--json")
    assert out.returncode == 1, out.stderr
    report = json.loads(out.stdout)
    for key in ("difference", "passed", "threshold", "epsilon", "batch", "seed", "bugs", "method",
                "per_parameter", "diagnosis", "params_unchanged"):
        assert key in report
    # exact in theory; the numeric gradient's rounding, which differs between CPUs, moves it by about 1e-10
    assert report["difference"] == pytest.approx(7 / 9, abs=1e-7) and report["seed"] == 3
    assert report["bugs"] == ["stray_inv_m"] and report["method"] == "fast"
    assert [row["name"] for row in report["per_parameter"]] == ["W1", "b1", "W2", "b2"]


def test_gradcheck_table_for_people_passes_on_correct_code():
    out = run("gradcheck", "--batch", "16")
    assert out.returncode == 0 and "PASS" in out.stdout and "W1" in out.stdout


def test_shallow_copy_runs_the_loop_by_default():
    out = run("gradcheck", "--bug", "shallow_copy", "--batch", "4", "--method", "sampled", "--json")
    report = json.loads(out.stdout)
    assert report["difference"] == pytest.approx(1 / 3, abs=1e-6) and report["params_unchanged"]


@pytest.mark.parametrize("args, words", [
    (["gradcheck", "--bug", "nope"], ["nope", "shallow_copy"]),
    (["gradcheck", "--method", "newton"], ["newton", "fast"]),
    (["gradcheck", "--batch", "0"], ["batch"]),
    (["gradcheck", "--keep-prob", "0"], ["keep_prob", "(0, 1]"]),
    (["gradcheck", "--keep-prob", "1.5"], ["keep_prob"]),
    (["gradcheck", "--bug", "shallow_copy", "--method", "fast"], ["shallow_copy", "loop"]),
    (["gradcheck", "--masks", "fresh", "--keep-prob", "1"], ["dropout"]),
    (["gradcheck", "--batch", "ten"], ["--batch", "ten"]),
    (["gradcheck", "--seed", "-1"], ["--seed", "-1", ">= 0"]),
    (["gradcheck", "--keep-prob", "0.99999999999"], ["--keep-prob", "0.99999999999", "print 1"]),
    (["gradcheck", "--keep-prob", "nan"], ["--keep-prob", "nan"]),
    (["frobnicate"], ["frobnicate", "gradcheck"]),
    (["gradcheck", "--bug", "shallow_copy", "--bug", "shallow_copy"], ["shallow_copy is named twice"]),
    (["check", "x.py", "--checker-seconds", "-1"], ["--checker-seconds", "> 0", "'-1'"]),
    (["check", "x.py", "--checker-seconds", "0"], ["--checker-seconds", "'0'"]),
    (["check", "x.py", "--checker-seconds", "nan"], ["--checker-seconds", "'nan'"]),
])
def test_bad_arguments_give_one_line_and_no_traceback(args, words):
    out = run(*args)
    assert out.returncode == 2 and out.stdout == ""
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr
    assert all(w in out.stderr for w in words), out.stderr


@pytest.mark.parametrize("args", [["gradcheck", "--method", "newton", "--json"],
                                  ["gradcheck", "--batch", "ten", "--json"], ["gradcheck", "--bug", "nope", "--json"]])
def test_gradcheck_json_with_a_bad_argument_is_json_too(args):
    out = run(*args)  # once: exit 2 and nothing on stdout (check --json already printed {"error": ...})
    assert out.returncode == 2 and list(json.loads(out.stdout)) == ["error"], out.stdout


def test_keep_prob_close_to_1_is_shown_as_given():
    out = run("gradcheck", "--keep-prob", "0.999999999", "--batch", "4")
    assert out.returncode == 0 and "keep_prob = 0.999999999" in out.stdout


def test_bugs_lists_the_registry_as_text_and_json():
    text, js = run("bugs"), run("bugs", "--json")
    names = [b["name"] for b in json.loads(js.stdout)]
    assert text.returncode == js.returncode == 0
    assert "shallow_copy" in names and all(n in text.stdout for n in names)


def _strict_json(text):
    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")
    return json.loads(text, parse_constant=refuse)


def test_json_stays_valid_when_a_number_is_not_finite():
    # keep_prob 1e-9 drops every hidden unit: W1's and W2's gradients are 0, their ratio 0/0
    out = run("gradcheck", "--keep-prob", "1e-9", "--batch", "8", "--json")
    report = _strict_json(out.stdout)
    assert None in [row["ratio"] for row in report["per_parameter"]]


@pytest.mark.parametrize("where", ["deleted", "a directory in its place"])
def test_missing_data_file_gives_one_line_and_exit_2(monkeypatch, tmp_path, capsys, where):
    path = tmp_path / "mnist_5k.npz"
    if where == "a directory in its place":
        path.mkdir()
    monkeypatch.setattr(data, "MNIST_PATH", path)
    code = cli.main(["gradcheck", "--batch", "4", "--seed", "987654"])  # a seed no other test has cached
    out = capsys.readouterr()
    assert code == 2 and out.out == ""
    assert len(out.err.strip().splitlines()) == 1 and "git checkout" in out.err


def test_ctrl_c_stops_with_one_line_and_exit_130():
    # a real SIGINT, sent once the imports are done, in the middle of a check that takes minutes
    code = ("import os, signal, sys, threading\n"
            "from nnlib.__main__ import main\n"
            "threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT)).start()\n"
            "sys.exit(main(['gradcheck', '--method', 'loop', '--batch', '4000']))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 130, out.stderr
    assert out.stdout == "" and "Traceback" not in out.stderr and "KeyboardInterrupt" not in out.stderr
    # above it, only the loop check's progress bar (drawn with carriage returns)
    assert out.stderr.rstrip().splitlines()[-1] == "python -m nnlib gradcheck: interrupted"


def test_json_output_is_strict_whatever_the_report_holds(monkeypatch, capsys):
    class Report:
        passed = False

        def to_dict(self):
            return {"difference": float("nan"), "ratio": np.float32("inf"), "rows": [{"ratio": -np.inf}]}

    monkeypatch.setattr(cli.experiment, "run", lambda *args, **kwargs: Report())
    assert cli.main(["gradcheck", "--json"]) == 1
    assert _strict_json(capsys.readouterr().out) == {"difference": None, "ratio": None,
                                                      "rows": [{"ratio": None}], "seed": 0}


def test_a_reader_that_leaves_early_gets_no_traceback():
    import os

    read_end, write_end = os.pipe()
    os.close(read_end)  # like `| head` that has already exited: every write fails
    try:
        out = subprocess.run([sys.executable, "-m", "nnlib", "bugs", "--json"], stdout=write_end,
                             stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write_end)
    assert out.returncode == 141 and out.stderr == ""
