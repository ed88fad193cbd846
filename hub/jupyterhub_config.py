"""JupyterHub for a class on one machine: `make hub` (docs/instructor.md, "A hub on one machine").

Every learner's Jupyter server is a local process of this venv's Python (the package, its server
extension, nbgitpuller); configurable-http-proxy (scripts/install_hub.sh) routes to them;
jupyterhub-idle-culler stops idle servers. Settings come from environment variables:

    HUB_PASSWORD       the one password every learner logs in with (required; TESTING ONLY)
    HUB_IP, HUB_PORT   where learners connect (127.0.0.1, 8000)
    HUB_API_PORT       the hub's own port, behind the proxy (8081)
    PROXY_API_PORT     the proxy's REST API (8001)
    HUB_DATA           the hub's database, cookie secret and the learners' homes (.hub-data)
    HUB_MEM_LIMIT      memory per learner, server and kernels together (2G)
    HUB_CPU_LIMIT      cores per learner (1); OMP_NUM_THREADS is set to it, rounded down, >= 1
    HUB_CULL_TIMEOUT   seconds idle before a learner's server is stopped (1200)
    HUB_CGROUP         the parent of the learners' cgroups, under /sys/fs/cgroup (effml-hub)
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from jupyterhub.spawner import SimpleLocalProcessSpawner

c = get_config()  # type: ignore[name-defined]  # noqa: F821  (traitlets' config loader)

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
DATA = Path(os.environ.get("HUB_DATA", ROOT / ".hub-data")).resolve()
CPU_LIMIT = float(os.environ.get("HUB_CPU_LIMIT", "1"))
CULL_TIMEOUT = int(os.environ.get("HUB_CULL_TIMEOUT", "1200"))
CGROUP_ROOT = Path("/sys/fs/cgroup")
CGROUP_NAME = os.environ.get("HUB_CGROUP", "effml-hub")

password = os.environ.get("HUB_PASSWORD")
if not password:
    sys.exit(
        "HUB_PASSWORD is not set: export HUB_PASSWORD=... (the learners' shared test password)"
    )
DATA.mkdir(parents=True, exist_ok=True)

# --- where it listens, where it keeps its state ---------------------------------------------------
c.JupyterHub.bind_url = (
    f"http://{os.environ.get('HUB_IP', '127.0.0.1')}:{os.environ.get('HUB_PORT', '8000')}"
)
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{os.environ.get('HUB_API_PORT', '8081')}"
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{os.environ.get('PROXY_API_PORT', '8001')}"
c.ConfigurableHTTPProxy.command = [
    str(VENV_BIN.parent / "hub-node" / "node_modules" / ".bin" / "configurable-http-proxy")
]
c.ConfigurableHTTPProxy.pid_file = str(DATA / "proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{DATA / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(DATA / "jupyterhub_cookie_secret")
c.JupyterHub.cleanup_servers = True  # stopping the hub stops every learner's server

# --- who may log in: FOR A CLASS TEST ONLY ------------------------------------------------------
# DummyAuthenticator lets anyone in with any user name and the one shared password. For a real
# class use your institution's login: oauthenticator (GitHub, Google, a generic OAuth2/OIDC
# provider), ltiauthenticator (from an LMS such as Canvas or Moodle) or NativeAuthenticator.
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = password
c.Authenticator.allow_all = True


# --- the learners' servers ------------------------------------------------------------------------
class LimitedLocalProcessSpawner(SimpleLocalProcessSpawner):
    """JupyterHub's SimpleLocalProcessSpawner, with mem_limit and cpu_limit enforced by a cgroup
    per learner when this process may create cgroups (root; cgroup v1 or v2). The learner's
    server joins it before it starts, and its kernels inherit it. Where it may not, the limits
    are only passed on (MEM_LIMIT, CPU_LIMIT) and a warning says so."""

    def _cgroups(self) -> list[Path]:
        """The learner's cgroup folders (one per v1 controller, or one v2 folder)."""
        name = f"{CGROUP_NAME}/{self.user.name}"
        if (CGROUP_ROOT / "cgroup.controllers").exists():
            return [CGROUP_ROOT / name]
        return [CGROUP_ROOT / "memory" / name, CGROUP_ROOT / "cpu" / name]

    def _make_cgroups(self) -> list[Path]:
        """Create the learner's cgroups with the limits; [] (and a warning) where it may not."""
        folders = self._cgroups()
        mem, quota, period = self.mem_limit, int(self.cpu_limit * 100_000), 100_000
        try:
            if len(folders) == 1:  # v2: the parent hands memory and cpu down to its children
                folders[0].mkdir(parents=True, exist_ok=True)
                (folders[0].parent / "cgroup.subtree_control").write_text("+memory +cpu")
                (folders[0] / "memory.max").write_text(str(mem))
                (folders[0] / "cpu.max").write_text(f"{quota} {period}")
            else:
                memory, cpu = folders
                memory.mkdir(parents=True, exist_ok=True)
                cpu.mkdir(parents=True, exist_ok=True)
                (memory / "memory.limit_in_bytes").write_text(str(mem))
                (cpu / "cpu.cfs_period_us").write_text(str(period))
                (cpu / "cpu.cfs_quota_us").write_text(str(quota))
        except OSError as error:
            self.log.warning(
                "%s: limits NOT enforced (cannot write cgroups under %s: %s); only MEM_LIMIT and"
                " CPU_LIMIT are passed on", self.user.name, CGROUP_ROOT, error,
            )  # fmt: skip
            return []
        return folders

    async def _empty(self, folder: Path, grace_s: float = 5.0) -> None:
        """Wait for the processes left in the learner's cgroup (kernels stop after their
        server) for `grace_s`, then kill them: nothing the learner started outlives the server."""
        procs = folder / "cgroup.procs"
        kill_at = time.monotonic() + grace_s
        while procs.exists() and (pids := procs.read_text().split()):
            if time.monotonic() > kill_at + grace_s:  # SIGKILL did not take: leave the group
                self.log.warning("%s: processes %s outlived their server", self.user.name, pids)
                return
            if time.monotonic() > kill_at:
                for pid in pids:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(int(pid), signal.SIGKILL)
            await asyncio.sleep(0.1)

    def make_preexec_fn(self, name: str) -> Any:
        folders = self._make_cgroups()
        parent_preexec = super().make_preexec_fn(name)

        def preexec() -> None:  # in the child, before it runs the server
            for folder in folders:
                (folder / "cgroup.procs").write_text(str(os.getpid()))
            if parent_preexec is not None:
                parent_preexec()

        return preexec

    async def stop(self, now: bool = False) -> None:
        await super().stop(now=now)
        for folder in self._cgroups():
            await self._empty(folder)
            for empty in (folder, folder.parent):  # the parent once the last learner has gone
                try:
                    empty.rmdir()
                except OSError:
                    break


