"""The builds' scratch directory (`builds.workdir`): made private, emptied of ours only."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

from jupyterhub_ov.builds import workdir


def test_clear_removes_only_scratch_directories_of_ours(tmp_path: Path) -> None:
    work = tmp_path / "work"
    for name in ("jupyterhub-ov-resolve-abc", "jupyterhub-ov-git-def", "jupyterhub-ov-validate-x"):
        (work / name / "deep").mkdir(parents=True)
        (work / name / "deep" / "file").write_text("left by a killed build")
    (work / "someone-elses").mkdir()
    (work / "jupyterhub-ov-a-file").write_text("not a directory")
    (tmp_path / "elsewhere").mkdir()
    (work / "jupyterhub-ov-link").symlink_to(tmp_path / "elsewhere", target_is_directory=True)

    removed = workdir.clear(str(work))

    assert removed == [
        "jupyterhub-ov-git-def",
        "jupyterhub-ov-resolve-abc",
        "jupyterhub-ov-validate-x",
    ]
    assert sorted(os.listdir(work)) == [
        "jupyterhub-ov-a-file",
        "jupyterhub-ov-link",
        "someone-elses",
    ]
    assert (tmp_path / "elsewhere").is_dir()  # a link is never followed


def test_clear_makes_a_missing_directory_private(tmp_path: Path) -> None:
    work = tmp_path / "state" / "work"
    assert workdir.clear(str(work)) == []
    assert stat.S_IMODE(work.stat().st_mode) == 0o700


async def test_scratch_is_made_in_the_work_dir_and_removed_afterwards(tmp_path: Path) -> None:
    work = tmp_path / "work"
    async with workdir.scratch(str(work), "resolve") as tmp:
        assert Path(tmp).parent == work and Path(tmp).name.startswith("jupyterhub-ov-resolve-")
        await asyncio.to_thread(Path(tmp, "requirements.in").write_text, "pkg\n")
    assert os.listdir(work) == []
