"""Releases of the learner copies (python -m widgets.labs release): three releases pulled with the
real nbgitpuller by a student who edits a lab and by one who joins late, from a bare repository."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from nbgitpuller.pull import GitPuller

import widgets.release
from widgets import __version__
from widgets.labs import STAMP, main
from widgets.manifest import LABS
from widgets.release import ReleaseError, release

BRANCH = "learner"
LAB1, LAB2, LAB3 = (info.notebook for info in LABS[:3])


def git(*arguments: str, cwd: Path) -> str:
    return subprocess.run(
        ["git", *arguments], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout.strip()


def write_lab(labs: Path, name: str, extra: list[str] = ()) -> None:
    """A small lab: a question, its answer cell, a check, `extra` markdown cells, a summary."""
    cells = [
        new_markdown_cell("## A question\nHow many MACs?"),
        new_code_cell("answer = None  # your answer"),
        new_code_cell("lab.macs.check(answer)", outputs=[], execution_count=3),
        *(new_markdown_cell(text) for text in extra),
        new_markdown_cell("## What to remember\nMACs count multiply-adds."),
    ]
    for cell in cells:  # stable ids, as a lab saved again keeps them
        cell.id = hashlib.sha256(cell.source.encode()).hexdigest()[:8]
    nbformat.write(new_notebook(cells=cells), labs / name)


def pull(url: str, home: Path) -> Path:
    """nbgitpuller's pull of the learner branch into `home`, run to completion; the clone."""
    clone = home / "effml-widgets"
    for _ in GitPuller(url, str(clone), branch=BRANCH).pull():
        pass
    return clone


def cell_sources(path: Path) -> list[str]:
    return [cell.source for cell in nbformat.read(path, as_version=4).cells]


@pytest.fixture
def source(tmp_path: Path, monkeypatch) -> Path:
    """A source repository's labs/ with labs 01 and 02, and the glossary they link to."""
    for name, value in {"NAME": "Instructor", "EMAIL": "instructor@example.org"}.items():
        monkeypatch.setenv(f"GIT_AUTHOR_{name}", value)
        monkeypatch.setenv(f"GIT_COMMITTER_{name}", value)
    labs = tmp_path / "source" / "labs"
    labs.mkdir(parents=True)
    (tmp_path / "source" / "docs").mkdir()
    (tmp_path / "source" / "docs" / "glossary.md").write_text("# Glossary\n")
    write_lab(labs, LAB1)
    write_lab(labs, LAB2)
    return labs


@pytest.fixture
def url(tmp_path: Path) -> str:
    """An empty bare repository, by file:// URL (so nbgitpuller's clones are shallow, as on a hub)."""
    bare = tmp_path / "learner.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    return bare.as_uri()


