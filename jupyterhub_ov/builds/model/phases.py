"""Pure: the build phase machine (the CustomNBImage design's phases).

Builds from a package list or a git repository go
``Preparing → Resolving → Building → Importing → Validating → Success``; an import goes
``Preparing → Importing → Validating → Success``. Any phase that is not final may go to
``Failure``. One shortcut exists, BinderHub's: when the resolved spec names an image that is
already published, ``Resolving`` (``Preparing`` for an import) goes straight to ``Success``.
Every transition is kept with its time and message, so a build's record tells its story.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum

from .spec import BuildType


class Phase(str, Enum):
    PREPARING = "Preparing"
    RESOLVING = "Resolving"
    BUILDING = "Building"
    IMPORTING = "Importing"
    VALIDATING = "Validating"
    SUCCESS = "Success"
    FAILURE = "Failure"

    def __str__(self) -> str:
        return self.value

    @property
    def terminal(self) -> bool:
        return self in TERMINAL


TERMINAL = frozenset({Phase.SUCCESS, Phase.FAILURE})

_BUILD = (
    Phase.PREPARING,
    Phase.RESOLVING,
    Phase.BUILDING,
    Phase.IMPORTING,
    Phase.VALIDATING,
    Phase.SUCCESS,
)
#: the path of each build type, first to last
PATHS: dict[str, tuple[Phase, ...]] = {
    BuildType.PACKAGE_LIST: _BUILD,
    BuildType.GIT_REPOSITORY: _BUILD,
    BuildType.IMPORT_IMAGE: (Phase.PREPARING, Phase.IMPORTING, Phase.VALIDATING, Phase.SUCCESS),
}

#: the phase after which an already published image ends the build with Success
SHORTCUT_FROM: dict[str, Phase] = {
    BuildType.PACKAGE_LIST: Phase.RESOLVING,
    BuildType.GIT_REPOSITORY: Phase.RESOLVING,
    BuildType.IMPORT_IMAGE: Phase.PREPARING,
}


class InvalidTransition(ValueError):
    """A move the machine does not allow; the message names both phases."""


@dataclass(frozen=True)
class Transition:
    phase: Phase
    at: datetime
    message: str = ""


@dataclass(frozen=True)
class BuildState:
    build_type: str
    history: tuple[Transition, ...] = field(default=())

    @property
    def phase(self) -> Phase:
        return self.history[-1].phase

    @property
    def message(self) -> str:
        return self.history[-1].message

    @property
    def terminal(self) -> bool:
        return self.phase.terminal


def allowed(build_type: str, current: Phase) -> frozenset[Phase]:
    """The phases ``current`` may move to for ``build_type``."""
    path = PATHS.get(build_type)
    if path is None:
        raise InvalidTransition(f"unknown build type {build_type!r}")
    if current.terminal:
        return frozenset()
    if current not in path:
        return frozenset({Phase.FAILURE})  # a phase foreign to this type may only fail
    nxt = {path[path.index(current) + 1], Phase.FAILURE}
    if SHORTCUT_FROM[build_type] is current:
        nxt.add(Phase.SUCCESS)
    return frozenset(nxt)


def start(build_type: str, at: datetime, message: str = "") -> BuildState:
    """A new build: Preparing."""
    if build_type not in PATHS:
        raise InvalidTransition(f"unknown build type {build_type!r}")
    return BuildState(build_type, (Transition(Phase.PREPARING, at, message),))


def advance(state: BuildState, to: Phase, at: datetime, message: str = "") -> BuildState:
    """``state`` moved to ``to``; InvalidTransition if the machine does not allow it."""
    to = Phase(to)
    if to not in allowed(state.build_type, state.phase):
        raise InvalidTransition(f"a {state.build_type} build cannot go from {state.phase} to {to}")
    return replace(state, history=(*state.history, Transition(to, at, message)))


def fail(state: BuildState, at: datetime, message: str) -> BuildState:
    """``state`` moved to Failure, unless it already ended (then it is returned as is)."""
    if state.terminal:
        return state
    return advance(state, Phase.FAILURE, at, message)


def interrupted_message(phase: Phase) -> str:
    """Why a build that was running when the service stopped ended in Failure."""
    return (
        f"The build service restarted while this build was {phase}; the work was lost."
        " Retry the build."
    )
