"""The REST API and live events of the build service, through a real hub and its proxy.

Every JSON answer is validated against the service's OpenAPI document (`Builder.api`).
"""

from __future__ import annotations

import itertools
import socket
import time
from urllib.parse import urlsplit

import pytest
import requests

from jupyterhub_ov.builds.model.phases import PATHS
from tests.service.openapi_check import validate_event
from tests.service.svc import PREFIX, Builder, package_list

pytestmark = pytest.mark.e2e

_names = (f"api{i}" for i in itertools.count())


def fresh(*packages: str) -> dict:
    """A request for an image name no other test uses."""
    return package_list(next(_names), *packages)


def test_create_follow_live_events_to_success(builder: Builder) -> None:
    r = builder.submit(fresh("ovtiny==2.0"))
    assert r.status_code == 201 and r.json()["phase"] == "Preparing"
    assert r.headers["Location"] == f"{PREFIX}api/builds/{r.json()['id']}"
    build_id = r.json()["id"]
    events = [e for e in builder.events(build_id) if "data" in e]
    for e in events:
        validate_event(e["data"])
    assert [int(e["id"]) for e in events] == list(range(1, len(events) + 1))
    phases = [e["data"]["phase"] for e in events if e["event"] == "phase"]
    assert phases == [p.value for p in PATHS["PackageList"]]
    lines = [e["data"]["line"] for e in events if e["event"] == "log"]
    assert lines[1:] == ["step 1/3", "step 2/3", "step 3/3"]

    done = builder.api("GET", f"/api/builds/{build_id}").json()
    assert done["phase"] == "Success" and done["creator"] == "admin"
    assert [t["phase"] for t in done["transitions"]] == phases
    assert done["packages"] == [{"name": "ovtiny", "version": "2.0"}]
    assert done["image"].startswith(done["name"] + ":")
    log = builder.api("GET", f"/api/builds/{build_id}/log")
    assert log.headers["Content-Type"].startswith("text/plain")
    assert log.text.splitlines() == lines  # the whole log, after the build ended
    assert builder.recorded()[-1] == {"event": "build", "image": done["image"]}


def test_two_identical_requests_join_one_build(builder: Builder) -> None:
    body = fresh("slow")
    first = builder.submit(body)
    second = builder.submit(body, user="admin")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    name = body["metadata"]["name"]
    builder.release(name)
    assert builder.finished(first.json()["id"])["phase"] == "Success"
    started = [e for e in builder.recorded() if e["event"] == "build" and name in e["image"]]
    assert len(started) == 1


def test_list_filters_and_pages(builder: Builder) -> None:
    body = fresh("ovtiny")
    name = body["metadata"]["name"]
    ids = []
    for version in ("1", "2", "3"):
        body["spec"]["packageVersions"] = [f"ovtiny=={version}"]
        ids.append(builder.submit(body).json()["id"])
    for build_id in ids:
        builder.finished(build_id)
    listed = builder.api("GET", f"/api/builds?name={name}").json()
    assert listed["total"] == 3 and [b["id"] for b in listed["builds"]] == ids[::-1]
    assert "transitions" not in listed["builds"][0]
    page = builder.api("GET", f"/api/builds?name={name}-notebook&limit=1&offset=1").json()
    assert [b["id"] for b in page["builds"]] == [ids[1]] and page["total"] == 3
    assert (page["limit"], page["offset"]) == (1, 1)
    succeeded = builder.api("GET", "/api/builds?phase=Success,Failure&limit=500").json()
    assert set(ids) <= {b["id"] for b in succeeded["builds"]}
    assert builder.api("GET", f"/api/builds?name={name}&phase=Building").json()["total"] == 0
    for bad in ("phase=Done", "limit=0", "limit=501", "offset=-1", "limit=x"):
        r = builder.api("GET", f"/api/builds?{bad}")
        assert r.status_code == 400, (bad, r.text)
        assert bad.split("=")[0] in r.json()["message"]


def test_cancel_a_running_build(builder: Builder) -> None:
    build_id = builder.submit(fresh("slow")).json()["id"]
    builder.wait_phase(build_id, "Building")
    r = builder.api("POST", f"/api/builds/{build_id}/cancel")
    assert r.status_code == 200, r.text
    assert r.json()["phase"] == "Failure" and r.json()["message"] == "Cancelled by admin"
    image = builder.api("GET", f"/api/builds/{build_id}").json()["resolved"]["tag"]
    assert any(e["event"] == "cancelled" and image in e["image"] for e in builder.recorded())
    again = builder.api("POST", f"/api/builds/{build_id}/cancel")
    assert again.status_code == 409 and "already ended" in again.json()["message"]


def test_retry_a_failed_build(builder: Builder) -> None:
    failed = builder.finished(builder.submit(fresh("fail")).json()["id"])
    assert failed["phase"] == "Failure" and "no matching distribution" in failed["message"]
    r = builder.api("POST", f"/api/builds/{failed['id']}/retry")
    assert r.status_code == 201, r.text
    retried = r.json()
    assert retried["retryOf"] == failed["id"] and retried["id"] != failed["id"]
    assert retried["request"] == failed["request"]
    assert builder.finished(retried["id"])["phase"] == "Failure"


def test_delete_refuses_a_running_build_then_deletes(builder: Builder) -> None:
    body = fresh("slow")
    build_id = builder.submit(body).json()["id"]
    r = builder.api("DELETE", f"/api/builds/{build_id}")
    assert r.status_code == 409 and "still running" in r.json()["message"]
    retry = builder.api("POST", f"/api/builds/{build_id}/retry")
    assert retry.status_code == 409
    builder.release(body["metadata"]["name"])
    builder.finished(build_id)
    r = builder.api("DELETE", f"/api/builds/{build_id}")
    assert r.status_code == 204 and not r.content
    for path in ("", "/log", "/events"):
        gone = builder.api("GET", f"/api/builds/{build_id}{path}")
        assert gone.status_code == 404 and build_id in gone.json()["message"]


