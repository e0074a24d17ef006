"""Binary builds of the simulated build controller: ``POST buildconfigs/<name>/instantiatebinary``.

What ``oc start-build --from-dir|--from-repo|--from-archive`` sends (a tar or tar.gz archive,
extracted as the build's source) and ``--from-file`` (one file, ``?asFile=<name>``). As in
OpenShift, the Build gets ``spec.source.binary`` and the upload itself is not kept in the API;
the simulator reads what a builder would need from it at once — the Dockerfile at the
strategy's ``dockerfilePath`` (under ``source.contextDir``) and whether every file it COPYs or
ADDs is in the upload — and records that on the Build in the `BINARY_INPUT` annotation (a
simulator's own, for `buildbehaviours.read_inputs`). A Binary build started without an upload
(a trigger, a plain ``instantiate``) has no source and fails there.
Part of the cluster simulator (see ``jupyterhub_ov_sim``).
"""

from __future__ import annotations

import io
import json
import posixpath
import shlex
import tarfile
from dataclasses import dataclass
from typing import Any

from . import builds, errors
from .store import ObjectStore

#: the annotation on a Build started with an upload: JSON {files, dockerfile, problem}
BINARY_INPUT = "sim.jupyterhub-ov/binary-input"


@dataclass(frozen=True)
class Upload:
    body: bytes
    #: ``--from-file``: the upload is this one file, not an archive
    as_file: str = ""


def upload_files(upload: Upload) -> dict[str, bytes]:
    """The upload as {path: content} (regular files only), or a 400 for what is no archive."""
    if upload.as_file:
        if "/" in upload.as_file or upload.as_file in (".", ".."):
            raise errors.bad_request(f"asFile may not contain slashes: {upload.as_file}")
        return {upload.as_file: upload.body}
    try:
        with tarfile.open(fileobj=io.BytesIO(upload.body), mode="r:*") as archive:
            return {
                posixpath.normpath(member.name): archive.extractfile(member).read()  # type: ignore[union-attr]
                for member in archive.getmembers()
                if member.isfile()
            }
    except (tarfile.TarError, EOFError, OSError) as problem:
        raise errors.bad_request(f"the binary input is not a tar archive: {problem}") from None


def _needed(dockerfile: str) -> list[str]:
    """The build-context files a Dockerfile's COPY and ADD instructions read."""
    sources = []
    for line in dockerfile.replace("\\\n", " ").splitlines():
        words = shlex.split(line, comments=True) if line.strip() else []
        if len(words) > 2 and words[0].upper() in ("COPY", "ADD"):
            args = words[1:-1]
            if not any(a.startswith("--from") for a in args):
                sources += [a for a in args if not a.startswith("--")]
    return sources


def read_binary_input(config: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
    """What a Docker builder finds in the upload: the Dockerfile's text, or the problem."""
    spec = config.get("spec") or {}
    context = posixpath.normpath((spec.get("source") or {}).get("contextDir") or ".")
    docker = (spec.get("strategy") or {}).get("dockerStrategy")
    found: dict[str, Any] = {"files": len(files), "dockerfile": "", "problem": ""}
    if docker is None:
        return found
    path = posixpath.normpath(posixpath.join(context, docker.get("dockerfilePath") or "Dockerfile"))
    if path not in files:
        found["problem"] = f"no Dockerfile at {path} in the binary input ({len(files)} files)"
        return found
    found["dockerfile"] = files[path].decode(errors="replace")
    for source in _needed(found["dockerfile"]):
        wanted = posixpath.normpath(posixpath.join(context, source))
        if wanted not in files and not any(f.startswith(wanted + "/") for f in files):
            found["problem"] = f"COPY failed: {source}: no such file in the build context"
            break
    return found


def instantiate_binary(
    store: ObjectStore, namespace: str, name: str, upload: Upload
) -> dict[str, Any]:
    """The next Build of a Binary BuildConfig, with the upload as its source."""
    config = store.get(builds.config_kind(store), namespace, name)
    if ((config.get("spec") or {}).get("source") or {}).get("type") != "Binary":
        raise errors.bad_request(f"build config {namespace}/{name} does not take binary input")
    found = read_binary_input(config, upload_files(upload))
    binary = {"asFile": upload.as_file} if upload.as_file else {}
    return builds.instantiate(
        store, namespace, name, binary=binary, annotations={BINARY_INPUT: json.dumps(found)}
    )
