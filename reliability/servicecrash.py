"""Issue 17, scenario 2 (the platform service's part): the service SIGKILLed in each build
phase, then started again. Every build record must end Success or Failure with a message
that is the truth, the menu must never have offered a half-built image, and nothing of an
interrupted build may be left: no cluster object (validation pod, staging stream, running
Build or PipelineRun), no scratch directory, no process of the dead service (uv, git, a
validation).

Three modes, each in its own directory: the openshift and tekton backends on the simulator
(`crashsim`): the short mode kills once while six builds are in every phase at once
(Preparing, Resolving, Building, Importing, Validating of a built and of an imported image);
the local backend under a real hub (`localcrash`): one kill while builds are Resolving,
Building and Validating. The full mode kills once per phase, one after the other, in all
three modes; the short mode runs the openshift and local modes (`SHORT`).

Two reconcile modes (`RECONCILES`): the service killed by a simulator store hook in the
middle of ModelServer reconciles (after the Deployment create, after the Service create (full
mode only), and one ModelServer deleted while it is down: `reconcilecrash`) and of Notebook
reconciles (after the cluster Build create with the status not yet written, and one deleted
while it is down: `notebookcrash`).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from . import crashcheck, figures
from .crashsim import openshift_builds
from .crashstack import Crash, all_builds
from .localcrash import local_builds
from .notebookcrash import notebooks
from .reconcilecrash import model_servers

NAME = "servicecrash"
#: the builds each mode asks for (each must end Success or Failure)
BUILDS = {"openshift": 6, "tekton": 6, "local": 3}
#: the modes of the short mode: the tekton backend differs from the openshift one only in
#: its build engine (a PipelineRun), so CI's time goes to the other two
SHORT = ("openshift", "local")
#: the reconcile modes, in the short and the full mode (the full mode kills more often): the
#: service killed in the middle of a ModelServer and of a Notebook reconcile
RECONCILES: dict[
    str, Callable[[Path, bool], Coroutine[Any, Any, tuple[Crash, dict[str, list[str]]]]]
] = {
    "modelservers": model_servers,
    "notebooks": notebooks,
}


def _zero_figures(mode: str, found: dict[str, list[str]]) -> list[figures.Figure]:
    """What went wrong, printed one line each, and a zero() figure per kind."""
    for what, items in found.items():
        for item in items:
            print(f"servicecrash: {mode}: {what}: {item}", flush=True)
    return [figures.zero(NAME, f"{mode}: {what}", len(items)) for what, items in found.items()]


def _mode(mode: str, work: Path, full: bool) -> list[figures.Figure]:
    started = time.monotonic()
    s: Crash
    if mode == "local":
        s, found = asyncio.run(local_builds(work, full))
    else:
        s, found = asyncio.run(openshift_builds(work, full, engine=mode))
    took = time.monotonic() - started
    records = all_builds(s.db)
    ended = sum(r["phase"] in crashcheck.TERMINAL for r in records)
    succeeded = sum(r["phase"] == "Success" for r in records)
    out = [
        figures.info(NAME, f"{mode}: service kills (phases: {', '.join(s.kills)})", len(s.kills)),
        figures.at_least(NAME, f"{mode}: builds ended Success or Failure", ended, BUILDS[mode]),
        figures.info(NAME, f"{mode}: of which Success (followed or resumed)", succeeded),
    ]
    out += _zero_figures(mode, found)
    out.append(figures.info(NAME, f"{mode}: seconds", round(took, 1)))
    return out


def _reconcile(mode: str, work: Path, full: bool) -> list[figures.Figure]:
    """The service killed during ModelServer or Notebook reconciles (`reconcilecrash`,
    `notebookcrash`)."""
    started = time.monotonic()
    s, found = asyncio.run(RECONCILES[mode](work, full))
    took = time.monotonic() - started
    out = [figures.info(NAME, f"{mode}: service kills ({'; '.join(s.kills)})", len(s.kills))]
    out += _zero_figures(mode, found)
    out.append(figures.info(NAME, f"{mode}: seconds", round(took, 1)))
    return out


def run(full: bool) -> list[figures.Figure]:
    out: list[figures.Figure] = []
    with tempfile.TemporaryDirectory(prefix="servicecrash-") as tmp:
        for mode in BUILDS if full else SHORT:
            (Path(tmp) / mode).mkdir()
            out += _mode(mode, Path(tmp) / mode, full)
        for mode in RECONCILES:
            (Path(tmp) / mode).mkdir()
            out += _reconcile(mode, Path(tmp) / mode, full)
    return out
