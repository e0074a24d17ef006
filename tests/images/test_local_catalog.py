import json
import logging
import os
import sys

import pytest

from jupyterhub_ov.images import model
from jupyterhub_ov.images.local import HUB_IMAGE_NAME, LocalImageCatalog, python_of
from jupyterhub_ov.images.manifest import MANIFEST_FILE, manifest_to_stream

from ..util import REPO

GOOD = {
    "name": "sci-notebook",
    "display_name": "Science",
    "description": "numpy and friends",
    "creator": "ada",
    "python_version": "3.11.7",
    "packages": [{"name": "numpy", "version": "2.1.3"}],
    "phase": "Succeeded",
}


def make_env(root, dirname, manifest, python=True):
    env = root / dirname
    (env / "bin").mkdir(parents=True)
    if python:
        os.symlink(sys.executable, env / "bin" / "python")
    if manifest is not None:
        text = manifest if isinstance(manifest, str) else json.dumps(manifest)
        (env / MANIFEST_FILE).write_text(text)
    return env


def test_manifest_maps_onto_odh_annotations():
    image = model.parse_image_stream(
        manifest_to_stream(GOOD | {"url": "https://x", "order": 3}, "/envs/sci")
    )
    assert image.name == "sci-notebook" and image.display_name == "Science"
    assert image.description == "numpy and friends" and image.creator == "ada"
    assert image.phase == "Succeeded" and image.order == 3 and image.url == "https://x"
    (tag,) = image.tags
    assert tag.name == "latest" and tag.reference == "/envs/sci"
    assert tag.software == (model.Software("Python", "3.11.7"),)
    assert tag.dependencies == (model.Software("numpy", "2.1.3"),)
    assert not tag.default and not tag.recommended


@pytest.mark.parametrize(
    "change, problem",
    [
        ({"name": "sci"}, "ending in '-notebook'"),
        ({"name": "Sci-notebook"}, "DNS label"),
        ({"name": "../x-notebook"}, "DNS label"),
        ({"phase": "Done"}, "phase"),
        ({"packages": "numpy"}, "'packages'"),
        ({"packages": [{"version": "1"}]}, "'packages'"),
        ({"order": "3"}, "'order'"),
        ({"default": "yes"}, "'default'"),
        ({"tag": "a:b"}, "tag"),
        ({"surprise": 1}, "unknown keys"),
        ({"description": None}, "'description'"),
        ({"environment": "relative/env"}, "environment 'relative/env' must be an absolute path"),
        ({"environment": "/envs/../etc"}, "without '..'"),
        ({"environment": 3}, "environment 3"),
        ({"notebooks": "/abs"}, "notebooks '/abs' must be a relative path inside the entry"),
        ({"notebooks": "../up"}, "notebooks '../up'"),
        ({"notebooks": "a/./b"}, "notebooks 'a/./b'"),
        ({"notebooks": ""}, "notebooks ''"),
    ],
)
def test_bad_manifest_says_what_is_wrong(change, problem):
    with pytest.raises(model.InvalidImage, match=problem):
        manifest_to_stream(GOOD | change, "/envs/x")


@pytest.mark.parametrize(
    "extra, reference, notebooks",
    [
        ({}, "/envs/sci", None),
        ({"environment": "/opt/conda"}, "/opt/conda", None),
        ({"notebooks": "notebooks"}, "/envs/sci", "/envs/sci/notebooks"),
        ({"notebooks": "nb/demo", "environment": "/e"}, "/e", "/envs/sci/nb/demo"),
    ],
)
def test_local_keys_name_the_environment_and_notebooks(extra, reference, notebooks):
    (tag,) = model.parse_image_stream(manifest_to_stream(GOOD | extra, "/envs/sci")).tags
    assert tag.reference == reference and tag.notebooks == notebooks


def test_missing_keys_are_all_listed():
    with pytest.raises(model.InvalidImage) as e:
        manifest_to_stream({"name": "a-notebook"}, "/x")
    for key in ("display_name", "description", "creator", "python_version", "packages", "phase"):
        assert f"missing '{key}'" in str(e.value)


def test_hub_environment_is_the_default(tmp_path):
    catalog = LocalImageCatalog(catalog_dir=str(tmp_path / "absent"))
    (image,) = catalog.images()
    assert image.name == HUB_IMAGE_NAME and image.tags[0].default
    assert image.tags[0].reference == sys.prefix and python_of(sys.prefix)
    assert "jupyterlab" in {d.name for d in image.tags[0].dependencies}
    assert LocalImageCatalog(include_hub_environment=False).images() == []


