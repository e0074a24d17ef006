"""How uv is called: the index options on every compile and install, the environment it gets.

The pure parts are table tests; the last test runs a real local build through a uv wrapper
that records each call's arguments and network variables before running the real uv.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from jupyterhub_ov.builds.process import tool_env
from jupyterhub_ov.builds.resolve import (
    TLS_HINT,
    PackageIndex,
    PackageIndexOptions,
    git_env,
    tls_hint,
    uv_binary,
)
from jupyterhub_ov.netenv import NETWORK_ENV
from tests.builds.cases.local import local_backend, package_list
from tests.builds.harness import RecordingReporter, drive

PROXY = "http://alice:s3cret@proxy.invalid:3128"


@pytest.mark.parametrize(
    ("index", "args"),
    [
        (PackageIndex(), []),
        (PackageIndex(index_url="https://corp/simple"), ["--index-url", "https://corp/simple"]),
        (
            PackageIndex(extra_index_urls=("https://a/simple", "https://b/simple")),
            ["--extra-index-url", "https://a/simple", "--extra-index-url", "https://b/simple"],
        ),
        (PackageIndex(find_links=("/w",), no_index=True), ["--find-links", "/w", "--no-index"]),
        (PackageIndex(offline=True), ["--offline"]),
        (PackageIndex(system_certs=True), ["--system-certs"]),
    ],
)
def test_uv_args_of_a_package_index(index: PackageIndex, args: list[str]) -> None:
    assert index.uv_args() == args


def test_the_traits_make_the_package_index() -> None:
    options = PackageIndexOptions(
        index_url="https://corp/simple", extra_index_urls=["https://x/simple"], system_certs=True
    )
    assert options.package_index == PackageIndex(
        index_url="https://corp/simple", extra_index_urls=("https://x/simple",), system_certs=True
    )
    assert PackageIndexOptions().package_index == PackageIndex()


@pytest.mark.parametrize(
    ("output", "hint"),
    [
        (["  cause: invalid peer certificate: UnknownIssuer"], TLS_HINT),
        (["ssl.SSLCertVerificationError: certificate verify failed"], TLS_HINT),
        (["Because you require six==1.16.0 and six==1.17.0 ..."], ""),
        ([], ""),
    ],
)
def test_an_untrusted_certificate_gets_a_hint(output: list[str], hint: str) -> None:
    assert tls_hint(output) == hint


def test_tool_env_keeps_network_settings_and_drops_the_services_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in {
        "SSL_CERT_FILE": "/corp.pem",
        "HTTPS_PROXY": PROXY,
        "UV_INDEX_URL": "https://corp/simple",
        "VIRTUAL_ENV": "/service/venv",
        "PYTHONPATH": "/service/src",
        "JUPYTERHUB_API_TOKEN": "service-token",
        "JPY_API_TOKEN": "service-token",
        "UV_PYTHON_DOWNLOADS": "automatic",
    }.items():
        monkeypatch.setenv(name, value)

    env = tool_env(UV_PYTHON="/base/bin/python")

    assert env["SSL_CERT_FILE"] == "/corp.pem" and env["HTTPS_PROXY"] == PROXY
    assert env["UV_INDEX_URL"] == "https://corp/simple"
    assert env["UV_PYTHON"] == "/base/bin/python" and env["UV_PYTHON_DOWNLOADS"] == "never"
    for gone in ("VIRTUAL_ENV", "PYTHONPATH", "JUPYTERHUB_API_TOKEN", "JPY_API_TOKEN"):
        assert gone not in env


def test_git_keeps_its_ca_settings_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_SSL_CAINFO", "/corp.pem")
    monkeypatch.setenv("GIT_SSH_COMMAND", "ssh -o ProxyCommand=evil")
    monkeypatch.setenv("HTTPS_PROXY", PROXY)

    env = git_env(["https"])

    assert env["GIT_SSL_CAINFO"] == "/corp.pem" and env["HTTPS_PROXY"] == PROXY
    assert "GIT_SSH_COMMAND" not in env
    assert env["GIT_ALLOW_PROTOCOL"] == "https" and env["GIT_TERMINAL_PROMPT"] == "0"


WRAPPER = """\
import json, os, sys
with open({record!r}, "a") as f:
    names = ("SSL_CERT_FILE", "HTTPS_PROXY", "JUPYTERHUB_API_TOKEN", "UV_PYTHON")
    f.write(json.dumps({{"argv": sys.argv[1:], "env": {{n: os.environ.get(n) for n in names}}}}))
    f.write("\\n")
os.execv({uv!r}, [{uv!r}, *sys.argv[1:]])
"""


def recording_uv(directory: Path) -> tuple[Path, Path]:
    """A uv executable that records each call (argv, some variables), then runs the real uv."""
    record = directory / "uv-calls.jsonl"
    script = directory / "uv"
    script.write_text(f"#!{sys.executable}\n" + WRAPPER.format(record=str(record), uv=uv_binary()))
    script.chmod(0o755)
    return script, record


async def test_every_compile_and_install_gets_the_index_options_and_the_network_env(
    tmp_path: Path, wheels: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # as the hub hands them on to the service; uv never goes online here (--no-index)
    for name in NETWORK_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SSL_CERT_FILE", "/etc/ssl/corp.pem")
    monkeypatch.setenv("HTTPS_PROXY", PROXY)
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "the-service-token")
    uv, record = recording_uv(tmp_path)
    backend = local_backend(
        tmp_path / "environments",
        wheels,
        uv=str(uv),
        extra_index_urls=["https://extra.invalid/simple"],
        system_certs=True,
    )
    request = package_list("netargs", "ovtiny==2.0")
    reporter = RecordingReporter(request.build_type)

    await drive(backend, request, reporter)

    calls = [json.loads(line) for line in record.read_text().splitlines()]
    pip_calls = [c for c in calls if c["argv"][:1] == ["pip"]]
    assert [c["argv"][1] for c in pip_calls] == ["compile", "install"]
    expected = [
        "--extra-index-url",
        "https://extra.invalid/simple",
        "--find-links",
        str(wheels),
        "--no-index",
        "--system-certs",
    ]
    for call in calls:
        argv, env = call["argv"], call["env"]
        if argv[0] == "pip":
            start = argv.index("--extra-index-url")
            assert argv[start : start + len(expected)] == expected, argv
        assert env["SSL_CERT_FILE"] == "/etc/ssl/corp.pem" and env["HTTPS_PROXY"] == PROXY
        assert env["JUPYTERHUB_API_TOKEN"] is None  # a package's build never sees it
    assert pip_calls[0]["env"]["UV_PYTHON"]  # the lock is made for the base's interpreter
    log = "\n".join(reporter.lines)
    assert "Network settings from the environment: SSL_CERT_FILE, HTTPS_PROXY" in log
    assert "s3cret" not in log
