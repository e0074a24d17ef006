"""What the fuzzing scenario (reliability/fuzzing.py) found, each case replayed as schemathesis
judges it: against the OpenAPI document the service serves under a real hub."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.service.svc import Builder, package_list

pytestmark = pytest.mark.e2e

CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def served_operation(builder: Builder, path: str, method: str):
    schema = schemathesis.openapi.from_url(builder.url + "/api/openapi.json")
    return schema[path][method]


def test_a_builds_event_stream_conforms_to_the_document(builder: Builder) -> None:
    """The stream's ``schema`` describes each server-sent event (``id``, ``event``,
    ``data``: OpenAPI's model of text/event-stream), not only the JSON inside ``data``; the
    document said ``Event`` and every real stream failed schemathesis' check."""
    build = builder.submit(package_list("fuzzevents", "ovtiny==2.0")).json()
    assert builder.finished(build["id"])["phase"] == "Success"
    operation = served_operation(builder, "/api/builds/{id}/events", "GET")
    case = operation.Case(path_parameters={"id": build["id"]})
    response = case.call(
        base_url=builder.url, headers={"Authorization": f"token {builder.token('admin')}"}
    )
    assert response.status_code == 200
    assert response.text.count("\ndata: ") >= 5  # every phase and the log lines
    case.validate_response(response, checks=[response_schema_conformance])


def call_as_admin(builder: Builder, path: str, method: str, **parts: Any):
    operation = served_operation(builder, path, method)
    case = operation.Case(**parts)
    auth = {"Authorization": f"token {builder.token('admin')}"}
    response = case.call(base_url=builder.url, headers=auth)
    case.validate_response(response, checks=CONFORMANCE)
    return response


def test_an_event_number_in_digits_int_refuses_is_a_bad_request(builder: Builder) -> None:
    """``str.isdigit`` admits '²', which ``int()`` refuses: it was a 500."""
    build = builder.submit(package_list("fuzzafter", "ovtiny==2.0")).json()
    path = "/api/builds/{id}/events"
    for where in ({"query": {"after": "²"}}, {"headers": {"Last-Event-ID": "²"}}):
        r = call_as_admin(builder, path, "GET", path_parameters={"id": build["id"]}, **where)
        assert r.status_code == 400, (where, r.text)
        assert "must be an event number" in r.json()["message"]


def test_a_model_server_number_in_digits_int_refuses_is_invalid(builder: Builder) -> None:
    """A batch size of '²' was a 500 (``str.isdigit`` admits it, ``int()`` refuses it)."""
    spec = {"model_path": "s3://b/m", "batch_size": "²"}
    body = {"metadata": {"name": "fuzzdigits"}, "spec": spec}
    r = call_as_admin(builder, "/api/modelservers", "POST", body=body)
    assert r.status_code == 422, r.text
    assert r.json()["problems"] == [
        "spec.batch_size must be a positive whole number or 'auto', not '²'"
    ]
    assert builder.api("GET", "/api/modelservers/fuzzdigits").status_code == 404
