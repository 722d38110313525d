"""Grade a folder of submissions without Docker, into one CSV: one command.

    python assignments/gradient-checking/grade.py SUBMISSIONS... [-a AUTOGRADER] [-o grades.csv] [-j 2]

SUBMISSIONS are .ipynb or .zip files (what the notebook's export cell makes), or folders of
them. AUTOGRADER is the zip `otter assign` wrote, or the folder it wrote into (the newest
autograder/*.zip inside is used); by default the dist/ folder next to this script.

otter-grader 7 grades a folder only in Docker (`otter grade`); without Docker it grades one
notebook at a time (`otter run`). This runs `otter run` on every submission, a few at a time,
in this Python environment (which must have nnlib and otter-grader: requirements-instructor.txt),
and writes the CSV that `otter grade` writes (final_grades.csv's columns: file, one column per
question, total_points_earned, percent_correct, grading_status; the first row is the points per
question), plus a column failed_tests naming each failed test and its message. With
--summaries DIR, each submission's full test report goes to DIR/<submission>.txt.
"""

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent


def find_autograder(path):
    """The autograder zip: `path` itself, or the newest autograder/*.zip (or *.zip) under the folder `path`."""
    path = Path(path)
    if path.is_file():
        return path
    zips = sorted(list(path.glob("autograder/*-autograder_*.zip")) + list(path.glob("*-autograder_*.zip")),
                  key=lambda p: p.stat().st_mtime)
    if not zips:
        raise SystemExit(f"no autograder zip in {path}: run `otter assign` first (see docs/instructors.md), "
                         "or pass the zip with -a")
    return zips[-1]


def find_submissions(paths):
    """Every .ipynb and .zip given, or inside a given folder (not its subfolders), sorted by name."""
    found = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found += sorted(p for p in path.iterdir() if p.suffix in (".ipynb", ".zip") and not p.name.startswith("."))
        elif path.is_file() and path.suffix in (".ipynb", ".zip"):
            found.append(path)
        else:
            raise SystemExit(f"{raw}: not a .ipynb or .zip submission, nor a folder of them")
    if not found:
        raise SystemExit(f"no .ipynb or .zip submissions in {', '.join(map(str, paths))}")
    names = [p.name for p in found]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise SystemExit(f"two submissions share the name {twice[0]}: the CSV names rows by file name; rename one")
    return found


def grade_one(submission, autograder):
    """otter run on one submission, in a process of its own; returns (GradingResults, seconds)."""
    import otter.api

    start = time.perf_counter()
    # otter run prints the submission's output; a worker keeps quiet and the summary is returned
    results = otter.api.grade_submission(str(submission), str(autograder), quiet=True)
    results.file = Path(submission).name
    return results, time.perf_counter() - start


def failed_tests(results):
    """'q2 - 4: AssertionError: ...; ...' for every failed test case (empty when all passed)."""
    if results.has_catastrophic_failure():
        return f"not graded: {results.catastrophic_error}"
    out = []
    for test_file in results.results.values():
        for tcr in test_file.test_case_results:
            if not tcr.passed:
                # otter's message: "❌ Test case failed", "Error at line N in test q1:", the line, then
                # "AssertionError: what the test says" (which may run over several lines)
                lines = (tcr.message or "").strip().splitlines()
                said = [line.strip() for line in lines[3:]] or [line.strip() for line in lines[-1:]]
                out.append(f"{tcr.test_case.name}: {' / '.join(said)[:300]}")
    return "; ".join(out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("submissions", nargs="+", help=".ipynb or .zip submissions, or folders of them")
    parser.add_argument("-a", "--autograder", default=str(HERE / "dist"),
                        help="the autograder zip, or the folder otter assign wrote (default: %(default)s)")
    parser.add_argument("-o", "--output", default="final_grades.csv", help="the CSV to write (default: %(default)s)")
    parser.add_argument("-j", "--jobs", type=int, default=min(2, os.cpu_count() or 1),
                        help="submissions graded at the same time (default: %(default)s)")
    parser.add_argument("--summaries", metavar="DIR", help="write each submission's test report to DIR/<name>.txt")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be 1 or more, got {args.jobs}")

    autograder = find_autograder(args.autograder)
    submissions = find_submissions(args.submissions)
    print(f"grading {len(submissions)} submission(s) with {autograder.name}, {args.jobs} at a time")

    from otter.grade.utils import merge_scores_to_df  # the very CSV `otter grade` writes

    start = time.perf_counter()
    scores, seconds = [], {}
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = [(s, pool.submit(grade_one, s.resolve(), autograder.resolve())) for s in submissions]
        for submission, future in futures:
            results, took = future.result()
            scores.append(results)
            seconds[results.file] = took
            print(f"  {submission.name}: {results.total:g} / {results.possible:g} in {took:.1f} s")
    table = merge_scores_to_df(scores)
    failures = {r.file: failed_tests(r) for r in scores}
    table["failed_tests"] = [failures.get(f, "") for f in table["file"]]
    table.to_csv(args.output, index=False)
    if args.summaries:
        folder = Path(args.summaries)
        folder.mkdir(parents=True, exist_ok=True)
        for r in scores:
            (folder / (Path(r.file).stem + ".txt")).write_text(r.summary() + "\n")
    total = time.perf_counter() - start
    print(f"wrote {args.output}: {len(scores)} submission(s) in {total:.1f} s "
          f"({sum(seconds.values()) / len(seconds):.1f} s each on average, {args.jobs} at a time)")


if __name__ == "__main__":
    sys.exit(main())
