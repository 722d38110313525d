"""The notebooks and the tests that compare numbers, under each OpenBLAS kernel: a table.

    python scripts/check_kernels.py                      # every kernel this CPU can run
    python scripts/check_kernels.py --kernels Sandybridge,Prescott --ci   # what .ci/run does

numpy's OpenBLAS picks its kernel by CPU, and OPENBLAS_CORETYPE forces another one (README,
"Same numbers on every CPU"). Each kernel sums in its own order, so a printed digit that is
rounding noise differs between them. For each kernel this runs, in its own process:

  nbval    python -m pytest notebooks/ + NUMERIC_TESTS: every notebook cell against its saved
           output (nbval-sanitize.cfg masks what is rounding noise), and the tests that compare
           numbers, all under that kernel
  execute  (not with --ci) every notebook into DIR/<kernel>/, then, with nbval's own comparison
           and sanitizer, the code cells whose output differs from the saved notebook and from
           the first kernel's execution ("raw": the same without the sanitizer)

and prints a table, kernel x result, with times. Exit status 1 if a cell or a test fails.
"""

import argparse
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
from nbval.plugin import coalesce_streams, get_sanitize_patterns, transform_streams_for_comparison

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
SANITIZE = ROOT / "notebooks" / "nbval-sanitize.cfg"
KERNELS = ["Haswell", "SkylakeX", "Sandybridge", "Nehalem", "Prescott"]
# the tests that compare computed numbers (not the browser, packaging or grading ones)
NUMERIC_TESTS = ["tests/test_model.py", "tests/test_gradcheck.py", "tests/test_bugs.py", "tests/test_lab.py",
                 "tests/test_mysteries.py", "tests/test_train.py", "tests/test_data.py", "tests/test_cli.py",
                 "tests/test_doctor.py", "tests/test_cli_check.py", "tests/test_exercises.py"]
# what nbval leaves out of its comparison (nbval.plugin.IPyNbFile.skip_compare, without --nbdime)
SKIP = {"metadata", "traceback", "prompt_number", "output_type", "name", "execution_count",
        "application/vnd.jupyter.widget-view+json", "image/png", "image/jpeg"}
# the instructions each kernel needs (Linux's /proc/cpuinfo names); Nehalem and Prescott need only SSE
NEEDS = {"SkylakeX": {"avx512f"}, "Haswell": {"avx2", "fma"}, "Sandybridge": {"avx"}}


def runnable(kernel):
    """Whether this CPU has the instructions the kernel uses (forced onto a CPU without them, it would
    stop at the first one it lacks)."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return False  # OpenBLAS's other builds (ARM) have other kernels; Apple's numpy uses Accelerate
    try:
        flags = set(re.search(r"^flags\s*:(.*)$", Path("/proc/cpuinfo").read_text(), re.M).group(1).split())
    except (OSError, AttributeError):
        return kernel in ("Nehalem", "Prescott")  # no /proc/cpuinfo: only what every x86-64 CPU has
    return NEEDS.get(kernel, set()) <= flags


def _env(kernel):
    return dict(os.environ, OPENBLAS_CORETYPE=kernel, NNLIB_PROGRESS="0")


def _default_sigint():
    """Ctrl-C as usual in the children, even when this script was started in the background (where
    the shell ignores SIGINT): the CLI's tests send it one and expect it to stop."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


SUBPROCESS = dict(preexec_fn=_default_sigint) if os.name == "posix" else {}


def run_nbval(kernel, tests=NUMERIC_TESTS):
    """nbval on the saved notebooks and the numeric tests, under `kernel`: (failed node ids, summary, seconds)."""
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "pytest", "notebooks", *tests, "-q", "-rf", "-p", "no:cacheprovider"],
                         cwd=ROOT, env=_env(kernel), capture_output=True, text=True, **SUBPROCESS)
    failed = [line.split()[1] for line in out.stdout.splitlines() if line.startswith("FAILED ")]
    summary = (out.stdout.strip().splitlines() or ["(no output)"])[-1].strip("= ")
    if out.returncode not in (0, 1):
        failed.append(f"pytest exit {out.returncode}: {out.stderr.strip()[-300:]}")
    return failed, summary, time.perf_counter() - start


