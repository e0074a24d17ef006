"""Kubernetes ``Status`` error bodies, shaped like the real API server's.

Part of the cluster simulator, a test double of Kubernetes (see ``jupyterhub_ov_sim``).
"""

from __future__ import annotations

from typing import Any

from .kinds import ResourceKind

DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
    "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
DNS1123_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)


class ApiError(Exception):
    """An error answered as a ``Status`` body with the given HTTP code."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        }
        if self.details is not None:
            body["details"] = self.details
        body["code"] = self.code
        return body


def _details(kind: ResourceKind, name: str, **extra: Any) -> dict[str, Any]:
    details: dict[str, Any] = {"name": name}
    if kind.group:
        details["group"] = kind.group
    details["kind"] = kind.plural
    details.update(extra)
    return details


def not_found(kind: ResourceKind, name: str) -> ApiError:
    message = f'{kind.qualified_resource} "{name}" not found'
    return ApiError(404, "NotFound", message, _details(kind, name))


def namespace_not_found(namespace: str) -> ApiError:
    return ApiError(
        404,
        "NotFound",
        f'namespaces "{namespace}" not found',
        {"name": namespace, "kind": "namespaces"},
    )


def already_exists(kind: ResourceKind, name: str) -> ApiError:
    message = f'{kind.qualified_resource} "{name}" already exists'
    return ApiError(409, "AlreadyExists", message, _details(kind, name))


def conflict(kind: ResourceKind, name: str, why: str) -> ApiError:
    message = f'Operation cannot be fulfilled on {kind.qualified_resource} "{name}": {why}'
    return ApiError(409, "Conflict", message, _details(kind, name))


STALE = (
    "the object has been modified; please apply your changes to the latest version and try again"
)


def invalid(kind: ResourceKind, name: str, causes: list[dict[str, str]]) -> ApiError:
    """422 Invalid; each cause has ``reason``, ``message`` and ``field``."""
    summary = [f"{c['field']}: {c['message']}" for c in causes]
    joined = summary[0] if len(summary) == 1 else "[" + ", ".join(summary) + "]"
    message = f'{kind.qualified_kind} "{name}" is invalid: {joined}'
    details: dict[str, Any] = {"name": name}
    if kind.group:
        details["group"] = kind.group
    details["kind"] = kind.kind
    details["causes"] = causes
    return ApiError(422, "Invalid", message, details)


def required(field_path: str, what: str) -> dict[str, str]:
    return {
        "reason": "FieldValueRequired",
        "message": f"Required value: {what}",
        "field": field_path,
    }


def invalid_value(field_path: str, value: Any, why: str) -> dict[str, str]:
    shown = f'"{value}"' if isinstance(value, str) else str(value)
    return {
        "reason": "FieldValueInvalid",
        "message": f"Invalid value: {shown}: {why}",
        "field": field_path,
    }


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def unsupported_patch() -> ApiError:
    return ApiError(
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
    )


def unsupported_media_type(media: str) -> ApiError:
    return ApiError(
        415,
        "UnsupportedMediaType",
        f"the body of the request was in an unknown format - accepted media types include: "
        f'application/json, application/yaml (not "{media}")',
    )


def not_acceptable(accept: str) -> ApiError:
    return ApiError(
        406,
        "NotAcceptable",
        "only the following media types are accepted: application/json, application/yaml"
        f' (not "{accept}")',
    )


def expired(requested: int, oldest: int) -> ApiError:
    return ApiError(410, "Expired", f"too old resource version: {requested} ({oldest})")


def forbidden_terminating(kind: ResourceKind, name: str, namespace: str) -> ApiError:
    message = (
        f'{kind.qualified_resource} "{name}" is forbidden: unable to create new content in '
        f"namespace {namespace} because it is being terminated"
    )
    details = _details(kind, name)
    details["causes"] = [
        {
            "reason": "NamespaceTerminating",
            "message": f"namespace {namespace} is being terminated",
            "field": "metadata.namespace",
        }
    ]
    return ApiError(403, "Forbidden", message, details)


def internal_error(message: str) -> ApiError:
    return ApiError(
        500,
        "InternalError",
        f"Internal error occurred: {message}",
        {"causes": [{"message": message}]},
    )


def service_unavailable(
    message: str = "the server is currently unable to handle the request",
) -> ApiError:
    return ApiError(503, "ServiceUnavailable", message, {})


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(
        429,
        "TooManyRequests",
        "Too many requests, please try again later.",
        {"retryAfterSeconds": retry_after},
        headers={"Retry-After": str(retry_after)},
    )


def success(kind: ResourceKind, name: str, uid: str) -> dict[str, Any]:
    """The Status a DELETE answers with for kinds that do not return the deleted object."""
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": _details(kind, name, uid=uid),
    }
