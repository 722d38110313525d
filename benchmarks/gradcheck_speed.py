"""Print how long the gradient checks and the bug-lab update take, measured in one process.

    python benchmarks/gradcheck_speed.py [--batch 64] [--repeats 5]

Figures are medians of --repeats runs on the default 784 -> 10 -> 10 network and real digits.
"""

import argparse
import statistics
import time

import numpy as np

import nnlib
from nnlib import experiment, gradcheck


def median_ms(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    X, Y, params = experiment.batch_and_params(args.batch, 0)
    params = {k: v.copy() for k, v in params.items()}
    J = gradcheck.CostFunction(X, Y)
    rows = [
        ("loop (every entry, reference)", lambda: gradcheck.numeric_grad_loop(J, params)),
        ("fast (every entry, batched)", lambda: gradcheck.numeric_grad_fast(params, X, Y)),
        ("sampled (25 per parameter)", lambda: nnlib.gradient_check(
            params, X, Y, method="sampled", k=25, rng=np.random.default_rng(0))),
        ("directional", lambda: nnlib.gradient_check(params, X, Y, method="directional")),
        ("load_mnist (cached file)", lambda: nnlib.load_mnist(np.random.default_rng(0))),
    ]
    print(f"M = {args.batch}, median of {args.repeats} runs")
    results = {}
    for name, fn in rows:
        reps = 1 if name.startswith("loop") else args.repeats
        results[name] = median_ms(fn, reps)
        print(f"  {name:<32} {results[name]:9.1f} ms")
    ratio = results["loop (every entry, reference)"] / results["fast (every entry, batched)"]
    print(f"  loop / fast speed ratio           {ratio:9.1f} x")
    from nnlib.lab import BugLab

    # what one click costs in the kernel: rerun the check, rebuild table, bar chart and diagnosis
    lab = BugLab(batch=args.batch)
    toggles = [("stray_inv_m",), (), ("shallow_copy",), (), ("inplace_relu_deriv",), ()]
    times = []
    for i in range(max(6, args.repeats * 2)):
        chosen = toggles[i % len(toggles)]
        times.append(median_ms(lambda: lab.set(bugs=chosen), 1))  # noqa: B023 (called right here)
    print(f"  bug lab update (check + chart)    {statistics.median(times):9.1f} ms median, "
          f"{max(times):.1f} ms max over {len(times)} toggles")


if __name__ == "__main__":
    main()
