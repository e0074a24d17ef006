"""What a simulated build does: reads its inputs like OpenShift's builder and records them.

`RecordingBuilds` is a `BuildBehaviour` for the simulated build controller. It reads a
build's inputs as the real builder pod would — the Docker strategy builds an inline
Dockerfile (``source.dockerfile``, whose first instruction must be ``FROM``; the strategy's
``from`` replaces that image), a git source, or the Dockerfile of a Binary build's upload
(`binaryuploads`; none without an upload); the Source strategy (s2i) runs a builder image
(``sourceStrategy.from``) on a git source — refuses what a real builder cannot build, records
what it was asked in ``inputs``, and writes a builder-like log step by step. What a test wants
to go wrong it says through the behaviour's own rules, never through the build's contents:
``fail`` (a `BuildRule`) makes matching builds fail at their last step like a failing
``RUN``/assemble step, ``hold`` makes them wait at it until `RecordingBuilds.release` (a long
build, to cancel or to outlive a client). Nothing is built or pulled. Part of the cluster
simulator (see ``jupyterhub_ov_sim``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .binaryuploads import BINARY_INPUT
from .builds import BuildLog, BuildOutcome

DOCKER_FAILED = ("DockerBuildFailed", "Docker build strategy has failed.")
GENERIC_FAILED = ("GenericBuildFailed", "Generic Build failure - check logs for details.")


class InvalidBuild(ValueError):
    """Inputs a real builder refuses; the message is what its log would say."""


@dataclass(frozen=True)
class BuildInput:
    """What one build was asked to do."""

    build: str
    strategy: str  # "Docker" or "Source"
    builder: str  # the image built on (FROM / sourceStrategy.from)
    output: str  # spec.output.to.name
    dockerfile: str = ""
    git_uri: str = ""
    git_ref: str = ""
    #: the BuildConfig it was started from ("" for a Build created directly)
    config: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)


#: which builds a rule applies to (a test's choice: by name, labels, source, ...)
BuildRule = Callable[[BuildInput], bool]


def never(_: BuildInput) -> bool:
    return False


def always(_: BuildInput) -> bool:
    return True


def dockerfile_instructions(text: str) -> list[str]:
    """Instructions of a Dockerfile: comments dropped, continuation lines joined."""
    instructions: list[str] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            current += line[:-1].strip() + " "
            continue
        instructions.append((current + line).strip())
        current = ""
    if current.strip():
        instructions.append(current.strip())
    return instructions


def _image(reference: Any) -> str:
    if not isinstance(reference, dict) or reference.get("kind") not in (
        "DockerImage",
        "ImageStreamTag",
    ):
        return ""
    return str(reference.get("name") or "")


def _binary_input(build: dict[str, Any]) -> dict[str, Any]:
    """What `binaryuploads` found in a Binary build's upload; InvalidBuild without one."""
    recorded = (build["metadata"].get("annotations") or {}).get(BINARY_INPUT)
    if recorded is None:
        raise InvalidBuild(
            "a Binary build needs binary input: start it with oc start-build --from-dir,"
            " --from-repo, --from-archive or --from-file"
        )
    return dict(json.loads(recorded))


def read_inputs(build: dict[str, Any]) -> BuildInput:
    """A build's inputs, or InvalidBuild with what the builder would report."""
    spec = build.get("spec") or {}
    source, strategy = spec.get("source") or {}, spec.get("strategy") or {}
    git = source.get("git") or {}
    labels = build["metadata"].get("labels") or {}
    common = {
        "build": build["metadata"]["name"],
        "config": str(labels.get("openshift.io/build-config.name") or ""),
        "labels": dict(labels),
        "output": ((spec.get("output") or {}).get("to") or {}).get("name", ""),
        "git_uri": str(git.get("uri") or ""),
        "git_ref": str(git.get("ref") or ""),
    }
    if source.get("type") == "Binary":
        uploaded = _binary_input(build)
        if uploaded.get("problem"):
            raise InvalidBuild(uploaded["problem"])
        source = {**source, "dockerfile": source.get("dockerfile") or uploaded.get("dockerfile")}
    if "dockerStrategy" in strategy:
        dockerfile = str(source.get("dockerfile") or "")
        if not dockerfile and not common["git_uri"]:
            raise InvalidBuild("a Docker build needs a Dockerfile or a git source")
        builder = _image((strategy["dockerStrategy"] or {}).get("from"))
        if dockerfile:
            instructions = dockerfile_instructions(dockerfile)
            if not instructions or not instructions[0].upper().startswith("FROM "):
                raise InvalidBuild("no FROM statement found")
            builder = builder or instructions[0].split(None, 1)[1].strip()
        return BuildInput(strategy="Docker", builder=builder, dockerfile=dockerfile, **common)
    if "sourceStrategy" in strategy:
        builder = _image((strategy["sourceStrategy"] or {}).get("from"))
        if not builder:
            raise InvalidBuild("the Source strategy needs a builder image (sourceStrategy.from)")
        if not common["git_uri"]:
            raise InvalidBuild("the Source strategy needs a source (source.git.uri)")
        return BuildInput(strategy="Source", builder=builder, **common)
    raise InvalidBuild("the build has no supported strategy (dockerStrategy or sourceStrategy)")


