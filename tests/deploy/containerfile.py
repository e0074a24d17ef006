"""Containerfiles read as a build reads them (this machine has no container engine).

What the tests need of an image: its final stage's instructions (a ``FROM`` of an image this
repository builds continues that image's), its environment, working directory and user, the
command a container runs when the pod gives none (ENTRYPOINT + CMD), and the directories its
``RUN`` steps make writable by group 0, the group OpenShift's random UIDs run in.
"""

from __future__ import annotations

import json
import posixpath
import re
import shlex
from collections.abc import Mapping
from pathlib import Path

from ..util import REPO

HUB = REPO / "images" / "hub" / "Containerfile"
NOTEBOOKS = sorted((REPO / "images" / "containers").glob("*/Containerfile"))
#: images this repository builds, as other Containerfiles name them in FROM (their
#: BuildConfigs in images/openshift replace that FROM with the ImageStreamTag)
BUILT_HERE = {"minimal-notebook:latest": REPO / "images" / "containers" / "minimal"}

Instruction = tuple[str, str]


def instructions(path: Path) -> list[Instruction]:
    """(INSTRUCTION, arguments) with continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", path.read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def final_stage(path: Path, built_here: Mapping[str, Path] = BUILT_HERE) -> list[Instruction]:
    """The last stage's instructions, preceded by its base's when this repository builds it."""
    steps = instructions(path)
    start = max(i for i, (name, _) in enumerate(steps) if name == "FROM")
    base = steps[start][1].split()[0]
    inherited = final_stage(built_here[base] / "Containerfile") if base in built_here else []
    return inherited + steps[start + 1 :]


def exec_form(arguments: str) -> list[str]:
    """A CMD/ENTRYPOINT's argv: the JSON array, or the shell form run by ``/bin/sh -c``."""
    if arguments.startswith("["):
        argv = json.loads(arguments)
        assert isinstance(argv, list) and all(isinstance(a, str) for a in argv), arguments
        return argv
    return ["/bin/sh", "-c", arguments]


def command(steps: list[Instruction]) -> list[str]:
    """What a container runs without ``command`` and ``args``: ENTRYPOINT then CMD (the last
    of each). Only what the file says: a base image's own CMD is not known here."""
    entrypoint = [exec_form(a) for n, a in steps if n == "ENTRYPOINT"][-1:]
    cmd = [exec_form(a) for n, a in steps if n == "CMD"][-1:]
    argv = [*(entrypoint[0] if entrypoint else []), *(cmd[0] if cmd else [])]
    assert argv, "the Containerfile sets neither ENTRYPOINT nor CMD"
    return argv


def environment(steps: list[Instruction]) -> dict[str, str]:
    """The ENV a container starts with (``KEY=value ...`` or the legacy ``KEY value``)."""
    env: dict[str, str] = {}
    for name, arguments in steps:
        if name != "ENV":
            continue
        words = shlex.split(arguments)
        if "=" not in words[0]:
            env[words[0]] = arguments.split(None, 1)[1]
            continue
        for word in words:
            key, _, value = word.partition("=")
            env[key] = value
    return env


def workdir(steps: list[Instruction]) -> str:
    """The working directory a container starts in (relative WORKDIRs resolved)."""
    current = "/"
    for name, arguments in steps:
        if name == "WORKDIR":
            current = posixpath.join(current, arguments.strip())
    return posixpath.normpath(current)


def group_writable(steps: list[Instruction]) -> set[str]:
    """Directories a RUN gives to group 0 (``chgrp -R 0`` / ``chown -R U:0``) and makes
    writable for it (``chmod -R g=u`` / ``g+w...``), or hands to s2i's ``fix-permissions``
    (which does both)."""
    grouped: set[str] = set()
    writable: set[str] = set()
    for name, arguments in steps:
        if name != "RUN":
            continue
        for part in re.split(r"&&|;|\|\|", arguments):
            words = shlex.split(part)
            if not words:
                continue
            options = {w for w in words[1:] if w.startswith("-")}
            operands = [w for w in words[1:] if not w.startswith("-")]
            if words[0] == "fix-permissions":
                grouped |= set(operands[:1])
                writable |= set(operands[:1])
            elif words[0] == "chgrp" and "-R" in options and operands[0] in ("0", "root"):
                grouped |= set(operands[1:])
            elif words[0] == "chown" and "-R" in options and re.search(r":(0|root)$", operands[0]):
                grouped |= set(operands[1:])
            elif words[0] == "chmod" and "-R" in options and _gives_group_write(operands[0]):
                writable |= set(operands[1:])
    return {posixpath.normpath(d) for d in grouped & writable}


def _gives_group_write(mode: str) -> bool:
    """``775``, ``g=u``, ``g+rwX``, ``ug+w``, ``a+w``: group members may write."""
    if mode.isdigit():
        return len(mode) >= 3 and int(mode[-2]) & 2 == 2
    for clause in mode.split(","):
        found = re.fullmatch(r"([ugoa]*)([+=])([rwxXst]*|u)", clause)
        if found and re.search("[ga]", found[1]) and (found[3] == "u" or "w" in found[3]):
            return True
    return False


def covered(path: str, directories: set[str]) -> bool:
    """``path`` is one of ``directories`` or inside one."""
    path = posixpath.normpath(path)
    return any(path == d or path.startswith(d.rstrip("/") + "/") for d in directories)
