"""Command line: python -m nnlib gradcheck [...] | bugs [--json] | check my_network.py [--json]

Exit codes: 0 pass, 1 a check failed (or the doctor found a bug), 2 bad arguments, data or
learner file, 130 interrupted (Ctrl-C),
141 the output's reader went away (`| head`).
"""

import argparse
import json
import math
import os
import signal
import sys

import numpy as np

from . import bugs, doctor, experiment

PROG = "python -m nnlib"


class _Parser(argparse.ArgumentParser):
    json_errors = False  # `check --json`: the error goes to stdout as JSON as well

    def error(self, message):  # one line, no usage block, no traceback
        if _Parser.json_errors:
            print(to_json({"error": message}))
        self.exit(2, f"{self.prog}: error: {message}\n")


def _seed(text):
    """--seed: what np.random.default_rng accepts, a whole number >= 0."""
    try:
        seed = int(text)
    except ValueError:
        seed = -1
    if seed < 0:
        raise argparse.ArgumentTypeError(f"the seed must be a whole number >= 0, got {text!r}")
    return seed


def _keep_prob(text):
    """--keep-prob: in (0, 1], and not so close to 1 that the report would show it as 1."""
    try:
        keep_prob = float(text)
    except ValueError:
        keep_prob = math.nan
    if not 0.0 < keep_prob <= 1.0:
        raise argparse.ArgumentTypeError(f"keep_prob must be in (0, 1] (the probability of keeping a unit; "
                                         f"1 switches dropout off), got {text!r}")
    # the report prints keep_prob with 10 significant digits (nnlib/checks.py): closer to 1, it would
    # say "1" while dropout is on
    if keep_prob < 1.0 and f"{keep_prob:.10g}" == "1":
        raise argparse.ArgumentTypeError(f"keep_prob {text} is so close to 1 that the report would print 1 while "
                                         "dropout is on: give 1 for no dropout, or at most 0.9999999999")
    return keep_prob


