"""Start the shipped embedded S3 server (moto with IAM enforced) as a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .util import free_port


@dataclass
class S3Server:
    endpoint_url: str
    credentials_file: Path
    region: str = "us-east-1"
    admin: dict[str, str] = field(default_factory=dict, repr=False)

    def client(self, service: Any, key_id: str, secret: str):
        import boto3
        from botocore.config import Config

        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=key_id,
            aws_secret_access_key=secret,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )

    def admin_client(self, service: str):
        return self.client(service, self.admin["access_key_id"], self.admin["secret_access_key"])

    @classmethod
    def of_credentials_file(cls, path: Path) -> S3Server:
        """The S3 service a running hub administers, from the admin file it keeps."""
        admin = json.loads(path.read_text())
        return cls(admin["endpoint_url"], path, admin.get("region", "us-east-1"), admin)

    def deny_writes(self, iam_user: str, bucket: str) -> None:
        """An extra inline policy on ``iam_user``: no PutObject, no DeleteObject on ``bucket``,
        whatever its other policies allow (an explicit Deny wins). Both resource forms: moto
        checks a DeleteObjects request (what s3fs deletes with) against the bucket's ARN."""
        statement = {
            "Effect": "Deny",
            "Action": ["s3:PutObject", "s3:DeleteObject"],
            "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        }
        self.admin_client("iam").put_user_policy(
            UserName=iam_user,
            PolicyName=f"test-deny-writes-{bucket}",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
        )


@contextmanager
def embedded_s3(directory: Path, timeout: float = 30) -> Iterator[S3Server]:
    port = free_port()
    credentials = directory / "s3-admin.json"
    log = open(directory / "embedded-s3.log", "wb")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterhub_ov.storage.embedded",
            "--port",
            str(port),
            "--credentials-file",
            str(credentials),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + timeout
        while not credentials.exists():
            if proc.poll() is not None:
                raise RuntimeError(
                    f"embedded S3 exited: {(directory / 'embedded-s3.log').read_text()}"
                )
            if time.monotonic() > deadline:
                raise TimeoutError("embedded S3 did not write its credentials")
            time.sleep(0.05)
        server = S3Server(f"http://127.0.0.1:{port}", credentials)
        server.admin = json.loads(credentials.read_text())
        yield server
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()
