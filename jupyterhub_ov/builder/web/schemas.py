"""Pure: the JSON schemas of the build service's API (used by `openapi`)."""

from __future__ import annotations

from typing import Any

from ..phases import Phase
from ..request_schema import REQUEST as REQUEST  # made from the parser's own definitions
from ..spec import BuildType

PHASES = [p.value for p in Phase]
BUILD_TYPES = [t.value for t in BuildType]


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


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

_DATE = {"type": ["string", "null"], "format": "date-time"}

NOTEBOOK_SPEC = {
    "type": "object",
    "additionalProperties": False,
    "description": "The OpenVINO Toolkit Operator's Notebook parameters; all optional.",
    "properties": {
        "git_uri": {
            "type": "string",
            "description": "default https://github.com/openvinotoolkit/openvino_notebooks",
        },
        "git_ref": {"type": "string", "description": "branch or tag, default main"},
        "auto_update_image": {
            "type": "boolean",
            "description": "rebuild when the branch head moves (default false)",
        },
        "reconcile_duration_multiplier": {
            "type": "integer",
            "minimum": 1,
            "description": "minutes between two checks of the branch head (default 120)",
        },
    },
}

NOTEBOOK_REQUEST = {
    "type": "object",
    "required": ["metadata"],
    "additionalProperties": False,
    "properties": {
        "metadata": {
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {
                    "type": "string",
                    "description": "the first image's tag in openvino-notebook; later ones"
                    " add the build date",
                }
            },
        },
        "spec": ref("NotebookSpec"),
    },
}

NOTEBOOK = {
    "type": "object",
    "required": ["name", "namespace", "creator", "created", "updated", "spec", "status"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string"},
        "namespace": {"type": "string", "description": "the Notebook resource's; '' if none"},
        "creator": {"type": "string"},
        "created": {"type": "string", "format": "date-time"},
        "updated": {"type": "string", "format": "date-time"},
        "spec": ref("NotebookSpec"),
        "status": {
            "type": "object",
            "additionalProperties": False,
            "required": ["state", "message", "warning", "commit", "tags", "image", "build_id"],
            "properties": {
                "state": {"enum": ["Pending", "Building", "Ready", "Failed"]},
                "message": {"type": "string"},
                "warning": {
                    "type": "string",
                    "description": "why the last check of the branch failed ('' if it did not)",
                },
                "commit": {"type": "string", "description": "of the newest image"},
                "latest_update_date": _DATE,
                "build_date": _DATE,
                "last_check": _DATE,
                "tags": {"type": "array", "items": {"type": "string"}},
                "image": {"type": "string", "description": "openvino-notebook:<newest tag>"},
                "build_id": {"type": "string", "description": "the running or last build"},
            },
        },
    },
}

NOTEBOOK_LIST = {
    "type": "object",
    "required": ["notebooks"],
    "additionalProperties": False,
    "properties": {"notebooks": {"type": "array", "items": ref("Notebook")}},
}
