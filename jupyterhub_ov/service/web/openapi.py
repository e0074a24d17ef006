"""The OpenAPI 3.1 document of the build service's REST API: the one description of it.

Served at ``api/openapi.json``; a test checks that every API route is described here and that
real answers validate against these schemas.
"""

from __future__ import annotations

from typing import Any

from ..features.builds.schemas import (
    BUILD,
    BUILD_LIST,
    ERROR,
    EVENT,
    NOTEBOOK,
    NOTEBOOK_LIST,
    NOTEBOOK_REQUEST,
    NOTEBOOK_SPEC,
    REQUEST,
    TRANSITION,
    ref,
)
from ..scopes import READ_SCOPE, WRITE_SCOPE


def _json(schema: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ref(schema)}}}


def _errors(*codes: int) -> dict[str, Any]:
    meaning = {
        400: "Malformed request (bad JSON, bad query argument)",
        403: "Not authenticated, or the scope is missing",
        404: "No such build (or notebook)",
        409: "The build's state does not allow this (a notebook of that name exists)",
        413: "The body is larger than max_body_size (refused before it is read)",
        415: "The body is not application/json",
        422: "The request is invalid; problems lists every reason",
    }
    return {str(c): _json("Error", meaning[c]) for c in codes}


#: what a path's ``{id}`` may be: a build's id is ``uuid4().hex`` (`BuildManager.submit`);
#: a notebook's name is what `openvino.parse_params` accepts. The routes match only these.
ID_PATTERNS = {
    "builds": r"[0-9a-f]{32}",
    "notebooks": r"[a-z0-9](?:[a-z0-9.-]{0,38}[a-z0-9])?",
}


def _id(kind: str) -> dict[str, Any]:
    schema = {"type": "string", "pattern": f"^{ID_PATTERNS[kind]}$"}
    return {"name": "id", "in": "path", "required": True, "schema": schema}


ID = _id("builds")
NAME = _id("notebooks")
#: what every write answers before anything is done: the caller, the body's size and type
BODY_ERRORS = (400, 403, 413, 415, 422)
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
                    "content": {"application/json": {"schema": ref("BuildRequest")}},
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
                "responses": {
                    "204": {"description": "Deleted"},
                    **_errors(*BODY_ERRORS, 404, 409),
                },
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
                        "content": {"text/event-stream": {"schema": ref("Event")}},
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
                "responses": {"200": build, **_errors(*BODY_ERRORS, 404, 409)},
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
                    **_errors(*BODY_ERRORS, 404, 409),
                },
            },
        },
        "/api/notebooks": {
            "get": {
                "summary": "List the OpenVINO notebook images kept built",
                "security": READ,
                "responses": {
                    "200": _json("NotebookList", "Every notebook"),
                    **_errors(403, 404),
                },
            },
            "post": {
                "summary": "Build the OpenVINO notebook image (openvino-notebook) and keep it",
                "security": WRITE,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": ref("NotebookRequest")}},
                },
                "responses": {
                    "201": _json("Notebook", "Created; its first build has started"),
                    **_errors(400, 403, 404, 409, 413, 415, 422),
                },
            },
        },
        "/api/notebooks/{id}": {
            "parameters": [NAME],
            "get": {
                "summary": "One notebook: parameters, commit, dates, tags, last outcome",
                "security": READ,
                "responses": {"200": _json("Notebook", "The notebook"), **_errors(403, 404)},
            },
            "delete": {
                "summary": "Stop keeping the image built (its images and builds stay)",
                "security": WRITE,
                "responses": {
                    "204": {"description": "Forgotten"},
                    **_errors(*BODY_ERRORS, 404),
                },
            },
        },
        "/api/notebooks/{id}/check": {
            "parameters": [NAME],
            "post": {
                "summary": "Compare the branch head now; build if it moved",
                "security": WRITE,
                "responses": {
                    "200": _json("Notebook", "The notebook after the check"),
                    **_errors(*BODY_ERRORS, 404),
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
            "description": "Builds notebook images from CustomNBImage-shaped requests,"
            " and keeps the OpenVINO notebook image built.",
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
                "NotebookSpec": NOTEBOOK_SPEC,
                "NotebookRequest": NOTEBOOK_REQUEST,
                "Notebook": NOTEBOOK,
                "NotebookList": NOTEBOOK_LIST,
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
