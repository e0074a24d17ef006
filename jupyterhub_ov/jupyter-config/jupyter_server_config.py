"""The notebook server's buckets in JupyterLab's file browser (jupyter-fs over s3fs).

One file for both modes, loaded by Jupyter as a config file from a directory on its config
path: local mode's spawner puts this directory on ``JUPYTER_CONFIG_PATH``; the S3-aware
images copy the file into such a directory. Standard library only, configured from the
server's own environment at start (docs/storage.md, "Buckets in the file browser"):

- the buckets: ``JUPYTERHUB_OV_BUCKETS`` (JSON list of ``{name, endpoint, own}``), else the
  single bucket of ``BUCKET_NAME`` or ODH's ``AWS_S3_BUCKET``;
- the endpoint: each entry's ``endpoint``, else ``S3_ENDPOINT_URL``, else ``AWS_S3_ENDPOINT``;
- the credentials: never written here; s3fs (botocore) reads ``AWS_ACCESS_KEY_ID``,
  ``AWS_SECRET_ACCESS_KEY`` and ``AWS_DEFAULT_REGION`` from the environment, so the
  resources jupyter-fs sends to the browser carry names and endpoints only.

Without jupyter-fs or s3fs installed, or without a bucket, it configures nothing: the server
starts as usual, with no bucket panel.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import re
from collections.abc import Mapping
from typing import Any

log = logging.getLogger("jupyterhub_ov.buckets")

#: S3 bucket names (3-63 characters); anything else (an unexpanded ``$(BUCKET_NAME)``) is skipped
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
REQUIRED_MODULES = ("jupyterfs.metamanager", "s3fs")


def importable(module: str) -> Any:
    """The module, or None where it is missing or broken (the server must start anyway)."""
    try:
        return importlib.import_module(module)
    except Exception as e:  # an extension that fails to import must not stop the server
        log.info("%s cannot be imported: %s", module, e)
        return None


def buckets(environ: Mapping[str, str]) -> list[dict[str, Any]]:
    """The buckets to show, own first, each ``{name, endpoint, own}``; bad entries skipped."""
    default_endpoint = environ.get("S3_ENDPOINT_URL") or environ.get("AWS_S3_ENDPOINT") or ""
    raw = environ.get("JUPYTERHUB_OV_BUCKETS", "")
    entries: list[Any]
    if raw:
        try:
            entries = json.loads(raw)
        except ValueError as e:
            log.warning("JUPYTERHUB_OV_BUCKETS is not JSON (%s): no buckets shown", e)
            return []
        if not isinstance(entries, list):
            log.warning("JUPYTERHUB_OV_BUCKETS is not a JSON list: no buckets shown")
            return []
    else:
        own = environ.get("BUCKET_NAME") or environ.get("AWS_S3_BUCKET") or ""
        entries = [{"name": own, "own": True}] if own else []
    found: list[dict[str, Any]] = []
    for entry in entries:
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not BUCKET_NAME.match(name):
            log.warning("Bucket entry %r skipped: not a bucket name", entry)
            continue
        if any(b["name"] == name for b in found):
            continue
        endpoint = str(entry.get("endpoint") or default_endpoint)
        found.append({"name": name, "endpoint": endpoint, "own": bool(entry.get("own"))})
    return found


def resource(bucket: Mapping[str, Any]) -> dict[str, Any]:
    """A jupyter-fs resource for one bucket: s3fs, credentials from the environment."""
    kwargs: dict[str, Any] = {"use_listings_cache": False}
    if bucket["endpoint"]:
        kwargs["endpoint_url"] = bucket["endpoint"]
    label = f"{bucket['name']} (your bucket)" if bucket["own"] else f"{bucket['name']} (shared)"
    return {
        "name": label,
        "url": f"s3://{bucket['name']}",
        "type": "fsspec",
        "auth": "none",  # no {{token}} in the URL: nothing to substitute or ask for
        "defaultWritable": True,
        "kwargs": kwargs,
    }


def settings(environ: Mapping[str, str], have: Any = importable) -> dict[str, Any]:
    """The server settings as ``{section: {trait: value}}``; empty without jupyter-fs, s3fs or
    a bucket (the server then starts with the plain contents manager)."""
    missing = [m for m in REQUIRED_MODULES if have(m) is None]
    if missing:
        log.info("No buckets in the file browser: %s not installed", " and ".join(missing))
        return {}
    found = buckets(environ)
    if not found:
        return {}
    return {
        "ServerApp": {"contents_manager_class": "jupyterfs.metamanager.MetaManager"},
        "JupyterFs": {
            "resources": [resource(b) for b in found],
            # the list is the admin's: a user adds no resource of their own through the API
            "allow_user_resources": False,
            # a bucket that cannot be listed shows why instead of vanishing
            "surface_init_errors": True,
        },
    }


def within_drive(path: str) -> str:
    """``<drive hash>:folder/file`` as the user sees it in the panel: ``folder/file``."""
    return path.split(":", 1)[-1].lstrip("/")


def refused(error: BaseException, action: str, path: str) -> Any:
    """The contents API's answer to an S3 refusal: a 403 carrying S3's own error text (a
    botocore ``ClientError`` such as "An error occurred (AccessDenied) when calling the
    PutObject operation: Access Denied"), or None where ``error`` is no refusal.

    jupyter-fs turns s3fs's ``PermissionError`` into a 500 ("Unexpected error while saving
    file") or lets it through as one; JupyterLab shows the message either way, but a 500
    says "server broken" where S3 said "not allowed"."""
    from tornado import web

    cause = error if isinstance(error, PermissionError) else error.__context__
    if not isinstance(cause, PermissionError):
        return None
    s3_error = cause.__cause__ or cause
    return web.HTTPError(403, f"S3 refused to {action} {within_drive(path)}: {s3_error}")


def refusal_aware(base: Any) -> Any:
    """jupyter-fs's ``MetaManager`` that answers S3's refusals as 403s with S3's error, and
    reports a delete S3 did not do: s3fs deletes with DeleteObjects and drops its per-key
    errors (s3fs 2026.9 ``_bulk_delete``), so a refused delete would answer 204 and the file
    would come back at the next listing."""
    from tornado import web

    class BucketContentsManager(base):  # type: ignore[misc, valid-type]
        async def _checked(self, call: Any, action: str, path: str) -> Any:
            try:
                return await call
            except (web.HTTPError, PermissionError) as e:
                answer = refused(e, action, path)
                if answer is None:
                    raise
                raise answer from e

        async def get(self, path: str, *args: Any, **kwargs: Any) -> Any:
            return await self._checked(super().get(path, *args, **kwargs), "read", path)

        async def save(self, model: Any, path: str = "") -> Any:
            return await self._checked(super().save(model, path), "save", path)

        async def rename(self, old_path: str, new_path: str) -> Any:
            return await self._checked(super().rename(old_path, new_path), "rename", old_path)

        async def delete(self, path: str) -> None:
            await self._checked(super().delete(path), "delete", path)
            if await self.exists(path):
                where = within_drive(path)
                raise web.HTTPError(403, f"S3 refused to delete {where}: it is still there")

    return BucketContentsManager


def apply(config: Any, environ: Mapping[str, str]) -> None:
    """Write `settings` into a traitlets config (``c``), enabling jupyter-fs's extension;
    the contents manager is `refusal_aware`'s subclass of the one `settings` names."""
    wanted = settings(environ)
    if not wanted:
        return
    for section, values in wanted.items():
        for trait, value in values.items():
            setattr(config[section], trait, value)
    from jupyterfs.metamanager import MetaManager

    config.ServerApp.contents_manager_class = refusal_aware(MetaManager)
    config.ServerApp.jpserver_extensions.update({"jupyterfs.extension": True})


if "get_config" in globals():  # loaded by Jupyter as a config file
    apply(get_config(), os.environ)  # type: ignore[name-defined]  # noqa: F821
