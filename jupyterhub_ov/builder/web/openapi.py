"""The OpenAPI 3.1 document of the build service's REST API: the one description of it.

Served at ``api/openapi.json``; a test checks that every API route is described here and that
real answers validate against these schemas.
"""

from __future__ import annotations

from typing import Any

from ..phases import Phase
from ..scopes import READ_SCOPE, WRITE_SCOPE
from ..spec import BUILD_TYPES

PHASES = [p.value for p in Phase]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(kind: str) -> dict[str, Any]:
    return {"type": [kind, "null"]}


REQUEST = {
    "type": "object",
    "description": "A CustomNBImage-shaped build request. The server checks every field and"
    " answers 422 listing all problems; nothing runs for an invalid request.",
    "required": ["metadata", "spec"],
    "additionalProperties": False,
    "properties": {
        "metadata": {
            "type": "object",
            "required": ["name"],
            "additionalProperties": False,
            "properties": {
                "name": {
                    "type": "string",
                    "description": "Image name: lowercase letters, digits, single hyphens;"
                    " '-notebook' is appended unless present.",
                },
                "annotations": {
                    "type": "object",
                    "description": "opendatahub.io/notebook-image-name (required),"
                    " -desc (required), -url; -creator is always the requesting user.",
                    "additionalProperties": {"type": "string"},
                },
            },
        },
        "spec": {
            "type": "object",
            "required": ["buildType"],
            "additionalProperties": False,
            "properties": {
                "buildType": {"enum": list(BUILD_TYPES)},
                "fromImage": {"type": "string", "description": "ImportImage: what to import"},
                "packageVersions": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "PackageList: PEP 508 requirements (no pip options)",
                },
                "runtimeEnvironment": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "osName": {"type": "string"},
                        "osVersion": {"type": "string"},
                        "pythonVersion": {"type": "string", "examples": ["3.11"]},
                    },
                },
                "builderImage": {"type": "string"},
                "repositoryUrl": {"type": "string", "description": "GitRepository"},
                "gitRef": {"type": "string", "description": "GitRepository: branch/tag/commit"},
            },
        },
    },
}

TRANSITION = {
    "type": "object",
    "required": ["phase", "at", "message"],
    "additionalProperties": False,
    "properties": {
        "phase": {"enum": PHASES},
        "at": {"type": "string", "format": "date-time"},
        "message": {"type": "string"},
    },
}

BUILD = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "id",
        "name",
        "buildType",
        "displayName",
        "description",
        "creator",
        "backend",
        "phase",
        "message",
        "created",
        "updated",
        "request",
        "image",
        "reference",
        "pythonVersion",
        "packages",
        "resolved",
        "retryOf",
    ],
    "properties": {
        "id": {"type": "string"},
        "name": {"type": "string", "description": "the image name (ends in -notebook)"},
        "buildType": {"enum": list(BUILD_TYPES)},
        "displayName": {"type": "string"},
        "description": {"type": "string"},
        "creator": {"type": "string"},
        "backend": {"type": "string"},
        "phase": {"enum": PHASES},
        "message": {"type": "string"},
        "created": {"type": "string", "format": "date-time"},
        "updated": {"type": "string", "format": "date-time"},
        "request": _ref("BuildRequest"),
        "image": {**_nullable("string"), "description": "<name>:<tag> once published"},
        "reference": _nullable("string"),
        "pythonVersion": _nullable("string"),
        "packages": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "version"],
                "properties": {"name": {"type": "string"}, "version": {"type": "string"}},
            },
        },
        "resolved": {
            "oneOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "required": ["tag", "lock"],
                    "properties": {
                        "tag": {"type": "string"},
                        "lock": {"type": "array", "items": {"type": "string"}},
                        "commit": _nullable("string"),
                        "source": _nullable("string"),
                        "base": _nullable("string"),
                        "pythonVersion": _nullable("string"),
                        "details": {"type": "object"},
                    },
                },
            ]
        },
        "retryOf": _nullable("string"),
        "transitions": {
            "type": "array",
            "items": _ref("Transition"),
            "description": "the build's story (single-build answers only)",
        },
    },
}

BUILD_LIST = {
    "type": "object",
    "required": ["builds", "total", "limit", "offset"],
    "additionalProperties": False,
    "properties": {
        "builds": {"type": "array", "items": _ref("Build")},
        "total": {"type": "integer", "description": "builds matching the filters"},
        "limit": {"type": "integer"},
        "offset": {"type": "integer"},
    },
}

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

EVENT = {
    "description": "The JSON data of one server-sent event",
    "oneOf": [
        {
            "type": "object",
            "required": ["seq", "at", "type", "phase", "message"],
            "additionalProperties": False,
            "properties": {
                "seq": {"type": "integer"},
                "at": {"type": "string", "format": "date-time"},
                "type": {"const": "phase"},
                "phase": {"enum": PHASES},
                "message": {"type": "string"},
            },
        },
        {
            "type": "object",
            "required": ["seq", "at", "type", "line"],
            "additionalProperties": False,
            "properties": {
                "seq": {"type": "integer"},
                "at": {"type": "string", "format": "date-time"},
                "type": {"const": "log"},
                "line": {"type": "string"},
            },
        },
    ],
}


