"""KubeSpawner that lets a restarted hub pick up a spawn the old hub was killed in.

A hub killed after creating a user's pod, before the pod ran, leaves a server in its database
that never got an address (JupyterHub records it when ``start()`` returns). On restart the hub
polls the spawner; KubeSpawner calls a pending pod running (None) and only corrects the
recorded address once the pod runs, so the hub waited ``http_timeout`` on the placeholder
address (``http://<hub host>:<random port>``), which never answers, and then deleted the
pod, however soon it was ready: the user saw a spawn stuck that long and lost it. Here
`get_url` (which JupyterHub calls only for that check) waits, on the pod reflector's cache,
up to ``start_timeout`` for the pod to run and returns its address: the interrupted spawn
completes. A pod that ends or disappears meanwhile, or never runs, gives the recorded address
as before, and the hub stops the server. The hubcrash scenario of the reliability campaign
found this.
"""

from __future__ import annotations

from jupyterhub.utils import AnyTimeoutError, exponential_backoff

from .retrying import RetryingKubeSpawner


class ResumingKubeSpawner(RetryingKubeSpawner):
    """A restarted hub waits for the pod of an interrupted spawn at its real address."""

    async def get_url(self) -> str:
        await self.pod_reflector.first_load_future
        key = f"{self.namespace}/{self.pod_name}"
        running: dict = {}

        async def settled() -> bool:
            pod = self.pod_reflector.pods.get(key)
            if pod is not None and self.is_pod_running(pod):
                running["pod"] = pod
                return True
            return await self.poll() is not None  # gone, or ended: nothing to wait for

        try:
            await exponential_backoff(
                settled,
                f"pod {key} did not run within {self.start_timeout} s",
                timeout=self.start_timeout,
            )
        except AnyTimeoutError as e:
            self.log.warning("%s: %s", self._log_name, e)
        if "pod" not in running:
            return str(await super().get_url())
        return str(self._get_pod_url(running["pod"]))
