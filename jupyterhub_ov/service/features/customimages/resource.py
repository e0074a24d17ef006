"""Pure: a ``CustomNBImage`` resource (``meteor.zone/v1alpha1``, the CNBi design) read as a
build request.

The resource *is* the REST body's shape (`jupyterhub_ov.builds.model.spec`), with what a
cluster adds around it. `build_request` keeps of it what the body has — the name, the ODH
annotations and the spec — and hands that to the very parser REST requests go through
(`parse_request`), so a resource and a REST body are accepted and refused alike:

- ``spec.buildType`` may be meteor-operator's ``ImageImport`` (its Go API's value); it is read
  as the design's ``ImportImage``, the spelling the service writes everywhere;
- the other annotations and labels (``kubectl.kubernetes.io/last-applied-configuration``, ...)
  are the cluster's business, not the request's: they are left out, not refused;
- ``opendatahub.io/notebook-image-creator`` is required (the design's required metadata): it
  names the person the ODH dashboard created the resource for, and becomes the build's
  creator, so it reaches the published image. A REST request's creator is the requesting
  user instead; a resource carries no user;
- the label ``app.kubernetes.io/created-by`` is, as the design says, interpreted differently
  from ODH's image label of that name: it names the *tool* that made the resource (a CPE with
  ``:`` and ``/`` replaced, ``cpe-_a-meteor.zone-CNBi-v0.1.0``), never a person. It is not
  the creator and is not copied: the published image stream says it was created by the build
  service, which made it.

An invalid resource raises `InvalidBuildRequest` with every problem, the parser's and the
creator's together.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from jupyterhub_ov.builds.model.spec import (
    ANNOTATION_KEYS,
    MAX_DISPLAY,
    BuildRequest,
    BuildType,
    InvalidBuildRequest,
    SpecPolicy,
    parse_request,
)
from jupyterhub_ov.builds.model.spec_rules import text_problem
from jupyterhub_ov.images import model

GROUP, VERSION, KIND, PLURAL = "meteor.zone", "v1alpha1", "CustomNBImage", "customnbimages"
API_VERSION = f"{GROUP}/{VERSION}"
#: meteor-operator's spelling of the import build type (accepted, never written)
IMAGE_IMPORT = "ImageImport"


def resource_ref(namespace: str, name: str) -> str:
    """How a build record names the resource it is for (`BuildRequest.resource`)."""
    return f"{PLURAL}.{GROUP}/{namespace}/{name}"


def key_of_ref(ref: str) -> str | None:
    """The ``<namespace>/<name>`` of a `resource_ref`; None for any other resource."""
    prefix = f"{PLURAL}.{GROUP}/"
    if not ref.startswith(prefix):
        return None
    namespace, _, name = ref[len(prefix) :].partition("/")
    return f"{namespace}/{name}" if namespace and name else None


def request_body(resource: Mapping[str, Any]) -> dict[str, Any]:
    """What of the resource a REST body would hold: its name, its ODH annotations (absent
    ones stay absent: the parser says which are required) and its spec as written, but for
    meteor's ``ImageImport``."""
    meta = resource.get("metadata") or {}
    annotations = meta.get("annotations") or {}
    body_meta: dict[str, Any] = {"name": meta.get("name")}
    if isinstance(annotations, Mapping):
        body_meta["annotations"] = {k: v for k, v in annotations.items() if k in ANNOTATION_KEYS}
    spec = resource.get("spec")
    if isinstance(spec, Mapping) and spec.get("buildType") == IMAGE_IMPORT:
        spec = {**spec, "buildType": str(BuildType.IMPORT_IMAGE)}
    return {"metadata": body_meta, "spec": spec}


def build_request(resource: Mapping[str, Any], *, policy: SpecPolicy) -> BuildRequest:
    """The build request of a resource (linked to it); InvalidBuildRequest lists every
    problem."""
    meta = resource.get("metadata") or {}
    annotations = meta.get("annotations") or {}
    creator = annotations.get(model.ANN_CREATOR) if isinstance(annotations, Mapping) else None
    if isinstance(creator, str):
        creator = creator.strip()
    problems: list[str] = []
    creator_problem = text_problem(
        f"metadata.annotations[{model.ANN_CREATOR}]", creator, required=True, limit=MAX_DISPLAY
    )
    if creator_problem:
        problems.append(creator_problem)
    try:
        request = parse_request(request_body(resource), creator=str(creator), policy=policy)
    except InvalidBuildRequest as e:
        # the parser checks the creator's type too: each problem once
        raise InvalidBuildRequest(list(dict.fromkeys([*e.problems, *problems]))) from None
    if problems:
        raise InvalidBuildRequest(problems)
    ref = resource_ref(str(meta.get("namespace") or ""), str(meta.get("name")))
    return replace(request, resource=ref)
