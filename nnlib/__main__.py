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
import subprocess
import sys
import time

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


def _seconds(text):
    """--checker-seconds: a number of seconds > 0 (not nan, not inf)."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not 0 < seconds < math.inf:
        raise argparse.ArgumentTypeError(f"--checker-seconds must be a number of seconds > 0, such as 60, got {text!r}")
    return seconds


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
    c.add_argument("--checker-seconds", type=_seconds, default=doctor.CHECKER_SECONDS, metavar="S",
                   help="judge your checker only when that takes at most about S seconds (default 60); one "
                        "still running after 2 S + 10 s is stopped")
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
    os._exit, a thread that never ends, a checker that never returns) cannot take the verdict with it.

    The child appends its results, as JSON lines, to a file in a fresh temporary folder; it reads
    that file's path and a random nonce from its stdin before the learner's code runs, so that code
    cannot find them in the environment, and a line without the nonce is not believed. The backprop
    verdict arrives before the checker runs: if the checker never answers (an endless loop, stopped
    after 2 * checker_seconds + 10 s), ends Python, or Ctrl-C stops it, that verdict is still printed."""
    import secrets
    import tempfile

    if os.environ.get(_CHILD):
        return _check_in_child(args)
    try:
        prints = sys.stderr.fileno()  # what the learner's code prints goes to stderr
    except (AttributeError, OSError, ValueError):  # a stderr that is no file: keep stdout for the verdict
        prints = subprocess.DEVNULL
    nonce = secrets.token_hex(16)
    with tempfile.TemporaryDirectory() as tmp:
        channel = _Channel(os.path.join(tmp, "results"), nonce)
        proc = subprocess.Popen([sys.executable, "-m", "nnlib", *_ARGV], env=dict(os.environ, **{_CHILD: "1"}),
                                stdin=subprocess.PIPE, stdout=prints)
        try:
            proc.stdin.write(f"{nonce} {channel.path}\n".encode())
            proc.stdin.close()
        except OSError:  # the child is gone already: its exit status says why
            pass
        try:
            stopped = _wait(proc, channel)
        except KeyboardInterrupt:  # Ctrl-C in a terminal reaches both; a signal sent to this process alone does not
            _end(proc, interrupt=True)
            stopped = "interrupted"
        messages = channel.read()
    return _answer(args, messages, proc.returncode, stopped)


class _Channel:
    """The child's results: JSON lines in a file, each with the nonce; others are not believed."""

    def __init__(self, path, nonce):
        self.path, self.nonce, self.messages, self.seen = path, nonce, [], 0
        open(path, "wb").close()

    def read(self):
        with open(self.path, "rb") as f:
            f.seek(self.seen)
            data = f.read()
        done = data.rfind(b"\n") + 1  # a line still being written waits for the next look
        self.seen += done
        for line in data[:done].splitlines():
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if isinstance(message, dict) and message.pop("nonce", None) == self.nonce:
                self.messages.append(message)
        return self.messages


def _wait(proc, channel):
    """Wait for the child's result; "" when it came (or the child ended), else why the child was stopped."""
    limit = None
    while proc.poll() is None:
        messages = channel.read()
        if messages and "code" in messages[-1]:
            try:  # it has answered: a moment to end, then it is ended (a thread of the learner's never ends)
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                _end(proc)
            return ""
        if limit is None and messages and "limit" in messages[-1]:
            limit = time.monotonic() + messages[-1]["limit"]
        if limit is not None and time.monotonic() > limit:
            _end(proc)
            return "timeout"
        try:
            proc.wait(timeout=0.1)
        except subprocess.TimeoutExpired:
            pass
    return ""


def _end(proc, interrupt=False):
    """Stop the child: SIGINT when the user pressed Ctrl-C (it stops as the parent does), else kill it."""
    if interrupt and os.name != "nt":
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            pass
    proc.kill()
    proc.wait()


