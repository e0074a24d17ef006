"""Local mode: a model server's own IAM identity, carrying its owner's read rights and
nothing else.

A ModelServer that reads a user's bucket gets an IAM user of its own,
`names.model_server_iam_name` (``ovms.<server>``, on the path
`names.MODEL_SERVER_IAM_PATH`, tagged for the owner and the server): never the owner's IAM
user, whose keys the notebook launches rotate. Its policy allows ``s3:GetObject`` and
``s3:ListBucket`` on the owner's bucket and the buckets granted to the owner
(``LocalBucketProvisioner.grants``), nothing else. `issue` rotates its key (IAM keeps
two); the local backend issues one when a server starts as a whole and shares it among the
server's replicas. The identity is deleted with the ModelServer. An identity of that name
without our marks is refused, changing nothing. boto3 blocks: every call runs in a thread.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from jupyterhub_ov import logsafety, names
from jupyterhub_ov.storage.s3local import AdminCredentials, LocalBucketProvisioner

POLICY_NAME = "jupyterhub-ov-model-server"
#: the tag naming the ModelServer an identity was made for
SERVER_TAG_KEY = "jupyterhub-ov:modelserver"


class IdentityUnavailable(RuntimeError):
    """The model server's identity could not be set up; the message says why."""


@dataclass(frozen=True)
class ServerKey:
    endpoint_url: str
    region: str
    access_key_id: str
    secret_access_key: str = field(repr=False)


def read_policy(buckets: list[str]) -> dict[str, Any]:
    """Listing and reading these buckets' objects; nothing else (no writes, no tags)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
                "Resource": [f"arn:aws:s3:::{b}" for b in buckets],
            },
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject"],
                "Resource": [f"arn:aws:s3:::{b}/*" for b in buckets],
            },
        ],
    }


class ServerIdentities:
    """The IAM identities of local model servers, on the S3 service of the provisioner."""

    def __init__(self, provisioner: LocalBucketProvisioner) -> None:
        self.provisioner = provisioner

    @property
    def enabled(self) -> bool:
        return self.provisioner.enabled

    def buckets(self, owner: str) -> list[str]:
        """The owner's bucket, then the buckets granted to the owner."""
        p = self.provisioner
        return [names.bucket_name(owner, p.bucket_prefix), *p.grants.get(owner, ())]

    async def issue(self, server: str, owner: str) -> ServerKey:
        """The identity of ``server`` made or updated for ``owner``, with a fresh key."""
        admin = await self._admin()
        key_id, secret = await self._run(self._issue, admin, server, owner)
        return ServerKey(admin.endpoint_url, admin.region, key_id, secret)

    async def remove(self, server: str) -> None:
        """Delete the identity of ``server`` (its keys and policy first); none is fine."""
        if not self.enabled:
            return
        admin = await self._admin()
        await self._run(self._remove, admin, server)

    async def exists(self, server: str) -> bool:
        admin = await self._admin()
        found: bool = await self._run(self._exists, admin, server)
        return found

    async def _admin(self) -> AdminCredentials:
        try:
            return await self.provisioner.admin_credentials()
        except Exception as e:  # BucketUnavailable: the file's problem, as its message says
            raise IdentityUnavailable(str(e)) from None

    async def _run(self, work: Any, *args: Any) -> Any:
        timeout = self.provisioner.timeout
        try:
            return await asyncio.wait_for(asyncio.to_thread(work, *args), timeout)
        except TimeoutError:
            raise IdentityUnavailable(
                f"The S3 service did not answer within {timeout:g} s."
            ) from None

    # -- blocking --------------------------------------------------------------------------

    def _clients(self, admin: AdminCredentials) -> Any:
        from jupyterhub_ov.storage import s3calls

        logsafety.clamp_sdk_loggers()  # IAM's answers carry the keys: never at DEBUG
        return s3calls.admin_clients(admin, self.provisioner.timeout)[1]

    def _issue(self, admin: AdminCredentials, server: str, owner: str) -> tuple[str, str]:
        from botocore.exceptions import ClientError

        from jupyterhub_ov.storage import s3calls

        user = names.model_server_iam_name(server)
        tags = [
            {"Key": names.OWNER_TAG_KEY, "Value": names.owner_tag_value(owner)},
            {"Key": SERVER_TAG_KEY, "Value": server},
        ]
        policy = json.dumps(read_policy(self.buckets(owner)))
        with s3calls.translated_errors(admin.endpoint_url, IdentityUnavailable):
            iam = self._clients(admin)
            try:
                iam.create_user(UserName=user, Path=names.MODEL_SERVER_IAM_PATH, Tags=tags)
            except ClientError as e:
                if e.response.get("Error", {}).get("Code") != "EntityAlreadyExists":
                    raise
                self._check_ours(iam, user, tags[1])
                iam.tag_user(UserName=user, Tags=tags)  # the owner may have changed
            iam.put_user_policy(UserName=user, PolicyName=POLICY_NAME, PolicyDocument=policy)
            return s3calls.rotate_access_key(iam, user, admin_key_id=admin.access_key_id)

    @staticmethod
    def _check_ours(iam: Any, user: str, server_tag: dict[str, str]) -> None:
        found = iam.get_user(UserName=user)["User"]
        tags = iam.list_user_tags(UserName=user)["Tags"]
        if found.get("Path") != names.MODEL_SERVER_IAM_PATH or server_tag not in tags:
            raise IdentityUnavailable(
                f"IAM user {user} exists but was not made by jupyterhub-ov for the ModelServer"
                f" {server_tag['Value']!r}; refusing to use it."
            )

    def _remove(self, admin: AdminCredentials, server: str) -> None:
        from botocore.exceptions import ClientError

        from jupyterhub_ov.storage import s3calls

        user = names.model_server_iam_name(server)
        with s3calls.translated_errors(admin.endpoint_url, IdentityUnavailable):
            iam = self._clients(admin)
            try:
                self._check_ours(iam, user, {"Key": SERVER_TAG_KEY, "Value": server})
                keys = s3calls._keys_not_the_admins(iam, user, admin.access_key_id)
                for key in keys:
                    iam.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])
                for policy in iam.list_user_policies(UserName=user)["PolicyNames"]:
                    iam.delete_user_policy(UserName=user, PolicyName=policy)
                iam.delete_user(UserName=user)
            except ClientError as e:
                if e.response.get("Error", {}).get("Code") != "NoSuchEntity":
                    raise

    def _exists(self, admin: AdminCredentials, server: str) -> bool:
        from botocore.exceptions import ClientError

        iam = self._clients(admin)
        try:
            iam.get_user(UserName=names.model_server_iam_name(server))
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") == "NoSuchEntity":
                return False
            raise
        return True
