"""Pure: the JSON Schema of a build request, made from the definitions `spec` parses with.

The keys per build type (`spec.SPEC_KEYS`), the patterns and the limits (`spec_rules`) are the
parser's own, so the schema the OpenAPI document publishes and `spec.parse_request` agree on
every request (tests/builder/test_request_agreement.py checks it on every example and every
hostile body of the suite). Whatever a schema cannot say is left to the parser:
`SEMANTIC_RULES` names those rules, and for them the agreement is one-way (a body the schema
accepts may still be refused, never the other way round).
"""

from __future__ import annotations

from typing import Any

from jupyterhub_ov.images import model

from .spec import ANNOTATION_KEYS, RUNTIME_KEYS, SPEC_KEYS, BuildType
from .spec_rules import (
    GIT_REF_PATTERN,
    MAX_DISPLAY,
    MAX_FIELD,
    MAX_PACKAGES,
    MIN_PYTHON,
    NAME_MAX,
    NAME_PATTERN,
    NAME_SUFFIX,
    SIMPLE_PATTERN,
)

#: what only the parser checks, by the problem it reports (a substring of the message)
SEMANTIC_RULES = {
    "PEP 508 syntax of a requirement (no pip options, one line)": (
        "not a valid PEP 508 requirement",
        "pip options are not allowed",
        "must be a single line",
        "must be a non-empty string",
    ),
    "direct URL requirements (policy.allow_urls)": ("direct URLs are not allowed",),
    "one entry per project (canonical names)": ("is listed more than once",),
    "git URL policy: schemes, hosts, no credentials/query, absolute file paths": (
        "is not a URL",
        "the scheme must be one of",
        "must not carry credentials",
        "must not have a query or fragment",
        "has no host",
        "is not allowed",
        "must be an absolute file path",
    ),
    "an import source's form (policy.import_source: image reference or path)": (
        "is not a container image reference",
        "must be an absolute path of an environment",
    ),
    "Unicode control characters in texts": ("contains control characters",),
    "the menu's link rule for the URL annotation": ("must be an http(s) URL",),
}


def _text(limit: int, description: str = "", *, optional: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": ["string", "null"] if optional else "string"}
    if not optional:
        schema["minLength"] = 1
    schema["maxLength"] = limit
    if description:
        schema["description"] = description
    return schema


def python_pattern() -> str:
    """``3.X`` no older than `MIN_PYTHON` (or empty: not given)."""
    major, minor = MIN_PYTHON
    assert major == 3 and minor < 10, "extend the pattern for a floor of 3.10 or newer"
    return rf"^(?:3\.(?:0?[{minor}-9]|[1-9]\d))?$"


def _name() -> dict[str, Any]:
    short = NAME_MAX - len(NAME_SUFFIX)
    return {
        "type": "string",
        "pattern": NAME_PATTERN,
        "anyOf": [{"maxLength": short}, {"pattern": f"{NAME_SUFFIX}$", "maxLength": NAME_MAX}],
        "description": f"Image name: lowercase letters, digits, single hyphens; '{NAME_SUFFIX}'"
        f" is appended unless present; at most {NAME_MAX} characters with it.",
    }


def _annotations() -> dict[str, Any]:
    return {
        "type": "object",
        "required": [model.ANN_NAME, model.ANN_DESC],
        "additionalProperties": False,
        "properties": {
            model.ANN_NAME: _text(MAX_DISPLAY, "the menu's display name"),
            model.ANN_DESC: _text(MAX_FIELD, "the menu's description"),
            model.ANN_URL: _text(MAX_FIELD, "an http(s) link shown in the menu", optional=True),
            model.ANN_CREATOR: {
                "type": ["string", "null"],
                "description": "ignored: the creator is always the requesting user",
            },
        },
    }


def _runtime() -> dict[str, Any]:
    word = {"type": ["string", "null"], "pattern": f"^$|{SIMPLE_PATTERN}"}
    python = {"type": ["string", "null"], "pattern": python_pattern(), "examples": ["3.11"]}
    properties = {"osName": word, "osVersion": word, "pythonVersion": python}
    assert set(properties) == set(RUNTIME_KEYS)
    return {"type": ["object", "null"], "additionalProperties": False, "properties": properties}


def _spec_properties() -> dict[str, dict[str, Any]]:
    """Every ``spec`` key's schema; `SPEC_KEYS` says which a build type has."""
    return {
        "runtimeEnvironment": _runtime(),
        "builderImage": _text(MAX_FIELD, "what the image is built on", optional=True),
        "packageVersions": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_PACKAGES,
            "items": {"type": "string", "minLength": 1, "maxLength": MAX_FIELD},
            "description": "PEP 508 requirements (no pip options)",
        },
        "repositoryUrl": _text(MAX_FIELD, "the repository to clone (the admin's policy applies)"),
        "gitRef": {
            "type": ["string", "null"],
            "pattern": f"^$|{GIT_REF_PATTERN}",
            "description": "branch, tag or commit (default: the default branch)",
        },
        "fromImage": _text(
            MAX_FIELD, "what to import: an image reference, or a local environment's path"
        ),
    }


