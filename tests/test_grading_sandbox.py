"""The grader against hostile submissions, and honest ones graded as their own checks grade them.

One grading run (two at a time, short time limit) over a corpus built here from small code
strings: reading `.answer`, patching classes, writing a classmate's file and files outside the
sandbox, the network, a process left behind, 8 GiB under a 2 GiB cap, a loop that ignores
SIGINT, os._exit, 200 MiB printed; and an honest notebook with answers of every kind. The flags
are tested without a kernel, on cells alone.
"""

from __future__ import annotations

import csv
import hashlib
import os
import resource
import shutil
import socket
from dataclasses import replace
from pathlib import Path

import nbformat
import numpy
import pytest
import torch
from nbformat.v4 import new_code_cell, new_notebook

from widgets import __version__
from widgets.exercises import Exercise, items_of, lab03
from widgets.exercises.answer_key import answer_literal
from widgets.exercises.grading import (
    Grade,
    Limits,
    SandboxMissing,
    grade,
    grade_notebook,
    student_pattern,
)
from widgets.exercises.grading import sandbox as sandbox_module
from widgets.exercises.grading.cells import code_cells, exercise_names
from widgets.exercises.grading.flags import flags
from widgets.exercises.grading.lms import student_id, write_lms
from widgets.exercises.grading.sandbox import PACKAGE_DIR
from widgets.exercises.grading.stamp import Stamp, read_stamp, stamp_flags
from widgets.labs import STAMP, learner_copy

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = {name: item for name, item in items_of(lab03).items() if isinstance(item, Exercise)}
FIRST, SECOND, *_ = EXERCISES
RIGHT = answer_literal(EXERCISES[FIRST])
IMPORT = "from widgets.exercises import lab03"
CHECK_FIRST = [f"answer = {RIGHT}", f"lab03.{FIRST}.check(answer)"]
MARK = "4242.5"  # the background process's sleep, to find it afterwards
TIMEOUT_S = 40  # for kernels started on a busy machine; the endless loop runs beside the rest