def _parser():
    p = _Parser(prog=PROG, description="Gradient checks with deliberate bugs.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    g = sub.add_parser("gradcheck", help="check the default 784-10-10 network on real digits")
    g.add_argument("--bug", action="append", default=[], metavar="NAME",
                   help="switch a bug on (repeatable); see `python -m nnlib bugs`")
    g.add_argument("--batch", type=int, default=64, help="examples M in the batch (default 64)")
    g.add_argument("--seed", type=_seed, default=0, help="seed for data split, init, masks (default 0)")
    g.add_argument("--method", default="auto", help="auto|" + "|".join(experiment.METHODS[1:]))
    g.add_argument("--keep-prob", type=_keep_prob, default=None, help="dropout keep probability in (0, 1]")
    g.add_argument("--masks", default="frozen", help="frozen|fresh (dropout masks during the check)")
    g.add_argument("--json", action="store_true", help="print one JSON object")

    b = sub.add_parser("bugs", help="list the deliberate bugs")
    b.add_argument("--json", action="store_true")

    c = sub.add_parser("check", help="the doctor on your own file: is your backprop right, is your checker?")
    c.add_argument("file", help="your .py file (or .ipynb notebook), with the course's function names")
    for role, names in doctor.COURSE_NAMES.items():
        c.add_argument(f"--{role}", metavar="NAME", help=f"your {role} function (default: {' or '.join(names)})")
    c.add_argument("--m", type=int, default=None, metavar="M", help="the number of examples (default: read from X)")
    c.add_argument("--layout", choices=("columns", "rows"), default=None,
                   help="examples in the columns of X (the course's) or its rows (default: from the shapes)")
    c.add_argument("--method", choices=("auto", "loop", "sampled"), default="auto",
                   help="auto: every entry when that takes a few seconds, else a sample (default)")
    c.add_argument("--checker-seconds", type=float, default=doctor.CHECKER_SECONDS, metavar="S",
                   help="judge your checker only when that takes at most about S seconds (default 60)")
    c.add_argument("--json", action="store_true", help="print one JSON object (and nothing else) on stdout")
    return p


def _gradcheck(args):
    report = experiment.run(args.bug, batch=args.batch, seed=args.seed, method=args.method,
                            keep_prob=args.keep_prob, masks=args.masks)
    print(to_json(dict(report.to_dict(), seed=args.seed)) if args.json else report)
    return 0 if report.passed else 1


def _bugs(args):
    if args.json:
        print(to_json([{"name": x.name, "where": x.where, "summary": x.summary,
                        "fingerprint": x.fingerprint, "methods": list(x.methods),
                        "keep_prob": x.keep_prob, "seen_by_check": x.seen_by_check}
                       for x in bugs.REGISTRY.values()], indent=2))
    else:
        for x in bugs.REGISTRY.values():
            print(f"{x.name:<24} [{x.where}] {x.summary}")
    return 0


def _check(args):
    """The doctor on a learner's file, in a child process: whatever the file does (prints, input(),
    os._exit, a crash) cannot take the verdict with it. The child writes its result to a file;
    no result means the doctor did not finish, and that is what the verdict says."""
    import subprocess
    import tempfile

    if os.environ.get(_CHILD):
        return _check_in_child(args, os.environ[_CHILD])
    with tempfile.TemporaryDirectory() as tmp:
        result = os.path.join(tmp, "result.json")
        try:
            prints = sys.stderr.fileno()  # what the learner's code prints goes to stderr
        except (AttributeError, OSError, ValueError):  # a stderr that is no file: keep stdout for the verdict
            prints = subprocess.DEVNULL
        proc = subprocess.Popen([sys.executable, "-m", "nnlib", *_ARGV], env=dict(os.environ, **{_CHILD: result}),
                                stdin=subprocess.DEVNULL, stdout=prints)
        try:
            code = proc.wait()
        except KeyboardInterrupt:  # Ctrl-C in a terminal reaches both; a signal sent to this process alone does not
            proc.terminate() if os.name == "nt" else proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            raise
        try:
            with open(result, encoding="utf-8") as f:
                done = json.load(f)
        except (OSError, ValueError):
            done = None
    if code == 130:
        raise KeyboardInterrupt
    if done is None or "code" not in done:
        phase = (done or {}).get("phase", "starting")
        raise ValueError(f"the doctor did not finish: the Python process running your file ended (exit status {code}) "
                         f"while {phase}, before any verdict. Something in your code ends Python: os._exit(), or a "
                         "crash inside a compiled library.")
    if "error" in done:
        raise ValueError(done["error"])
    print(to_json(done["json"]) if args.json else done["text"])
    return done["code"]


_CHILD = "NNLIB_CHECK_RESULT"  # set in the child: where to write its result
_ARGV = []  # the arguments main() was called with, for the child


def _check_in_child(args, result):
    def write(**what):
        with open(result, "w", encoding="utf-8") as f:
            f.write(to_json(what))

    try:
        write(phase="importing your file")
        kwargs = doctor.load_learner_file(args.file, forward=args.forward, backward=args.backward,
                                          checker=args.checker, data=args.data)
        write(phase="checking your code (your forward, backward or checker ended it)")
        triage = doctor.triangulate(**kwargs, m=args.m, layout=args.layout, method=args.method,
                                    checker_seconds=args.checker_seconds)
    except ValueError as e:
        write(code=2, error=str(e))
        return 2
    code = 0 if triage.all_good else 1
    write(code=code, text=str(triage), json=triage.to_dict())
    return code


COMMANDS = {"gradcheck": _gradcheck, "bugs": _bugs, "check": _check}


def main(argv=None):
    global _ARGV
    _ARGV = sys.argv[1:] if argv is None else list(argv)
    json_only = _ARGV[:1] == ["check"] and "--json" in _ARGV  # stdout: one JSON document, errors too
    _Parser.json_errors = json_only and not os.environ.get(_CHILD)
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except ValueError as e:  # bad combinations, a missing or damaged data file: the message says what to do
        print(f"{PROG} {args.command}: error: {e}", file=sys.stderr)
        if json_only:
            print(to_json({"error": str(e)}))
        return 2
    except KeyboardInterrupt:
        if not os.environ.get(_CHILD):  # the child is interrupted too: one message, from the parent
            print(f"{PROG} {args.command}: interrupted", file=sys.stderr)
            if json_only:
                print(to_json({"error": "interrupted"}))
        return 130
    except BrokenPipeError:  # the reader left (`... | head`): stop quietly, like other Unix tools
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing left to flush at exit
        return 141


def to_json(obj, **kwargs):
    """Strict JSON (RFC 8259 has no NaN or Infinity): a non-finite number, such as the ratio
    0/0 of a parameter whose gradients are all zero, becomes null."""
    return json.dumps(_finite(obj), allow_nan=False, **kwargs)


def _finite(x):
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_finite(v) for v in x]
    return x


if __name__ == "__main__":
    sys.exit(main())
