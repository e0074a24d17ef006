"""Where model versions come from: a local directory, or ``s3://bucket/prefix`` read with
OVMS's environment only (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_REGION``,
``S3_ENDPOINT``): no shared config or credentials files, no instance metadata; without keys
the requests are anonymous.

A source lists its numeric version directories and makes one available as a local directory
(S3: downloaded into a private temporary directory, mode 0700, removed by `release`). All
calls block: the manager runs them in threads.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import boto3
import botocore.session
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from jupyterhub_ov.digits import is_number

#: a version's files at most (a model is a few files; this bounds a download)
MAX_FILES = 1000


class SourceError(Exception):
    """The model path cannot be read; ``code`` is the error code /v1/config shows."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Source(Protocol):
    path: str

    def versions(self) -> list[int]: ...

    def fetch(self, version: int) -> Path: ...

    def release(self, version: int, directory: Path) -> None: ...


def _numeric(names: list[str]) -> list[int]:
    return sorted(int(n) for n in names if is_number(n) and int(n) > 0)


class LocalSource:
    """Versions are ``<path>/<n>/`` directories, served in place."""

    def __init__(self, path: str) -> None:
        self.path = path

    def versions(self) -> list[int]:
        root = Path(self.path)
        try:
            names = [p.name for p in root.iterdir() if p.is_dir()]
        except FileNotFoundError:
            raise SourceError("NOT_FOUND", f"the model path {self.path} does not exist") from None
        except NotADirectoryError:
            raise SourceError("NOT_FOUND", f"the model path {self.path} is no directory") from None
        except PermissionError:
            raise SourceError(
                "PERMISSION_DENIED", f"the model path {self.path} cannot be read"
            ) from None
        return _numeric(names)

    def fetch(self, version: int) -> Path:
        return Path(self.path) / str(version)

    def release(self, version: int, directory: Path) -> None:
        """Nothing to remove: the directory is the repository's."""


def s3_client(env: Mapping[str, str]) -> Any:
    """A client from OVMS's variables in ``env`` only (files and metadata are not read)."""
    unread = {  # (config file key, environment variable, default, converter)
        "profile": (None, None, None, None),
        "config_file": (None, None, os.devnull, None),
        "credentials_file": (None, None, os.devnull, None),
    }
    session = botocore.session.Session(session_vars=unread)
    session.set_config_variable("ignore_configured_endpoint_urls", True)
    endpoint = env.get("S3_ENDPOINT", "")
    if endpoint and "://" not in endpoint:
        endpoint = "http://" + endpoint  # OVMS speaks plain HTTP to a bare host:port
    key, secret = env.get("AWS_ACCESS_KEY_ID", ""), env.get("AWS_SECRET_ACCESS_KEY", "")
    options: dict[str, Any] = {"retries": {"max_attempts": 2}, "connect_timeout": 5}
    options["s3"] = {"addressing_style": "path"}
    if not key:
        options["signature_version"] = UNSIGNED
    return boto3.session.Session(botocore_session=session).client(
        "s3",
        endpoint_url=endpoint or None,
        region_name=env.get("AWS_REGION") or "us-east-1",
        aws_access_key_id=key or None,
        aws_secret_access_key=secret or None,
        config=Config(**options),
    )


def _s3_error(path: str, error: Exception) -> SourceError:
    if isinstance(error, ClientError):
        info = error.response.get("Error", {})
        code = str(info.get("Code", "Unknown"))
        message = f"{path}: S3 error {code}: {info.get('Message') or error}"
        denied = code in ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "403")
        missing = code in ("NoSuchBucket", "NoSuchKey", "404")
        return SourceError(
            "PERMISSION_DENIED" if denied else "NOT_FOUND" if missing else "UNKNOWN", message
        )
    return SourceError("UNKNOWN", f"{path}: S3 unreachable: {error}")


class S3Source:
    """Versions are the ``<prefix>/<n>/`` key prefixes, downloaded when loaded."""

    def __init__(self, path: str, env: Mapping[str, str]) -> None:
        self.path = path
        self.bucket, _, prefix = path[len("s3://") :].partition("/")
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.env = dict(env)
        self._client: Any = None

    @property
    def client(self) -> Any:
        """Made at the first call (in a thread): a bad setting is the path's error."""
        if self._client is None:
            try:
                self._client = s3_client(self.env)
            except (BotoCoreError, ValueError) as e:
                raise SourceError("UNKNOWN", f"{self.path}: S3 settings: {e}") from None
        return self._client

    def versions(self) -> list[int]:
        names: list[str] = []
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix, Delimiter="/"
            )
            for page in pages:
                for common in page.get("CommonPrefixes") or ():
                    names.append(common["Prefix"][len(self.prefix) :].strip("/"))
            missing = not names and not self._exists()
        except (ClientError, BotoCoreError) as e:
            raise _s3_error(self.path, e) from None
        if missing:
            raise SourceError("NOT_FOUND", f"the model path {self.path} does not exist")
        return _numeric(names)

    def _exists(self) -> bool:
        answer = self.client.list_objects_v2(Bucket=self.bucket, Prefix=self.prefix, MaxKeys=1)
        return bool(answer.get("KeyCount"))

    def fetch(self, version: int) -> Path:
        """The version's objects in a new private directory (removed again on failure)."""
        prefix = f"{self.prefix}{version}/"
        target = Path(tempfile.mkdtemp(prefix=f"ovms-{self.bucket}-{version}-"))  # mode 0700
        try:
            answer = self.client.list_objects_v2(
                Bucket=self.bucket, Prefix=prefix, MaxKeys=MAX_FILES
            )
            for item in answer.get("Contents") or ():
                relative = item["Key"][len(prefix) :]
                if not relative or relative.endswith("/") or ".." in relative.split("/"):
                    continue
                local = target / relative
                local.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                self.client.download_file(self.bucket, item["Key"], str(local))
        except (ClientError, BotoCoreError) as e:
            shutil.rmtree(target, ignore_errors=True)
            raise _s3_error(f"{self.path}/{version}", e) from None
        except BaseException:
            shutil.rmtree(target, ignore_errors=True)
            raise
        return target

    def release(self, version: int, directory: Path) -> None:
        shutil.rmtree(directory, ignore_errors=True)


def open_source(path: str, env: Mapping[str, str]) -> Source:
    """The source of a model path (already checked by `config.check_path`)."""
    if path.startswith("s3://"):
        return S3Source(path, env)
    return LocalSource(path)
