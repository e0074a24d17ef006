"""A git repository at one commit: fetched shallow, read, its files copied (async git).

Git runs with `resolve.git_env` (no prompts, only the allowed protocols) and fetches exactly
the resolved commit, so what is built is what was resolved even if the branch moved since.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from jupyterhub_ov.builds import workdir
from jupyterhub_ov.builds.process import CommandFailed, LineSink, run
from jupyterhub_ov.builds.resolve import git_env

from ...errors import BuildFailed

REQUIREMENTS = "requirements.txt"


async def _git(
    args: Sequence[str], *, cwd: str, schemes: Sequence[str], on_line: LineSink | None
) -> str:
    cmd = ["git", "-c", "init.defaultBranch=main", "-c", "advice.detachedHead=false", *args]
    done = await run(cmd, cwd=cwd, env=git_env(schemes), on_line=on_line, capture=True)
    return done.output


@asynccontextmanager
async def checkout(
    url: str,
    commit: str,
    *,
    schemes: Sequence[str],
    on_line: LineSink,
    work_dir: str,
    files: bool = True,
) -> AsyncIterator[str]:
    """A temporary shallow clone of ``url`` at ``commit`` (its files only when ``files``) in
    ``work_dir``, removed afterwards."""
    async with workdir.scratch(work_dir, "git") as tmp:
        try:
            await _git(["init", "-q", tmp], cwd=tmp, schemes=schemes, on_line=on_line)
            await _git(
                ["fetch", "--depth", "1", "--no-tags", "--", url, commit],
                cwd=tmp,
                schemes=schemes,
                on_line=on_line,
            )
            if files:
                await _git(
                    ["checkout", "-q", "--detach", "FETCH_HEAD"],
                    cwd=tmp,
                    schemes=schemes,
                    on_line=on_line,
                )
        except CommandFailed as e:
            raise BuildFailed(f"Commit {commit} of {url} could not be fetched: {e}") from None
        yield tmp


async def read_requirements(
    url: str, commit: str, *, schemes: Sequence[str], on_line: LineSink, work_dir: str
) -> str | None:
    """The text of the repository's ``requirements.txt`` at ``commit``, None without one."""
    fetched = checkout(
        url, commit, schemes=schemes, on_line=on_line, work_dir=work_dir, files=False
    )
    async with fetched as tmp:
        try:
            listing = await _git(
                ["ls-tree", "FETCH_HEAD", "--", REQUIREMENTS],
                cwd=tmp,
                schemes=schemes,
                on_line=None,
            )
            mode = listing.split(" ", 1)[0]
            if mode not in ("100644", "100755"):  # absent, or a symlink or directory
                return None
            # file contents are not log lines: no on_line
            return await _git(
                ["show", f"FETCH_HEAD:{REQUIREMENTS}"], cwd=tmp, schemes=schemes, on_line=None
            )
        except CommandFailed as e:
            raise BuildFailed(f"{REQUIREMENTS} of {url} could not be read: {e}") from None
