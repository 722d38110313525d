"""Feedback on the notebooks' exercises: run the learner's function, say what is wrong and why.

    from nnlib import exercises
    exercises.check_softmax(softmax)        # shows "Exercise 1.1 (softmax): correct. ..."

One function per exercise, one module per notebook: notebook1 (1.1 softmax, 1.2 compute_cost),
notebook2 (2.1 relu_deriv, 2.2 backward_propagation), notebook3 (3.1 gradient_check_n) and
notebook5 (5.1 and 5.2, dropout); feedback.py holds what they share. Each calls the learner's
function on fixed inputs, compares the result with what the maths says, and returns a Feedback
whose str is the message and whose `.passed` is a bool. It never raises on the learner's behalf:
a stub that still raises NotImplementedError (or returns None) gets "not answered yet" and where
to write the answer, and anything else (an exception, exit(), a print instead of a return, a
list, float32) is reported as what it is. The messages describe the mistake from the numbers;
they never show an answer's code (the answers are in solutions/exercises.py). What the caller
passes besides the learner's function (m, keep_prob, method) is checked first: a bad value is a
ValueError naming it, never a verdict on the learner.
"""

from .feedback import EXERCISES, Feedback
from .notebook1 import check_compute_cost, check_softmax
from .notebook2 import check_backward_propagation, check_relu_deriv
from .notebook3 import check_gradient_check_n
from .notebook5 import check_dropout_backward, check_dropout_forward

__all__ = ["EXERCISES", "Feedback", "check_softmax", "check_compute_cost", "check_relu_deriv",
           "check_backward_propagation", "check_gradient_check_n", "check_dropout_forward",
           "check_dropout_backward"]
