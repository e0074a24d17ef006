"""OVLocalSpawner pieces that need no running hub (the e2e tests cover real launches)."""

import os
from types import SimpleNamespace

import pytest
from traitlets.config import Config

from jupyterhub_ov.spawners.errors import SpawnFailure
from jupyterhub_ov.spawners.local import PASS_THROUGH_ENV, OVLocalSpawner
from jupyterhub_ov.spawners.workdir import provide_notebooks

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
    # an account of its own (created at the first start), named by the same slug
    assert env["HOME"] == s.home_dir and env["USER"] == "jupyter-zo-x---3be53085"
    assert s.system_user == "jupyter-zo-x---3be53085"
    shared = spawner(tmp_path, OVLocalSpawner__shared_identity=True)
    assert shared.user_env({})["USER"] == "Zoë/../x" and shared.system_user == ""
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


def test_notebooks_are_copied_once_and_never_over_user_files(tmp_path):
    source = tmp_path / "env" / "notebooks"
    (source / "data").mkdir(parents=True)
    (source / "demo.ipynb").write_text("{}")
    (source / "data" / "x.csv").write_text("1,2")
    home = tmp_path / "home"
    home.mkdir()

    made = provide_notebooks(str(source), str(home), "demo-notebook")
    assert made == str(home / "demo-notebook")
    assert sorted(os.listdir(home)) == ["demo-notebook"]  # no staging directory left
    assert (home / "demo-notebook" / "data" / "x.csv").read_text() == "1,2"

    (home / "demo-notebook" / "demo.ipynb").write_text("my edits")
    (home / "demo-notebook" / "data" / "x.csv").unlink()
    (source / "new.ipynb").write_text("{}")  # a newer build brings more
    assert provide_notebooks(str(source), str(home), "demo-notebook") is None
    assert (home / "demo-notebook" / "demo.ipynb").read_text() == "my edits"
    assert sorted(os.listdir(home / "demo-notebook")) == ["data", "demo.ipynb"]

    (home / "other-notebook").write_text("a file of the user's with that name")
    assert provide_notebooks(str(source), str(home), "other-notebook") is None
    assert provide_notebooks(str(tmp_path / "absent"), str(home), "x-notebook") is None
    assert sorted(os.listdir(home)) == ["demo-notebook", "other-notebook"]
