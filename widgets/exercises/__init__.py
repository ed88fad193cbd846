"""Self-checking exercises and predictions for the labs.

An exercise is defined here in the package, never in the student notebook: its reference answer
is computed with widgets.core, and each typical wrong answer (bias forgotten, FLOPs given for
MACs, bits for bytes...) earns its own hint. A lab imports its module and checks:

    from widgets.exercises import lab02

    answer = None  # the learner writes a number here
    lab02.conv_params.check(answer)  # last line of the cell: the feedback box is shown

Defining one, in widgets/exercises/labNN.py:

    conv = layer_cost("conv2d", input_shape=(1, 3, 32, 32), in_channels=3, out_channels=8,
                      kernel_size=3)
    conv_params = Exercise(
        question="How many parameters has nn.Conv2d(3, 8, kernel_size=3)?",
        answer=conv.params,
        unit="parameters",
        hint="Each of the C_out filters has C_in * k_h * k_w weights and one bias.",
        mistakes=[Mistake(conv.params - 8, "That is the weights only: add one bias per filter.")],
        tolerance=0,  # exact: the bias is only 8 of 224 parameters
        solution=["Each filter: 3 x 3 x 3 weights and a bias.", conv.params_formula],
    )

A named answer (which layer, which activation) gives `choices` and a string answer.

A prediction is committed first, then the measured value is revealed beside it:

    double_tokens = Prediction(
        question="By what factor do the attention-score MACs grow when the tokens double?",
        measured=4.0, unit="x", explanation="Every token attends to every token: L^2.")
    double_tokens.predict(None)  # asks for a prediction first
    double_tokens.predict(2)     # "You predicted 2 x; measured: 4 x. ..."

A stuck learner gets a way out: after three wrong tries the feedback offers `reveal()`, which
shows the worked solution (`solution`: the steps with the numbers filled in, computed from the
same arguments as the answer). `progress()` (or `lab02.progress()`) tabulates every exercise and
prediction: unanswered, wrong (and how often), correct or revealed. The records are the
learner's own: `python -m widgets.exercises grade` never trusts them, it reads each check's
answer after its cell and judges it in its own process (grading/).

The package, one idea a module: feedback.py (the box a check shows), mistakes.py (typical wrong
answers), checks.py (Exercise, Prediction and the learner's Record), lab.py (a lab module's
items, their order and the ones built on first use), progress.py (the progress table), and one
labNN.py per lab.

check(), predict() and reveal() never raise: a missing, non-numeric or unknown answer gets a
message.
"""

from __future__ import annotations

from .checks import REVEAL_AFTER_TRIES, Exercise, Prediction, Record
from .feedback import Feedback
from .lab import Lab, items_of, lab_modules
from .mistakes import Mistake, binary_as_si, bits_for_bytes, flops_for_macs, macs_for_flops
from .progress import Progress, progress

__all__ = [
    "REVEAL_AFTER_TRIES",
    "Exercise",
    "Feedback",
    "Lab",
    "Mistake",
    "Prediction",
    "Progress",
    "Record",
    "binary_as_si",
    "bits_for_bytes",
    "flops_for_macs",
    "items_of",
    "lab_modules",
    "macs_for_flops",
    "progress",
]
