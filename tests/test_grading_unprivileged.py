"""The grader run by an unprivileged user: bubblewrap in a user namespace, without setpriv.

The test runs as root and starts one real grading command (`python -m widgets.exercises grade`)
as the system user effml-grader-test (created once, kept). A folder of root's that the user
cannot enter (here /root, if the Python lives there) is replaced, for that command only, by an
empty folder holding the read-only Python: the user sees the machine as any user would. Its
submission tries what the sandbox must stop: writing to files the user owns outside the
sandbox, reaching the network, keeping a privilege.
"""

from __future__ import annotations

import csv
import os
import pwd
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from widgets import __version__
from widgets.exercises import Exercise, items_of, lab03
from widgets.labs import STAMP

ROOT = Path(__file__).resolve().parents[1]
USER = "effml-grader-test"
FIRST, SECOND, THIRD, *_ = (
    name for name, item in items_of(lab03).items() if isinstance(item, Exercise)
)
NO_CAPABILITIES = "0000000000000000"


def _skip(reason: str) -> None:
    """Skip, except on CI (CI=true): fail there, since CI must run this test."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the unprivileged grading test: {reason}")
    pytest.skip(reason)


def _needs_root_and_tools() -> None:
    missing = [tool for tool in ("bwrap", "setpriv", "useradd") if shutil.which(tool) is None]
    if os.geteuid() != 0 or missing:
        _skip(f"runs as root, with bwrap, setpriv and useradd (missing: {missing or 'root'})")


def _user() -> pwd.struct_passwd:
    """The unprivileged user, created on first use (a system user without a home)."""
    try:
        return pwd.getpwnam(USER)
    except KeyError:
        command = ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin"]
        subprocess.run([*command, USER], check=True)
        return pwd.getpwnam(USER)


def _blocked_by(path: Path) -> Path | None:
    """The outermost folder above `path` that other users cannot enter, if any."""
    for parent in reversed(path.parents):
        if not parent.stat().st_mode & stat.S_IXOTH:
            return parent
    return None


def _as_user(user: pwd.struct_passwd, command: list[str]) -> list[str]:
    """`command` run as `user`, each unreachable folder above Python, the venv or the repository
    replaced (in its own mount namespace) by an empty one holding them, read-only."""
    needed = {Path(sys.base_prefix), Path(sys.prefix), ROOT}
    outermost = sorted(path for path in needed if not any(p in path.parents for p in needed))
    blocked = {path: _blocked_by(path) for path in outermost}
    jail = ["bwrap", "--dev-bind", "/", "/", "--die-with-parent"]
    for folder in sorted({folder for folder in blocked.values() if folder is not None}):
        jail += ["--perms", "0755", "--tmpfs", str(folder)]
    for path, folder in blocked.items():
        if folder is not None:
            for parent in reversed(path.parents):
                if folder in parent.parents:
                    jail += ["--perms", "0755", "--dir", str(parent)]
            jail += ["--ro-bind", str(path), str(path)]
    drop = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups"]
    return [*jail, "--", *drop, "--", *command]


@pytest.fixture
def folder() -> Iterator[Path]:
    """A folder the unprivileged user owns (pytest's tmp_path is root's own, mode 0700)."""
    _needs_root_and_tools()
    user = _user()
    probe = ["bwrap", "--unshare-user", "--ro-bind", "/", "/", "true"]
    done = subprocess.run(_as_user(user, probe), capture_output=True, text=True)
    if done.returncode:
        _skip(f"users may not create user namespaces here: {done.stderr.strip()}")
    path = Path(tempfile.mkdtemp(prefix="effml-unprivileged-", dir="/var/tmp"))  # off /tmp
    os.chown(path, user.pw_uid, user.pw_gid)
    yield path
    shutil.rmtree(path)


def test_an_unprivileged_grader_keeps_each_submission_in_its_sandbox(folder: Path) -> None:
    user = _user()
    outside = folder / "outside.txt"
    outside.write_text("the instructor's file")
    submission = folder / "submission.ipynb"
    server = socket.create_server(("127.0.0.1", 0))  # reachable from the grader's network only
    cells = [
        "import os, pathlib, socket\nfrom widgets.exercises import lab03",
        "written = []\n"
        f"for path in [{str(outside)!r}, {str(submission)!r}, {str(folder / 'new.txt')!r}]:\n"
        "    try:\n"
        "        pathlib.Path(path).write_text('x')\n"
        "        written.append(path)\n"
        "    except OSError:\n"
        "        pass",
        f"lab03.{FIRST}.check(len(written))",
        "status = dict(line.split(':\\t') for line in open('/proc/self/status').read().splitlines())\n"
        "who = f\"{os.getuid()} {status['CapEff']} {status['CapBnd']} {status['NoNewPrivs']}\"",
        f"lab03.{SECOND}.check(who)",
        "try:\n"
        f"    socket.create_connection(('127.0.0.1', {server.getsockname()[1]}), timeout=3)\n"
        "    reached = 1\n"
        "except OSError:\n"
        "    reached = 0",
        f"lab03.{THIRD}.check(reached)",
    ]
    notebook = new_notebook(cells=[new_code_cell(source) for source in cells])
    notebook.metadata[STAMP] = {"lab": "lab03", "version": __version__}
    nbformat.write(notebook, submission)
    for path in (outside, submission):
        os.chown(path, user.pw_uid, user.pw_gid)  # only the sandbox stops the writes
    before = submission.read_bytes()
    csv_path = folder / "grades.csv"
    grade = [sys.executable, "-m", "widgets.exercises", "grade", str(submission)]
    grade += ["--csv", str(csv_path), "--timeout", "120"]
    environment = {
        "HOME": str(folder),
        "TMPDIR": str(folder),  # each sandbox's folder here: its parents are made in the jail
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT),
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
    }
    try:
        done = subprocess.run(
            _as_user(user, grade), env=environment, capture_output=True, text=True, timeout=300
        )
    finally:
        server.close()
    assert csv_path.exists(), done.stderr
    with open(csv_path, newline="") as file:
        rows = {row["exercise"]: row for row in csv.DictReader(file)}
    assert {rows[name]["stopped"] for name in (FIRST, SECOND, THIRD)} == {""}, rows[FIRST]
    assert rows[FIRST]["answer"] == "0"  # none of the three writes succeeded
    assert outside.read_text() == "the instructor's file"
    assert submission.read_bytes() == before
    assert not (folder / "new.txt").exists()
    # as the user itself (no root inside), without a capability, with no new privileges
    assert rows[SECOND]["answer"] == f"{user.pw_uid} {NO_CAPABILITIES} {NO_CAPABILITIES} 1"
    assert rows[THIRD]["answer"] == "0"  # no network
    assert not list(folder.glob("effml-grade-*"))  # each sandbox's folder deleted
