"""Resolving: pin a package list with uv, a git ref to its commit (async, streamed to the log).

Shared by every backend, so both modes lock the same way: ``uv pip compile`` for the target
Python version, optionally constrained to a base environment's versions, and ``git
ls-remote`` restricted to the allowed protocols (``GIT_ALLOW_PROTOCOL``) with prompts off.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Sequence
from pathlib import Path

from traitlets import Bool, HasTraits, List, Unicode

from . import workdir
from .errors import BuildFailed
from .model.index import PackageIndex
from .process import CommandFailed, LineSink, run

_COMMIT = re.compile(r"^[0-9a-f]{40}$")
#: git's own CA settings (see `netenv.TLS_ENV`): they only add trust
GIT_TLS_ENV = ("GIT_SSL_CAINFO", "GIT_SSL_CAPATH")


def uv_binary() -> str:
    """The uv executable shipped with the `uv` package in this environment."""
    from uv import find_uv_bin

    return str(find_uv_bin())


class PackageIndexOptions(HasTraits):
    """Where packages come from, as traits every backend shares (``c.<Backend>.index_url``)."""

    index_url = Unicode(
        "",
        config=True,
        help="""Package index URL (uv --index-url) for locking and installing builds. Empty:
        uv's default, PyPI. With the openshift backend it is also the cluster build's
        PIP_INDEX_URL.""",
    )
    extra_index_urls = List(
        Unicode(),
        config=True,
        help="""Further package indexes packages may come from (uv --extra-index-url). With the
        openshift backend also the cluster build's PIP_EXTRA_INDEX_URL.""",
    )
    find_links = List(
        Unicode(),
        config=True,
        help="""Directories or URLs of wheels and source archives packages may come from
        (uv --find-links). With the openshift backend they serve only the lock, resolved in
        the service: a cluster build cannot see local paths.""",
    )
    no_index = Bool(
        False,
        config=True,
        help="""Ignore all indexes: packages only from find_links (uv --no-index). With the
        openshift backend: when resolving the lock in the service.""",
    )
    offline = Bool(
        False,
        config=True,
        help="""Never use the network: packages only from uv's cache (uv --offline). With the
        openshift backend: when resolving the lock in the service.""",
    )
    system_certs = Bool(
        False,
        config=True,
        help="""Whether uv trusts the system's certificate store (uv --system-certs, called
        --native-tls before uv 0.11) besides its own bundled CAs: for an index behind a
        corporate CA that is installed on the machine. Without it uv trusts only its own CAs
        and SSL_CERT_FILE / SSL_CERT_DIR, which the hub hands on to the build service
        (docs/builder.md, "Behind a proxy or a custom CA"). With the openshift backend it
        applies to resolving the lock in the service.""",
    )

    @property
    def package_index(self) -> PackageIndex:
        return PackageIndex(
            index_url=self.index_url,
            extra_index_urls=tuple(self.extra_index_urls),
            find_links=tuple(self.find_links),
            no_index=self.no_index,
            offline=self.offline,
            system_certs=self.system_certs,
        )


#: what uv prints when it does not trust the index's certificate
_UNTRUSTED = ("UnknownIssuer", "invalid peer certificate", "certificate verify failed")
TLS_HINT = (
    "\nThe package index's certificate is not trusted (a corporate CA or proxy?): give the hub"
    " SSL_CERT_FILE (it hands it on to the build service), or set system_certs = True on the"
    " build backend to trust the system certificate store. See 'Behind a proxy or a custom"
    " CA' in docs/builder.md."
)


def tls_hint(output: Sequence[str]) -> str:
    """`TLS_HINT` when uv's ``output`` says a certificate was not trusted, else ``""``."""
    return TLS_HINT if any(m in line for line in output for m in _UNTRUSTED) else ""


def lock_lines(text: str) -> tuple[str, ...]:
    """The pins of a compiled requirements file, without comments and blank lines."""
    pins = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            pins.append(line)
    return tuple(pins)


async def compile_lock(
    requirements: Sequence[str],
    *,
    python_version: str,
    index: PackageIndex,
    on_line: LineSink,
    constraints: Sequence[str] = (),
    uv: str | None = None,
    env: dict[str, str] | None = None,
    work_dir: str,
) -> tuple[str, ...]:
    """The locked set (``name==version`` lines) for ``requirements`` on ``python_version``;
    its files in a scratch directory of ``work_dir`` (`workdir.scratch`)."""
    async with workdir.scratch(work_dir, "resolve") as tmp:
        source, constraint_file, output = (
            Path(tmp, "requirements.in"),
            Path(tmp, "constraints.txt"),
            Path(tmp, "requirements.txt"),
        )
        await asyncio.to_thread(source.write_text, "\n".join(requirements) + "\n")
        cmd = [
            uv or uv_binary(),
            "pip",
            "compile",
            str(source),
            "--output-file",
            str(output),
            "--python-version",
            python_version,
            "--no-header",
            "--no-annotate",
            *index.uv_args(),
        ]
        if constraints:
            await asyncio.to_thread(constraint_file.write_text, "\n".join(constraints) + "\n")
            cmd += ["--constraint", str(constraint_file)]
        try:
            await run(cmd, on_line=on_line, env=env)
        except CommandFailed as e:
            message = f"The packages could not be resolved: {e}"
            raise BuildFailed(message + tls_hint(e.completed.tail)) from None
        return lock_lines(await asyncio.to_thread(output.read_text))


def git_env(schemes: Sequence[str]) -> dict[str, str]:
    """Git never prompts and speaks only the allowed protocols (no ``ext::`` tricks); of the
    service's own ``GIT_*`` settings only the CAs to trust are kept (a corporate CA)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") or k in GIT_TLS_ENV}
    env.update(
        GIT_TERMINAL_PROMPT="0",
        GIT_ALLOW_PROTOCOL=":".join(schemes),
        GIT_CONFIG_NOSYSTEM="1",
    )
    return env


async def resolve_commit(
    url: str, ref: str, *, schemes: Sequence[str], on_line: LineSink, git: str = "git"
) -> str:
    """The commit ``ref`` (branch, tag, or empty for HEAD) points to in ``url``."""
    if _COMMIT.match(ref):
        return ref
    wanted = ref or "HEAD"
    try:
        completed = await run(
            [git, "ls-remote", "--", url, wanted],
            on_line=on_line,
            env=git_env(schemes),
            capture=True,
        )
    except CommandFailed as e:
        raise BuildFailed(f"The repository {url} could not be read: {e}") from None
    refs: dict[str, str] = {}
    for line in completed.output.splitlines():
        sha, _, name = line.partition("\t")
        if _COMMIT.match(sha):
            refs[name.strip()] = sha
    for candidate in (
        wanted,
        f"refs/heads/{wanted}",
        f"refs/tags/{wanted}^{{}}",  # an annotated tag's commit
        f"refs/tags/{wanted}",
    ):
        if candidate in refs:
            return refs[candidate]
    raise BuildFailed(f"The repository {url} has no branch or tag {wanted!r}")
