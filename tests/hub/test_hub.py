"""`make hub` end to end: the hub starts from hub/jupyterhub_config.py, two learners log in
through its form, spawn, pull the release's learner branch with an nbgitpuller link, run lab
03's learner copy in their kernels and move an explorer's slider through the hub's proxy; one
opens an explorer with Voila in their own server; stopping the hub stops everything.

Needs the hub installed (scripts/install_hub.sh; `make test` runs it). Skipped otherwise,
except on CI, where a missing hub fails."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import psutil
import pytest
from hub_learner import Kernel, Learner, LearnerError
from hub_server import BRANCH, hub_installed, labs_repository, running_hub

from widgets import manifest

pytestmark = pytest.mark.hub

if not hub_installed():
    if os.environ.get("CI"):
        raise RuntimeError("the hub is not installed: run scripts/install_hub.sh (make test does)")
    pytest.skip("the hub is not installed (scripts/install_hub.sh)", allow_module_level=True)

LAB = next(lab.notebook for lab in manifest.LABS if lab.notebook.startswith("03_"))
FOLDER = "effml-labs"
LAB_PATH = f"{FOLDER}/my-labs/{LAB}"


def nudge(kernel: Kernel) -> float | None:
    """Move the first slider one step (down at its maximum); the seconds to a new picture."""
    slider = kernel.sliders()[0]
    state = slider.state
    step = state.get("step", 1)
    value = (
        state["value"] + step if state["value"] + step <= state["max"] else state["value"] - step
    )
    return kernel.move(slider, value)


def test_two_learners_pull_run_and_move_a_slider(tmp_path):
    password = secrets.token_urlsafe(12)
    repo = labs_repository(tmp_path / "instructor")
    with running_hub(tmp_path / "hub", password) as hub:
        with pytest.raises(LearnerError, match="login refused"):
            Learner(hub.url, "mallory", "not-the-password").log_in()

        for name in ("ada", "grace"):
            learner = Learner(hub.url, name, password)
            learner.log_in()
            learner.spawn()
            learner.pull(repo, BRANCH, FOLDER, f"my-labs/{LAB}")
            assert (hub.data / "home" / name / LAB_PATH).exists()

            kernel = learner.start_kernel(LAB_PATH)
            try:
                learner.run_all(kernel, LAB_PATH)
                assert kernel.sliders(), "lab 03 opened no slider"
                assert nudge(kernel) is not None, "no new picture after a slider step"
                kernel.execute(
                    "import os\n"
                    "assert os.environ['OMP_NUM_THREADS'] == '1', os.environ['OMP_NUM_THREADS']\n"
                    "print(open('/proc/self/cgroup').read())"
                )
            finally:
                kernel.close()

        # Voila through the hub, for a lecture: the explorer runs in the learner's own server
        explorer = f"{learner.server_url}/voila/render/{FOLDER}/docs/explorers/attention.ipynb"
        page = learner.check(learner.http.get(explorer, timeout=120), "Voila")
        assert "application/vnd.jupyter.widget-view+json" in page.text

        limits_enforced = "limits NOT enforced" not in hub.log_tail(100_000)
        if limits_enforced:  # each learner's kernels run in that learner's cgroup
            for name in ("ada", "grace"):
                kernels = [
                    process for process in hub.processes()
                    if "ipykernel_launcher" in " ".join(process.cmdline())
                    and f"/home/{name}/" in process.cwd() + "/"
                ]  # fmt: skip
                assert kernels, f"no kernel of {name} found"
                for kernel_process in kernels:
                    cgroups = Path(f"/proc/{kernel_process.pid}/cgroup").read_text()
                    assert f"/{name}" in cgroups, cgroups
        started = hub.processes()
        assert any("idle_culler" in " ".join(p.cmdline()) for p in started), "no idle culler"

    assert not [process for process in started if alive(process)], "left running"
    if limits_enforced:
        assert not list(Path("/sys/fs/cgroup").glob(f"**/{hub.cgroup}")), "cgroups left behind"


def alive(process: psutil.Process) -> bool:
    """Running, and not a zombie (dead, waiting for a parent that may be a container's init)."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
