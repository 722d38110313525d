import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "gradcheck_speed.py"


def test_benchmark_runs_and_prints_every_figure():
    out = subprocess.run([sys.executable, str(SCRIPT), "--batch", "2", "--repeats", "1"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    for line in ("loop (every entry", "fast (every entry", "speed ratio", "bug lab update"):
        assert line in out.stdout
