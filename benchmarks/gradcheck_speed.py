"""Print how long the gradient checks, the bug-lab update and training take, measured in one process.

    python benchmarks/gradcheck_speed.py [--batch 64] [--repeats 5] [--threads full|quick|skip]

Figures are medians of --repeats runs on the default 784 -> 10 -> 10 network and real digits.

The last table is about BLAS threads. Three workloads (training 784 -> 64 -> 10 for 5 epochs,
the loop check at M = 64, the bug lab's sampled check at M = 256) run with numpy's default
threads and with nnlib's one_blas_thread(), on the machine as it is ("idle") and next to busy
neighbours (one process spinning per core), and the table prints contended / idle.
--threads quick shrinks the workloads (for the test suite); skip leaves the table out.
"""

import argparse
import io
import os
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager, redirect_stderr

import numpy as np

import nnlib
from nnlib import experiment, gradcheck, threads
from nnlib.train import train


def median_ms(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


@contextmanager
def busy_neighbours(n):
    """n processes that keep one core each busy (pure Python, no BLAS) until the block ends."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    try:
        time.sleep(0.3)  # let them start spinning
        yield
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait()


def thread_workloads(quick):
    """(name, function) for the thread table; quick: sizes small enough for a test."""
    X, Y, y = nnlib.load_mnist(np.random.default_rng(0))["train"]
    epochs, m = (1, 256) if quick else (5, X.shape[1])
    loop_M, lab_M = (4, 16) if quick else (64, 256)
    Xl, Yl, shared = experiment.batch_and_params(loop_M, 0)
    params = {k: v.copy() for k, v in shared.items()}

    def training():
        train(nnlib.init_params(np.random.default_rng(0), (784, 64, 10)), X[:, :m], Y[:, :m], y[:m],
              np.random.default_rng(0), epochs=epochs)

    def loop_check():
        if quick:  # the loop over 25 entries of each parameter, not all 7,960
            return nnlib.gradient_check(params, Xl, Yl, method="sampled", k=25, rng=np.random.default_rng(0))
        return nnlib.gradient_check(params, Xl, Yl, method="loop", progress=False)

    return [(f"train 784-64-10, {epochs} epoch(s), m = {m}", training),
            (f"loop check, M = {loop_M}" + (" (25 entries)" if quick else ""), loop_check),
            (f"lab's sampled check, M = {lab_M}", lambda: experiment.run((), batch=lab_M, method="sampled"))]


def time_modes(fn, repeats):
    """Median ms with numpy's default BLAS threads and with one_blas_thread(), interleaved."""
    default, one = [], []
    for _ in range(repeats):
        threads.ENABLED = False  # also inside nnlib's own entry points
        try:
            default.append(median_ms(fn, 1))
        finally:
            threads.ENABLED = True
        with threads.one_blas_thread():
            one.append(median_ms(fn, 1))
    return statistics.median(default), statistics.median(one)


def thread_table(quick, contended, repeats, neighbours):
    workloads = thread_workloads(quick)
    load = os.getloadavg()[0]
    with redirect_stderr(io.StringIO()):  # the checks' progress bars, drawn when a check runs slowly
        for _, fn in workloads:  # warm up: data file, cached batches, imports
            fn()
        idle = {name: time_modes(fn, repeats) for name, fn in workloads}
        busy = {}
        if contended:
            with busy_neighbours(neighbours):
                busy = {name: time_modes(fn, repeats) for name, fn in workloads}
    print(f"\nBLAS threads: numpy's default ({threads.blas_threads()}) vs one_blas_thread(), "
          f"idle vs {neighbours} busy neighbours; ms, median of {repeats}")
    print(f"  ('idle' is the machine as it was: load average {load:.1f} on {os.cpu_count()} cores"
          + (f"; the {neighbours} busy neighbours were started and stopped)" if contended else ")"))
    head = (f"  {'workload':<40} {'idle default':>12} {'idle 1 thr':>10} {'busy default':>12} {'busy 1 thr':>10}"
            f" {'busy/idle default':>17} {'busy/idle 1 thr':>15}")
    print(head)
    for name, _ in workloads:
        (d_idle, o_idle), (d_busy, o_busy) = idle[name], busy.get(name, (float("nan"),) * 2)
        print(f"  {name:<40} {d_idle:12.0f} {o_idle:10.0f} {d_busy:12.0f} {o_busy:10.0f}"
              f" {d_busy / d_idle:16.1f}x {o_busy / o_idle:14.1f}x")


def learner_forward(X, Y, parameters):
    """A learner's own network in the course's shapes (not nnlib's code): ReLU, softmax, averaged
    cross-entropy from the logits. Returns (cost, cache)."""
    Z1 = parameters["W1"] @ X + parameters["b1"]
    A1 = np.maximum(0, Z1)
    Z2 = parameters["W2"] @ A1 + parameters["b2"]
    top = Z2.max(axis=0, keepdims=True)
    log_A2 = Z2 - top - np.log(np.exp(Z2 - top).sum(axis=0, keepdims=True))
    return -np.sum(Y * log_A2) / X.shape[1], (Z1, A1, np.exp(log_A2), parameters["W2"])


def learner_backward(X, Y, cache):
    """The course's placement of the 1/m: dZ2 = A2 - Y, then 1/m in every dW and db."""
    Z1, A1, A2, W2 = cache
    m = X.shape[1]
    dZ2 = A2 - Y
    dZ1 = (W2.T @ dZ2) * (Z1 > 0)
    return {"dW1": dZ1 @ X.T / m, "db1": dZ1.sum(axis=1, keepdims=True) / m,
            "dW2": dZ2 @ A1.T / m, "db2": dZ2.sum(axis=1, keepdims=True) / m}


def doctor_rows(batch, repeats, sizes=((784, 10, 10), (784, 128, 10))):
    """The doctor on a learner's own network: nnlib.check by the loop on 784-10-10 (compare with
    the loop row above), and a verdict with its diagnosis on about 100,000 parameters (784-128-10)
    by the sampled and directional checks."""
    X, Y, _ = experiment.batch_and_params(batch, 0)
    small, big = (nnlib.init_params(np.random.default_rng(1), s) for s in sizes)
    kw = dict(forward_propagation=learner_forward, backward_propagation=learner_backward, X=X, Y=Y,
              progress=False)
    n_big = sum(v.size for v in big.values())
    return [(f"doctor, loop, {'-'.join(map(str, sizes[0]))}", 1, lambda: nnlib.check(small, method="loop", **kw)),
            (f"doctor, sampled, {n_big:,} params", repeats, lambda: nnlib.check(big, method="sampled", **kw)),
            (f"doctor, directional, {n_big:,} params", repeats,
             lambda: nnlib.check(big, method="directional", **kw))]


def course_checker_rows(repeats):
    """nnlib.triangulate (backprop and checker) on course-sized networks, each at most 0.5 s: the
    course's 4-5-3-1 exercise with its vector-style checker, and notebook 6's 49-10-10 network on 8
    shrunk digits with a per-entry checker; and a network of 1,001,000 parameters, where the doctor
    samples by itself."""
    from nnlib import course

    X, Y, params = course.test_case()
    course_kw = dict(forward_propagation=course.forward_propagation_n,
                     backward_propagation=course.backward_propagation_n, X=X, Y=Y,
                     checker=lambda p, g: course.gradient_check_n(p, g, X, Y))
    X8, Y8, _ = experiment.batch_and_params(8, 0)
    X8 = X8.reshape(7, 4, 7, 4, 8).mean(axis=(1, 3)).reshape(49, 8)  # notebook 6's 7x7 digits
    small = nnlib.init_params(np.random.default_rng(1), (49, 10, 10))

    def per_entry_checker(p, g):
        numeric = []
        for key in p:
            for idx in np.ndindex(p[key].shape):
                plus, minus = {k: v.copy() for k, v in p.items()}, {k: v.copy() for k, v in p.items()}
                plus[key][idx] += 1e-7
                minus[key][idx] -= 1e-7
                numeric.append((learner_forward(X8, Y8, plus)[0] - learner_forward(X8, Y8, minus)[0]) / 2e-7)
        a, n = np.concatenate([np.ravel(g["d" + k]) for k in p]), np.array(numeric)
        return np.linalg.norm(a - n) / (np.linalg.norm(a) + np.linalg.norm(n))

    big = {"W1": np.random.default_rng(0).standard_normal((1000, 1000)) * 0.03, "b1": np.zeros((1000, 1))}
    Xb, Yb = np.random.default_rng(1).standard_normal((1000, 2)), np.random.default_rng(2).standard_normal((1000, 2))

    def big_forward(X_, Y_, p):
        Z = p["W1"] @ X_ + p["b1"]
        return np.sum((Z - Y_) ** 2) / (2 * X_.shape[1]), (Z,)

    def big_backward(X_, Y_, cache):
        dZ = (cache[0] - Y_) / X_.shape[1]
        return {"dW1": dZ @ X_.T, "db1": dZ.sum(axis=1, keepdims=True)}

    return [("triangulate, course 4-5-3-1", repeats, lambda: nnlib.triangulate(params, progress=False, **course_kw)),
            ("triangulate, 49-10-10, M = 8", repeats, lambda: nnlib.triangulate(
                small, forward_propagation=learner_forward, backward_propagation=learner_backward, X=X8, Y=Y8,
                checker=per_entry_checker, progress=False)),
            ("check, 1,001,000 params, auto", 1, lambda: nnlib.check(
                big, forward_propagation=big_forward, backward_propagation=big_backward, X=Xb, Y=Yb, progress=False))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", choices=("full", "quick", "skip"), default="full",
                    help="the BLAS-threads table: full sizes, quick (small, for tests) or skip")
    ap.add_argument("--no-contended", action="store_true", help="thread table without busy neighbours")
    ap.add_argument("--neighbours", type=int, default=os.cpu_count() or 2,
                    help="busy processes for the contended columns (default: one per core)")
    args = ap.parse_args()
    X, Y, params = experiment.batch_and_params(args.batch, 0)
    params = {k: v.copy() for k, v in params.items()}
    J = gradcheck.CostFunction(X, Y)
    rows = [
        ("loop (every entry, reference)", lambda: gradcheck.numeric_grad_loop(J, params, progress=False)),
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
    print("a learner's own network through the doctor (nnlib.check, course-shaped functions):")
    for name, reps, fn in doctor_rows(args.batch, args.repeats):
        results[name] = median_ms(fn, reps)
        print(f"  {name:<32} {results[name]:9.1f} ms")
    for name, reps, fn in course_checker_rows(args.repeats):
        results[name] = median_ms(fn, reps)
        print(f"  {name:<32} {results[name]:9.1f} ms")
    doctor_loop = next(v for k, v in results.items() if k.startswith("doctor, loop"))
    print(f"  doctor loop / nnlib loop          {doctor_loop / results['loop (every entry, reference)']:9.2f} x")
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
    if args.threads != "skip":
        thread_table(args.threads == "quick", not args.no_contended, min(args.repeats, 3), args.neighbours)


if __name__ == "__main__":
    main()
