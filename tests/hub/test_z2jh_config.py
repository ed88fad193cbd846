"""hub/z2jh-config.yaml uses only keys the Zero to JupyterHub chart documents, and the guide
shows that file as it is."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "hub" / "z2jh-config.yaml"

# Keys of the chart's configuration reference (https://z2jh.jupyter.org/en/stable/resources/
# reference.html, chart 4.x), as dotted paths; a mapping whose keys are the user's own
# (extraEnv: variable names) ends the path.
DOCUMENTED = {
    "singleuser.image.name", "singleuser.image.tag", "singleuser.defaultUrl",
    "singleuser.startTimeout", "singleuser.memory.guarantee", "singleuser.memory.limit",
    "singleuser.cpu.guarantee", "singleuser.cpu.limit", "singleuser.extraEnv",
    "cull.enabled", "cull.timeout", "cull.every", "cull.maxAge",
    "prePuller.hook.enabled", "prePuller.continuous.enabled",
    "scheduling.userScheduler.enabled", "scheduling.podPriority.enabled",
    "scheduling.userPlaceholder.enabled", "scheduling.userPlaceholder.replicas",
    "hub.concurrentSpawnLimit", "hub.activeServerLimit",
}  # fmt: skip
FREE_FORM = {"singleuser.extraEnv"}


def leaf_paths(node: object, prefix: str = "") -> set[str]:
    if not isinstance(node, dict) or prefix in FREE_FORM:
        return {prefix}
    return {
        path
        for key, value in node.items()
        for path in leaf_paths(value, f"{prefix}.{key}".lstrip("."))
    }


def test_every_key_is_documented_by_the_chart():
    config = yaml.safe_load(CONFIG.read_text())
    assert leaf_paths(config) <= DOCUMENTED, leaf_paths(config) - DOCUMENTED


def test_omp_threads_match_the_cpu_limit():
    singleuser = yaml.safe_load(CONFIG.read_text())["singleuser"]
    assert int(singleuser["extraEnv"]["OMP_NUM_THREADS"]) == int(singleuser["cpu"]["limit"])


def test_the_guide_shows_the_config_as_it_is():
    guide = (REPO / "docs" / "instructor.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", guide, flags=re.S)
    assert CONFIG.read_text() in blocks
