"""The notebooks feature's part of the OpenAPI document: its paths and schemas."""

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

from .schemas import NOTEBOOK, NOTEBOOK_LIST, NOTEBOOK_REQUEST, NOTEBOOK_SPEC

#: a notebook's name is what `model.parse_params` accepts; the routes match only these
NOTEBOOK_NAME = r"[a-z0-9](?:[a-z0-9.-]{0,38}[a-z0-9])?"
NAME = path_id(NOTEBOOK_NAME)

SCHEMAS = {
    "NotebookSpec": NOTEBOOK_SPEC,
    "NotebookRequest": NOTEBOOK_REQUEST,
    "Notebook": NOTEBOOK,
    "NotebookList": NOTEBOOK_LIST,
}


#: the paths this feature adds to the document
PATHS: dict[str, Any] = {
    "/api/notebooks": {
        "get": {
            "summary": "List the OpenVINO notebook images kept built",
            "security": READ,
            "responses": {
                "200": json_body("NotebookList", "Every notebook"),
                **errors(403, 404),
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
                "201": json_body("Notebook", "Created; its first build has started"),
                **errors(400, 403, 404, 409, 413, 415, 422),
            },
        },
    },
    "/api/notebooks/{id}": {
        "parameters": [NAME],
        "get": {
            "summary": "One notebook: parameters, commit, dates, tags, last outcome",
            "security": READ,
            "responses": {"200": json_body("Notebook", "The notebook"), **errors(403, 404)},
        },
        "delete": {
            "summary": "Stop keeping the image built (its images and builds stay)",
            "security": WRITE,
            "responses": {
                "204": {"description": "Forgotten"},
                **errors(*BODY_ERRORS, 404),
            },
        },
    },
    "/api/notebooks/{id}/check": {
        "parameters": [NAME],
        "post": {
            "summary": "Compare the branch head now; build if it moved",
            "security": WRITE,
            "responses": {
                "200": json_body("Notebook", "The notebook after the check"),
                **errors(*BODY_ERRORS, 404),
            },
        },
    },
}
