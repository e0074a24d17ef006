"""Open Data Hub S3 "connection" Secrets an admin grants to users (pure: metadata in, no I/O).

A connection is a Secret labelled ``opendatahub.io/dashboard: "true"`` and annotated
``opendatahub.io/connection-type-ref: s3`` (older: ``opendatahub.io/connection-type: s3``),
named for people by ``openshift.io/display-name`` (DOMAIN.md "S3 connections"). ODH's dashboard
has no per-user grant (a project's connections serve everyone in it), so the grant is ours, on
the Secret where the admin already labels it:

- ``jupyterhub-ov/connection-users: "alice, bob"`` grants those JupyterHub users;
- ``jupyterhub-ov/connection-groups: "data-team"`` grants members of those JupyterHub groups;
- ``*`` in either grants everyone. Without either annotation nobody is granted.

Only metadata is read here: a granted connection reaches the notebook whole, by
``envFrom: [{secretRef: {name}}]``, and the hub never needs the Secret's data (its watch,
`kube.secretmeta`, asks the API server for metadata only). The menu offers the granted
ones as checkboxes; the picked names are kept in ``user_options["connections"]``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

LABEL_DASHBOARD = "opendatahub.io/dashboard"
ANN_TYPE_REF = "opendatahub.io/connection-type-ref"
ANN_TYPE_LEGACY = "opendatahub.io/connection-type"
ANN_DISPLAY = "openshift.io/display-name"
ANN_USERS = "jupyterhub-ov/connection-users"
ANN_GROUPS = "jupyterhub-ov/connection-groups"
S3 = "s3"
EVERYONE = "*"
#: the user_options key (and, singular, the form field) of the picked connections
OPTION = "connections"
FIELD = "connection"
#: ODH's S3 connection keys: with a connection picked, the notebook gets these from it
#: (Kubernetes lets a container's env win over envFrom, so the spawner drops its own)
KEYS = frozenset(
    {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_S3_ENDPOINT", "AWS_DEFAULT_REGION"}
    | {"AWS_S3_BUCKET"}
)


@dataclass(frozen=True)
class Connection:
    name: str
    display_name: str
    users: frozenset[str]
    groups: frozenset[str]

    def granted_to(self, user: str, groups: Iterable[str] = ()) -> bool:
        if EVERYONE in self.users or EVERYONE in self.groups or user in self.users:
            return True
        return not self.groups.isdisjoint(groups)


def _names(raw: Any) -> frozenset[str]:
    if not isinstance(raw, str):
        return frozenset()
    return frozenset(n.strip() for n in raw.split(",") if n.strip())


def parse_connection(metadata: Any) -> Connection | None:
    """A Secret's metadata → Connection when it is an S3 connection, else None (never raises)."""
    if not isinstance(metadata, Mapping) or not isinstance(metadata.get("name"), str):
        return None
    labels = metadata.get("labels")
    ann = metadata.get("annotations")
    if not isinstance(labels, Mapping) or not isinstance(ann, Mapping):
        return None
    if str(labels.get(LABEL_DASHBOARD, "")).lower() != "true":
        return None
    kind = ann.get(ANN_TYPE_REF, ann.get(ANN_TYPE_LEGACY))
    if not isinstance(kind, str) or kind.strip().lower() != S3:
        return None
    name = metadata["name"]
    display = ann.get(ANN_DISPLAY)
    return Connection(
        name=name,
        display_name=display if isinstance(display, str) and display.strip() else name,
        users=_names(ann.get(ANN_USERS)),
        groups=_names(ann.get(ANN_GROUPS)),
    )


def granted(
    connections: Iterable[Connection], user: str, groups: Iterable[str] = ()
) -> list[Connection]:
    """The connections ``user`` (a member of ``groups``) may pick, by display name."""
    groups = frozenset(groups)
    mine = [c for c in connections if c.granted_to(user, groups)]
    return sorted(mine, key=lambda c: (c.display_name.lower(), c.name))


def env_from(names: Iterable[str], offered: Iterable[Connection]) -> list[dict[str, Any]]:
    """``envFrom`` entries for the picked connection names; ValueError for a name not offered
    (the server-side check: a user cannot pick a connection not granted to them)."""
    allowed = {c.name for c in offered}
    picked = list(dict.fromkeys(names))
    refused = [n for n in picked if n not in allowed]
    if refused:
        raise ValueError(f"Connection {refused[0]!r} is not available to you.")
    return [{"secretRef": {"name": n}} for n in picked]


def requested(value: Any) -> list[str]:
    """``user_options["connections"]`` → the picked names (None: none); ValueError for
    anything but a list of names (user_options may come from the REST API, not the form)."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(n, str) and n for n in value):
        raise ValueError("connections must be a list of connection names.")
    return list(dict.fromkeys(value))
