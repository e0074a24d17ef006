"""Pure: the JupyterHub scopes of the platform service.

Reading builds (list, records, logs, live events, the panel) needs `READ_SCOPE`; changing
anything (new builds, cancel, retry, delete) needs `WRITE_SCOPE`, which implies read. Model
servers have their own pair, `MODEL_READ_SCOPE` and `MODEL_WRITE_SCOPE`. The hub defines
them from `CUSTOM_SCOPES` (``c.JupyterHub.custom_scopes``) and grants them through roles; the
service's ``oauth_client_allowed_scopes`` must list all of them, or a browser session's OAuth
token never carries them.
"""

from __future__ import annotations

READ_SCOPE = "custom:image-builds:read"
WRITE_SCOPE = "custom:image-builds:write"
#: the model servers' pair, the same model: read for every user, write for model admins
MODEL_READ_SCOPE = "custom:model-servers:read"
MODEL_WRITE_SCOPE = "custom:model-servers:write"
#: the service's ``/metrics``: JupyterHub's own scope for its ``/hub/metrics``, so one
#: Prometheus token reads both
METRICS_SCOPE = "read:metrics"

CUSTOM_SCOPES: dict[str, dict[str, object]] = {
    READ_SCOPE: {"description": "See notebook image builds, their logs and progress."},
    WRITE_SCOPE: {
        "description": "Start, cancel, retry and delete notebook image builds.",
        "subscopes": [READ_SCOPE],
    },
    MODEL_READ_SCOPE: {"description": "See model servers, their state and endpoints."},
    MODEL_WRITE_SCOPE: {
        "description": "Create, scale and delete model servers.",
        "subscopes": [MODEL_READ_SCOPE],
    },
}