UNKNOWN = "0" * 32  # a well-formed build id no build has


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/api/builds/{}"),
        ("GET", "/api/builds/{}/log"),
        ("GET", "/api/builds/{}/events"),
        ("POST", "/api/builds/{}/cancel"),
        ("POST", "/api/builds/{}/retry"),
        ("DELETE", "/api/builds/{}"),
    ],
)
def test_unknown_builds_are_404(builder: Builder, method: str, path: str) -> None:
    r = builder.api(method, path.format(UNKNOWN))
    assert r.status_code == 404
    assert r.json() == {"status": 404, "message": f"No build {UNKNOWN!r}."}


def test_unknown_api_path_is_404_json(builder: Builder) -> None:
    r = builder.api("GET", "/api/nothing", check=False)
    assert r.status_code == 404 and "/api/nothing" in r.json()["message"]


def test_keepalives_while_quiet_then_resume_without_repeats(builder: Builder) -> None:
    body = fresh("slow")
    build_id = builder.submit(body).json()["id"]
    builder.wait_phase(build_id, "Building")
    seen: list[dict] = []
    keepalives = 0
    started = time.monotonic()
    stream = builder.events(build_id)
    for item in stream:  # the build waits for its release: only keep-alives come now
        if "comment" in item:
            keepalives += 1
            if keepalives == 3:
                break
        elif "data" in item:
            seen.append(item)
    stream.close()
    assert time.monotonic() - started >= 1.0  # three comments at 0.5 s intervals of quiet
    assert [e["data"]["line"] for e in seen if e["event"] == "log"][-1] == "step 3/3"
    last = int(seen[-1]["id"])

    builder.release(body["metadata"]["name"])
    rest = [e for e in builder.events(build_id, **{"Last-Event-ID": str(last)}) if "data" in e]
    assert [int(e["id"]) for e in rest] == list(range(last + 1, last + 1 + len(rest)))
    assert [e["data"]["phase"] for e in rest] == ["Importing", "Validating", "Success"]
    # after the end, a reconnecting EventSource is told to stop (204)
    headers = {"Last-Event-ID": rest[-1]["id"]}
    r = builder.api("GET", f"/api/builds/{build_id}/events", headers=headers)
    assert r.status_code == 204
    r = builder.api("GET", f"/api/builds/{build_id}/events?after=x")
    assert r.status_code == 400


HOSTILE = [
    ("pip option", fresh("--index-url", "https://evil.example/simple"), "pip options"),
    ("editable", fresh("-e git+https://evil.example/x.git"), "pip options"),
    ("shell", fresh("ovtiny; rm -rf /"), "not a valid PEP 508"),
    ("url", fresh("evil @ https://evil.example/evil.whl"), "direct URLs"),
    ("traversal", package_list("../x", "ovtiny"), "metadata.name"),
    ("upper", package_list("UPPER", "ovtiny"), "metadata.name"),
    ("long", package_list("a" * 100, "ovtiny"), "too long"),
    ("unknown key", {**fresh("ovtiny"), "status": {}}, "unknown keys ['status']"),
    (
        "spec key",
        fresh("ovtiny", "x")
        | {"spec": {"buildType": "PackageList", "packageVersions": ["x"], "run": "sh"}},
        "do not apply",
    ),
    (
        "git host",
        {
            **fresh(),
            "spec": {"buildType": "GitRepository", "repositoryUrl": "https://evil.example/x.git"},
        },
        "is not allowed",
    ),
    ("array", [1, 2], "JSON object"),
]


@pytest.mark.parametrize("body, problem", [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE])
def test_hostile_specs_are_refused_and_nothing_runs(
    builder: Builder, body: object, problem: str
) -> None:
    before_runs, before_total = builder.recorded(), builder.api("GET", "/api/builds").json()
    r = builder.api("POST", "/api/builds", json=body)
    assert r.status_code == 422, r.text
    assert any(problem in p for p in r.json()["problems"]), r.json()
    assert builder.recorded() == before_runs
    assert builder.api("GET", "/api/builds").json()["total"] == before_total["total"]


def test_bad_bodies_are_refused(builder: Builder) -> None:
    before = builder.recorded()
    r = builder.api(
        "POST", "/api/builds", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400 and "not valid JSON" in r.json()["message"]
    r = builder.api("POST", "/api/builds", data=b"name=x", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415 and "application/json" in r.json()["message"]
    assert builder.recorded() == before


def test_a_10mb_body_is_refused_with_413_unread(builder: Builder) -> None:
    """Only the headers and 1 KiB are sent: the answer comes without the rest being read."""
    url = urlsplit(builder.url)
    head = (
        f"POST {url.path}/api/builds HTTP/1.1\r\nHost: {url.netloc}\r\n"
        f"Authorization: token {builder.token('admin')}\r\n"
        "Content-Type: application/json\r\nContent-Length: 10485760\r\n\r\n"
    )
    with socket.create_connection((url.hostname, url.port), timeout=10) as s:
        s.sendall(head.encode() + b"[" * 1024)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = s.recv(4096)
            assert chunk, answer
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]

    r = builder.api(
        "POST", "/api/builds", data=b"[" * 10_485_760, headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 413 and "65536 bytes" in r.json()["message"]


def test_openapi_document_is_served(builder: Builder) -> None:
    r = requests.get(builder.url + "/api/openapi.json", timeout=10)
    assert r.status_code == 200 and r.json()["servers"] == [{"url": PREFIX.rstrip("/")}]
