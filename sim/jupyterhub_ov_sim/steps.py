"""Tekton steps as local processes, for the simulated Tekton controller (`pipelineruns`).

A step's ``script`` (``/bin/sh`` unless it starts with ``#!``) or ``command`` + ``args`` runs
in its own process group, with the environment its image maps to (the cluster's
``image_env``, as the kubelet's containers get it), then the stepTemplate's and the step's
``env``. Variables (``$(params.name)`` and the like) are replaced first. Part of the cluster
simulator (see ``jupyterhub_ov_sim``).
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .podruntime import terminate

VARIABLE = re.compile(r"\$\(([^()\s]+)\)")
#: seconds a cancelled step's processes get between SIGTERM and SIGKILL
GRACE = 1.0


def substitute(text: str, values: Mapping[str, Mapping[str, str]]) -> str:
    """``$(prefix.key)`` replaced by ``values[prefix][key]`` (the prefix "" holds whole
    names); unknown variables stay as they are, as Tekton leaves them."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        prefix, _, key = name.partition(".")
        found = values.get(prefix, {}).get(key)
        if found is None:
            found = values.get("", {}).get(name)
        return match.group(0) if found is None else found

    return VARIABLE.sub(value, text)


@dataclass
class StepProcess:
    """One step with the variables it can use, and where it runs."""

    step: Mapping[str, Any]
    template: Mapping[str, Any]
    values: Mapping[str, Mapping[str, str]]
    cwd: Path

    def text(self, value: Any) -> str:
        return substitute(str(value), self.values)

    def env(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for entry in [*(self.template.get("env") or []), *(self.step.get("env") or [])]:
            found[entry["name"]] = self.text(entry.get("value", ""))
        return found

    def argv(self, script_path: Path) -> list[str]:
        if self.step.get("script"):
            script = self.text(self.step["script"])
            if script.startswith("#!"):
                return [*script.splitlines()[0][2:].split(), str(script_path)]
            return ["/bin/sh", str(script_path)]
        command = [self.text(c) for c in self.step.get("command") or []]
        if not command:
            raise ValueError(f"step {self.step.get('name')} has neither script nor command")
        return [*command, *(self.text(a) for a in self.step.get("args") or [])]


class StepRunner:
    def __init__(
        self, image_env: Mapping[str, Mapping[str, str]], extra_env: Mapping[str, str]
    ) -> None:
        self.image_env = {k: dict(v) for k, v in image_env.items()}
        self.extra_env = dict(extra_env)

    async def run(self, step: StepProcess) -> tuple[int, str]:
        """Run the step to its end: the exit code and its output (stdout with stderr)."""
        name = str(step.step.get("name") or "step")
        script = step.cwd.parent / "scripts" / name
        await asyncio.to_thread(_prepare, step, script)
        image = str(step.step.get("image") or "")
        home = str(step.cwd.parent / "home")
        env = {"HOME": home, **self.extra_env, **self.image_env.get(image, {}), **step.env()}
        env.setdefault("PATH", os.environ.get("PATH", "/usr/bin:/bin"))
        cwd = step.text(step.step.get("workingDir") or str(step.cwd))
        await asyncio.to_thread(Path(cwd).mkdir, parents=True, exist_ok=True)
        await asyncio.to_thread(Path(home).mkdir, parents=True, exist_ok=True)
        try:
            process = await asyncio.create_subprocess_exec(
                *step.argv(script),
                env=env,
                cwd=cwd,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
        except (OSError, ValueError) as e:  # what the entrypoint would report
            return 1, f"{e}\n"
        try:
            output, _ = await process.communicate()
        except asyncio.CancelledError:
            await asyncio.shield(terminate(process, GRACE))
            raise
        return int(process.returncode or 0), output.decode(errors="replace")


def _prepare(step: StepProcess, script: Path) -> None:
    step.cwd.mkdir(parents=True, exist_ok=True)
    if step.step.get("script"):
        script.parent.mkdir(parents=True, exist_ok=True)
        script.write_text(step.text(step.step["script"]))
        script.chmod(0o755)
