"""The builds feature's part of the OpenAPI document: its paths and schemas."""

from __future__ import annotations

from typing import Any

from jupyterhub_ov.service.openapi import (
    BODY_ERRORS,
    READ,
    WRITE,
    errors,
    json_body,
    path_id,
    ref,
)

from .schemas import BUILD, BUILD_LIST, EVENT, REQUEST, SSE_EVENT, TRANSITION

#: a build's id is ``uuid4().hex`` (`BuildManager.submit`); the routes match only these
BUILD_ID = r"[0-9a-f]{32}"
ID = path_id(BUILD_ID)

SCHEMAS = {
    "BuildRequest": REQUEST,
    "Build": BUILD,
    "BuildList": BUILD_LIST,
    "Transition": TRANSITION,
    "Event": EVENT,
    "ServerSentEvent": SSE_EVENT,
}


ONE_BUILD = json_body("Build", "The build, with its transitions")
#: the paths this feature adds to the document
PATHS: dict[str, Any] = {
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
            "responses": {"200": json_body("BuildList", "Builds"), **errors(400, 403)},
        },
        "post": {
            "summary": "Request a build",
            "security": WRITE,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": ref("BuildRequest")}},
            },
            "responses": {
                "201": json_body("Build", "A new build started"),
                "200": json_body("Build", "An identical build was running: this is it"),
                **errors(400, 403, 413, 415, 422),
            },
        },
    },
    "/api/builds/{id}": {
        "parameters": [ID],
        "get": {
            "summary": "One build",
            "security": READ,
            "responses": {"200": ONE_BUILD, **errors(403, 404)},
        },
        "delete": {
            "summary": "Delete a build's record and log (not the image)",
            "security": WRITE,
            "responses": {
                "204": {"description": "Deleted"},
                **errors(*BODY_ERRORS, 404, 409),
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
                **errors(403, 404),
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
                    "content": {"text/event-stream": {"schema": ref("ServerSentEvent")}},
                },
                "204": {"description": "The build ended and nothing came after the id"},
                **errors(400, 403, 404),
            },
        },
    },
    "/api/builds/{id}/cancel": {
        "parameters": [ID],
        "post": {
            "summary": "Stop a running build (it ends in Failure)",
            "security": WRITE,
            "responses": {"200": ONE_BUILD, **errors(*BODY_ERRORS, 404, 409)},
        },
    },
    "/api/builds/{id}/retry": {
        "parameters": [ID],
        "post": {
            "summary": "Build an ended build's request again",
            "security": WRITE,
            "responses": {
                "201": json_body("Build", "The new build"),
                "200": json_body("Build", "An identical build was running: this is it"),
                **errors(*BODY_ERRORS, 404, 409),
            },
        },
    },
}
