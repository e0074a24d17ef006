"""Pure: what a layered environment pins and installs on top of its base.

A layer sees its base environment's packages (see `builder.environments`), so it must never
hold another version of one of them: the base's jupyter stack would be shadowed. Resolving
is therefore constrained to the base's installed versions (`base_constraints`), and
installing skips whatever the base already has at the locked version (`layer_installs`).
A repository's ``requirements.txt`` may name requirements only (`requirements_from_file`):
pip options such as ``--index-url`` or ``-e`` would let a repository choose where packages
come from, which is the admin's decision.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from jupyterhub_ov.builds.model.spec import SpecPolicy, requirement_problem

#: pip's comment rule: ``#`` at the start of a line or after whitespace (not in a URL fragment)
_COMMENT = re.compile(r"(^|\s)#.*$")


def requirements_from_file(text: str, policy: SpecPolicy) -> tuple[tuple[str, ...], list[str]]:
    """The requirements of a ``requirements.txt`` and the problems, each naming its line.

    Blank lines and comments are ignored and ``\\`` continues a line, as pip does; every
    other line must be a plain PEP 508 requirement allowed by ``policy``.
    """
    requirements: list[str] = []
    problems: list[str] = []
    pending, first = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = _COMMENT.sub("", raw).rstrip()
        if not pending:
            first = number
        if line.endswith("\\"):
            pending += line[:-1]
            continue
        line, pending = (pending + line).strip(), ""
        if not line:
            continue
        normalized, problem = requirement_problem(line, policy)
        if problem:
            problems.append(f"requirements.txt line {first}: {problem}")
        else:
            assert normalized is not None
            requirements.append(normalized)
    if pending.strip():
        problems.append(f"requirements.txt line {first}: the file ends in a line continuation")
    return tuple(requirements), problems


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def base_constraints(versions: Mapping[str, str]) -> tuple[str, ...]:
    """``name==version`` for every package of the base (sorted; unparsable versions skipped:
    they cannot be constrained, and no index serves them either)."""
    return tuple(
        f"{name}=={version}"
        for name, version in sorted(versions.items())
        if _version(version) is not None
    )


def pinned(line: str) -> tuple[str, str] | None:
    """(canonical name, version) of a ``name==version`` lock line, else None."""
    try:
        req = Requirement(line)
    except InvalidRequirement:
        return None
    specs = list(req.specifier)
    if len(specs) != 1 or specs[0].operator not in ("==", "==="):
        return None
    return canonicalize_name(req.name), specs[0].version


def layer_installs(lock: Sequence[str], base: Mapping[str, str]) -> tuple[str, ...]:
    """The lock lines the layer must install: all but those the base has at that version."""

    def in_base(line: str) -> bool:
        pin = pinned(line)
        if pin is None or pin[0] not in base:
            return False
        have = _version(base[pin[0]])
        return have is not None and have == _version(pin[1])

    return tuple(line for line in lock if not in_base(line))


def python_mismatch(requested: str, base_version: str) -> str | None:
    """Why a requested ``3.X`` cannot be built on a base running ``base_version``, or None."""
    if not requested:
        return None
    have = ".".join(base_version.split(".")[:2])
    if requested == have:
        return None
    return (
        f"Python {requested} was requested, but the base environment runs Python {have}:"
        f" a local build uses the base's interpreter. Ask for {have}, or choose a base"
        f" environment with Python {requested} (spec.builderImage)."
    )


def packages_digest(versions: Mapping[str, str]) -> str:
    """A short hash of a package set: a changed base gives new image tags."""
    text = "\n".join(f"{name}=={version}" for name, version in sorted(versions.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def base_identity(prefix: str, python_version: str, versions: Mapping[str, str]) -> str:
    """What `ResolvedBuild.base` records for a base environment (part of the tag)."""
    return f"{prefix} python={python_version} packages={packages_digest(versions)}"
