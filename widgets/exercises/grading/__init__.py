"""Grade submitted lab notebooks, each in its own sandbox, judged outside the learner's kernel.

    python -m widgets.exercises grade submissions/*.ipynb --csv grades.csv --timeout 120

For each submission: its cells are read and analysed (cells.py: which exercises it checks;
flags.py: code that reads, reveals or forges answers, for a TA to review), then run one by one in
a fresh kernel inside a bubblewrap sandbox (sandbox.py) by the grader's own loop, which reads the
value of each check's answer after its cell (run.py). The grader's process judges those values
with its own copies of the exercises (judge.py) and writes one row per exercise (report.py),
and, for an LMS, one row per student (lms.py). stamp.py reads the lab and release a learner
copy was made from.
"""

from __future__ import annotations

from .lms import student_pattern
from .report import Grade, grade, grade_notebook
from .sandbox import Limits, SandboxMissing

__all__ = ["Grade", "Limits", "SandboxMissing", "grade", "grade_notebook", "student_pattern"]
