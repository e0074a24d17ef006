"""The phase machine, exhaustively: every (type, from, to) triple is allowed or refused."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from jupyterhub_ov.builds.model import phases
from jupyterhub_ov.builds.model.phases import PATHS, Phase

AT = datetime(2026, 1, 1, tzinfo=UTC)
P, R, B, I, V, S, F = (  # noqa: E741
    Phase.PREPARING,
    Phase.RESOLVING,
    Phase.BUILDING,
    Phase.IMPORTING,
    Phase.VALIDATING,
    Phase.SUCCESS,
    Phase.FAILURE,
)

#: the whole machine, written out by hand: (type, from) -> allowed next phases
EXPECTED = {
    ("PackageList", P): {R, F},
    ("PackageList", R): {B, S, F},
    ("PackageList", B): {I, F},
    ("PackageList", I): {V, F},
    ("PackageList", V): {S, F},
    ("GitRepository", P): {R, F},
    ("GitRepository", R): {B, S, F},
    ("GitRepository", B): {I, F},
    ("GitRepository", I): {V, F},
    ("GitRepository", V): {S, F},
    ("ImportImage", P): {I, S, F},
    ("ImportImage", I): {V, F},
    ("ImportImage", V): {S, F},
    # phases that are not on an import's path can only fail (a state never reached normally)
    ("ImportImage", R): {F},
    ("ImportImage", B): {F},
}


@pytest.mark.parametrize(
    "build_type,current,target", list(itertools.product(PATHS, list(Phase), list(Phase)))
)
def test_every_transition(build_type: str, current: Phase, target: Phase) -> None:
    allowed = EXPECTED.get((build_type, current), set())  # terminal phases: nothing
    assert (target in phases.allowed(build_type, current)) == (target in allowed)
    history = (phases.Transition(current, AT),)
    state = phases.BuildState(build_type, history)
    if target in allowed:
        moved = phases.advance(state, target, AT, "why")
        assert moved.phase is target and moved.message == "why"
        assert moved.history[:-1] == state.history  # the story is kept
    else:
        with pytest.raises(phases.InvalidTransition, match=f"from {current} to {target}"):
            phases.advance(state, target, AT)


@pytest.mark.parametrize("build_type", PATHS)
def test_the_happy_path_walks_to_success(build_type: str) -> None:
    state = phases.start(build_type, AT, "queued")
    for phase in PATHS[build_type][1:]:
        state = phases.advance(state, phase, AT)
    assert state.terminal and state.phase is Phase.SUCCESS
    assert [t.phase for t in state.history] == list(PATHS[build_type])
    assert state.history[0].message == "queued"


def test_fail_is_idempotent_on_ended_builds() -> None:
    state = phases.fail(phases.start("PackageList", AT), AT, "boom")
    assert state.phase is Phase.FAILURE and state.message == "boom"
    assert phases.fail(state, AT, "again") is state
    done = phases.BuildState("ImportImage", (phases.Transition(Phase.SUCCESS, AT),))
    assert phases.fail(done, AT, "late") is done


def test_unknown_build_types_are_refused() -> None:
    with pytest.raises(phases.InvalidTransition, match="unknown build type"):
        phases.start("Dockerfile", AT)
    with pytest.raises(phases.InvalidTransition, match="unknown build type"):
        phases.allowed("Dockerfile", Phase.PREPARING)


def test_advance_accepts_phase_names() -> None:
    state = phases.advance(phases.start("PackageList", AT), "Resolving", AT)  # type: ignore[arg-type]
    assert state.phase is Phase.RESOLVING


def test_interrupted_message_names_the_phase() -> None:
    assert "while this build was Building" in phases.interrupted_message(Phase.BUILDING)
