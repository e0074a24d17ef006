"""OVKubeSpawner: KubeSpawner with an ImageStream menu, a PVC and a bucket claim per user.

Orchestration only: the image catalog (`images.kube`), claim handling (`storage.claims`) and
manifests (`storage.manifests`) do the work. The notebook's S3 credentials reach the pod by
reference to the claim's Secret and ConfigMap: this spawner never reads either.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

from kubespawner import KubeSpawner
from kubespawner.clients import shared_client
from traitlets import Bool, Dict, Float, List, TraitError, Unicode, default, validate

from .. import menu, names
from ..images.kube import KubeImageCatalog
from ..kube.reflectors import shared_reflector
from ..storage import claims, manifests
from .errors import SpawnFailure


class OVKubeSpawner(KubeSpawner):
    """Notebook images from ImageStreams; storage: a PVC and an ObjectBucketClaim per user."""

    sizes = List(
        Dict(),
        config=True,
        help="""Container sizes offered in the menu: [{"name", "display_name", "default",
        "cpu_guarantee", "cpu_limit", "mem_guarantee", "mem_limit"}]. Empty: no size choice.""",
    )
    bucket_claim_enabled = Bool(True, config=True, help="Give each user an ObjectBucketClaim.")
    bucket_claim_prefix = Unicode(
        "jupyter-bucket", config=True, help="Claims are named <prefix>-<user slug>."
    )
    bucket_name_prefix = Unicode(
        "jupyter", config=True, help="generateBucketName is <prefix>-<short user slug>."
    )
    bucket_storage_class = Unicode(
        manifests.NOOBAA_STORAGE_CLASS, config=True, help="storageClassName of the claims."
    )
    bucket_additional_config = Dict(
        config=True, help="additionalConfig of the claims, e.g. {'bucketclass': '...'}."
    )
    bucket_bind_timeout = Float(
        120.0, config=True, help="Seconds a spawn waits for the claim to become Bound."
    )
    s3_endpoint_url = Unicode(
        "",
        config=True,
        help="S3_ENDPOINT_URL for notebooks (e.g. the s3 route). Empty: the claim's host:port.",
    )
    s3_endpoint_scheme = Unicode(
        "http", config=True, help="Scheme for the fallback endpoint built from the claim."
    )
    bucket_grants = Dict(
        key_trait=Unicode(),
        value_trait=List(Unicode()),
        config=True,
        help="""Buckets a user was granted besides their own, {username: [bucket, ...]},
        listed to the notebook in JUPYTERHUB_OV_BUCKETS (the grant itself is the admin's).""",
    )
    delete_bucket_claim = Bool(
        False,
        config=True,
        help="Delete the user's claim when the user is deleted (data loss, if the storage "
        "class reclaims with Delete). Stopping a server never deletes it.",
    )

    @default("storage_pvc_ensure")
    def _default_pvc_ensure(self) -> bool:
        return True

    @default("delete_pvc")
    def _default_delete_pvc(self) -> bool:
        return False  # KubeSpawner deletes volumes with the user by default: data loss

    @default("options_form")
    def _default_options_form(self) -> Any:
        async def form(spawner: OVKubeSpawner) -> str:
            images = await spawner.available_images()
            return menu.render_menu(
                images,
                spawner.user_options.get("image"),
                menu.parse_sizes(spawner.sizes),
                spawner.user_options.get("size"),
            )

        return form

    @validate("sizes")
    def _valid_sizes(self, proposal: Any) -> list:
        try:
            menu.parse_sizes(proposal.value)
        except ValueError as e:
            raise TraitError(f"OVKubeSpawner.sizes: {e}") from e
        return list(proposal.value)

    @property
    def catalog(self) -> KubeImageCatalog:
        return KubeImageCatalog(parent=self)

    @property
    def bucket_claim_name(self) -> str:
        return names.object_name(self.user.name, self.bucket_claim_prefix)

    async def available_images(self) -> list:
        catalog = self.catalog
        await catalog.start(self.__class__, self.namespace)
        return catalog.images(self.__class__, self.namespace)

    def options_from_form(self, formdata: dict[str, list[str]]) -> dict[str, Any]:
        return menu.options_from_form(formdata)

    # -- progress: our steps first, then KubeSpawner's pod events -------------------------

    def _progress(self, message: str, progress: int) -> None:
        elapsed = time.monotonic() - self._ov_started
        self._ov_events.append({"progress": progress, "message": f"{message} ({elapsed:.1f} s)"})
        self._ov_changed.set()

    async def progress(self) -> AsyncIterator[dict[str, Any]]:
        sent = 0
        while True:
            events = getattr(self, "_ov_events", [])
            while sent < len(events):
                yield events[sent]
                sent += 1
            if getattr(self, "_ov_prepared", True):
                break
            self._ov_changed.clear()
            try:
                await asyncio.wait_for(self._ov_changed.wait(), 1)
            except TimeoutError:
                pass
        async for event in super().progress():
            yield event

    # -- start ----------------------------------------------------------------------------

    async def _start(self) -> Any:
        self._ov_started = time.monotonic()
        self._ov_events: list[dict[str, Any]] = []
        self._ov_changed = asyncio.Event()
        self._ov_prepared = False
        try:
            await self._prepare()
        finally:
            self._ov_prepared = True
            self._ov_changed.set()
        return await super()._start()

    async def _prepare(self) -> None:
        try:
            choice = menu.resolve_choice(
                await self.available_images(), self.user_options.get("image")
            )
        except menu.NoImageAvailable as e:
            raise SpawnFailure(str(e)) from None
        if choice.note:
            self.log.warning("%s: %s", self._log_name, choice.note)
            self._progress(choice.note, 5)
        self.image = choice.tag.reference
        self._add_environment({"JUPYTERHUB_OV_IMAGE": choice.value})
        size = menu.resolve_size(menu.parse_sizes(self.sizes), self.user_options.get("size"))
        for key, value in (size.resources if size else {}).items():
            setattr(self, key, value)
        self._progress(f"Image {choice.image.display_name} ({choice.tag.name})", 5)
        if self.bucket_claim_enabled:
            await self._ensure_bucket()

    async def _ensure_bucket(self) -> None:
        api = shared_client("CustomObjectsApi")
        name = self.bucket_claim_name
        body = manifests.bucket_claim(
            name=name,
            namespace=self.namespace,
            generate_bucket_name=names.generate_bucket_name(
                self.user.name, self.bucket_name_prefix
            ),
            storage_class=self.bucket_storage_class,
            additional_config=self.bucket_additional_config,
            labels=self._build_common_labels({}),
            annotations=self._build_common_annotations({}),
        )
        timeout = self.k8s_api_request_retry_timeout
        _, created = await claims.ensure_claim(api, body, timeout=timeout, log=self.log)
        self._progress(f"Bucket claim {name} {'created' if created else 'found'}", 10)
        reflector = await shared_reflector(
            self.__class__, claims.ClaimReflector, self.namespace, parent=self
        )
        try:
            await claims.wait_bound(
                reflector, self.namespace, name, timeout=self.bucket_bind_timeout
            )
        except claims.ClaimNotBound as e:
            if created:  # leave nothing half-made: a claim that never bound holds no data
                await claims.delete_claim(api, self.namespace, name, timeout=timeout, log=self.log)
            raise SpawnFailure(
                f"Your storage bucket is not ready: {e}. Please try again later,"
                " or ask an administrator to check the object storage."
            ) from None
        self._progress(f"Bucket claim {name} bound", 20)
        granted = [{"name": b} for b in self.bucket_grants.get(self.user.name, [])]
        self._add_environment(
            manifests.bucket_environment(
                name,
                endpoint_url=self.s3_endpoint_url,
                scheme=self.s3_endpoint_scheme,
                granted=granted,
            )
        )

    def _add_environment(self, extra: Mapping[str, Any]) -> None:
        """KubeSpawner expands ``{...}`` templates in environment values: escape ours."""
        current: dict[str, Any] = dict(self.environment)  # type: ignore[has-type]
        for key, value in extra.items():
            if isinstance(value, str):
                value = value.replace("{", "{{").replace("}", "}}")
            current[key] = value
        self.environment = current

    async def delete_forever(self) -> None:
        await super().delete_forever()
        if self.bucket_claim_enabled and self.delete_bucket_claim:
            await claims.delete_claim(
                shared_client("CustomObjectsApi"),
                self.namespace,
                self.bucket_claim_name,
                timeout=self.k8s_api_request_retry_timeout,
                log=self.log,
            )
