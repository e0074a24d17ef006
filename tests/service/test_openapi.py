"""The OpenAPI document: valid, and describing exactly the routes the service has."""

from __future__ import annotations

from openapi_spec_validator import validate

from jupyterhub_ov.service.web import api, feature_routes

from .openapi_check import DOC, FEATURES

#: every API route of the default features, and the service's own document and metrics
API_ROUTES = [
    (r.path, r.handler) for _, r in feature_routes(FEATURES) if r.path.startswith("/api/")
]
API_ROUTES.append(("/api/openapi.json", api.OpenAPIHandler))
API_ROUTES.append(("/metrics", api.MetricsHandler))
ID_PATTERNS = {r.path: r.id_pattern for _, r in feature_routes(FEATURES)}

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


def implemented(handler: type) -> set[str]:
    return {
        m
        for m in HTTP_METHODS
        if any(m in vars(k) for k in handler.__mro__ if k.__module__.startswith("jupyterhub_ov"))
    }


def test_the_document_is_valid_openapi() -> None:
    validate(DOC)


def test_every_route_is_documented_with_its_methods() -> None:
    routes = dict(API_ROUTES)
    assert set(routes) == set(DOC["paths"])
    for path, handler in routes.items():
        documented = set(DOC["paths"][path]) & HTTP_METHODS
        assert documented == implemented(handler), path


def test_every_operation_documents_its_errors_and_security() -> None:
    for path, item in DOC["paths"].items():
        for method in set(item) & HTTP_METHODS:
            operation = item[method]
            if path != "/api/openapi.json":
                assert "403" in operation["responses"] and operation["security"], (method, path)


def test_every_path_id_is_constrained_to_the_format_the_routes_match() -> None:
    """Clients learn from the document what the routes admit (anything else is a 404)."""
    for path, item in DOC["paths"].items():
        if "{id}" not in path:
            continue
        (param,) = [p for p in item["parameters"] if p["in"] == "path"]
        assert param["schema"]["pattern"] == f"^{ID_PATTERNS[path]}$", path
