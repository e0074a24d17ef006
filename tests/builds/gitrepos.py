"""Local git repositories for GitRepository builds, made with git in a temp directory."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

NOTEBOOK = {
    "cells": [
        {
            "cell_type": "code",
            "metadata": {},
            "source": "import ovtiny",
            "outputs": [],
            "execution_count": None,
        }
    ],
    "metadata": {},
    "nbformat": 4,
    "nbformat_minor": 5,
}


@dataclass(frozen=True)
class Repo:
    path: Path
    #: branch name → commit
    commits: Mapping[str, str]

    @property
    def url(self) -> str:
        return self.path.as_uri()


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        [
            "git",
            "-c",
            "user.name=Tests",
            "-c",
            "user.email=tests@example.org",
            "-c",
            "init.defaultBranch=main",
            *args,
        ],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def _commit(repo: Path, files: Mapping[str, str | None], message: str) -> str:
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if text is None:
            path.unlink()
        else:
            path.write_text(text)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", message)
    return _git(repo, "rev-parse", "HEAD")


def commit_files(repo: Path, files: Mapping[str, str | None], message: str) -> str:
    """Commit ``files`` (None: remove) on the checked-out branch of ``repo``; the new sha."""
    return _commit(repo, files, message)


def make_repo(path: Path, requirements: str | None) -> Repo:
    """A repository with a notebook, a data file, a symlink and ``requirements`` (if any) on
    ``main``, and a branch ``next`` that changes only the notebook."""
    path.mkdir(parents=True)
    _git(path, "init", "-q")
    files: dict[str, str | None] = {
        "demo.ipynb": json.dumps(NOTEBOOK),
        "data/readme.md": "# Data\n",
    }
    if requirements is not None:
        files["requirements.txt"] = requirements
    os.symlink("/etc/hostname", path / "outside-link")
    main = _commit(path, files, "A demo")
    _git(path, "checkout", "-q", "-b", "next")
    changed = dict(NOTEBOOK, metadata={"changed": True})
    nxt = _commit(path, {"demo.ipynb": json.dumps(changed)}, "Change the notebook only")
    _git(path, "checkout", "-q", "main")
    return Repo(path, {"main": main, "next": nxt})


def make_repository(path: Path, files: Mapping[str, str], *, branch: str = "main") -> str:
    """A git repository at ``path`` with one commit of ``files`` on ``branch``; its sha."""
    path.mkdir(parents=True, exist_ok=True)
    _git(path, "init", "-q", "-b", branch)
    return _commit(path, dict(files), "notebook image sources")