def execute(kernel, into):
    """Every notebook, executed under `kernel`, saved into `into`: seconds."""
    start = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "scripts" / "execute_notebooks.py"), "--into", str(into),
                    *map(str, NOTEBOOKS)], cwd=ROOT, env=_env(kernel), capture_output=True, text=True, check=True,
                   **SUBPROCESS)
    return time.perf_counter() - start


def _compared(outputs, patterns):
    """A cell's outputs as nbval compares them: streams joined, skipped keys left out, sanitized."""
    flat = {}
    for out in transform_streams_for_comparison(coalesce_streams([nbformat.from_dict(o) for o in outputs])):
        for key, value in out.items():
            items = value.items() if key == "data" else [(key, value)]
            for k, v in items:
                if k not in SKIP:
                    for regex, replace in patterns:
                        v = re.sub(regex, replace, v) if isinstance(v, str) else v
                    flat.setdefault(k, []).append(v)
    return flat


def differing_cells(reference, test, patterns):
    """Code cells (nbval's numbering, "Cell N") whose outputs differ: ["03#10", ...]."""
    cells = [[c for c in nbformat.read(p, as_version=4).cells if c.cell_type == "code"] for p in (reference, test)]
    if len(cells[0]) != len(cells[1]):
        return [f"{reference.name[:2]}: {len(cells[0])} code cells against {len(cells[1])}"]
    return [f"{reference.name[:2]}#{i}" for i, (ref, new) in enumerate(zip(*cells, strict=True))
            if "nbval-ignore-output" not in ref.metadata.get("tags", [])
            and _compared(ref.outputs, patterns) != _compared(new.outputs, patterns)]


def compare(reference_dir, test_dir, patterns):
    return [cell for nb in NOTEBOOKS for cell in differing_cells(Path(reference_dir) / nb.name,
                                                                  Path(test_dir) / nb.name, patterns)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernels", default=",".join(KERNELS), help="comma-separated (default: all five)")
    parser.add_argument("--ci", action="store_true", help="nbval and the numeric tests only, no executed copies")
    parser.add_argument("--jobs", type=int, default=2, help="kernels run at once (default 2)")
    parser.add_argument("--keep", metavar="DIR", help="keep the executed notebooks in DIR/<kernel>/")
    args = parser.parse_args()
    kernels = [k for k in args.kernels.split(",") if k]
    unknown = [k for k in kernels if k not in KERNELS]
    if unknown:
        parser.error(f"unknown kernel {', '.join(unknown)}: choose from {', '.join(KERNELS)}")
    skipped = [k for k in kernels if not runnable(k)]
    kernels = [k for k in kernels if k not in skipped]
    for k in skipped:
        print(f"{k}: skipped, this CPU ({platform.machine()}) cannot run it"
              + (f" (it needs {', '.join(sorted(NEEDS[k]))})" if k in NEEDS else ""))
    workdir = Path(args.keep or tempfile.mkdtemp(prefix="kernels-"))

    def one(kernel):
        seconds = 0.0 if args.ci else execute(kernel, workdir / kernel)
        return kernel, seconds, run_nbval(kernel)

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(one, kernels))
    patterns = get_sanitize_patterns(SANITIZE.read_text())
    ok = True
    print(f"\n{'kernel':<12} {'nbval + numeric tests':<44} {'time':>6}" +
          ("" if args.ci else f"  {'cells differing from saved, sanitized / raw':<44} from {kernels[0]}"))
    for kernel, seconds, (failed, summary, nbval_seconds) in results:
        ok = ok and not failed
        row = f"{kernel:<12} {summary[:44]:<44} {nbval_seconds:>5.0f}s"
        if not args.ci:
            saved = ROOT / "notebooks"
            cells = compare(saved, workdir / kernel, patterns)
            raw = compare(saved, workdir / kernel, [])
            first = compare(workdir / kernels[0], workdir / kernel, patterns)
            ok = ok and not cells
            row += f"  {len(cells):>2} / {len(raw):>2} (executed in {seconds:.0f}s)".ljust(46) + f"{len(first):>2}"
            row += "".join(f"\n{'':<12} differs from saved: {c}" for c in cells)
            row += "".join(f"\n{'':<12} differs from {kernels[0]}: {c}" for c in first)
        print(row + "".join(f"\n{'':<12} FAILED {f}" for f in failed))
    print(f"\n{len(kernels)} kernels in {time.perf_counter() - start:.0f}s"
          + ("" if args.ci else f"; executed notebooks in {workdir}"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
