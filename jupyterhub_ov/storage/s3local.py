"""Local mode storage: a bucket and an IAM identity per user on any S3 service with IAM.

On each launch `ensure` creates (idempotently) the user's bucket and IAM user, (re)writes the
user's policy — their own bucket plus the buckets an admin granted them — and issues a fresh
access key, keeping at most the previous one so a server that is still running keeps working.
It only ever hands out what it made for that user: both are created tagged
``jupyterhub-ov:user=<hub user>`` (the IAM user also on the path ``/jupyterhub-ov/``), and a
bucket or IAM user of that name without the mark — or the identity whose key the hub itself
uses — is refused with a `BucketUnavailable` naming it, changing nothing (see `s3calls`).
The secret goes into the single-user server's environment and nowhere else: not the hub
database, not the spawner state, not the logs. boto3 is blocking, so all of it runs in a thread.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from traitlets import Dict, Float, List, TraitError, Unicode, validate
from traitlets.config import LoggingConfigurable

from .. import names


class BucketUnavailable(RuntimeError):
    """The user's bucket could not be set up; the message is meant for the user."""


@dataclass(frozen=True)
class AdminCredentials:
    endpoint_url: str
    region: str
    access_key_id: str
    secret_access_key: str = field(repr=False)


@dataclass(frozen=True)
class BucketCredentials:
    endpoint_url: str
    region: str
    bucket: str
    access_key_id: str
    secret_access_key: str = field(repr=False)
    granted: tuple[str, ...] = ()

    def environment(self) -> dict[str, str]:
        """The notebook's contract (OCS guide names), plus the list of visible buckets."""
        visible = [{"name": self.bucket, "endpoint": self.endpoint_url, "own": True}] + [
            {"name": b, "endpoint": self.endpoint_url, "own": False} for b in self.granted
        ]
        return {
            "S3_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_DEFAULT_REGION": self.region,
            "BUCKET_NAME": self.bucket,
            "BUCKET_REGION": self.region,
            "JUPYTERHUB_OV_BUCKETS": json.dumps(visible),
        }


def bucket_policy(buckets: list[str]) -> dict[str, Any]:
    """Everything on these buckets and their objects, nothing else; but not their tags.

    The owner tag is what lets the provisioner reuse a bucket (`s3calls.provision`): a user
    who could rewrite it on a bucket granted to them could lock its owner out.
    """
    resources = [arn for b in buckets for arn in (f"arn:aws:s3:::{b}", f"arn:aws:s3:::{b}/*")]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": resources},
            {
                "Effect": "Deny",
                "Action": "s3:PutBucketTagging",  # also what DeleteBucketTagging requires
                "Resource": [f"arn:aws:s3:::{b}" for b in buckets],
            },
        ],
    }


class LocalBucketProvisioner(LoggingConfigurable):
    """Per-user buckets and credentials on an S3 endpoint with IAM (MinIO, Ceph RGW, moto, AWS)."""

    endpoint_url = Unicode(
        "",
        config=True,
        help="S3/IAM endpoint the hub administers. Empty (and no credentials_file): buckets off.",
    )
    notebook_endpoint_url = Unicode(
        "",
        config=True,
        help="S3 endpoint given to notebooks as S3_ENDPOINT_URL, if not endpoint_url.",
    )
    credentials_file = Unicode(
        "",
        config=True,
        help="""JSON file with endpoint_url, region, access_key_id, secret_access_key
        (as the embedded S3 server writes it). Read at each launch; overrides the traits.""",
    )
    access_key_id = Unicode("", config=True, help="Admin access key id (when no credentials_file).")
    secret_access_key = Unicode(
        "", config=True, help="Admin secret key (when no credentials_file)."
    )
    region = Unicode("us-east-1", config=True, help="Region for S3 and IAM requests.")
    bucket_prefix = Unicode("jupyter", config=True, help="Bucket names are <prefix>-<user slug>.")
    iam_user_prefix = Unicode(
        "jupyterhub-ov", config=True, help="IAM user names are <prefix>-<user slug>."
    )
    grants = Dict(
        key_trait=Unicode(),
        value_trait=List(Unicode()),
        config=True,
        help="Buckets a user may use besides their own: {username: [bucket, ...]}.",
    )
    timeout = Float(20.0, config=True, help="Seconds a launch waits for the bucket before failing.")
    credentials_wait = Float(
        15.0, config=True, help="Seconds to wait for credentials_file to appear (hub start-up)."
    )

    @validate("bucket_prefix", "iam_user_prefix")
    def _valid_prefix(self, proposal: Any) -> str:
        try:
            names.bucket_name("x", proposal.value)
        except ValueError as e:
            raise TraitError(str(e)) from e
        return str(proposal.value)

    @validate("grants")
    def _valid_grants(self, proposal: Any) -> dict[str, list[str]]:
        problems = [
            f"{user}: {p}"
            for user, buckets in proposal.value.items()
            for p in map(names.bucket_name_problem, buckets)
            if p
        ]
        if problems:
            raise TraitError("invalid bucket grants: " + "; ".join(problems))
        return dict(proposal.value)

    @property
    def enabled(self) -> bool:
        return bool(self.endpoint_url or self.credentials_file)

    async def admin_credentials(self) -> AdminCredentials:
        if not self.credentials_file:
            return AdminCredentials(
                self.endpoint_url, self.region, self.access_key_id, self.secret_access_key
            )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.credentials_wait
        # the embedded server writes the file a moment after the hub starts
        while (data := await asyncio.to_thread(self._read_credentials_file)) is None:
            if loop.time() > deadline:
                raise BucketUnavailable(
                    f"The S3 admin credentials file {self.credentials_file} does not exist."
                )
            await asyncio.sleep(0.1)
        return data

    def _read_credentials_file(self) -> AdminCredentials | None:
        path = Path(self.credentials_file)
        try:
            data = json.loads(path.read_text())
            return AdminCredentials(
                self.endpoint_url or data["endpoint_url"],
                data.get("region", self.region),
                data["access_key_id"],
                data["secret_access_key"],
            )
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise BucketUnavailable(
                f"The S3 admin credentials file {path} is unreadable: {e!r}"
            ) from None

    async def ensure(self, username: str) -> BucketCredentials:
        """Create or update the user's bucket and identity; fresh credentials for this launch."""
        admin = await self.admin_credentials()
        grants = tuple(self.grants.get(username, ()))
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(self._ensure_blocking, username, admin, grants), self.timeout
            )
        except TimeoutError:
            raise BucketUnavailable(
                f"The S3 service at {admin.endpoint_url} did not answer within {self.timeout:g} s."
            ) from None

    def _ensure_blocking(
        self, username: str, admin: AdminCredentials, grants: tuple[str, ...]
    ) -> BucketCredentials:
        from . import s3calls

        bucket = names.bucket_name(username, self.bucket_prefix)
        iam_user = names.iam_user_name(username, self.iam_user_prefix)
        with s3calls.translated_errors(admin.endpoint_url, BucketUnavailable):
            s3, iam = s3calls.admin_clients(admin, self.timeout)
            key_id, secret = s3calls.provision(
                s3,
                iam,
                bucket=bucket,
                user=iam_user,
                owner=username,
                policy=bucket_policy([bucket, *grants]),
                admin_key_id=admin.access_key_id,
            )
        self.log.info(
            "Bucket %s ready for %s (IAM user %s, key %s)", bucket, username, iam_user, key_id
        )
        return BucketCredentials(
            self.notebook_endpoint_url or admin.endpoint_url,
            admin.region,
            bucket,
            key_id,
            secret,
            grants,
        )
