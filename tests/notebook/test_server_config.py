"""The start-up configuration of the buckets in the file browser, as a pure function."""

import json
import logging
import runpy

from jupyterfs.metamanager import MetaManager
from traitlets.config import Config

from jupyterhub_ov.buckets import JUPYTER_CONFIG_DIR, SERVER_CONFIG_FILE

config = runpy.run_path(SERVER_CONFIG_FILE)  # no get_config: defines, configures nothing


def installed(name):
    return object()


def env(**kw):
    base = {
        "S3_ENDPOINT_URL": "http://s3:9000",
        "AWS_ACCESS_KEY_ID": "AKIAKEY",
        "AWS_SECRET_ACCESS_KEY": "s3cr3t-value",
        "JUPYTERHUB_OV_BUCKETS": json.dumps(
            [
                {"name": "jupyter-ann", "endpoint": "http://s3:9000", "own": True},
                {"name": "team-data", "endpoint": "http://other:9000", "own": False},
            ]
        ),
    }
    base.update(kw)
    return {k: v for k, v in base.items() if v is not None}


def test_the_file_is_in_the_config_directory():
    assert SERVER_CONFIG_FILE.startswith(JUPYTER_CONFIG_DIR)
    assert SERVER_CONFIG_FILE.endswith("/jupyter_server_config.py")


def test_settings_whole():
    assert config["settings"](env(), have=installed) == {
        "ServerApp": {"contents_manager_class": "jupyterfs.metamanager.MetaManager"},
        "JupyterFs": {
            "resources": [
                {
                    "name": "jupyter-ann (your bucket)",
                    "url": "s3://jupyter-ann",
                    "type": "fsspec",
                    "auth": "none",
                    "defaultWritable": True,
                    "kwargs": {"use_listings_cache": False, "endpoint_url": "http://s3:9000"},
                },
                {
                    "name": "team-data (shared)",
                    "url": "s3://team-data",
                    "type": "fsspec",
                    "auth": "none",
                    "defaultWritable": True,
                    "kwargs": {"use_listings_cache": False, "endpoint_url": "http://other:9000"},
                },
            ],
            "allow_user_resources": False,
            "surface_init_errors": True,
        },
    }


def test_no_credential_is_written_into_the_resources():
    text = json.dumps(config["settings"](env(), have=installed))
    assert "AKIAKEY" not in text and "s3cr3t-value" not in text


def test_odh_variables_alone():
    odh = {
        "AWS_S3_ENDPOINT": "https://s3.odh.example",
        "AWS_S3_BUCKET": "odh-bucket",
        "AWS_ACCESS_KEY_ID": "k",
        "AWS_SECRET_ACCESS_KEY": "s",
    }
    assert config["buckets"](odh) == [
        {"name": "odh-bucket", "endpoint": "https://s3.odh.example", "own": True}
    ]
    # the OCS guide's names win where both are set
    both = {**odh, "S3_ENDPOINT_URL": "http://s3:9000", "BUCKET_NAME": "ocs-bucket"}
    assert config["buckets"](both) == [
        {"name": "ocs-bucket", "endpoint": "http://s3:9000", "own": True}
    ]


def test_bad_entries_are_skipped_with_a_log_line(caplog):
    listed = json.dumps(
        [
            {"name": "$(BUCKET_NAME)", "own": True},  # not expanded by a kubelet
            {"name": "ok-bucket"},
            {"name": "ok-bucket"},
            "not-a-dict",
            {"name": "../etc"},
        ]
    )
    with caplog.at_level(logging.WARNING):
        assert config["buckets"]({"JUPYTERHUB_OV_BUCKETS": listed}) == [
            {"name": "ok-bucket", "endpoint": "", "own": False}
        ]
    assert len(caplog.records) == 3
    assert config["buckets"]({"JUPYTERHUB_OV_BUCKETS": "{not json"}) == []
    assert config["buckets"]({"JUPYTERHUB_OV_BUCKETS": '{"a": 1}'}) == []


def test_nothing_without_the_extension_or_a_bucket():
    def missing_s3fs(name):
        return None if name == "s3fs" else object()

    assert config["settings"](env(), have=missing_s3fs) == {}
    assert config["settings"](env(JUPYTERHUB_OV_BUCKETS=None), have=installed) == {}


def test_apply_enables_the_extension_and_keeps_other_extensions():
    c = Config()
    c.ServerApp.jpserver_extensions = {"jupyterlab": True}
    config["apply"](c, env())
    assert c.ServerApp.jpserver_extensions == {"jupyterlab": True, "jupyterfs.extension": True}
    manager = c.ServerApp.contents_manager_class
    assert issubclass(manager, MetaManager) and manager.__name__ == "BucketContentsManager"
    assert len(c.JupyterFs.resources) == 2
    untouched = Config()
    config["apply"](untouched, {})
    assert untouched == Config()


def _raised_from(cause):
    """An HTTPError raised while handling ``cause``, as jupyter-fs raises its 500s."""
    from tornado import web

    try:
        try:
            raise cause
        except Exception as e:
            raise web.HTTPError(500, f"Unexpected error while saving file: x {e}") from None
    except web.HTTPError as error:
        return error


def _s3_permission_error():
    from botocore.exceptions import ClientError

    denied = ClientError(
        {"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "PutObject"
    )
    error = PermissionError("Access Denied")
    error.__cause__ = denied
    return error


def test_refused_names_s3s_error_as_a_403():
    from tornado import web

    wrapped = config["refused"](_raised_from(_s3_permission_error()), "save", "a1b2:dir/x.txt")
    assert (wrapped.status_code, wrapped.log_message) == (
        403,
        "S3 refused to save dir/x.txt: An error occurred (AccessDenied) when calling the"
        " PutObject operation: Access Denied",
    )
    bare = config["refused"](PermissionError("Access Denied"), "read", "x.txt")
    assert (bare.status_code, bare.log_message) == (403, "S3 refused to read x.txt: Access Denied")
    # not a refusal: left as it is
    assert config["refused"](web.HTTPError(404, "No such file"), "read", "x") is None
    assert config["refused"](_raised_from(ValueError("bad")), "save", "x") is None
    assert config["refused"](FileNotFoundError("x"), "read", "x") is None
