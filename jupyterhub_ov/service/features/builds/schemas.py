"""Pure: the JSON schemas of the builds feature's API (used by `openapi`)."""

from __future__ import annotations

from typing import Any

from jupyterhub_ov.builds.model.phases import Phase
from jupyterhub_ov.builds.model.request_schema import REQUEST as REQUEST  # from the parser
from jupyterhub_ov.builds.model.spec import BuildType
from jupyterhub_ov.service.openapi import ref

PHASES = [p.value for p in Phase]
BUILD_TYPES = [t.value for t in BuildType]


def _nullable(kind: str) -> dict[str, Any]:
    return {"type": [kind, "null"]}


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
        "resource",
    ],
    "properties": {
        "id": {"type": "string"},
        "name": {"type": "string", "description": "the image name (ends in -notebook)"},
        "buildType": {"enum": BUILD_TYPES},
        "displayName": {"type": "string"},
        "description": {"type": "string"},
        "creator": {"type": "string"},
        "backend": {"type": "string"},
        "phase": {"enum": PHASES},
        "message": {"type": "string"},
        "created": {"type": "string", "format": "date-time"},
        "updated": {"type": "string", "format": "date-time"},
        "request": ref("BuildRequest"),
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
        "resource": {
            **_nullable("string"),
            "description": "the cluster resource the build is for"
            " (customnbimages.meteor.zone/<namespace>/<name>), if any",
        },
        "transitions": {
            "type": "array",
            "items": ref("Transition"),
            "description": "the build's story (single-build answers only)",
        },
    },
}

BUILD_LIST = {
    "type": "object",
    "required": ["builds", "total", "limit", "offset"],
    "additionalProperties": False,
    "properties": {
        "builds": {"type": "array", "items": ref("Build")},
        "total": {"type": "integer", "description": "builds matching the filters"},
        "limit": {"type": "integer"},
        "offset": {"type": "integer"},
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

#: one server-sent event of the stream as OpenAPI describes ``text/event-stream`` (3.2's
#: model, which clients and fuzzers read 3.1 documents by: ``schema`` is each event, its
#: fields ``data``, ``event``, ``id`` and ``retry``), with the Event as ``data``'s JSON
SSE_EVENT = {
    "description": "One server-sent event: its number, its kind and an Event as JSON",
    "type": "object",
    "required": ["id", "event", "data"],
    "properties": {
        "id": {"type": "string", "pattern": "^[0-9]+$"},
        "event": {"enum": ["phase", "log"]},
        "data": {
            "type": "string",
            "contentMediaType": "application/json",
            "contentSchema": ref("Event"),
        },
        "retry": {"type": "integer", "description": "milliseconds before reconnecting"},
    },
}