def _json(schema: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


def _errors(*codes: int) -> dict[str, Any]:
    meaning = {
        400: "Malformed request (bad JSON, bad query argument)",
        403: "Not authenticated, or the scope is missing",
        404: "No such build",
        409: "The build's state does not allow this",
        413: "The body is larger than max_body_size (not read)",
        415: "The body is not application/json",
        422: "The build request is invalid; problems lists every reason",
    }
    return {str(c): _json("Error", meaning[c]) for c in codes}


ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
READ = [{"hub_token": [READ_SCOPE]}, {"hub_oauth": [READ_SCOPE]}]
WRITE = [{"hub_token": [WRITE_SCOPE]}, {"hub_oauth": [WRITE_SCOPE]}]


def _paths() -> dict[str, Any]:
    build = _json("Build", "The build, with its transitions")
    return {
        "/api/builds": {
            "get": {
                "summary": "List builds, newest first",
                "security": READ,
                "parameters": [
                    {
                        "name": "phase",
                        "in": "query",
                        "schema": {"type": "string"},
                        "description": "one phase or several, comma-separated or repeated",
                    },
                    {
                        "name": "name",
                        "in": "query",
                        "schema": {"type": "string"},
                        "description": "image name (with or without -notebook)",
                    },
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50},
                    },
                    {
                        "name": "offset",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 0, "default": 0},
                    },
                ],
                "responses": {"200": _json("BuildList", "Builds"), **_errors(400, 403)},
            },
            "post": {
                "summary": "Request a build",
                "security": WRITE,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("BuildRequest")}},
                },
                "responses": {
                    "201": _json("Build", "A new build started"),
                    "200": _json("Build", "An identical build was running: this is it"),
                    **_errors(400, 403, 413, 415, 422),
                },
            },
        },
        "/api/builds/{id}": {
            "parameters": [ID],
            "get": {
                "summary": "One build",
                "security": READ,
                "responses": {"200": build, **_errors(403, 404)},
            },
            "delete": {
                "summary": "Delete a build's record and log (not the image)",
                "security": WRITE,
                "responses": {"204": {"description": "Deleted"}, **_errors(403, 404, 409)},
            },
        },
        "/api/builds/{id}/log": {
            "parameters": [ID],
            "get": {
                "summary": "The build's whole log as stored, also after it ended",
                "security": READ,
                "responses": {
                    "200": {
                        "description": "Log lines",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    },
                    **_errors(403, 404),
                },
            },
        },
        "/api/builds/{id}/events": {
            "parameters": [
                ID,
                {
                    "name": "Last-Event-ID",
                    "in": "header",
                    "schema": {"type": "integer"},
                    "description": "resume after this event number",
                },
                {
                    "name": "after",
                    "in": "query",
                    "schema": {"type": "integer"},
                    "description": "same as Last-Event-ID, for clients that cannot set it",
                },
            ],
            "get": {
                "summary": "The build's events as server-sent events, then live",
                "description": "`id:` the event number, `event:` phase or log, `data:` an"
                " Event as JSON; a comment every keepalive_interval seconds of quiet. Ends"
                " after Success or Failure.",
                "security": READ,
                "responses": {
                    "200": {
                        "description": "An event stream",
                        "content": {"text/event-stream": {"schema": _ref("Event")}},
                    },
                    "204": {"description": "The build ended and nothing came after the id"},
                    **_errors(400, 403, 404),
                },
            },
        },
        "/api/builds/{id}/cancel": {
            "parameters": [ID],
            "post": {
                "summary": "Stop a running build (it ends in Failure)",
                "security": WRITE,
                "responses": {"200": build, **_errors(403, 404, 409)},
            },
        },
        "/api/builds/{id}/retry": {
            "parameters": [ID],
            "post": {
                "summary": "Build an ended build's request again",
                "security": WRITE,
                "responses": {
                    "201": _json("Build", "The new build"),
                    "200": _json("Build", "An identical build was running: this is it"),
                    **_errors(403, 404, 409),
                },
            },
        },
        "/api/openapi.json": {
            "get": {
                "summary": "This document",
                "security": [],
                "responses": {
                    "200": {"description": "OpenAPI 3.1", "content": {"application/json": {}}}
                },
            },
        },
    }


def document(*, prefix: str, hub_prefix: str, version: str) -> dict[str, Any]:
    """The OpenAPI document for a service mounted at ``prefix``."""
    authorize = f"{hub_prefix}api/oauth2/authorize"
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "jupyterhub-ov image build service",
            "version": version,
            "description": "Builds notebook images from CustomNBImage-shaped requests.",
        },
        "servers": [{"url": prefix.rstrip("/")}],
        "paths": _paths(),
        "components": {
            "schemas": {
                "BuildRequest": REQUEST,
                "Build": BUILD,
                "BuildList": BUILD_LIST,
                "Transition": TRANSITION,
                "Error": ERROR,
                "Event": EVENT,
            },
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
                            "scopes": {READ_SCOPE: "read builds", WRITE_SCOPE: "change builds"},
                        }
                    },
                },
            },
        },
    }
