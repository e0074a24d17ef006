"""Pure: the JSON schemas of the notebooks feature's API (used by `openapi`)."""

from __future__ import annotations

from jupyterhub_ov.service.openapi import ref

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
