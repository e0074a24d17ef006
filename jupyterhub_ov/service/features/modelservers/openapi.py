"""The model servers' part of the OpenAPI document: their paths and schemas."""

from __future__ import annotations

from typing import Any

from jupyterhub_ov.service.openapi import (
    BODY_ERRORS,
    MODEL_READ,
    MODEL_WRITE,
    errors,
    json_body,
    path_id,
    ref,
)

from .schemas import MODEL_SERVER, MODEL_SERVER_LIST, MODEL_SERVER_REQUEST, SCALE_REQUEST

#: a ModelServer's name is a DNS label (`model.parse_model_server` checks its length)
SERVER_NAME = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
NAME = path_id(SERVER_NAME)

SCHEMAS = {
    "ModelServerRequest": MODEL_SERVER_REQUEST,
    "ModelServerScale": SCALE_REQUEST,
    "ModelServer": MODEL_SERVER,
    "ModelServerList": MODEL_SERVER_LIST,
}


def _scale(method: str) -> dict[str, Any]:
    return {
        "summary": "Set the number of replicas" + (" (as PUT)" if method == "post" else ""),
        "security": MODEL_WRITE,
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": ref("ModelServerScale")}},
        },
        "responses": {
            "200": json_body("ModelServer", "The model server, scaling"),
            **errors(*BODY_ERRORS, 404),
        },
    }


PATHS: dict[str, Any] = {
    "/api/modelservers": {
        "get": {
            "summary": "List the model servers, their state, endpoints and models",
            "security": MODEL_READ,
            "responses": {
                "200": json_body("ModelServerList", "Every model server"),
                **errors(403),
            },
        },
        "post": {
            "summary": "Create a model server (an OpenVINO Model Server for a ModelServer spec)",
            "security": MODEL_WRITE,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": ref("ModelServerRequest")}},
            },
            "responses": {
                "201": json_body("ModelServer", "Created; it is starting"),
                **errors(400, 403, 409, 413, 415, 422),
            },
        },
    },
    "/api/modelservers/{id}": {
        "parameters": [NAME],
        "get": {
            "summary": "One model server: spec, state, replicas, endpoints, models, last error",
            "security": MODEL_READ,
            "responses": {"200": json_body("ModelServer", "The model server"), **errors(403, 404)},
        },
        "delete": {
            "summary": "Stop the model server and remove what was made for it",
            "security": MODEL_WRITE,
            "responses": {
                "204": {"description": "Deleted"},
                **errors(*BODY_ERRORS, 404, 503),
            },
        },
    },
    "/api/modelservers/{id}/scale": {
        "parameters": [NAME],
        "put": _scale("put"),
        "post": _scale("post"),
    },
}
