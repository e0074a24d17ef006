"""Pure: the JSON schemas of the model servers' API (used by `openapi`)."""

from __future__ import annotations

from jupyterhub_ov.service.openapi import ref

_DATE = {"type": ["string", "null"], "format": "date-time"}
_CONDITION = {
    "type": "object",
    "required": ["type", "status", "reason", "message"],
    "additionalProperties": False,
    "properties": {
        "type": {"enum": ["Available", "Progressing", "Degraded"]},
        "status": {"enum": ["True", "False"]},
        "reason": {"type": "string"},
        "message": {"type": "string"},
    },
}
_MODEL = {
    "type": "object",
    "required": ["name", "ready", "versions", "message"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string"},
        "ready": {"type": "boolean", "description": "a version of it is AVAILABLE"},
        "versions": {
            "type": "array",
            "items": {"type": "string"},
            "description": "the versions available",
        },
        "message": {
            "type": "string",
            "description": "why other versions (or the model path) do not serve, if so",
        },
    },
}

MODEL_SERVER_REQUEST = {
    "type": "object",
    "required": ["metadata"],
    "additionalProperties": False,
    "description": "Shaped like the OpenVINO Toolkit Operator's ModelServer resource.",
    "properties": {
        "apiVersion": {"const": "intel.com/v1alpha1"},
        "kind": {"const": "ModelServer"},
        "metadata": {
            "type": "object",
            "required": ["name"],
            "properties": {"name": {"type": "string"}},
        },
        "spec": {
            "type": "object",
            "description": "Either the flat parameter table (model_name, model_path,"
            " replicas, grpc_port, ...) or the CRD's nested groups (deployment_parameters,"
            " models_settings, models_repository, ...); every field is optional except the"
            " model (model_path, or a config file). Every problem is answered at once.",
        },
    },
}

SCALE_REQUEST = {
    "type": "object",
    "required": ["replicas"],
    "additionalProperties": False,
    "properties": {"replicas": {"type": "integer", "minimum": 0}},
}

MODEL_SERVER = {
    "type": "object",
    "required": [
        "name",
        "mode",
        "spec",
        "replicas",
        "state",
        "conditions",
        "endpoints",
        "models",
        "last_error",
        "creator",
        "created",
        "updated",
        "process",
    ],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string"},
        "mode": {"enum": ["local", "openshift"]},
        "spec": {
            "type": "object",
            "description": "the spec as normalised, with the operator's defaults ({} when"
            " the stored one is invalid)",
        },
        "replicas": {
            "type": "object",
            "required": ["desired", "ready"],
            "additionalProperties": False,
            "properties": {
                "desired": {"type": "integer", "minimum": 0},
                "ready": {"type": "integer", "minimum": 0},
            },
        },
        "state": {"enum": ["Progressing", "Available", "Degraded", "ScaledToZero"]},
        "conditions": {"type": "array", "items": _CONDITION},
        "endpoints": {
            "type": "object",
            "additionalProperties": False,
            "description": "what a notebook calls (none while scaled to zero)",
            "properties": {
                "rest": {"type": "string", "description": "KServe v2 REST"},
                "grpc": {"type": "string", "description": "KServe v2 gRPC (host:port)"},
            },
        },
        "models": {"type": "array", "items": _MODEL},
        "last_error": {"type": "string"},
        "creator": {"type": "string"},
        "created": _DATE,
        "updated": _DATE,
        "process": {
            "type": "object",
            "description": "local mode: each replica's pid, restarts, last exit, last log"
            " lines (secrets removed)",
        },
    },
}

MODEL_SERVER_LIST = {
    "type": "object",
    "required": ["modelservers"],
    "additionalProperties": False,
    "properties": {"modelservers": {"type": "array", "items": ref("ModelServer")}},
}
