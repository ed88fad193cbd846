"""Releases of the learner copies to a git branch that students pull with nbgitpuller.

    python -m widgets.labs release --repo URL --branch learner [--tag]

Fetches the branch with its history (or starts it if the repository has no such branch yet),
replaces its files by this release's (my-labs/NN_*.ipynb, learner copies stamped with their lab
and the package's version; docs/glossary.md, which the labs link to; docs/explorers/, one
explorer a notebook for Voila), commits them as
"release X.Y.Z" on top of the previous release and pushes without force: each release descends
from the one before, so nbgitpuller merges it into a student's clone of any earlier release. With
nothing changed it commits and pushes nothing. `--tag` also tags the release commit BRANCH-vX.Y.Z.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from widgets import __version__
from widgets.labs import learner_copy
from widgets.manifest import LABS

COPIES = Path("my-labs")  # where the copies sit on the learner branch (the nbgitpuller links')
LINKED = (Path("docs/glossary.md"),)  # files the labs link to, relative to the repository
EXPLORERS = Path("docs/explorers")  # one explorer a notebook, for Voila in a lecture


class ReleaseError(Exception):
    """A release that cannot be made; the message names the parameter or the git step."""


@dataclass(frozen=True)
class Release:
    """What a release did: its commit (None if nothing changed) and tag (None if none made)."""

    version: str
    branch: str
    commit: str | None
    tag: str | None
    head: str  # the branch's commit after the release


def _git(*arguments: str, cwd: Path | None = None, parameter: str = "") -> str:
    """Run git; its standard output, or a ReleaseError with git's message (after `parameter`)."""
    done = subprocess.run(["git", *arguments], cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
        said = "; ".join(line for line in lines if not line.startswith("hint:"))
        prefix = f"{parameter}: " if parameter else ""
        raise ReleaseError(f"{prefix}git {arguments[0]} failed: {said}")
    return done.stdout.strip()


def _remote_ref(repo: str, ref: str) -> str | None:
    """The commit `ref` (refs/heads/... or refs/tags/...) names in `repo`, None if it has none."""
    lines = _git("ls-remote", "--", repo, ref, ref + "^{}", parameter="--repo").splitlines()
    return lines[-1].split()[0] if lines else None  # an annotated tag's commit comes last


def carried_files(root: Path) -> list[Path]:
    """The repository's files each release carries besides the copies, relative to `root`."""
    explorers = sorted((root / EXPLORERS).glob("*.ipynb"))
    return [*LINKED, *(path.relative_to(root) for path in explorers)]


def write_release(labs_dir: Path, root: Path, into: Path, version: str) -> None:
    """Write this release's files into the working tree `into`: the copies and the linked docs."""
    (into / COPIES).mkdir(parents=True, exist_ok=True)
    for lab in (labs_dir / info.notebook for info in LABS):
        if lab.exists():
            nbformat.write(learner_copy(lab, version), into / COPIES / lab.name)
    for linked in carried_files(root):
        (into / linked).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / linked, into / linked)


def release(
    repo: str,
    branch: str,
    labs_dir: Path = Path("labs"),
    *,
    tag: bool = False,
    version: str = __version__,
) -> Release:
    """Commit this release's learner copies on `branch` of `repo` and push it, never forced."""
    if not repo:
        raise ReleaseError("--repo: say which repository the students pull from")
    valid = subprocess.run(["git", "check-ref-format", "--branch", branch], capture_output=True)
    if not branch or valid.returncode != 0:
        raise ReleaseError(f"--branch: {branch!r} is not a valid git branch name")
    if not any((labs_dir / info.notebook).exists() for info in LABS):
        raise ReleaseError(f"--labs: none of the labs of widgets.manifest is in {labs_dir}")
    tag_name = f"{branch}-v{version}" if tag else None
    previous = _remote_ref(repo, f"refs/heads/{branch}")
    tagged = _remote_ref(repo, f"refs/tags/{tag_name}") if tag_name else None
    with tempfile.TemporaryDirectory(prefix="effml-release-") as scratch:
        work = Path(scratch) / "learner"
        if previous:
            _git("clone", "-q", "--single-branch", "--branch", branch, "--", repo, str(work))
        else:
            _git("init", "-q", "-b", branch, str(work))
            _git("remote", "add", "origin", repo, cwd=work)
        _git("rm", "-r", "-q", "--ignore-unmatch", "--", ".", cwd=work)  # files dropped since
        write_release(labs_dir, labs_dir.resolve().parent, work, version)
        _git("add", "-A", cwd=work)
        commit = None
        if _git("status", "--porcelain", cwd=work):
            source = subprocess.run(
                ["git", "describe", "--always", "--dirty"],
                cwd=labs_dir,
                capture_output=True,
                text=True,
                check=False,
            ).stdout.strip()
            body = f"Learner copies of {labs_dir.name}/" + (f" at {source}" if source else "")
            _git("commit", "-q", "-m", f"release {version}", "-m", body, cwd=work)
            commit = _git("rev-parse", "HEAD", cwd=work)
        head = commit or previous
        if tagged and tagged != head:
            raise ReleaseError(
                f"--tag: {tag_name} already names commit {tagged[:7]} in {repo}, not this "
                f"release; raise widgets.__version__ for a new tagged release"
            )
        refs = [f"refs/heads/{branch}:refs/heads/{branch}"] if commit else []
        if tag_name and not tagged:
            _git("tag", "-a", tag_name, "-m", f"release {version}", cwd=work)
            refs.append(f"refs/tags/{tag_name}:refs/tags/{tag_name}")
        if refs:
            try:
                _git("push", "-q", "--atomic", "origin", *refs, cwd=work, parameter="push")
            except ReleaseError as error:
                if "[rejected]" not in str(error):
                    raise
                raise ReleaseError(
                    f"push: {branch} of {repo} moved while this release was made (another "
                    "release?); nothing was pushed: run the release again"
                ) from error
    return Release(version, branch, commit, tag_name if tag_name and not tagged else None, head)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m widgets.labs release",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--repo", required=True, help="the repository students pull from (URL or path)"
    )
    parser.add_argument(
        "--branch", required=True, help="the branch students pull (in the nbgitpuller link)"
    )
    parser.add_argument("--labs", type=Path, default=Path("labs"), help="default: labs")
    parser.add_argument("--tag", action="store_true", help="also tag the release BRANCH-vX.Y.Z")
    arguments = parser.parse_args(argv)
    try:
        done = release(arguments.repo, arguments.branch, arguments.labs, tag=arguments.tag)
    except ReleaseError as error:
        parser.error(str(error))
    where = f"{done.branch} of {arguments.repo}"
    if done.commit is None:
        print(f"nothing to release: {where} already holds these copies ({done.head[:7]})")
    else:
        print(f"release {done.version} pushed to {where}: commit {done.commit[:7]}")
    if done.tag:
        print(f"tag {done.tag} pushed for commit {done.head[:7]}")
    return 0
