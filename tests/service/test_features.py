"""Features plug into the service: listed by name or import string, each bringing its own
routes, OpenAPI part, static files, table and components; bad lists are clear errors."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import requests
from traitlets import TraitError

from jupyterhub_ov.service.app import PlatformService
from jupyterhub_ov.service.feature import Feature, Route
from jupyterhub_ov.service.web import feature_routes, pattern
from jupyterhub_ov.service.web.api import NotFoundHandler

from .demo_feature import Hello, HelloHandler
from .standalone import service_process, stop

DEMO = "tests.service.demo_feature.Hello"


def test_features_are_found_by_entry_point_and_by_import_string() -> None:
    made = PlatformService(features=["notebooks", DEMO, "builds"]).make_features()
    assert [f.name for f in made] == ["notebooks", "hello", "builds"]  # the panel's order
    assert isinstance(made[1], Hello)


@pytest.mark.parametrize(
    ("features", "message"),
    [
        (
            ["builds", "nope"],
            r"No service feature 'nope'.*known: builds, customimages, modelservers, notebooks",
        ),
        (["builtins.dict"], "'builtins.dict' is not a service feature"),
        (["builds", "builds"], "'builds' is listed twice"),
    ],
)
def test_a_bad_feature_list_is_a_clear_error(features: list[str], message: str) -> None:
    with pytest.raises(TraitError, match=message):
        PlatformService(features=features).make_features()


class Clash(Feature):
    name = "clash"

    def routes(self) -> list[Route]:
        return [Route("/api/hello", NotFoundHandler)]


def test_two_features_routing_one_path_is_refused() -> None:
    with pytest.raises(ValueError, match="/api/hello is routed by both hello and clash"):
        feature_routes([Hello(), Clash()])


def test_a_route_with_an_id_must_say_what_the_id_is() -> None:
    with pytest.raises(ValueError, match="needs its id_pattern"):
        pattern("/p/", Route("/api/hello/{id}", HelloHandler))
    assert pattern("/p/", Route("/api/hello/{id}", HelloHandler, "[a-z]+")) == (
        r"/p/api/hello/([a-z]+)"
    )


def test_a_feature_of_its_own_plugs_in_and_the_left_out_one_is_gone(tmp_path: Path) -> None:
    """builds + a test's feature, without notebooks: the feature's route, document part,
    static file, table and start/stop are there; nothing of notebooks is."""
    record = tmp_path / "record"
    db = tmp_path / "service.sqlite"
    args = [
        "--backend=tests.builds.scripted.ScriptedBackend",
        f"--PlatformService.db_url=sqlite:///{db}",
        f"--PlatformService.features=['builds', '{DEMO}']",
        f"--Hello.record_file={record}",
        "--log-level=INFO",
    ]
    with service_process(tmp_path, *args) as (proc, base):
        doc = requests.get(base + "api/openapi.json", timeout=5)
        paths = doc.json()["paths"]
        assert "/api/hello" in paths and "/api/builds" in paths
        assert not [p for p in paths if p.startswith("/api/notebooks")]
        assert requests.get(base + "api/hello", timeout=5).status_code == 403  # routed
        gone = requests.get(base + "api/notebooks", timeout=5)
        assert gone.status_code == 404 and "No such API path" in gone.json()["message"]
        script = requests.get(base + "static/hello/hello.js", timeout=5)
        assert script.status_code == 200 and "a test feature" in script.text
        assert record.read_text() == "start\n"
        err = stop(proc)
    assert "Platform service (scripted backend; builds, hello)" in err
    assert record.read_text() == "start\nstop\n"
    with sqlite3.connect(db) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert {"builds", "demo_greetings"} <= tables
    assert "openvino_notebooks" not in tables
