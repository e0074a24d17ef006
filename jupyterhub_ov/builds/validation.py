"""Pure: BYON validation of an image — the check's command, its report, and what it records.

The check itself is `imagecheck` (run inside the image: a pod in OpenShift, the environment's
own Python locally); this module builds its command line for both backends (handing it the
service's Python floor), parses the report line it prints, and turns a passed check into the
ODH tag annotations (``opendatahub.io/notebook-software``,
``opendatahub.io/notebook-python-dependencies``) and the stream's messages.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyterhub_ov.images import model

from .imagecheck import MARKER as MARKER  # the report line's start, for its readers
from .model.published import Package
from .model.spec_rules import MIN_PYTHON

#: the check's source, passed to ``python3 -c`` (read once, at import)
SCRIPT = Path(__file__).with_name("imagecheck.py").read_text()


@dataclass(frozen=True)
class CheckReport:
    """What `imagecheck` found in an image."""

    #: the full version, e.g. ``3.11.7``
    python: str
    packages: tuple[Package, ...] = ()
    passed: tuple[str, ...] = ()
    problems: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def python_version(self) -> str:
        """``3.11`` for ``3.11.7``: the Python version the menu shows."""
        return ".".join(self.python.split(".")[:2])


def command(
    server_timeout: float | None,
    python: str = "python3",
    *,
    site_only: bool = False,
    isolated: bool = False,
) -> list[str]:
    """The check as a command line: ``python`` runs the script, held to `MIN_PYTHON`.

    ``server_timeout`` is how long ``jupyterhub-singleuser`` may take to answer; None skips
    starting it (the caller starts a server itself). ``site_only`` lists only the packages of
    the interpreter's own site directories (a layer's); ``isolated`` runs Python with ``-I``
    (no user site, no PYTHON* variables).
    """
    options = ["--min-python", ".".join(map(str, MIN_PYTHON))]
    options += ["--no-server"] if server_timeout is None else [f"{server_timeout:g}"]
    options += ["--site-only"] if site_only else []
    return [python, *(["-I"] if isolated else []), "-c", SCRIPT, *options]


def parse_report(output: str) -> CheckReport | None:
    """The report of the check's output (its last marker line), or None if there is none."""
    for line in reversed(output.splitlines()):
        if not line.startswith(MARKER + " "):
            continue
        try:
            raw: Any = json.loads(line[len(MARKER) + 1 :])
            return CheckReport(
                python=str(raw["python"]),
                packages=tuple(Package(str(p["name"]), str(p["version"])) for p in raw["packages"]),
                passed=tuple(str(p) for p in raw.get("passed", ())),
                problems=tuple(str(p) for p in raw.get("problems", ())),
            )
        except (ValueError, KeyError, TypeError):
            return None
    return None


def tail(output: str, lines: int = 15) -> str:
    return "\n".join(output.strip().splitlines()[-lines:])


def failure_message(report: CheckReport | None, output: str) -> str:
    """Why an image failed validation, for the admin."""
    if report is None:
        return f"The image check did not report (is python3 on the image's PATH?):\n{tail(output)}"
    return "The image failed validation: " + "; ".join(report.problems)


def tag_annotations(report: CheckReport) -> dict[str, str]:
    """The ODH tag annotations recording what the image contains."""
    software = [{"name": "Python", "version": report.python_version}]
    dependencies = [{"name": p.name, "version": p.version} for p in report.packages]
    return {
        model.ANN_SOFTWARE: json.dumps(software),
        model.ANN_DEPENDENCIES: json.dumps(dependencies),
    }


def success_messages(tag: str, report: CheckReport) -> list[dict[str, str]]:
    passed = ", ".join(report.passed)
    return [{"severity": "info", "message": f"Tag {tag} passed validation: {passed}"}]


def failure_messages(tag: str, problem: str) -> list[dict[str, str]]:
    return [{"severity": "error", "message": f"Tag {tag}: {problem}"}]


def cancelled_messages(tag: str) -> list[dict[str, str]]:
    return [{"severity": "warning", "message": f"Tag {tag}: the build was cancelled"}]
