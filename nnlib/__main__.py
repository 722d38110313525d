"""Command line: python -m nnlib gradcheck [...] | python -m nnlib bugs [--json]"""

import argparse
import json
import sys

from . import bugs, experiment


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage block, no traceback
        self.exit(2, f"{self.prog}: error: {message}\n")


def _parser():
    p = _Parser(prog="python -m nnlib", description="Gradient checks with deliberate bugs.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    g = sub.add_parser("gradcheck", help="check the default 784-10-10 network on real digits")
    g.add_argument("--bug", action="append", default=[], metavar="NAME",
                   help="switch a bug on (repeatable); see `python -m nnlib bugs`")
    g.add_argument("--batch", type=int, default=64, help="examples M in the batch (default 64)")
    g.add_argument("--seed", type=int, default=0, help="seed for data split, init, masks (default 0)")
    g.add_argument("--method", default="auto", help="auto|" + "|".join(experiment.METHODS[1:]))
    g.add_argument("--keep-prob", type=float, default=None, help="dropout keep probability in (0, 1]")
    g.add_argument("--masks", default="frozen", help="frozen|fresh (dropout masks during the check)")
    g.add_argument("--json", action="store_true", help="print one JSON object")
    b = sub.add_parser("bugs", help="list the deliberate bugs")
    b.add_argument("--json", action="store_true")
    return p


def main(argv=None):
    args = _parser().parse_args(argv)
    if args.command == "bugs":
        if args.json:
            print(json.dumps([{"name": x.name, "where": x.where, "summary": x.summary,
                               "fingerprint": x.fingerprint, "methods": list(x.methods),
                               "keep_prob": x.keep_prob, "seen_by_check": x.seen_by_check}
                              for x in bugs.REGISTRY.values()], indent=2))
        else:
            for x in bugs.REGISTRY.values():
                print(f"{x.name:<24} [{x.where}] {x.summary}")
        return 0
    try:
        report = experiment.run(args.bug, batch=args.batch, seed=args.seed, method=args.method,
                                keep_prob=args.keep_prob, masks=args.masks)
    except ValueError as e:
        print(f"python -m nnlib gradcheck: error: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(dict(report.to_dict(), seed=args.seed)))
    else:
        print(report)
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
