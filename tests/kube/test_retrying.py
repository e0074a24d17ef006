"""RetryingKubeSpawner's pieces: which reflector counts as broken, which errors are retried."""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace

import pytest
from kubernetes_asyncio.client.exceptions import ApiException

from jupyterhub_ov.kube.retry import again_later
from jupyterhub_ov.spawners.retrying import broken


async def test_a_reflector_whose_first_list_failed_or_watch_ended_is_broken() -> None:
    loop = asyncio.get_running_loop()
    pending, failed, loaded = loop.create_future(), loop.create_future(), loop.create_future()
    failed.set_exception(ApiException(status=429))
    loaded.set_result(None)
    ended = asyncio.create_task(asyncio.sleep(0))
    await ended
    assert not broken(SimpleNamespace(first_load_future=pending, watch_task=None))
    assert broken(SimpleNamespace(first_load_future=failed, watch_task=None))
    assert broken(SimpleNamespace(first_load_future=loaded, watch_task=ended))
    watching = asyncio.create_task(asyncio.sleep(10))
    assert not broken(SimpleNamespace(first_load_future=loaded, watch_task=watching))
    watching.cancel()


async def test_429_and_5xx_are_tried_again_other_errors_raise() -> None:
    log = logging.getLogger("test")
    assert await again_later(ApiException(status=503), what="x", log=log) is False
    assert await again_later(ApiException(status=429), what="x", log=log) is False
    with pytest.raises(ApiException):
        await again_later(ApiException(status=403), what="x", log=log)