def test_three_releases_reach_a_student_who_edits_and_one_who_joins_late(
    source: Path, url: str, tmp_path: Path, capsys
) -> None:
    # Release 1 by the command line, then student A pulls it.
    assert main(["release", "--repo", url, "--branch", BRANCH, "--labs", str(source)]) == 0
    assert "pushed to learner" in capsys.readouterr().out
    a = pull(url, tmp_path / "a")
    stamp = nbformat.read(a / "my-labs" / LAB1, as_version=4).metadata[STAMP]
    assert stamp == {"lab": LABS[0].module, "version": __version__}
    assert (a / "docs" / "glossary.md").exists()
    assert cell_sources(a / "my-labs" / LAB1)[2] == "lab.macs.check(answer)"

    # Student A answers in lab 01 and adds a cell of their own, as JupyterLab saves it.
    edited = nbformat.read(a / "my-labs" / LAB1, as_version=4)
    edited.cells[1].source = "answer = 42  # your answer"
    edited.cells.append(new_code_cell("mine = 'my own notes'"))
    nbformat.write(edited, a / "my-labs" / LAB1)
    mine = cell_sources(a / "my-labs" / LAB1)

    # Release 2: a new cell in each lab (A edited lab 01, not lab 02) and a new lab 03.
    write_lab(source, LAB1, ["A new hint"])
    write_lab(source, LAB2, ["A new section"])
    write_lab(source, LAB3)
    second = release(url, BRANCH, source, version="0.2.0")
    assert second.commit is not None
    a, b = pull(url, tmp_path / "a"), pull(url, tmp_path / "b")

    # nbgitpuller commits A's changes and merges the release with `git merge -Xours`: where the
    # release and A changed the same lines A's lines win, the release's other changes are merged
    # into A's file too. Files A did not touch become the release's.
    ours = cell_sources(a / "my-labs" / LAB1)
    assert ours[1] == "answer = 42  # your answer" and ours[-1] == "mine = 'my own notes'"
    assert "A new hint" in ours and ours == [*mine[:3], "A new hint", *mine[3:]]
    for student in (a, b):
        assert cell_sources(student / "my-labs" / LAB2) == cell_sources(source / LAB2)
        assert (student / "my-labs" / LAB3).exists()
    assert cell_sources(b / "my-labs" / LAB1) == cell_sources(source / LAB1)
    assert nbformat.read(b / "my-labs" / LAB2, as_version=4).metadata[STAMP]["version"] == "0.2.0"

    # Release 3 appends a cell to lab 01 where A appended theirs, pulled by both.
    write_lab(source, LAB2, ["A new section", "A third release"])
    lab1 = nbformat.read(source / LAB1, as_version=4)
    lab1.cells.append(new_markdown_cell("An appendix", id="appendix"))
    nbformat.write(lab1, source / LAB1)
    third = release(url, BRANCH, source, version="0.3.0", tag=True)
    assert third.tag == "learner-v0.3.0"
    a, b = pull(url, tmp_path / "a"), pull(url, tmp_path / "b")
    for student in (a, b):
        assert "A third release" in cell_sources(student / "my-labs" / LAB2)
    # The appendix conflicts with A's cell (the same lines): A's cell stays, the appendix does
    # not reach A (B has it); the stamp, which A did not touch, follows the release.
    assert cell_sources(a / "my-labs" / LAB1) == ours
    assert cell_sources(b / "my-labs" / LAB1) == cell_sources(source / LAB1)
    assert cell_sources(b / "my-labs" / LAB1)[-1] == "An appendix"
    assert nbformat.read(a / "my-labs" / LAB1, as_version=4).metadata[STAMP]["version"] == "0.3.0"
    # A fresh copy on a hub: rename yours and pull again (nbgitpuller restores a missing file).
    (a / "my-labs" / LAB1).rename(a / "my-labs" / "mine.ipynb")
    a = pull(url, tmp_path / "a")
    assert cell_sources(a / "my-labs" / LAB1) == cell_sources(source / LAB1)
    assert cell_sources(a / "my-labs" / "mine.ipynb") == ours
    again = release(url, BRANCH, source, version="0.3.0", tag=True)
    assert again.commit is None and again.tag is None and again.head == third.commit

    # The branch kept every release, one on top of the other: nothing was force-pushed.
    bare = Path(url.removeprefix("file://"))
    log = git("log", "--format=%H %P|%s", BRANCH, cwd=bare).splitlines()
    assert [line.split("|")[1] for line in log] == [
        "release 0.3.0",
        "release 0.2.0",
        f"release {__version__}",
    ]
    parents = [line.split("|")[0].split() for line in log]
    assert [p[1:] for p in parents] == [[parents[1][0]], [parents[2][0]], []]
    assert git("rev-parse", "learner-v0.3.0^{commit}", cwd=bare) == third.commit


def test_a_rerun_with_nothing_changed_says_so(source: Path, url: str, capsys) -> None:
    arguments = ["release", "--repo", url, "--branch", BRANCH, "--labs", str(source)]
    assert main(arguments) == 0
    capsys.readouterr()
    assert main(arguments) == 0
    assert "nothing to release" in capsys.readouterr().out


def test_a_tag_of_an_earlier_release_is_not_moved(source: Path, url: str) -> None:
    release(url, BRANCH, source, tag=True, version="0.1.0")
    write_lab(source, LAB1, ["A change without a new version"])
    with pytest.raises(ReleaseError, match=r"--tag: learner-v0\.1\.0 already names commit"):
        release(url, BRANCH, source, tag=True, version="0.1.0")


def test_a_release_pushed_meanwhile_is_not_overwritten(source: Path, url: str, monkeypatch) -> None:
    release(url, BRANCH, source, version="0.1.0")
    write = widgets.release.write_release

    def someone_else_releases_first(*arguments) -> None:
        monkeypatch.setattr(widgets.release, "write_release", write)
        release(url, BRANCH, source, version="0.2.0")
        write(*arguments)

    monkeypatch.setattr(widgets.release, "write_release", someone_else_releases_first)
    with pytest.raises(ReleaseError, match=r"^push: learner of .* moved while this release"):
        release(url, BRANCH, source, version="0.3.0")
    bare = Path(url.removeprefix("file://"))
    assert git("log", "--format=%s", BRANCH, cwd=bare).splitlines() == [
        "release 0.2.0",
        "release 0.1.0",
    ]


@pytest.mark.parametrize(
    ("repo", "branch", "parameter"),
    [
        ("", BRANCH, "--repo"),
        ("/no/such/repository", BRANCH, "--repo"),
        (None, "bad..name", "--branch"),
    ],
)
def test_wrong_input_names_the_parameter(source, url, repo, branch, parameter, capsys) -> None:
    arguments = ["release", "--repo", url if repo is None else repo, "--branch", branch]
    with pytest.raises(SystemExit) as stopped:
        main([*arguments, "--labs", str(source)])
    assert stopped.value.code == 2
    assert f"error: {parameter}:" in capsys.readouterr().err
