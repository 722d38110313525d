"""A learner's file that starts a thread at import which never ends (not a daemon): Python waits
for it before it exits."""
import threading

from nnlib.course import backward_propagation_n, forward_propagation_n, gradient_check_n  # noqa: F401
from nnlib.course import test_case as gradient_check_n_test_case  # noqa: F401

threading.Thread(target=threading.Event().wait).start()
