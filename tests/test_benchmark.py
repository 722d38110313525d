import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "gradcheck_speed.py"


def test_benchmark_runs_and_prints_every_figure():
    # --threads quick: the BLAS-threads table on small workloads, with busy neighbours for a few seconds
    out = subprocess.run([sys.executable, str(SCRIPT), "--batch", "2", "--repeats", "1", "--threads", "quick"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    for line in ("loop (every entry", "fast (every entry", "speed ratio", "bug lab update",
                 "busy neighbours were started and stopped", "busy/idle", "train 784-64-10", "loop check",
                 "lab's sampled check", "doctor, loop, 784-10-10", "doctor, sampled, 101,770 params",
                 "doctor, directional", "doctor loop / nnlib loop", "triangulate, course 4-5-3-1",
                 "triangulate, 49-10-10, M = 8", "check, 1,001,000 params, auto"):
        assert line in out.stdout
    table = out.stdout.split("busy/idle 1 thr")[1].strip().splitlines()
    assert len(table) == 3 and all(row.rstrip().endswith("x") for row in table)
