import os
import signal

import numpy as np
import pytest

# Progress bars print timings, which are not output: off in the tests and in the notebook kernels
# that nbval starts from this process (they inherit its environment).
os.environ["NNLIB_PROGRESS"] = "0"

import nnlib  # noqa: E402

# Several tests press Ctrl-C on a child process (the CLI, the doctor, the grader). A shell that
# starts pytest in the background without job control (`pytest &` in a script, nohup, some CI
# runners) starts it with SIGINT ignored; the children inherit that, Python then installs no
# KeyboardInterrupt handler, and those tests would fail for a reason that has nothing to do with
# the code (measured: 5 failures). A Python handler here is reset to the default at exec, so every
# child starts as it would from a terminal.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def mnist():
    return nnlib.load_mnist(np.random.default_rng(0))


@pytest.fixture
def batch(mnist):
    """8 real digits and fresh He-initialised parameters (784 -> 10 -> 10)."""
    X, Y, _ = mnist["train"]
    return nnlib.init_params(np.random.default_rng(1)), X[:, :8], Y[:, :8]