def _steps(inputs: BuildInput) -> list[str]:
    if inputs.strategy == "Docker" and inputs.dockerfile:
        instructions = dockerfile_instructions(inputs.dockerfile)
        instructions[0] = f"FROM {inputs.builder}"
        total = len(instructions) + 1
        steps = [f"STEP {i}/{total}: {text}" for i, text in enumerate(instructions, 1)]
        return [*steps, f"STEP {total}/{total}: COMMIT {inputs.output}"]
    cloning = [f'Cloning "{inputs.git_uri}" ...', f"\tCommit:\t{inputs.git_ref or 'HEAD'}"]
    if inputs.strategy == "Docker":
        return [*cloning, "STEP 1/2: building the repository's Dockerfile", "STEP 2/2: COMMIT"]
    return [
        *cloning,
        f"STEP 1/3: FROM {inputs.builder}",
        "STEP 2/3: RUN /usr/libexec/s2i/assemble",
        "---> Installing application source ...",
        "STEP 3/3: COMMIT",
    ]


class RecordingBuilds:
    """A `BuildBehaviour` that checks and records each build's inputs (see the module)."""

    def __init__(
        self, *, step_seconds: float = 0.0, fail: BuildRule = never, hold: BuildRule = never
    ) -> None:
        self.step_seconds = step_seconds
        #: builds that fail at their last step (a test may change the rules at any time)
        self.fail = fail
        #: builds that wait at their last step until `release`
        self.hold = hold
        self.inputs: list[BuildInput] = []
        #: names of builds whose work was cancelled (oc cancel-build, deletion)
        self.cancelled: list[str] = []
        #: names of builds waiting at their last step (see ``hold``)
        self.holding: set[str] = set()
        self._released = asyncio.Event()

    def release(self) -> None:
        """Let every held build (and any later one) go on."""
        self._released.set()

    def seen(self, build: str) -> BuildInput:
        return next(i for i in self.inputs if i.build == build)

    async def __call__(self, build: dict[str, Any], log: BuildLog) -> BuildOutcome:
        try:
            inputs = read_inputs(build)
        except InvalidBuild as problem:
            return BuildOutcome(False, f"error: {problem}\n", GENERIC_FAILED[1], GENERIC_FAILED[0])
        self.inputs.append(inputs)
        try:
            return await self._work(inputs, log)
        except asyncio.CancelledError:
            self.cancelled.append(inputs.build)
            raise

    async def _work(self, inputs: BuildInput, log: BuildLog) -> BuildOutcome:
        reason, message = DOCKER_FAILED if inputs.strategy == "Docker" else GENERIC_FAILED
        # the rules are read once, when the build starts: a later change is for later builds
        holds, fails = self.hold(inputs), self.fail(inputs)
        steps = _steps(inputs)
        last = len(steps) - 2  # the last step before the COMMIT: where the work happens
        for number, step in enumerate(steps):
            log.write(step + "\n")
            if self.step_seconds:
                await asyncio.sleep(self.step_seconds)  # the simulated step time
            if number == last and holds:
                self.holding.add(inputs.build)
                await self._released.wait()
                self.holding.discard(inputs.build)
            if number == last and fails:
                failure = "build error" if inputs.dockerfile else "assemble script failed"
                log.write(f"error: {failure}: exit status 1\n")
                return BuildOutcome(False, "", message, reason)
        log.write(f"Successfully pushed {inputs.output}\nPush successful\n")
        return BuildOutcome(True)
