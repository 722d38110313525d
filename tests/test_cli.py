import json
import subprocess
import sys

import pytest


def run(*args):
    return subprocess.run([sys.executable, "-m", "nnlib", *args], capture_output=True, text=True, timeout=120)


def test_gradcheck_json_has_every_field_and_the_fingerprint():
    out = run("gradcheck", "--bug", "stray_inv_m", "--batch", "8", "--seed", "3", "--json")
    assert out.returncode == 1, out.stderr
    report = json.loads(out.stdout)
    for key in ("difference", "passed", "threshold", "epsilon", "batch", "seed", "bugs", "method",
                "per_parameter", "diagnosis", "params_unchanged"):
        assert key in report
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
    (["frobnicate"], ["frobnicate", "gradcheck"]),
])
def test_bad_arguments_give_one_line_and_no_traceback(args, words):
    out = run(*args)
    assert out.returncode == 2 and out.stdout == ""
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr
    assert all(w in out.stderr for w in words), out.stderr


def test_bugs_lists_the_registry_as_text_and_json():
    text, js = run("bugs"), run("bugs", "--json")
    names = [b["name"] for b in json.loads(js.stdout)]
    assert text.returncode == js.returncode == 0
    assert "shallow_copy" in names and all(n in text.stdout for n in names)
