"""Execute every notebook top to bottom in a fresh kernel and save it with its outputs.

    python scripts/execute_notebooks.py [--into DIR] [notebooks/04-bug-lab.ipynb ...]

Run this after changing nnlib or a notebook, then commit the notebooks: learners on
GitHub read the saved outputs and nbval compares against them. Widget state is saved
(nested under "state", the form GitHub's renderer accepts). With --into DIR the executed
copies go to DIR and the sources stay as they are (scripts/check_kernels.py runs it that way,
once per OpenBLAS kernel).
"""

import argparse
import os
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent


def main(paths, into=None):
    os.environ["NNLIB_PROGRESS"] = "0"  # a progress bar's timings would differ on every run
    paths = [Path(p) for p in paths] or sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        NotebookClient(nb, timeout=300, kernel_name="python3", store_widget_state=True,
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        if not _has_widgets(nb):
            nb.metadata.pop("widgets", None)
        nbformat.validate(nb)
        nbformat.write(nb, Path(into) / path.name if into else path)
        print(f"{path.name}: {time.perf_counter() - start:.1f} s", flush=True)


def _has_widgets(nb):
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    return bool(state.get("state"))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", help="notebooks to execute (default: every numbered one)")
    parser.add_argument("--into", metavar="DIR", help="save the executed copies in DIR instead of in place")
    args = parser.parse_args()
    if args.into:
        Path(args.into).mkdir(parents=True, exist_ok=True)
    main(args.paths, args.into)
