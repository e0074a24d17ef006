"""The OpenAPI 3.1 document of the service's REST API: the one description of it.

Served at ``api/openapi.json``. Each feature contributes its paths and schemas
(`Feature.openapi_paths`, `Feature.openapi_schemas`); this module holds what they share
(security, errors, path ids) and puts the document together. A test checks that every API
route is described here and that real answers validate against these schemas.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .scopes import METRICS_SCOPE, MODEL_READ_SCOPE, MODEL_WRITE_SCOPE, READ_SCOPE, WRITE_SCOPE

if TYPE_CHECKING:
    from .feature import Feature

ERROR = {
    "type": "object",
    "required": ["status", "message"],
    "additionalProperties": False,
    "properties": {
        "status": {"type": "integer"},
        "message": {"type": "string"},
        "problems": {"type": "array", "items": {"type": "string"}},
    },
}

#: what every write answers before anything is done: the caller, the body's size and type
BODY_ERRORS = (400, 403, 413, 415, 422)
READ = [{"hub_token": [READ_SCOPE]}, {"hub_oauth": [READ_SCOPE]}]
WRITE = [{"hub_token": [WRITE_SCOPE]}, {"hub_oauth": [WRITE_SCOPE]}]
MODEL_READ = [{"hub_token": [MODEL_READ_SCOPE]}, {"hub_oauth": [MODEL_READ_SCOPE]}]
MODEL_WRITE = [{"hub_token": [MODEL_WRITE_SCOPE]}, {"hub_oauth": [MODEL_WRITE_SCOPE]}]


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def json_body(schema: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ref(schema)}}}


def errors(*codes: int) -> dict[str, Any]:
    meaning = {
        400: "Malformed request (bad JSON, bad query argument)",
        403: "Not authenticated, or the scope is missing",
        404: "No such build (or notebook, model server)",
        409: "The build's state does not allow this (a notebook or model server of that name"
        " exists)",
        413: "The body is larger than max_body_size (refused before it is read)",
        415: "The body is not application/json",
        422: "The request is invalid; problems lists every reason",
        503: "A service this needs (the S3 service, the cluster) did not answer; try again",
    }
    return {str(c): json_body("Error", meaning[c]) for c in codes}


def path_id(pattern: str) -> dict[str, Any]:
    """The ``{id}`` parameter of a path whose routes match only ``pattern``."""
    schema = {"type": "string", "pattern": f"^{pattern}$"}
    return {"name": "id", "in": "path", "required": True, "schema": schema}


SELF = {
    "/api/openapi.json": {
        "get": {
            "summary": "This document",
            "security": [],
            "responses": {
                "200": {"description": "OpenAPI 3.1", "content": {"application/json": {}}}
            },
        },
    },
    "/metrics": {
        "get": {
            "summary": "The service's Prometheus metrics (docs/metrics.md)",
            "security": [{"hub_token": [METRICS_SCOPE]}],
            "responses": {
                "200": {
                    "description": "Prometheus text exposition format 0.0.4",
                    "content": {"text/plain": {}},
                },
                **errors(403),
            },
        },
    },
}


def document(
    *, prefix: str, hub_prefix: str, version: str, features: Iterable[Feature]
) -> dict[str, Any]:
    """The OpenAPI document of a service mounted at ``prefix`` running ``features``."""
    authorize = f"{hub_prefix}api/oauth2/authorize"
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for feature in features:
        paths.update(feature.openapi_paths())
        schemas.update(feature.openapi_schemas())
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "jupyterhub-ov image build service",
            "version": version,
            "description": "Builds notebook images from CustomNBImage-shaped requests,"
            " and keeps the OpenVINO notebook image built.",
        },
        "servers": [{"url": prefix.rstrip("/")}],
        "paths": {**paths, **SELF},
        "components": {
            "schemas": {**schemas, "Error": ERROR},
            "securitySchemes": {
                "hub_token": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "'token <JupyterHub API token>' of a user or service",
                },
                "hub_oauth": {
                    "type": "oauth2",
                    "description": "JupyterHub login (browser); requests other than page"
                    " views need the X-XSRFToken header",
                    "flows": {
                        "authorizationCode": {
                            "authorizationUrl": authorize,
                            "tokenUrl": f"{hub_prefix}api/oauth2/token",
                            "scopes": {
                                READ_SCOPE: "read builds",
                                WRITE_SCOPE: "change builds",
                                MODEL_READ_SCOPE: "read model servers",
                                MODEL_WRITE_SCOPE: "change model servers",
                            },
                        }
                    },
                },
            },
        },
    }
