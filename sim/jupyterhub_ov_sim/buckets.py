"""A NooBaa-like ObjectBucketClaim provisioner on a real S3 server: a test double only.

For each claim of a storage class whose provisioner is ``openshift-storage.noobaa.io/obc``
it creates the bucket (``bucketName``, or ``generateBucketName`` plus a unique suffix), an
IAM identity allowed only that bucket, and, named like the claim and owned by it, a
ConfigMap (``BUCKET_HOST``, ``BUCKET_NAME``, ``BUCKET_PORT``, ``BUCKET_REGION``,
``BUCKET_SUBREGION``) and a Secret (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``), plus
the cluster-scoped ObjectBucket ``obc-<namespace>-<claim>``; then the claim is Bound.
Deleting the claim removes all of that; the class's reclaim policy decides whether the
bucket goes too (Delete) or stays (Retain). ``grant()`` lets one claim's identity use
another bucket (shared buckets). boto3 is blocking, so S3/IAM work runs in threads.
Part of the cluster simulator (see ``jupyterhub_ov_sim``).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from . import s3admin
from .controller import Controller
from .errors import ApiError
from .kinds import ResourceKind
from .patches import MERGE_PATCH
from .s3admin import AdminCredentials, bucket_policy
from .store import ObjectStore
from .watchcache import WatchEvent

PROVISIONER = "openshift-storage.noobaa.io/obc"
DEFAULT_CLASS = "openshift-storage.noobaa.io"
FINALIZER = "objectbucket.io/finalizer"
LABEL = {"bucket-provisioner": PROVISIONER.replace("/", "-")}
GROUP = ("objectbucket.io", "v1alpha1")


def identity_name(namespace: str, claim: str) -> str:
    return f"obc-{namespace}-{claim}"


class BucketProvisioner(Controller):
    """Binds ObjectBucketClaims to buckets and per-claim identities on an S3 server."""

    component = "noobaa-obc-provisioner"
    watched = ((*GROUP, "objectbucketclaims"),)

    def __init__(
        self,
        store: ObjectStore,
        *,
        admin: AdminCredentials,
        storage_classes: Mapping[str, str] | None = None,
        timeout: float = 30.0,
        provision_delay: float = 0.0,
    ) -> None:
        """``storage_classes`` maps class names to reclaim policies (Delete or Retain)."""
        super().__init__(store)
        self.admin = admin
        self.storage_classes = dict(storage_classes or {DEFAULT_CLASS: "Delete"})
        self.timeout = timeout
        self.provision_delay = provision_delay
        self.claims = self.kind(*GROUP, "objectbucketclaims")
        self.buckets = self.kind(*GROUP, "objectbuckets")
        self.classes = self.kind("storage.k8s.io", "v1", "storageclasses")
        self.configmaps = self.kind("", "v1", "configmaps")
        self.secrets = self.kind("", "v1", "secrets")
        self._busy: set[str] = set()
        self._reported: set[tuple[str, str]] = set()
        self.grants: dict[tuple[str, str], set[str]] = {}
        self._executor: ThreadPoolExecutor | None = None

    async def start(self) -> None:
        for name, policy in self.storage_classes.items():
            body = {
                "metadata": {"name": name},
                "provisioner": PROVISIONER,
                "reclaimPolicy": policy,
                "parameters": {"bucketclass": "noobaa-default-bucket-class"},
            }
            self.get_or_create(self.classes, "", body)
        await super().start()

    async def _in_thread(self, func: Callable[..., Any], *args: Any) -> Any:
        """boto3 calls run on the provisioner's own threads: hundreds of claims at once must
        not queue the kubelet's and volume binder's small file operations behind them."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(4, thread_name_prefix="sim-buckets")
        return await asyncio.get_running_loop().run_in_executor(self._executor, func, *args)

    async def stop(self) -> None:
        await super().stop()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def _clients(self) -> tuple[Any, Any]:
        return s3admin.admin_clients(self.admin, self.timeout)

    def on_event(self, kind: ResourceKind, event: WatchEvent) -> None:
        claim, uid = event.obj, event.obj["metadata"]["uid"]
        if event.type == "DELETED" or uid in self._busy:
            return
        if claim["metadata"].get("deletionTimestamp"):
            if FINALIZER in (claim["metadata"].get("finalizers") or []):
                self._busy.add(uid)
                self.spawn(self._guarded(uid, self._release(claim)))
        elif (claim.get("status") or {}).get("phase") != "Bound":
            storage_class = self._class_of(claim)
            if storage_class is not None:
                self._busy.add(uid)
                self.spawn(self._guarded(uid, self._provision(claim, storage_class)))

    async def _guarded(self, uid: str, work: Any) -> None:
        try:
            await work
        finally:
            self._busy.discard(uid)

    def _class_of(self, claim: dict[str, Any]) -> dict[str, Any] | None:
        name = (claim.get("spec") or {}).get("storageClassName") or ""
        try:
            storage_class = self.store.get(self.classes, "", name)
        except ApiError:
            message = f'storageclass.storage.k8s.io "{name}" not found'
            if (claim["metadata"]["uid"], message) not in self._reported:
                self._reported.add((claim["metadata"]["uid"], message))
                self.record_event(claim, "ProvisioningFailed", message, "Warning")
            return None
        return storage_class if storage_class.get("provisioner") == PROVISIONER else None

    def _bucket_name(self, claim: dict[str, Any]) -> str | None:
        spec = claim.get("spec") or {}
        if spec.get("bucketName"):
            return str(spec["bucketName"])
        if spec.get("generateBucketName"):
            return f"{spec['generateBucketName']}-{uuid.uuid4()}"[:63].rstrip("-")
        return None

    async def _provision(self, claim: dict[str, Any], storage_class: dict[str, Any]) -> None:
        md = claim["metadata"]
        namespace, name = md["namespace"], md["name"]
        bucket = self._bucket_name(claim)
        if bucket is None:
            message = "bucketName or generateBucketName must be set"
            self.record_event(claim, "ProvisioningFailed", message, "Warning")
            return
        finalizers = claim["metadata"].get("finalizers") or []
        if FINALIZER not in finalizers:
            claim = self._patch(claim, {"metadata": {"finalizers": [*finalizers, FINALIZER]}})
        self.merge_status(self.claims, claim, {"phase": "Pending"})
        user = identity_name(namespace, name)
        if self.provision_delay:
            await asyncio.sleep(self.provision_delay)  # the configured provisioning time
        try:
            key, secret = await self._in_thread(self._create_bucket_and_identity, bucket, user)
        except Exception as error:  # the S3 server's refusal, reported on the claim
            self.record_event(claim, "ProvisioningFailed", str(error), "Warning")
            self.merge_status(self.claims, claim, {"phase": "Failed"})
            return
        self._publish(claim, storage_class, bucket, key, secret)

    def _create_bucket_and_identity(self, bucket: str, user: str) -> tuple[str, str]:
        s3, iam = self._clients()
        s3admin.ensure_bucket(s3, bucket)
        s3admin.ensure_user(iam, user, bucket_policy([bucket]))
        return s3admin.rotate_access_key(iam, user)

    def _endpoint(self, bucket: str) -> dict[str, Any]:
        url = urlsplit(self.admin.endpoint_url)
        port = url.port or (443 if url.scheme == "https" else 80)
        return {
            "bucketHost": url.hostname,
            "bucketPort": port,
            "bucketName": bucket,
            "region": self.admin.region,
            "subRegion": "",
            "additionalConfig": {},
        }

    def _publish(
        self,
        claim: dict[str, Any],
        storage_class: dict[str, Any],
        bucket: str,
        key: str,
        secret: str,
    ) -> None:
        md = claim["metadata"]
        namespace, name = md["namespace"], md["name"]
        endpoint = self._endpoint(bucket)
        owner = {
            "apiVersion": "objectbucket.io/v1alpha1",
            "kind": "ObjectBucketClaim",
            "name": name,
            "uid": md["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }
        owned = {"name": name, "labels": LABEL, "ownerReferences": [owner]}
        config_data = {
            "BUCKET_HOST": str(endpoint["bucketHost"]),
            "BUCKET_NAME": bucket,
            "BUCKET_PORT": str(endpoint["bucketPort"]),
            "BUCKET_REGION": endpoint["region"],
            "BUCKET_SUBREGION": "",
        }
        self._upsert(self.configmaps, namespace, {"metadata": owned, "data": config_data})
        credentials = {"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret}
        self._upsert(self.secrets, namespace, {"metadata": owned, "stringData": credentials})
        object_bucket = self._create_object_bucket(claim, storage_class, endpoint)
        spec = {"bucketName": bucket, "objectBucketName": object_bucket["metadata"]["name"]}
        bound = self._patch(claim, {"spec": spec})
        self.merge_status(self.claims, bound, {"phase": "Bound"})
        self.record_event(claim, "Provisioned", f"bucket {bucket} provisioned for claim {name}")

    def _create_object_bucket(
        self, claim: dict[str, Any], storage_class: dict[str, Any], endpoint: dict[str, Any]
    ) -> dict[str, Any]:
        md = claim["metadata"]
        body = {
            "metadata": {
                "name": identity_name(md["namespace"], md["name"]),
                "labels": LABEL,
                "finalizers": [FINALIZER],
            },
            "spec": {
                "storageClassName": storage_class["metadata"]["name"],
                "reclaimPolicy": storage_class.get("reclaimPolicy", "Delete"),
                "claimRef": {
                    "apiVersion": "objectbucket.io/v1alpha1",
                    "kind": "ObjectBucketClaim",
                    "namespace": md["namespace"],
                    "name": md["name"],
                    "uid": md["uid"],
                },
                "endpoint": endpoint,
                "additionalState": {"account": identity_name(md["namespace"], md["name"])},
            },
        }
        created = self._upsert(self.buckets, "", body)
        return self.merge_status(self.buckets, created, {"phase": "Bound"}) or created

    def _upsert(self, kind: ResourceKind, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            return self.store.create(kind, namespace, body)
        except ApiError as error:
            if error.code != 409:
                raise
            return self.store.update(kind, namespace, body["metadata"]["name"], body)

    def _patch(self, obj: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
        md = obj["metadata"]
        kind = self.claims if obj.get("kind") == "ObjectBucketClaim" else self.buckets
        return self.store.patch(kind, md.get("namespace", ""), md["name"], patch, MERGE_PATCH)

    async def _release(self, claim: dict[str, Any]) -> None:
        """Undo a claim: ObjectBucket, ConfigMap, Secret, identity, maybe the bucket."""
        md = claim["metadata"]
        namespace, name = md["namespace"], md["name"]
        bucket = (claim.get("spec") or {}).get("bucketName")
        policy = "Delete"
        try:
            object_bucket = self.store.get(self.buckets, "", identity_name(namespace, name))
            policy = object_bucket["spec"].get("reclaimPolicy", "Delete")
            self._patch(object_bucket, {"metadata": {"finalizers": None}})
            self.store.delete(self.buckets, "", identity_name(namespace, name))
        except ApiError:
            pass  # never bound, or already gone
        for kind in (self.configmaps, self.secrets):
            try:
                self.store.delete(kind, namespace, name)
            except ApiError:
                pass
        user = identity_name(namespace, name)
        await self._in_thread(self._delete_identity, user, bucket if policy == "Delete" else None)
        self.grants.pop((namespace, name), None)
        try:
            current = self.store.get(self.claims, namespace, name)
            finalizers = [f for f in current["metadata"].get("finalizers") or [] if f != FINALIZER]
            self._patch(current, {"metadata": {"finalizers": finalizers or None}})
        except ApiError:
            pass

    def _delete_identity(self, user: str, bucket: str | None) -> None:
        s3, iam = self._clients()
        try:
            for key in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]:
                iam.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])
            iam.delete_user_policy(UserName=user, PolicyName=s3admin.POLICY_NAME)
            iam.delete_user(UserName=user)
        except iam.exceptions.NoSuchEntityException:
            pass
        if bucket:
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
                for item in page.get("Contents", []):
                    s3.delete_object(Bucket=bucket, Key=item["Key"])
            s3.delete_bucket(Bucket=bucket)

    async def grant(self, namespace: str, claim: str, bucket: str) -> None:
        """Let the identity of ``claim`` also use ``bucket`` (an admin sharing a bucket)."""
        current = self.store.get(self.claims, namespace, claim)
        own = (current.get("spec") or {}).get("bucketName")
        if not own:
            raise ValueError(f"claim {namespace}/{claim} is not bound yet")
        granted = self.grants.setdefault((namespace, claim), set())
        granted.add(bucket)
        buckets = [own, *sorted(granted)]
        await self._in_thread(self._put_policy, identity_name(namespace, claim), buckets)

    def _put_policy(self, user: str, buckets: list[str]) -> None:
        _, iam = self._clients()
        iam.put_user_policy(
            UserName=user,
            PolicyName=s3admin.POLICY_NAME,
            PolicyDocument=json.dumps(bucket_policy(buckets)),
        )