def _answer(args, messages, code, stopped):
    """Print what the child found and return the exit status."""
    final = next((m for m in reversed(messages) if "code" in m), None)
    early = next((m for m in reversed(messages) if "provisional" in m), None)
    if final is not None and not stopped:
        if "error" in final:
            raise ValueError(final["error"])
        print(to_json(final["json"]) if args.json else final["text"])
        return final["code"]
    if early is not None:  # backprop was judged; the checker never answered
        why = {"timeout": f"did not finish within {early['limit']:g} s (an endless loop, or something waiting)",
               "interrupted": "was interrupted (Ctrl-C) before it answered"}.get(
            stopped, f"ended the Python process (exit status {code}) before it answered: os._exit(), or a crash "
                     "inside a compiled library")
        done = json.loads(json.dumps(early["provisional"]).replace(_REASON, why))
        print(to_json(done["json"]) if args.json else done["text"])
        if stopped == "interrupted":
            print(f"{PROG} check: interrupted", file=sys.stderr)
            return 130
        return done["code"]
    if stopped == "interrupted" or code == 130:
        raise KeyboardInterrupt
    phase = messages[-1].get("phase", "starting") if messages else "starting"
    raise ValueError(f"the doctor did not finish: the Python process running your file ended (exit status {code}) "
                     f"while {phase}, before any verdict. Something in your code ends Python: os._exit(), or a "
                     "crash inside a compiled library.")


_CHILD = "NNLIB_CHECK_CHILD"  # set in the child
_REASON = "{why the checker gave no answer}"  # filled in by the parent
_ARGV = []  # the arguments main() was called with, for the child


def checker_limit(checker_seconds):
    """How long a checker may run before the CLI stops it: twice what judging it may take, and 10 s."""
    return 2 * checker_seconds + 10


def _check_in_child(args):
    """Runs in the child: read the nonce and the results file, then the learner's file."""
    nonce, path = sys.stdin.readline().rstrip("\n").split(" ", 1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # input() gets EOF at once
    os.close(devnull)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)

    def send(**what):
        os.write(fd, (json.dumps(_finite(dict(what, nonce=nonce)), allow_nan=False) + "\n").encode())

    notes = []

    def backprop_done(triage):  # what to print if the checker never answers
        triage.checker_error, triage.findings = _REASON, triage.findings + [f"your checker {_REASON}."]
        triage.verdict, triage.all_good = doctor._verdict(triage, doctor._unreadable(triage.backprop))
        send(phase="running your checker", limit=checker_limit(args.checker_seconds),
             provisional={"code": 0 if triage.all_good else 1, "text": _with_notes(str(triage), notes),
                          "json": dict(triage.to_dict(), notes=notes)})
        triage.checker_error, triage.findings = "", triage.findings[:-1]

    code = 1
    try:
        send(phase="importing your file")
        kwargs = doctor.load_learner_file(args.file, forward=args.forward, backward=args.backward,
                                          checker=args.checker, data=args.data, notes=notes)
        send(phase="checking your backprop (your forward or backward ended it)")
        triage = doctor.triangulate(**kwargs, m=args.m, layout=args.layout, method=args.method,
                                    checker_seconds=args.checker_seconds,
                                    on_backprop=backprop_done if "checker" in kwargs else None)
        code = 0 if triage.all_good else 1
        send(code=code, text=_with_notes(str(triage), notes), json=dict(triage.to_dict(), notes=notes))
    except ValueError as e:
        code = 2
        send(code=code, error=str(e))
    except KeyboardInterrupt:
        code = 130
    except BaseException:  # a bug of nnlib's own: its traceback, then the parent says the doctor did not finish
        import traceback
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)  # now: a thread the learner's file started must not keep this process alive


def _with_notes(text, notes):
    """The report, then what went wrong in the learner's file that the doctor could go on without."""
    return "\n".join([text, ""] + [f"note: {n}" for n in notes]) if notes else text


COMMANDS = {"gradcheck": _gradcheck, "bugs": _bugs, "check": _check}


def main(argv=None):
    global _ARGV
    _ARGV = sys.argv[1:] if argv is None else list(argv)
    json_only = _ARGV[:1] in (["check"], ["gradcheck"]) and "--json" in _ARGV  # stdout: one JSON document, errors too
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