def _notebook(path: Path, cells: list[str], stamp: dict | None = None) -> Path:
    """A submission of lab 03, stamped as `python -m widgets.labs` stamps it unless told."""
    notebook = new_notebook(cells=[new_code_cell(source) for source in cells])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    notebook.metadata[STAMP] = {"lab": "lab03", "version": __version__} if stamp is None else stamp
    nbformat.write(notebook, path)
    return path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _processes_with(text: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if text in command:
                found.append(command)
    return found


# answers of every kind, each checked in the notebook; the grader must agree with the checker
assert {FIRST, SECOND}.isdisjoint({"kv_cache_mib", "embedding_params", "positional_value"})
HONEST = {
    FIRST: RIGHT,
    SECOND: repr(EXERCISES[SECOND].mistakes[0].answer),
    "kv_cache_mib": f"torch.tensor({float(lab03.kv_cache_mib.answer)!r})",
    "embedding_params": "'a lot'",
    "positional_value": "None",
    "masked_weights": "numpy.float32(3.5)",
}


def _needs_the_sandbox() -> None:
    """Skip without root and bubblewrap, except on CI (.ci/run installs bubblewrap): fail there."""
    if os.geteuid() != 0 or shutil.which("bwrap") is None:
        reason = "the sandbox tests run as root, with bubblewrap installed"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the sandbox tests: {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict:
    _needs_the_sandbox()
    folder = tmp_path_factory.mktemp("submissions")
    outside = tmp_path_factory.mktemp("outside") / "secret.txt"
    outside.write_text("the instructor's file")
    server = socket.create_server(("127.0.0.1", 0))  # reachable from the grader's network only
    port = server.getsockname()[1]
    classmate = _notebook(folder / "classmate.ipynb", [IMPORT, *CHECK_FIRST])
    honest_cells = [IMPORT, "import numpy\nimport torch"]
    for name, answer in HONEST.items():
        honest_cells += [f"answer = {answer}", f"lab03.{name}.check(answer)"]
    corpus = {
        "ignores_sigint": [
            IMPORT,
            *CHECK_FIRST,
            "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass",
            f"lab03.{SECOND}.check(1)",
        ],
        "honest": honest_cells,
        "reads_answer": [IMPORT, f"answer = lab03.{FIRST}.answer", f"lab03.{FIRST}.check(answer)"],
        "patches": [
            IMPORT,
            "from widgets.exercises import Exercise\n"
            "Exercise._matches = lambda self, given, expected: True",
            f"lab03.{FIRST}.check(1)",
        ],
        "reveal_forget": [IMPORT, f"lab03.{FIRST}.reveal()", f"lab03.{FIRST}.forget()"],
        "key_command": [
            IMPORT,
            "!python -m widgets.exercises key",
            f"lab03.{FIRST}.check({RIGHT})",
        ],
        "files": [
            IMPORT,
            "import pathlib\nwritten = []\n"
            f"for path in [{str(classmate)!r}, {str(outside)!r}, "
            f"{str(PACKAGE_DIR / 'exercises' / 'lab03.py')!r}, "
            f"{str(PACKAGE_DIR / 'hostile.txt')!r}]:\n"
            "    try:\n"
            "        pathlib.Path(path).write_text('x')\n"
            "        written.append(path)\n"
            "    except OSError:\n"
            "        pass",
            f"lab03.{FIRST}.check(len(written))",
        ],
        "network": [
            IMPORT,
            "import socket\ntry:\n"
            f"    socket.create_connection(('127.0.0.1', {port}), timeout=3)\n    reached = 1\n"
            "except OSError:\n    reached = 0",
            f"lab03.{FIRST}.check(reached)",
        ],
        "background": [
            IMPORT,
            *CHECK_FIRST,
            "import subprocess\n"
            f"subprocess.Popen(['sleep', '{MARK}'], start_new_session=True)\n"
            f"subprocess.Popen(['sh', '-c', '(sleep {MARK} &) ; exit 0'])",
        ],
        "memory": [IMPORT, *CHECK_FIRST, "import torch\nx = torch.ones(2**31)"],
        "exits": [IMPORT, *CHECK_FIRST, "import os\nos._exit(3)", f"lab03.{SECOND}.check(1)"],
        "thread_prints": [  # output from a background thread, between and during requests
            IMPORT,
            *CHECK_FIRST,
            "import threading\n"
            "def flood():\n    while True:\n        print('x' * 2**16)\n"
            "threading.Thread(target=flood, daemon=True).start()",
            "import time\ntime.sleep(20)",
            f"lab03.{SECOND}.check(1)",
        ],
        "prints": [  # 200 MiB in 1 MiB lines (one big message: the test after the corpus)
            IMPORT,
            *CHECK_FIRST,
            "for line in range(200):\n    print('x' * 2**20)",
            f"lab03.{SECOND}.check(1)",
        ],
    }
    paths = [_notebook(folder / f"{name}.ipynb", cells) for name, cells in corpus.items()]
    commented = [IMPORT, f"# like lab02.conv_params\nlab03.{FIRST}.check({RIGHT})"]
    paths += [
        _notebook(folder / "old_release.ipynb", commented, {"lab": "lab03", "version": "0.0.1"}),
        _notebook(folder / "unstamped.ipynb", commented, {}),
    ]
    before = _digest(classmate)
    exercise_names()  # every lab built first: the grader's own memory, before any submission
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    csv_path = folder / "grades.csv"
    kept = folder / "kept"
    try:
        grade([*paths, classmate], csv_path, Limits(timeout_s=TIMEOUT_S), jobs=2, keep=kept)
    finally:
        server.close()
    with open(csv_path, newline="") as file:
        rows = {(Path(row["notebook"]).stem, row["exercise"]): row for row in csv.DictReader(file)}
    return {
        "rows": rows,
        "classmate_unchanged": _digest(classmate) == before,
        "outside": outside.read_text(),
        "grown_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before,
        "kept": kept,
    }


def test_honest_answers_are_graded_as_the_notebooks_check_grades_them(graded) -> None:
    rows = graded["rows"]
    for name, answer in HONEST.items():
        value = eval(answer, {"numpy": numpy, "torch": torch})
        expected = replace(EXERCISES[name]).check(value)  # as the notebook's cell checks it
        status = {"correct": "correct", "unanswered": "unanswered"}.get(expected.status, "wrong")
        row = rows["honest", name]
        assert (row["status"], row["detail"]) == (status, expected.message), name
        assert row["flags"] == "" and row["stopped"] == ""


def test_reading_or_forging_answers_is_flagged_never_silently_correct(graded) -> None:
    rows = graded["rows"]
    for notebook in ("reads_answer", "patches", "reveal_forget", "key_command"):
        assert rows[notebook, FIRST]["flags"], notebook
    assert "reads lab03." in rows["reads_answer", FIRST]["flags"]
    assert rows["patches", FIRST]["status"] == "wrong"  # judged by the grader's own checker
    assert "assigns to Exercise._matches" in rows["patches", FIRST]["flags"]
    assert "reveal()" in rows["reveal_forget", FIRST]["flags"]
    assert "forget()" in rows["reveal_forget", FIRST]["flags"]
    assert "runs a shell command" in rows["key_command", FIRST]["flags"]
    flagged = {stem for (stem, _), row in rows.items() if row["flags"]}
    assert "honest" not in flagged and "classmate" not in flagged


def test_no_submission_reaches_another_a_file_outside_the_package_or_the_network(graded):
    rows = graded["rows"]
    assert rows["files", FIRST]["answer"] == "0"  # none of the four writes succeeded
    assert graded["classmate_unchanged"]
    assert rows["classmate", FIRST]["status"] == "correct"
    assert graded["outside"] == "the instructor's file"
    assert not (PACKAGE_DIR / "hostile.txt").exists()
    assert rows["network", FIRST]["answer"] == "0"


def test_no_process_outlives_its_grading(graded) -> None:
    assert graded["rows"]["background", FIRST]["status"] == "correct"
    assert _processes_with(f"sleep {MARK}") == []
    assert _processes_with("effml-grade-") == []  # no kernel of any sandbox


def test_caps_and_crashes_stop_the_run_keep_earlier_answers_and_say_why(graded) -> None:
    rows = graded["rows"]
    stops = {
        "memory": "cell 4 ran out of memory (the cap is 2 GiB)",
        "ignores_sigint": f"cell 4 still ran at the time limit ({TIMEOUT_S} s for the notebook)",
        "exits": "the kernel died in cell 4 (it exited with code 3",
        "prints": "cell 4 printed more than 8 MiB of output (the cap)",
        "thread_prints": "cell ",
    }
    for notebook, reason in stops.items():
        assert rows[notebook, FIRST]["status"] == "correct", notebook  # checked before: kept
        assert rows[notebook, FIRST]["stopped"].startswith(reason), notebook
    assert "printed more than 8 MiB of output (the cap)" in rows["thread_prints", FIRST]["stopped"]
    for notebook in ("ignores_sigint", "exits", "prints", "thread_prints"):
        assert rows[notebook, SECOND]["status"] == "error"  # its check comes after the stop
        assert rows[notebook, SECOND]["detail"] == rows[notebook, SECOND]["stopped"]
    assert graded["grown_kib"] < 100 * 1024  # 200 MiB printed never reached the grader


@pytest.mark.parametrize(
    "source",
    [
        "answer = lab03.kv_cache_mib.answer",
        "x = lab03.kv_cache_mib.solution",
        "from widgets.exercises import answer_key",
        "import widgets.exercises.grading as g",
        "from widgets.exercises.answer_key import answer_literal",
        "lab03.kv_cache_mib.record.status = 'correct'",
        "lab03.kv_cache_mib = None",
        "import widgets\nwidgets.exercises.lab03.kv_cache_mib.check = print",
        "setattr(lab03, 'kv_cache_mib', None)",
        "object.__setattr__(lab03.kv_cache_mib, 'answer', 1)",
        "getattr(lab03.kv_cache_mib, 'ans' + 'wer')",
        "eval('lab03.kv_cache_mib.' + 'answer')",
        "import subprocess",
        "import os\nos.system('python -m widgets.exercises key')",
        "%time a = lab03.kv_cache_mib.answer",
        "%run other.py",
        "lab03.kv_cache_mib._judge(1)",
        "lab03.kv_cache_mib.reveal()",
        "lab03.kv_cache_mib.forget()",
        "from widgets.exercises import *\nExercise._matches = lambda *args: True",
        "type(lab03.kv_cache_mib)._matches = lambda *args: True",
        "getattr(lab03.kv_cache_mib, 'answer')",
        "import operator\noperator.attrgetter('answer')(lab03.kv_cache_mib)",
        "lab03.kv_cache_mib.__getattribute__('answer')",
        "import dataclasses\ndataclasses.asdict(lab03.kv_cache_mib)",
    ],
)
def test_forging_code_is_flagged(source: str) -> None:
    notebook = new_notebook(cells=[new_code_cell(IMPORT), new_code_cell(source)])
    assert flags(code_cells(notebook)), source


@pytest.mark.parametrize(
    "source",
    [
        "answer = 38597376",
        "lab03.kv_cache_mib.check(answer)",
        "answer = 2 * 12 * 4096 * 1024 * 2 / 2**20  # lab03.kv_cache_mib.answer in a comment",
        "import torch\nx = torch.ones(3)\nx.sum().item()",
        "%matplotlib inline",
        "lab03.progress()",
    ],
)
def test_honest_code_is_not_flagged(source: str) -> None:
    notebook = new_notebook(cells=[new_code_cell(IMPORT), new_code_cell(source)])
    assert flags(code_cells(notebook)) == [], source


def test_the_lab_comes_from_the_stamp_and_another_release_or_none_is_flagged(graded) -> None:
    rows = graded["rows"]
    for notebook in ("old_release", "unstamped"):
        assert {row["lab"] for (stem, _), row in rows.items() if stem == notebook} == {"lab03"}
        assert rows[notebook, FIRST]["status"] == "correct"
    assert "made from release 0.0.1" in rows["old_release", FIRST]["flags"]
    assert "no lab stamp" in rows["unstamped", FIRST]["flags"]


def test_each_executed_notebook_and_a_feedback_file_are_kept(graded) -> None:
    kept = graded["kept"]
    executed = nbformat.read(kept / "honest.ipynb", as_version=4)
    checks = [cell for cell in executed.cells if ".check(" in cell.source]
    assert all(cell.outputs for cell in checks)  # the feedback box each check showed
    feedback = (kept / "honest.feedback.md").read_text()
    assert f"**lab03.{FIRST}**: correct" in feedback
    assert EXERCISES[SECOND].mistakes[0].hint in feedback
    assert "flag" not in feedback.lower()
    assert "The run stopped: cell 4 ran out of memory" in (kept / "memory.feedback.md").read_text()


def test_learner_copies_carry_the_stamp_the_grader_reads() -> None:
    copy = learner_copy(ROOT / "labs" / "02_layers_params_macs.ipynb")
    assert read_stamp(copy) == Stamp("lab02", __version__)
    assert stamp_flags(read_stamp(copy), "lab02") == []
    assert stamp_flags(read_stamp(copy), "lab03") == [
        "wrong lab: a copy of lab02 handed in for lab03"
    ]
    assert stamp_flags(Stamp("lab02", None), None) == ["the lab stamp names no release"]
    copy.metadata[STAMP] = {"lab": "lab99", "version": __version__}
    assert read_stamp(copy).lab is None


def test_displaying_an_exercise_shows_no_answer() -> None:
    shown = repr(lab03.kv_cache_mib)
    assert lab03.kv_cache_mib.question in shown
    assert f"{lab03.kv_cache_mib.answer:g}" not in shown and "answer=" not in shown


def test_without_bwrap_grading_stops_with_a_clear_error(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sandbox_module.shutil, "which", lambda tool: None)
    with pytest.raises(SandboxMissing, match="--no-sandbox"):
        grade([], tmp_path / "grades.csv")


def test_the_lms_export_has_a_row_per_student_with_points_and_flags(tmp_path: Path) -> None:
    def row(notebook: str, exercise: str, status: str, flagged: str = "") -> Grade:
        return Grade(notebook, "lab03", exercise, status, "", "", "", flagged)

    rows = [
        row("sub/123456_lab03.ipynb", FIRST, "correct"),
        row("sub/123456_lab03.ipynb", SECOND, "wrong"),
        row("sub/777_lab03.ipynb", FIRST, "correct", "cell 2: calls reveal()"),
        row("sub/777_lab03.ipynb", SECOND, "correct", "cell 2: calls reveal()"),
        row("sub/late.ipynb", FIRST, "error"),
        row("sub/late.ipynb", SECOND, "unanswered"),
    ]
    path = tmp_path / "lms.csv"
    write_lms(rows, path, student_pattern(r"(\d+)_lab03"))
    with open(path, newline="") as file:
        table = list(csv.DictReader(file))
    assert [line["student"] for line in table] == ["123456", "777", ""]
    assert [line["total"] for line in table] == ["1", "2", "0"]
    assert {line["out_of"] for line in table} == {"2"}
    assert table[0][f"lab03.{FIRST}"] == "1" and table[0][f"lab03.{SECOND}"] == "0"
    assert table[1]["flags"] == "cell 2: calls reveal()"
    assert table[2]["flags"] == "the file name does not match --student-id"
    assert student_id("sub/x_42.ipynb", student_pattern(r"x_(?P<id>\d+)")) == "42"
    assert student_id("sub/x_42.ipynb", None) == "x_42"
    for bad in ("abc", "(unclosed"):
        with pytest.raises(ValueError, match="--student-id"):
            student_pattern(bad)


def test_no_sandbox_grades_the_same_way_unconfined(tmp_path: Path) -> None:
    submission = _notebook(tmp_path / "plain.ipynb", [IMPORT, *CHECK_FIRST])
    csv_path = tmp_path / "grades.csv"
    assert grade([submission], csv_path, Limits(timeout_s=60), sandboxed=False) == 0
    with open(csv_path, newline="") as file:
        rows = {row["exercise"]: row for row in csv.DictReader(file)}
    assert rows[FIRST]["status"] == "correct"
    assert {row["status"] for name, row in rows.items() if name != FIRST} == {"unanswered"}


def test_one_message_above_the_output_cap_is_dropped_and_stops_the_run(tmp_path: Path) -> None:
    _needs_the_sandbox()
    cells = [IMPORT, *CHECK_FIRST, "print('x' * 2**23)", f"lab03.{SECOND}.check(1)"]
    submission = _notebook(tmp_path / "one_message.ipynb", cells)
    rows = grade_notebook(submission, Limits(timeout_s=60, output_bytes=2**20))
    first, second = (next(row for row in rows if row.exercise == name) for name in (FIRST, SECOND))
    assert first.status == "correct"
    assert first.stopped == "cell 4 printed more than 1 MiB of output (the cap)"
    assert second.status == "error"


def test_the_cpu_cap_kills_a_busy_kernel_and_says_so(tmp_path: Path) -> None:
    _needs_the_sandbox()
    cells = [IMPORT, *CHECK_FIRST, "while True:\n    pass"]
    submission = _notebook(tmp_path / "busy.ipynb", cells)
    rows = grade_notebook(submission, Limits(timeout_s=60, cpu_s=10))
    first = next(row for row in rows if row.exercise == FIRST)
    assert first.status == "correct"
    assert first.stopped == "the kernel died in cell 4 (its CPU time ran out: the cap is 10 s)"
