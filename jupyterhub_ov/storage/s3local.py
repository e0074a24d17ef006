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
        """The notebook's contract (OCS guide names, and ODH's S3 connection keys
        ``AWS_S3_ENDPOINT``, ``AWS_S3_BUCKET``, ``AWS_DEFAULT_REGION``), plus the list of
        visible buckets."""
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
            "AWS_S3_ENDPOINT": self.endpoint_url,
            "AWS_S3_BUCKET": self.bucket,
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
    """The local mode's buckets: a bucket, an IAM user and a fresh access key per user, on an
    S3 endpoint with IAM (MinIO, Ceph RGW, moto, AWS), handed to the server's environment
    only (never the hub database, the spawner state or the logs). Buckets are off (one log
    line) unless `endpoint_url` or `credentials_file` is set.

    It only hands out what it created and tagged for that user; an existing bucket or IAM user
    of the name without that mark fails the launch. What happens at a launch, the ownership
    rules, the rights the admin identity needs and the notebook's variables:
    [docs/storage.md](storage.md#local-buckets-localbucketprovisioner).
    """

    endpoint_url = Unicode(
        "",
        config=True,
        help="""URL of the S3 and IAM endpoint the hub administers (both APIs on one URL).
        Wins over the endpoint_url of credentials_file. Empty, and no credentials_file:
        buckets are off.""",
    )
    notebook_endpoint_url = Unicode(
        "",
        config=True,
        help="""S3 endpoint given to notebooks as S3_ENDPOINT_URL, when they reach S3 under
        another URL than the hub does. Empty: the endpoint the hub uses.""",
    )
    credentials_file = Unicode(
        "",
        config=True,
        help="""JSON file {endpoint_url, region, access_key_id, secret_access_key} with the
        admin identity (as the embedded S3 server writes it), read at each launch, so a
        rotated key is picked up. Its keys and region replace access_key_id,
        secret_access_key and region; its endpoint_url is used when endpoint_url is empty.
        Empty: the traits.""",
    )
    access_key_id = Unicode(
        "",
        config=True,
        help="""Access key id of the admin identity that creates buckets, IAM users and keys
        (when there is no credentials_file). Empty: boto3's default credential chain.""",
    )
    secret_access_key = Unicode(
        "",
        config=True,
        help="""Secret key of the admin identity (when there is no credentials_file). Empty:
        boto3's default credential chain.""",
    )
    region = Unicode(
        "us-east-1",
        config=True,
        help="""Region of the hub's S3 and IAM requests (the signature's region), given to
        notebooks as AWS_DEFAULT_REGION and BUCKET_REGION. A credentials_file's region
        wins.""",
    )
    bucket_prefix = Unicode(
        "jupyter",
        config=True,
        help="""Buckets are named <prefix>-<user slug>: always valid S3 names (a user whose
        slug S3 would refuse gets a hashed one), never shared between users, and the same
        for a user at every launch, so a bucket outlives servers and restarts. Lowercase
        letters, digits and single hyphens, starting with a letter and not ending in a
        hyphen; checked when the configuration is loaded. Changing it gives every user a
        new, empty bucket (the old ones stay).""",
    )
    iam_user_prefix = Unicode(
        "jupyterhub-ov",
        config=True,
        help="""IAM users are named <prefix>-<user slug>, on the IAM path /jupyterhub-ov/. The
        same rules as bucket_prefix; changing it gives every user a new identity.""",
    )
    grants = Dict(
        key_trait=Unicode(),
        value_trait=List(Unicode()),
        config=True,
        help="""Buckets a user may use besides their own: {username: [bucket, ...]}, put
        into that user's IAM policy at each launch and listed in JUPYTERHUB_OV_BUCKETS.
        Valid S3 bucket names, checked when the configuration is loaded; the hub does not
        create these buckets.""",
    )
    timeout = Float(
        20.0,
        config=True,
        help="""Seconds a launch waits for S3 and IAM to set up the bucket and key; then the
        launch fails, or starts without a bucket (OVLocalSpawner.bucket_required).""",
    )
    credentials_wait = Float(
        15.0,
        config=True,
        help="""Seconds a launch waits for credentials_file to appear (the embedded S3 server
        writes it a moment after the hub starts); then the bucket is unavailable.""",
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
