"""Issue 17, scenario 2 (the platform service's part): the service SIGKILLed in each build
phase, then started again. Every build record must end Success or Failure with a message
that is the truth, the menu must never have offered a half-built image, and nothing of an
interrupted build may be left: no cluster object (validation pod, staging stream, running
Build), no process of the dead service (uv, git).

OpenShift mode on the simulator (`crashsim`): the short mode kills once while six builds are
in every phase at once (Preparing, Resolving, Building, Importing, Validating of a built and
of an imported image); the full mode kills once per phase, one after the other.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from . import crashcheck, figures
from .crashsim import openshift_builds
from .crashstack import all_builds

NAME = "servicecrash"


def _openshift(work: Path, full: bool) -> list[figures.Figure]:
    started = time.monotonic()
    s, found = asyncio.run(openshift_builds(work, full))
    took = time.monotonic() - started
    for what, items in found.items():
        for item in items:
            print(f"servicecrash: openshift: {what}: {item}", flush=True)
    mode = "openshift"
    records = all_builds(s.db)
    ended = sum(r["phase"] in crashcheck.TERMINAL for r in records)
    succeeded = sum(r["phase"] == "Success" for r in records)
    out = [
        figures.info(NAME, f"{mode}: service kills (phases: {', '.join(s.kills)})", len(s.kills)),
        figures.at_least(NAME, f"{mode}: builds ended Success or Failure", ended, 6),
        figures.info(NAME, f"{mode}: of which Success (followed or resumed)", succeeded),
    ]
    out += [figures.zero(NAME, f"{mode}: {what}", len(items)) for what, items in found.items()]
    out.append(figures.info(NAME, f"{mode}: seconds", round(took, 1)))
    return out


def run(full: bool) -> list[figures.Figure]:
    with tempfile.TemporaryDirectory(prefix="servicecrash-") as tmp:
        work = Path(tmp)
        (work / "openshift").mkdir()
        return _openshift(work / "openshift", full)
