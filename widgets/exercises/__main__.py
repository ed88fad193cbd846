"""Instructor tools: the answer key and grading of submitted notebooks.

python -m widgets.exercises key [--out answer-key.md]
python -m widgets.exercises grade NOTEBOOK... --csv grades.csv [--timeout 300]
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
        "grade", help="run submitted notebooks in fresh kernels and write their results as CSV"
    )
    grade.add_argument("notebooks", nargs="+", type=Path, metavar="NOTEBOOK")
    grade.add_argument("--csv", type=Path, required=True, help="the CSV file to write")
    grade.add_argument(
        "--timeout", type=float, default=300, help="seconds per notebook (default: 300)"
    )
    grade.add_argument("--kernel", default="python3", help="kernel name (default: python3)")
    arguments = parser.parse_args(argv)

    if arguments.command == "key":
        from .answer_key import answer_key

        text = answer_key()
        if arguments.out:
            arguments.out.write_text(text)
        else:
            sys.stdout.write(text)
        return 0
    from .grading import grade as grade_notebooks

    return grade_notebooks(arguments.notebooks, arguments.csv, arguments.timeout, arguments.kernel)


if __name__ == "__main__":
    sys.exit(main())
