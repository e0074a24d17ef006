"""Pure: the servicecrash scenario's checks (reliability/crashcheck.py)."""

from __future__ import annotations

from typing import Any

from reliability import crashcheck


def stream(name: str, *tags: str, phase: str = "Succeeded", label: bool = False) -> dict:
    meta: dict[str, Any] = {
        "name": name,
        "annotations": {"opendatahub.io/notebook-image-phase": phase},
    }
    if label:
        meta["labels"] = {"opendatahub.io/notebook-image": "true"}
    return {
        "metadata": meta,
        "spec": {"tags": [{"name": t} for t in tags]},
        "status": {
            "tags": [
                {"tag": t, "items": [{"dockerImageReference": f"r/{name}@sha256:{t}"}]}
                for t in tags
            ]
        },
    }


def test_offered_is_what_the_menu_offers() -> None:
    assert crashcheck.offered(stream("a-notebook", "1", "2")) == {"a-notebook:1", "a-notebook:2"}
    assert crashcheck.offered(stream("a", "1", label=True)) == {"a:1"}
    assert crashcheck.offered(stream("a-notebook-1a2b", "1")) == set()  # a staging stream
    assert crashcheck.offered(stream("a-notebook", "1", phase="Validating")) == set()
    assert crashcheck.offered(stream("a-notebook")) == set()  # no tag


def record(name: str, phase: str, image: str = "", message: str = "m") -> dict:
    return {"name": name, "phase": phase, "image": image, "message": message}


def test_judge_finds_stuck_untruthful_and_half_built() -> None:
    records = [
        record("ok", "Success", "ok:1"),
        record("failed", "Failure", "failed:1"),
        record("running", "Validating"),
        record("liar", "Success", "liar:1"),
        record("silent", "Failure", message=" "),
        record("offered-failure", "Failure", "of:1"),
    ]
    verdict = crashcheck.judge(
        records, offered_ever={"ok:1", "half:1", "of:1"}, offered_now={"ok:1", "of:1"}
    )
    assert verdict.stuck == ["running: still Validating"]
    assert verdict.untruthful == [
        "liar: Success, but liar:1 not offered",
        "silent: Failure without a message",
        "offered-failure: Failure, but of:1 is offered",
    ]
    assert verdict.half_built == ["half:1: offered, never built", "of:1: offered, never built"]


def test_a_clean_run_has_no_problems() -> None:
    verdict = crashcheck.judge(
        [record("ok", "Success", "ok:1"), record("f", "Failure")],
        offered_ever={"ok:1"},
        offered_now={"ok:1"},
    )
    assert verdict.problems() == []


def test_cluster_orphans_streams_and_duplicates() -> None:
    assert crashcheck.cluster_orphans(
        pods=["x-validate"], staging=["x-1"], builds=[("b-1", "Running"), ("b-2", "Complete")]
    ) == ["Build b-1 Running", "ImageStream x-1", "Pod x-validate"]
    streams = [stream("a-notebook", phase="Validating"), stream("b-notebook", phase="Failed")]
    assert crashcheck.stream_phase_problems(streams) == ["ImageStream a-notebook: still Validating"]
    assert crashcheck.duplicates(["a", "b", "a"]) == ["a"]
