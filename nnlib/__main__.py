"""Command line: python -m nnlib gradcheck [...] | bugs [--json] | check my_network.py [--json]

Exit codes: 0 pass, 1 a check failed (or the doctor found a bug), 2 bad arguments, data or
learner file, 130 interrupted (Ctrl-C),
141 the output's reader went away (`| head`).
"""

import argparse
import json
import math
import os
import sys

import numpy as np

from . import bugs, doctor, experiment

PROG = "python -m nnlib"


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage block, no traceback
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
    c.add_argument("file", help="your .py file, with the course's function names")
    for role, names in doctor.COURSE_NAMES.items():
        c.add_argument(f"--{role}", metavar="NAME", help=f"your {role} function (default: {' or '.join(names)})")
    c.add_argument("--json", action="store_true", help="print one JSON object")
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
    kwargs = doctor.load_learner_file(args.file, forward=args.forward, backward=args.backward,
                                      checker=args.checker, data=args.data)
    triage = doctor.triangulate(**kwargs)
    print(to_json(triage.to_dict()) if args.json else triage)
    return 1 if triage.found_a_bug else 0


COMMANDS = {"gradcheck": _gradcheck, "bugs": _bugs, "check": _check}


def main(argv=None):
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except ValueError as e:  # bad combinations, a missing or damaged data file: the message says what to do
        print(f"{PROG} {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG} {args.command}: interrupted", file=sys.stderr)
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
