"""Pure: the JupyterHub scopes of the image build service.

Reading builds (list, records, logs, live events, the panel) needs `READ_SCOPE`; changing
anything (new builds, cancel, retry, delete) needs `WRITE_SCOPE`, which implies read.
The hub defines them from `CUSTOM_SCOPES` (``c.JupyterHub.custom_scopes``) and grants them
through roles; the service's ``oauth_client_allowed_scopes`` must list both, or a browser
session's OAuth token never carries them.
"""

from __future__ import annotations

READ_SCOPE = "custom:image-builds:read"
WRITE_SCOPE = "custom:image-builds:write"

CUSTOM_SCOPES: dict[str, dict[str, object]] = {
    READ_SCOPE: {"description": "See notebook image builds, their logs and progress."},
    WRITE_SCOPE: {
        "description": "Start, cancel, retry and delete notebook image builds.",
        "subscopes": [READ_SCOPE],
    },
}
