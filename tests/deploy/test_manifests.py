"""Every manifest of deploy/ — the overlays as kustomize builds them, and each file — fits the
published schema of its kind; a broken manifest is refused with the validator's message."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
from jupyterhub_ov_sim import podsecurity, scc

from ..util import REPO
from .schemas import kustomize_build, manifests, validate

DEPLOY = REPO / "deploy"
FILES = sorted(p for p in DEPLOY.glob("*.yaml") if not p.is_symlink())


@pytest.mark.parametrize("overlay", ["openshift", "kubernetes"])
def test_each_overlay_builds_valid_objects(overlay: str) -> None:
    objects = kustomize_build(DEPLOY / "overlays" / overlay)
    kinds = {obj["kind"] for obj in objects}
    assert {"Deployment", "Service", "ConfigMap", "PersistentVolumeClaim", "NetworkPolicy"} <= kinds
    assert {"ServiceAccount", "Role", "RoleBinding"} <= kinds
    assert ("Route" in kinds) == (overlay == "openshift")
    assert ("Ingress" in kinds) == (overlay == "kubernetes")
    for obj in objects:
        validate(obj)


@pytest.mark.parametrize("path", FILES + [DEPLOY / "base" / "rbac.yaml"], ids=lambda p: p.name)
def test_each_manifest_file_is_valid(path: Path) -> None:
    objects = manifests(path)
    assert objects
    for obj in objects:
        validate(obj)


def test_the_hub_is_probed_on_its_health_endpoint() -> None:
    (hub,) = [
        o for o in kustomize_build(DEPLOY / "overlays" / "openshift") if o["kind"] == "Deployment"
    ]
    (container,) = hub["spec"]["template"]["spec"]["containers"]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/hub/health", "port": "hub-api"}


def test_a_broken_manifest_is_refused_with_the_validators_message() -> None:
    deployment, route = manifests(Path(__file__).parent / "fixtures" / "broken.yaml")
    with pytest.raises(jsonschema.ValidationError) as refused:
        validate(deployment)
    assert "'one' is not of type 'integer'" in refused.value.message
    with pytest.raises(jsonschema.ValidationError) as refused:
        validate(route)
    assert "'edgy' is not one of" in refused.value.message


@pytest.mark.parametrize("overlay", ["openshift", "kubernetes"])
def test_the_hubs_pod_is_restricted_and_takes_its_uid_from_openshift(overlay: str) -> None:
    """The restricted Pod Security Standard and restricted-v2 (no fixed uid or fsGroup); the
    hub keeps its service account token: it talks to the API."""
    (hub,) = [
        o for o in kustomize_build(DEPLOY / "overlays" / overlay) if o["kind"] == "Deployment"
    ]
    pod = hub["spec"]["template"]
    assert podsecurity.check_pod(pod) == []
    assert (
        scc.restricted_v2(pod, {"metadata": {"annotations": {scc.UID_RANGE: "1000650000/10000"}}})
        == []
    )