REQUIRED = {
    BuildType.PACKAGE_LIST: ["buildType", "packageVersions"],
    BuildType.GIT_REPOSITORY: ["buildType", "repositoryUrl"],
    BuildType.IMPORT_IMAGE: ["buildType", "fromImage"],
}


def spec_schema(build_type: BuildType) -> dict[str, Any]:
    """The ``spec`` of one build type: its keys only."""
    every = _spec_properties()
    properties: dict[str, Any] = {"buildType": {"const": build_type.value}}
    properties.update({k: every[k] for k in SPEC_KEYS[build_type] if k != "buildType"})
    schema: dict[str, Any] = {
        "type": "object",
        "required": REQUIRED[build_type],
        "additionalProperties": False,
        "properties": properties,
    }
    if build_type is BuildType.PACKAGE_LIST:  # a builder image brings its own runtime
        schema["not"] = {
            "required": ["builderImage", "runtimeEnvironment"],
            "properties": {
                "builderImage": {"type": "string", "minLength": 1},
                "runtimeEnvironment": {"type": "object"},
            },
        }
    return schema


def _body(name: str, display: str, description: str, spec: dict[str, Any]) -> dict[str, Any]:
    annotations = {model.ANN_NAME: display, model.ANN_DESC: description}
    return {"metadata": {"name": name, "annotations": annotations}, "spec": spec}


#: one request per build type: published in the schema, checked by the agreement test
EXAMPLES = {
    BuildType.PACKAGE_LIST: _body(
        "pandas",
        "Pandas",
        "Pandas and boto3",
        {
            "buildType": "PackageList",
            "runtimeEnvironment": {"osName": "ubi", "osVersion": "8", "pythonVersion": "3.11"},
            "packageVersions": ["pandas>=2", "boto3>=1.24.0"],
        },
    ),
    BuildType.GIT_REPOSITORY: _body(
        "ov-notebooks",
        "OpenVINO notebooks",
        "The OpenVINO notebooks at their 2024.1 release",
        {
            "buildType": "GitRepository",
            "repositoryUrl": "https://github.com/openvinotoolkit/openvino_notebooks",
            "gitRef": "releases/2024/1",
        },
    ),
    BuildType.IMPORT_IMAGE: _body(
        "datascience",
        "Data science",
        "An imported data science image",
        {"buildType": "ImportImage", "fromImage": "quay.io/org/datascience:2024.1"},
    ),
}


def request_schema() -> dict[str, Any]:
    """The whole request body (``components.schemas.BuildRequest`` of the OpenAPI document)."""
    assert set(_annotations()["properties"]) == set(ANNOTATION_KEYS)
    return {
        "type": "object",
        "description": "A CustomNBImage-shaped build request. The server checks every field and"
        " answers 422 listing all problems; nothing runs for an invalid request.",
        "required": ["metadata", "spec"],
        "additionalProperties": False,
        "properties": {
            "metadata": {
                "type": "object",
                "required": ["name", "annotations"],
                "additionalProperties": False,
                "properties": {"name": _name(), "annotations": _annotations()},
            },
            "spec": {"oneOf": [spec_schema(t) for t in BuildType]},
        },
        "examples": list(EXAMPLES.values()),
    }


REQUEST = request_schema()
