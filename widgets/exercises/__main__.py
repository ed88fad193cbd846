r"""Instructor tools: the answer key and grading of submitted notebooks.

python -m widgets.exercises key [--out answer-key.md]
python -m widgets.exercises grade NOTEBOOK... --csv grades.csv [--timeout 300] [--memory 2]
    [--lab 03] [--jobs 2]
    [--lms lms.csv --student-id '(\d+)_lab03'] [--keep DIR] [--no-sandbox]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m widgets.exercises", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    key = commands.add_parser("key", help="write the Markdown answer key of every lab")
    key.add_argument("--out", type=Path, help="file to write (default: standard output)")
    grade = commands.add_parser(
        "grade",
        help="run submitted notebooks, each in its own sandbox, and write their results as CSV",
    )
    grade.add_argument("notebooks", nargs="+", type=Path, metavar="NOTEBOOK")
    grade.add_argument("--csv", type=Path, required=True, help="the CSV file to write")
    grade.add_argument(
        "--timeout", type=float, default=300, help="seconds per notebook (default: 300)"
    )
    grade.add_argument(
        "--memory", type=float, default=2, help="GiB of memory per notebook (default: 2)"
    )
    grade.add_argument(
        "--lab", help="the lab handed in (03 or lab03): its rows, and a flag for another lab"
    )
    grade.add_argument(
        "--lms", type=Path, help="also write one row per student: points, total, flags"
    )
    grade.add_argument(
        "--student-id",
        metavar="REGEX",
        help="the student id in a file name: the first group (default: the file name's stem)",
    )
    grade.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="keep each executed notebook and a feedback file per student in DIR",
    )
    grade.add_argument("--jobs", type=int, default=1, help="notebooks graded at once (default: 1)")
    grade.add_argument("--kernel", default="python3", help="kernel name (default: python3)")
    grade.add_argument(
        "--no-sandbox",
        action="store_true",
        help="run submissions unconfined, as yourself (only in a throw-away container or VM)",
    )
    arguments = parser.parse_args(argv)

    if arguments.command == "key":
        from .answer_key import answer_key

        text = answer_key()
        if arguments.out:
            arguments.out.write_text(text)
        else:
            sys.stdout.write(text)
        return 0
    from widgets.core.units import GIB

    from .grading import Limits, SandboxMissing, student_pattern
    from .grading import grade as grade_notebooks

    try:
        pattern = student_pattern(arguments.student_id) if arguments.student_id else None
        limits = Limits(
            timeout_s=arguments.timeout,
            memory_bytes=int(arguments.memory * GIB),
            cpu_s=int(2 * arguments.timeout) + 1,  # two busy threads for the whole time limit
        )
        return grade_notebooks(
            arguments.notebooks,
            arguments.csv,
            limits,
            sandboxed=not arguments.no_sandbox,
            kernel_name=arguments.kernel,
            jobs=arguments.jobs,
            lms_path=arguments.lms,
            student_ids=pattern,
            keep=arguments.keep,
            lab=_lab_name(arguments.lab),
        )
    except (SandboxMissing, ValueError) as error:
        parser.error(str(error))


def _lab_name(lab: str | None) -> str | None:
    """'lab03' for '03', '3' or 'lab03'; None for None."""
    return f"lab{int(lab):02d}" if lab and lab.isdigit() else lab


if __name__ == "__main__":
    sys.exit(main())
