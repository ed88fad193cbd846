"""One sandbox per submission: a bubblewrap jail around the kernel, without Docker.

The kernel runs in new PID, IPC, network, UTS (and, if possible, cgroup) namespaces, sees a
read-only Python, the read-only venv and the read-only `widgets/` package, and can write only to a
fresh temporary folder (its HOME and working folder, which holds nothing but its own files) and a
small /tmp. As root it runs as the unprivileged user 65534 (`setpriv`, no new privileges); as
another user, in a new user namespace as that user (no capabilities, no new privileges:
tests/test_grading_unprivileged.py). `prlimit` caps its private memory (RLIMIT_DATA), CPU time,
processes and file size. The kernel is bwrap's child in a PID namespace with --die-with-parent:
killing bwrap kills every process the submission started. The grader talks to it over Unix sockets
in the temporary folder (transport "ipc"), so the kernel needs no network at all.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyter_client import KernelManager

from widgets.core.units import GIB, MIB

NOBODY = 65534
PACKAGE_DIR = Path(__file__).resolve().parents[2]  # widgets/
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "passwd", "group")


@dataclass(frozen=True)
class Limits:
    """What one submission may use. Memory is private writable memory (RLIMIT_DATA), not the
    address space (torch alone maps ~3.5 GIB of it) nor the resident size."""

    timeout_s: float = 300  # wall-clock seconds for the whole notebook
    memory_bytes: int = 2 * GIB
    cpu_s: int = 600  # CPU seconds, all threads together
    processes: int = 512  # threads count too (torch starts one per core)
    file_bytes: int = 64 * MIB  # the largest file it may write
    output_bytes: int = 8 * MIB  # all the output the grader reads from it (text, figures)

    def __post_init__(self) -> None:
        for name in (
            "timeout_s",
            "memory_bytes",
            "cpu_s",
            "processes",
            "file_bytes",
            "output_bytes",
        ):
            value = getattr(self, name)
            if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"Limits.{name} must be a positive number, got {value!r}")


class SandboxMissing(RuntimeError):
    """bwrap, prlimit or setpriv is not installed: no sandboxed grading on this machine."""


def require_tools() -> None:
    """Raise SandboxMissing naming the missing tools and the ways out."""
    needed = ["bwrap", "prlimit"] + (["setpriv"] if os.geteuid() == 0 else [])
    missing = [tool for tool in needed if shutil.which(tool) is None]
    if missing:
        raise SandboxMissing(
            f"{', '.join(missing)} not found: the grader runs each submission in a bubblewrap "
            "sandbox (Debian/Ubuntu: apt install bubblewrap util-linux). Grade on a machine "
            "that has them, or pass --no-sandbox to run submissions as yourself, unconfined "
            "(only in a throw-away container or VM)."
        )


def _directories_of(path: Path) -> list[Path]:
    """The folders above `path`, outermost first ('/a/b/c' -> /a, /a/b)."""
    return list(reversed(path.parents))[1:]


def jail_command(folder: Path, limits: Limits) -> list[str]:
    """The command line that runs a command in the sandbox, writable only in `folder`."""
    command = ["bwrap", "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"]
    command += ["--unshare-cgroup-try", "--die-with-parent", "--new-session", "--clearenv"]
    if os.geteuid() != 0:
        command += ["--unshare-user"]
    command += ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "lib", "lib64", "sbin"):
        top = Path("/", name)
        if top.is_symlink():
            command += ["--symlink", os.readlink(top), str(top)]
        elif top.exists():
            command += ["--ro-bind", str(top), str(top)]
    for name in ETC_FILES:
        command += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    command += ["--proc", "/proc", "--dev", "/dev", "--size", str(16 * MIB), "--tmpfs", "/dev/shm"]
    command += ["--size", str(limits.file_bytes), "--tmpfs", "/tmp"]
    read_only = {Path(sys.base_prefix), Path(sys.prefix), PACKAGE_DIR}
    made: set[Path] = {Path("/"), Path("/usr"), Path("/tmp")}
    for path in sorted(read_only | {folder}):
        for parent in _directories_of(path):
            inside = any(parent == bound or bound in parent.parents for bound in read_only)
            if parent not in made and not inside:
                command += ["--perms", "0755", "--dir", str(parent)]
                made.add(parent)
        if path == folder:
            command += ["--bind", str(path), str(path)]
        else:
            command += ["--ro-bind", str(path), str(path)]
    # the folders made above are the jail's own: as a user (who owns them in its namespace)
    # the kernel could fill them with files in memory, past every cap
    command += ["--remount-ro", "/"]
    home = folder / "home"
    environment = {
        "HOME": str(home),
        "TMPDIR": str(folder / "tmp"),
        "PATH": f"{Path(sys.prefix, 'bin')}:/usr/bin:/bin",
        "PYTHONPATH": str(PACKAGE_DIR.parent),  # the grader's own package, even from a worktree
        "LANG": "C.UTF-8",
        "MPLBACKEND": "agg",
        "OMP_NUM_THREADS": "1",  # one thread per kernel: --jobs kernels share the cores
        "MPLCONFIGDIR": str(home / ".matplotlib"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    for name, value in environment.items():
        command += ["--setenv", name, value]
    command += ["--chdir", str(folder / "work"), "--"]
    command += [
        "prlimit",
        f"--data={limits.memory_bytes}",
        f"--cpu={int(limits.cpu_s)}:{int(limits.cpu_s) + 5}",  # SIGXCPU, then SIGKILL
        f"--nproc={limits.processes}",
        f"--fsize={limits.file_bytes}",
        "--core=0",
        "--",
    ]
    if os.geteuid() == 0:
        command += ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
        command += ["--no-new-privs", "--"]
    return command


class Sandbox:
    """A fresh temporary folder and the jail around it; `close()` deletes the folder."""

    def __init__(self, limits: Limits, enabled: bool = True) -> None:
        self.limits = limits
        self.enabled = enabled
        self.folder = Path(tempfile.mkdtemp(prefix="effml-grade-")).resolve()
        for name in ("home", "tmp", "work"):
            (self.folder / name).mkdir()
        _copy_font_cache(self.folder / "home" / ".matplotlib")
        if enabled and os.geteuid() == 0:
            for path in self.folder.rglob("*"):
                os.chown(path, NOBODY, NOBODY)
            os.chown(self.folder, NOBODY, NOBODY)

    def kernel_manager(self, kernel_name: str) -> KernelManager:
        """A kernel manager whose kernel starts in this sandbox, on Unix sockets in the folder."""
        prefix = jail_command(self.folder, self.limits) if self.enabled else []
        return JailedKernelManager(
            prefix=prefix,
            owner=NOBODY if self.enabled and os.geteuid() == 0 else None,
            kernel_name=kernel_name,
            transport="ipc",
            ip=str(self.folder / "kernel"),
            connection_file=str(self.folder / "kernel.json"),
        )

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _copy_font_cache(into: Path) -> None:
    """Matplotlib's font list from the grader's cache, so that no kernel rebuilds it (~2 s)."""
    import matplotlib

    into.mkdir()
    for path in Path(matplotlib.get_cachedir()).glob("fontlist-*.json"):
        shutil.copy(path, into)


class JailedKernelManager(KernelManager):
    """A KernelManager whose kernel command is prefixed by the jail's command line."""

    def __init__(self, prefix: list[str], owner: int | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._prefix = prefix
        self._owner = owner

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        return self._prefix + super().format_kernel_cmd(extra_arguments)

    def write_connection_file(self, **kwargs: Any) -> None:
        super().write_connection_file(**kwargs)
        if self._owner is not None:  # the kernel, as the unprivileged user, must read it
            os.chown(self.connection_file, self._owner, self._owner)
