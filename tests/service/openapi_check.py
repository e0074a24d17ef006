"""Validate real answers of the build service against its own OpenAPI document."""

from __future__ import annotations

import re
from typing import Any

import requests
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from jupyterhub_ov.service.app import PlatformService
from jupyterhub_ov.service.openapi import document

#: the features a service runs by default, and its document
FEATURES = PlatformService().make_features()
DOC = document(
    prefix="/services/image-builder/", hub_prefix="/hub/", version="test", features=FEATURES
)
BASE = "urn:builder-openapi"
_registry: Registry = Registry().with_resource(
    BASE, Resource.from_contents(DOC, default_specification=DRAFT202012)
)


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def template_for(path: str) -> str | None:
    """The document's path template matching a concrete path below the prefix."""
    for template in DOC["paths"]:
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path):
            return template
    return None


def check_response(method: str, path: str, response: requests.Response) -> None:
    """Assert that the answer's status and body are what the document says for the route."""
    template = template_for(path)
    assert template is not None, f"{path} is not documented"
    operation = DOC["paths"][template][method.lower()]
    status = str(response.status_code)
    assert status in operation["responses"], f"{method} {template}: {status} is not documented"
    content = operation["responses"][status].get("content", {})
    if not content:
        assert not response.content, f"{method} {template} {status}: undocumented body"
        return
    media = response.headers["Content-Type"].split(";")[0]
    assert media in content, f"{method} {template} {status}: {media} not documented"
    if media != "application/json" or "schema" not in content[media]:
        return
    ref = "#/" + _pointer("paths", template, method.lower(), "responses", status, "content")
    schema = {"$ref": BASE + ref + "/" + _pointer(media) + "/schema"}
    Draft202012Validator(schema, registry=_registry).validate(response.json())


def validate_event(data: dict[str, Any]) -> None:
    schema = {"$ref": BASE + "#/components/schemas/Event"}
    Draft202012Validator(schema, registry=_registry).validate(data)
