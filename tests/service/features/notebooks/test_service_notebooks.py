"""The OpenVINO notebooks' REST API, through a real hub and its proxy (recording backend).

Every JSON answer is validated against the service's OpenAPI document (`Builder.api`).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.builds.gitrepos import make_repository
from tests.service.svc import PREFIX, Builder

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def repo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("notebooks-api") / "openvino_notebooks"
    make_repository(path, {"requirements.txt": "", "Dockerfile": "FROM scratch\n"})
    return path.as_uri()


def until_state(builder: Builder, name: str, state: str, timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        record = builder.api("GET", f"/api/notebooks/{name}").json()
        if record["status"]["state"] == state:
            return record
        assert time.monotonic() < deadline, record
        time.sleep(0.1)


def test_create_build_read_check_and_delete(builder: Builder, repo_url: str) -> None:
    body = {"metadata": {"name": "v2024"}, "spec": {"git_uri": repo_url}}
    created = builder.api("POST", "/api/notebooks", json=body)
    assert created.status_code == 201, created.text
    assert created.headers["Location"] == f"{PREFIX}api/notebooks/v2024"
    record = created.json()
    assert record["creator"] == "admin" and record["namespace"] == ""
    assert record["spec"] == {
        "git_uri": repo_url,
        "git_ref": "main",
        "auto_update_image": False,
        "reconcile_duration_multiplier": 120,
    }
    ready = until_state(builder, "v2024", "Ready")
    assert ready["status"]["tags"] == ["v2024"]
    assert ready["status"]["image"] == "openvino-notebook:v2024"
    assert len(ready["status"]["commit"]) == 40 and ready["status"]["build_date"]
    build = builder.api("GET", f"/api/builds/{ready['status']['build_id']}").json()
    assert build["image"] == "openvino-notebook:v2024" and build["phase"] == "Success"
    assert build["displayName"] == "OpenVINO™ Toolkit v2024"
    assert {"event": "build", "image": "openvino-notebook:v2024"} in builder.recorded()

    listed = builder.api("GET", "/api/notebooks", user="user1").json()["notebooks"]
    assert [n["name"] for n in listed] == ["v2024"]  # readable by users
    checked = builder.api("POST", "/api/notebooks/v2024/check").json()
    assert checked["status"]["tags"] == ["v2024"]  # the branch did not move: no build
    assert checked["status"]["last_check"] > ready["status"]["last_check"]

    assert builder.api("DELETE", "/api/notebooks/v2024").status_code == 204
    gone = builder.api("GET", "/api/notebooks/v2024")
    assert gone.status_code == 404 and gone.json()["message"] == "No notebook 'v2024'."
    # the image and its build stay
    assert builder.api("GET", f"/api/builds/{build['id']}").json()["phase"] == "Success"


def test_bad_requests_change_nothing(builder: Builder, repo_url: str) -> None:
    before = builder.recorded()
    bad = {
        "metadata": {"name": "Bad Name"},
        "spec": {"git_uri": "ftp://example.com/x", "reconcile_duration_multiplier": -1},
    }
    r = builder.api("POST", "/api/notebooks", json=bad)
    assert r.status_code == 422 and len(r.json()["problems"]) == 3, r.json()
    r = builder.api("POST", "/api/notebooks", json={"metadata": {"name": "x"}, "spek": {}})
    assert r.status_code == 422 and "unknown keys ['spek']" in r.json()["problems"]
    r = builder.api(
        "POST", "/api/notebooks", data="{", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400
    r = builder.api("POST", "/api/notebooks", data="x", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415
    good = {"metadata": {"name": "taken"}, "spec": {"git_uri": repo_url}}
    r = builder.api("POST", "/api/notebooks", user="user1", json=good)
    assert r.status_code == 403  # writing takes the admin's scope
    names = [n["name"] for n in builder.api("GET", "/api/notebooks").json()["notebooks"]]
    assert "taken" not in names and "x" not in names
    assert builder.recorded() == before  # nothing resolved or built
    assert builder.api("POST", "/api/notebooks", json=good).status_code == 201
    again = builder.api("POST", "/api/notebooks", json=good)
    assert again.status_code == 409 and "exists already" in again.json()["message"]
    assert builder.api("POST", "/api/notebooks/nothere/check").status_code == 404
    until_state(builder, "taken", "Ready")
    builder.api("DELETE", "/api/notebooks/taken")