def test_catalog_lists_good_and_skips_broken_with_one_log_line_each(tmp_path, caplog):
    make_env(tmp_path, "good", GOOD)
    make_env(tmp_path, "hidden", GOOD | {"name": "val-notebook", "phase": "Validating"})
    make_env(tmp_path, "badjson", "{half written")
    make_env(tmp_path, "badkeys", {"name": "x"})
    make_env(tmp_path, "nopython", GOOD | {"name": "np-notebook"}, python=False)
    make_env(tmp_path, "building", None)  # no manifest yet: silently not there
    make_env(tmp_path, "second", GOOD)  # same image name as "good": the first by directory wins
    (tmp_path / "stray-file").write_text("not an environment")
    catalog = LocalImageCatalog(catalog_dir=str(tmp_path), rescan_interval=0)
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            images = catalog.images()
    assert [i.name for i in images] == [HUB_IMAGE_NAME, "sci-notebook"]
    assert images[1].tags[0].reference == str(tmp_path / "good")
    skipped = sorted(r.getMessage().split(":")[0] for r in caplog.records)
    assert skipped == [
        f"Skipping local environment {tmp_path / d}"
        for d in ("badjson", "badkeys", "nopython", "second")
    ]


def test_new_and_changed_environments_show_up_without_restart(tmp_path):
    catalog = LocalImageCatalog(
        catalog_dir=str(tmp_path), rescan_interval=0, include_hub_environment=False
    )
    assert catalog.images() == []
    env = make_env(tmp_path, "a", GOOD)
    assert [i.display_name for i in catalog.images()] == ["Science"]
    (env / MANIFEST_FILE).write_text(json.dumps(GOOD | {"display_name": "Science, renamed!"}))
    assert [i.display_name for i in catalog.images()] == ["Science, renamed!"]
    (env / MANIFEST_FILE).unlink()
    assert catalog.images() == []


def test_rescan_interval_bounds_directory_reads(tmp_path):
    catalog = LocalImageCatalog(
        catalog_dir=str(tmp_path), rescan_interval=3600, include_hub_environment=False
    )
    assert catalog.images() == []
    make_env(tmp_path, "a", GOOD)
    assert catalog.images() == []  # cached until the interval passes


@pytest.mark.parametrize(
    "path", sorted((REPO / "images" / "local").glob("*.json")), ids=lambda p: p.name
)
def test_shipped_example_manifests_are_valid(path):
    image = model.parse_image_stream(manifest_to_stream(json.loads(path.read_text()), "/envs/x"))
    assert image.name == path.stem and image.visible


def test_builds_of_one_image_are_one_menu_entry_with_all_tags(tmp_path, caplog):
    def build(dirname, tag, mtime, **change):
        env = tmp_path / dirname
        if not env.exists():
            make_env(tmp_path, dirname, None)
        (env / MANIFEST_FILE).write_text(json.dumps(GOOD | {"tag": tag} | change))
        os.utime(env / MANIFEST_FILE, ns=(mtime, mtime))

    build("sci-notebook--aaa", "aaa", 1_000, display_name="Science, first build")
    build("sci-notebook--bbb", "bbb", 3_000, display_name="Science, newest build")
    build("sci-notebook--ccc", "ccc", 2_000)
    build("sci-notebook--ddd", "ddd", 4_000, phase="Validating")  # being built: hidden
    build("sci-notebook--zzz", "aaa", 5_000)  # the same name and tag again: skipped
    build("zz-hub", "latest", 1, name=HUB_IMAGE_NAME)  # the hub's name is reserved
    catalog = LocalImageCatalog(catalog_dir=str(tmp_path), rescan_interval=0)
    with caplog.at_level(logging.WARNING):
        first = catalog.images()
        second = catalog.images()
    assert [i.name for i in first] == [HUB_IMAGE_NAME, "sci-notebook"]
    sci = first[1]
    assert [t.name for t in sci.tags] == ["bbb", "ccc", "aaa"]  # newest first
    assert sci.display_name == "Science, newest build"
    assert sci.tag("aaa").reference == str(tmp_path / "sci-notebook--aaa")
    assert second[1] is sci  # nothing changed: the same object (the menu's render cache)
    assert sorted(r.getMessage() for r in caplog.records) == [
        f"Skipping local environment {tmp_path / 'sci-notebook--zzz'}: sci-notebook:aaa is"
        " already taken",
        f"Skipping local environment {tmp_path / 'zz-hub'}: image name default-notebook is"
        " reserved",
    ]

    build("sci-notebook--ddd", "ddd", 4_500)  # validated now
    assert [t.name for t in catalog.images()[1].tags] == ["ddd", "bbb", "ccc", "aaa"]


def test_an_entry_may_reference_an_environment_elsewhere(tmp_path, caplog):
    real = make_env(tmp_path / "elsewhere", "env", None)
    entry = tmp_path / "catalog" / "imp-notebook--t"
    entry.mkdir(parents=True)
    manifest = GOOD | {"name": "imp-notebook", "tag": "t", "environment": str(real)}
    (entry / MANIFEST_FILE).write_text(json.dumps(manifest))
    catalog = LocalImageCatalog(
        catalog_dir=str(tmp_path / "catalog"), rescan_interval=0, include_hub_environment=False
    )
    (image,) = catalog.images()
    assert image.tags[0].reference == str(real)
    (real / "bin" / "python").unlink()  # the referenced environment lost its Python
    with caplog.at_level(logging.WARNING):
        assert catalog.images() == []
        assert catalog.images() == []
    assert [r.getMessage() for r in caplog.records] == [
        f"Skipping local environment {entry}: no bin/python in the environment {real}"
    ]