c.JupyterHub.spawner_class = LimitedLocalProcessSpawner
c.SimpleLocalProcessSpawner.home_dir_template = str(DATA / "home" / "{username}")
c.Spawner.cmd = [sys.executable, "-m", "jupyterhub.singleuser"]
c.Spawner.default_url = "/lab"
c.Spawner.mem_limit = os.environ.get("HUB_MEM_LIMIT", "2G")
c.Spawner.cpu_limit = CPU_LIMIT
c.Spawner.environment = {
    "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
    "OMP_NUM_THREADS": str(max(1, math.floor(CPU_LIMIT))),  # torch's threads match the cores
}
if os.geteuid() == 0:  # every server runs as the hub's user (see docs/instructor.md)
    c.Spawner.args = ["--ServerApp.allow_root=True"]
c.Spawner.start_timeout = 300  # a whole class spawning at once on a small machine is slow
c.Spawner.http_timeout = 300

# --- stop idle servers ----------------------------------------------------------------------------
c.JupyterHub.services = [
    {
        "name": "idle-culler",
        "command": [  # the culler ignores the SIGINT the hub stops it with for 20 s: not so here
            sys.executable, "-c",
            "import runpy, signal; signal.signal(signal.SIGINT, signal.SIG_DFL);"
            " runpy.run_module('jupyterhub_idle_culler', run_name='__main__')",
            f"--timeout={CULL_TIMEOUT}", "--cull-every=60",
        ],
    }
]  # fmt: skip
c.JupyterHub.load_roles = [
    {
        "name": "idle-culler",
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
        "services": ["idle-culler"],
    }
]
