"""Spawn failures whose message is meant for the user, in every place JupyterHub shows one."""

from __future__ import annotations

from tornado import web


class SpawnFailure(web.HTTPError):
    """Shown as is by the spawn page, the progress stream (`jupyterhub_message`) and the REST
    API (tornado's `log_message`), instead of JupyterHub's generic "error"."""

    def __init__(self, message: str, status_code: int = 500) -> None:
        super().__init__(status_code, message.replace("%", "%%"))
        self.jupyterhub_message = message

    def __str__(self) -> str:
        return self.jupyterhub_message
