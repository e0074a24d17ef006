"""Which of the hub's variables reach the build service and the servers (`jupyterhub_ov.netenv`)."""

from __future__ import annotations

import os

import pytest
from traitlets.config.loader import PyFileConfigLoader

from jupyterhub_ov.netenv import NETWORK_ENV, describe, merged_keep, network_env
from jupyterhub_ov.spawners.local import PASS_THROUGH_ENV, OVLocalSpawner

from .hubproc import SHIPPED_CONFIG

PROXY = "http://alice:s3cret@proxy.example.com:3128"


@pytest.mark.parametrize(
    ("name", "passed"),
    [
        # trust: only ever adds CAs
        ("SSL_CERT_FILE", True),
        ("SSL_CERT_DIR", True),
        ("REQUESTS_CA_BUNDLE", True),
        ("CURL_CA_BUNDLE", True),
        ("PIP_CERT", True),
        ("GIT_SSL_CAINFO", True),
        ("AWS_CA_BUNDLE", True),
        # proxies, both cases
        ("HTTP_PROXY", True),
        ("http_proxy", True),
        ("HTTPS_PROXY", True),
        ("https_proxy", True),
        ("NO_PROXY", True),
        ("no_proxy", True),
        ("ALL_PROXY", True),
        # indexes and uv's certificate store
        ("PIP_INDEX_URL", True),
        ("PIP_EXTRA_INDEX_URL", True),
        ("UV_INDEX_URL", True),
        ("UV_EXTRA_INDEX_URL", True),
        ("UV_DEFAULT_INDEX", True),
        ("UV_INDEX", True),
        ("UV_SYSTEM_CERTS", True),
        ("UV_NATIVE_TLS", True),
        # turning verification off is never inherited by accident
        ("PIP_TRUSTED_HOST", False),
        ("UV_INSECURE_HOST", False),
        ("GIT_SSL_NO_VERIFY", False),
        # local package directories are the build backend's configuration
        ("PIP_FIND_LINKS", False),
        ("UV_FIND_LINKS", False),
        ("PIP_NO_INDEX", False),
        ("UV_OFFLINE", False),
        # credentials
        ("UV_INDEX_CORP_PASSWORD", False),
        ("AWS_SECRET_ACCESS_KEY", False),
        ("JUPYTERHUB_API_TOKEN", False),
        ("GITHUB_TOKEN", False),
    ],
)
def test_network_env_passes_trust_proxies_and_indexes_only(name: str, passed: bool) -> None:
    environ = {name: "value", "PATH": "/usr/bin"}
    assert network_env(environ) == ({name: "value"} if passed else {})


def test_network_env_keeps_values_and_order_and_skips_empty_ones() -> None:
    environ = {
        "https_proxy": PROXY,
        "SSL_CERT_FILE": "/etc/ssl/corp.pem",
        "HTTP_PROXY": "",
        "NO_PROXY": "localhost,127.0.0.1",
    }
    assert list(network_env(environ).items()) == [
        ("SSL_CERT_FILE", "/etc/ssl/corp.pem"),
        ("https_proxy", PROXY),  # credentials in a proxy URL are the admin's choice
        ("NO_PROXY", "localhost,127.0.0.1"),
    ]


def test_describe_names_the_settings_and_never_their_values() -> None:
    line = describe({"HTTPS_PROXY": PROXY, "SSL_CERT_FILE": "/corp.pem", "HOME": "/root"})
    assert line == "Network settings from the environment: SSL_CERT_FILE, HTTPS_PROXY"
    assert describe({"HOME": "/root"}) == (
        "Network settings: none from the environment (direct access, default CAs)"
    )


def test_merged_keep_appends_what_is_missing_once() -> None:
    assert merged_keep(["PATH", "LANG"], ["LANG", "A"], ["A", "B", "PATH"]) == [
        "PATH",
        "LANG",
        "A",
        "B",
    ]


def test_local_servers_keep_jupyterhubs_defaults_nss_wrapper_and_the_network_env() -> None:
    keep = OVLocalSpawner().env_keep
    assert keep[:3] == ["CONDA_DEFAULT_ENV", "CONDA_ROOT", "JUPYTERHUB_SINGLEUSER_APP"]
    assert {"PATH", "PYTHONPATH", "LANG"} <= set(keep)
    assert set(PASS_THROUGH_ENV) <= set(keep) and set(NETWORK_ENV) <= set(keep)
    assert len(keep) == len(set(keep))
    assert "PIP_FIND_LINKS" not in keep and "JUPYTERHUB_API_TOKEN" not in keep


def test_the_shipped_config_hands_the_network_env_to_the_build_service(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUPYTERHUB_OV_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SSL_CERT_FILE", "/etc/ssl/corp.pem")
    monkeypatch.setenv("https_proxy", PROXY)
    monkeypatch.setenv("PIP_FIND_LINKS", "/opt/wheels")
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    config = PyFileConfigLoader(SHIPPED_CONFIG.name, str(SHIPPED_CONFIG.parent)).load_config()

    (service,) = [s for s in config.JupyterHub.services if s["name"] == "image-builder"]

    assert service["environment"] == network_env(os.environ)
    assert service["environment"]["SSL_CERT_FILE"] == "/etc/ssl/corp.pem"
    assert service["environment"]["https_proxy"] == PROXY
    assert "PIP_FIND_LINKS" not in service["environment"]
