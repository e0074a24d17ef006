"""OVLocalSpawner pieces that need no running hub (the e2e tests cover real launches)."""

from types import SimpleNamespace

import pytest
from traitlets.config import Config

from jupyterhub_ov.spawners.errors import SpawnFailure
from jupyterhub_ov.spawners.local import PASS_THROUGH_ENV, OVLocalSpawner

from .util import free_port


def spawner(tmp_path, **config):
    c = Config()
    c.OVLocalSpawner.work_root = str(tmp_path / "users")
    for key, value in config.items():
        cls, _, trait = key.partition("__")
        c[cls][trait] = value
    return OVLocalSpawner(user=SimpleNamespace(name="Zoë/../x", url="/user/x/"), config=c)


def test_home_is_the_slug_directory_and_random_uid_friendly(tmp_path):
    s = spawner(tmp_path)
    assert s.home_dir == str(tmp_path / "users" / "zo-x---3be53085")
    env = s.user_env({})
    assert env["HOME"] == s.home_dir and env["USER"] == "Zoë/../x"
    assert set(PASS_THROUGH_ENV) <= set(s.env_keep)
    assert "PATH" in s.env_keep  # LocalProcessSpawner's own defaults are kept


async def test_unreachable_bucket_fails_by_default(tmp_path):
    dead = f"http://127.0.0.1:{free_port()}"
    s = spawner(tmp_path, LocalBucketProvisioner__endpoint_url=dead)
    with pytest.raises(
        SpawnFailure, match="Your storage bucket could not be set up: No admin cred"
    ):
        await s._bucket_env()  # no keys configured at all
    s = spawner(
        tmp_path,
        LocalBucketProvisioner__endpoint_url=dead,
        LocalBucketProvisioner__access_key_id="a",
        LocalBucketProvisioner__secret_access_key="b",
    )
    with pytest.raises(
        SpawnFailure, match="Your storage bucket could not be set up: .* unreachable"
    ):
        await s._bucket_env()


async def test_unreachable_bucket_can_be_optional(tmp_path, caplog):
    dead = f"http://127.0.0.1:{free_port()}"
    s = spawner(
        tmp_path, LocalBucketProvisioner__endpoint_url=dead, OVLocalSpawner__bucket_required=False
    )
    assert await s._bucket_env() == {}
    assert "without a bucket" in caplog.text


async def test_no_endpoint_means_no_bucket(tmp_path):
    assert await spawner(tmp_path)._bucket_env() == {}
