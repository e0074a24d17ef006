"""The local model server as its users call it: tritonclient (HTTP and gRPC) against a real
process serving tiny OpenVINO models from a directory, from the embedded S3 server (IAM
enforced) and from a config file."""

from __future__ import annotations

import json
import shutil
import socket
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

from tests.s3server import S3Server, embedded_s3

from .helpers import (
    INPUT,
    OUTPUT,
    SAMPLE,
    RunningServer,
    expected,
    get,
    post,
    running_server,
    save_tiny_model,
    server_command,
    upload_version,
)


def infer_http(server: RunningServer, model: str, version: str = "") -> np.ndarray:
    client = httpclient.InferenceServerClient(server.rest)
    tensor = httpclient.InferInput(INPUT, [1, 3], "FP32")
    tensor.set_data_from_numpy(SAMPLE)
    result = client.infer(model, [tensor], model_version=version)
    array: np.ndarray = result.as_numpy(OUTPUT)
    return array


@pytest.fixture(scope="module")
def repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("models") / "tiny"
    for version in (1, 2, 3):
        save_tiny_model(root, version)
    return root


@pytest.fixture(scope="module")
def local_server(
    repository: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    args = ["--model_path", str(repository), "--model_name", "tiny"]
    args += ["--model_version_policy", '{"specific": {"versions": [1, 3]}}', "--nireq", "2"]
    with running_server(args, tmp_path_factory.mktemp("logs")) as server:
        yield server


def test_health_and_metadata(local_server: RunningServer) -> None:
    client = httpclient.InferenceServerClient(local_server.rest)
    assert client.is_server_live() and client.is_server_ready()
    assert client.get_server_metadata()["name"] == "OpenVINO Model Server"
    assert client.get_model_metadata("tiny") == {
        "name": "tiny",
        "versions": ["1", "3"],
        "platform": "OpenVINO",
        "inputs": [{"name": INPUT, "datatype": "FP32", "shape": [1, 3]}],
        "outputs": [{"name": OUTPUT, "datatype": "FP32", "shape": [1, 3]}],
    }
    assert client.is_model_ready("tiny") and client.is_model_ready("tiny", "1")
    assert not client.is_model_ready("tiny", "2")  # not in the policy's versions


def test_inference_by_version_and_the_specific_policy(local_server: RunningServer) -> None:
    np.testing.assert_array_equal(infer_http(local_server, "tiny"), expected(3))
    np.testing.assert_array_equal(infer_http(local_server, "tiny", "1"), expected(1))
    with pytest.raises(InferenceServerException, match="version 2"):
        infer_http(local_server, "tiny", "2")
    assert local_server.states("tiny") == {"3": "AVAILABLE", "1": "AVAILABLE"}


def test_json_inference_without_a_content_type(local_server: RunningServer) -> None:
    request = {"inputs": [{"name": INPUT, "shape": [1, 3], "datatype": "FP32", "data": [1, 1, 2]}]}
    status, body = post(
        f"{local_server.url}/v2/models/tiny/versions/1/infer", json.dumps(request).encode()
    )
    assert status == 200, body
    answer = json.loads(body)
    assert (answer["model_name"], answer["model_version"]) == ("tiny", "1")
    assert answer["outputs"][0]["data"] == expected(1).ravel().tolist()


def test_grpc_inference(local_server: RunningServer) -> None:
    client = grpcclient.InferenceServerClient(local_server.grpc)
    assert client.is_server_ready()
    tensor = grpcclient.InferInput(INPUT, [1, 3], "FP32")
    tensor.set_data_from_numpy(SAMPLE)
    result = client.infer("tiny", [tensor], model_version="1")
    np.testing.assert_array_equal(result.as_numpy(OUTPUT), expected(1))
    assert client.get_server_metadata().name == "OpenVINO Model Server"
    metadata = client.get_model_metadata("tiny")
    assert list(metadata.versions) == ["1", "3"]  # as the REST answer
    assert [o.name for o in metadata.outputs] == [OUTPUT]


def test_v1_config(local_server: RunningServer) -> None:
    ok = {"error_code": "OK", "error_message": ""}
    assert local_server.config() == {
        "tiny": {
            "model_version_status": [
                {"version": "3", "state": "AVAILABLE", "status": ok},
                {"version": "1", "state": "AVAILABLE", "status": ok},
            ]
        }
    }


def binary(
    inputs: list[Any], raw: bytes, length: int | None = None
) -> tuple[bytes, dict[str, str]]:
    """A binary tensor extension body: JSON with ``inputs``, then ``raw``; its header says
    the JSON is ``length`` bytes (its real length unless given)."""
    head = json.dumps({"inputs": inputs}).encode()
    size = len(head) if length is None else length
    return head + raw, {"Inference-Header-Content-Length": str(size)}


def binary_x(size: int, shape: list[int] | None = None) -> dict[str, Any]:
    parameters = {"binary_data_size": size}
    return {"name": "x", "shape": shape or [1, 3], "datatype": "FP32", "parameters": parameters}


THREE = SAMPLE.tobytes()


@pytest.mark.parametrize(
    ("body", "headers", "status", "message"),
    [
        (*binary([binary_x(12)], THREE, length=10_000), 400, "does not fit"),
        (*binary([binary_x(12)], THREE, length=5), 400, "Unrecognized request format"),
        (*binary([binary_x(24)], THREE), 400, "run past the end"),
        (*binary([binary_x(8)], THREE), 400, "input x"),
        (*binary([{"name": "x", "shape": [1, 3], "datatype": "FP32"}], THREE), 400, "neither"),
        (*binary([{"name": "x", "shape": "1,3", "datatype": "FP32"}], THREE), 400, "a shape"),
        (*binary([binary_x(12, [1, 4])], THREE), 400, "shape"),
        (*binary(["x"], THREE), 400, "is an object"),
        (
            b"[" * 200_000 + b"]" * 200_000,
            {"Content-Type": "application/json"},
            400,
            "nests deeper",
        ),
        (b'{"inputs": [{"name": "x", "data": ' + b"[" * 50 + b"]" * 50 + b"}]}", {}, 400, "nests"),
        (b"{" * 10, {"Content-Type": "application/json"}, 400, ""),
        (
            b'{"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP32",'
            b' "data": [1, 2, 3, 4]}]}',
            {},
            400,
            "shape",
        ),
        (
            b'{"inputs": [{"name": "z", "shape": [1, 3], "datatype": "FP32", "data": [1, 2, 3]}]}',
            {},
            400,
            "inputs",
        ),
    ],
)
def test_bad_bodies_are_refused_and_the_server_keeps_serving(
    local_server: RunningServer, body: bytes, headers: dict[str, str], status: int, message: str
) -> None:
    answer = post(f"{local_server.url}/v2/models/tiny/infer", body, headers)
    assert answer[0] == status, answer[1][:300]
    assert message in answer[1].decode()
    np.testing.assert_array_equal(infer_http(local_server, "tiny"), expected(3))


def test_a_huge_body_is_refused_before_it_is_read(local_server: RunningServer) -> None:
    host, port = local_server.rest.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(
            b"POST /v2/models/tiny/infer HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nContent-Length: 2000000000\r\n\r\n{"
        )
        answer = read_response(connection)
    assert answer.startswith(b"HTTP/1.1 413"), answer
    assert b"the body is over" in answer
    np.testing.assert_array_equal(infer_http(local_server, "tiny"), expected(3))


@pytest.mark.parametrize(
    "path", ["/v1/models/tiny", "/v1/models", "/docs", "/v2/models/tiny/versions/1/other"]
)
def test_only_ovms_endpoints_are_served(local_server: RunningServer, path: str) -> None:
    status, body = get(f"{local_server.url}{path}")
    assert (status, json.loads(body)) == (404, {"error": f"{path} is not an OVMS endpoint"})
    answer = post(f"{local_server.url}/v2/repository/models/tiny/unload", b"{}")
    assert answer[0] == 404
    np.testing.assert_array_equal(infer_http(local_server, "tiny"), expected(3))


def test_metrics_only_when_enabled(
    local_server: RunningServer, repository: Path, tmp_path: Path
) -> None:
    assert get(f"{local_server.url}/metrics")[0] == 404
    args = ["--model_path", str(repository), "--model_name", "tiny", "--metrics_enable"]
    with running_server(args, tmp_path) as server:
        infer_http(server, "tiny")
        status, body = get(f"{server.url}/metrics")
        assert status == 200 and b"request_predict_seconds" in body


def test_an_unknown_option_is_refused(repository: Path) -> None:
    done = subprocess.run(
        server_command(
            "--model_path",
            str(repository),
            "--model_name",
            "tiny",
            "--sequence_cleaner_poll_wait_minutes",
            "0",
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "unmatched arguments : --sequence_cleaner_poll_wait_minutes 0" in done.stderr


def test_a_taken_port_ends_it_with_a_clear_message(repository: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            server_command(
                *("--model_path", str(repository), "--model_name", "tiny"),
                *("--rest_port", str(port), "--rest_bind_address", "127.0.0.1"),
                *("--port", "0", "--grpc_bind_address", "127.0.0.1"),
            ),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert f"ovms: the REST server could not start on 127.0.0.1:{port}" in done.stderr


def test_config_mode_with_two_models(repository: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    save_tiny_model(other, 5)
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {
                "model_config_list": [
                    {"config": {"name": "tiny", "base_path": str(repository)}},
                    {"config": {"name": "other", "base_path": str(other), "nireq": 1}},
                ]
            }
        )
    )
    with running_server(["--config_path", str(config)], tmp_path) as server:
        np.testing.assert_array_equal(infer_http(server, "tiny"), expected(3))
        np.testing.assert_array_equal(infer_http(server, "other"), expected(5))
        assert server.states("tiny") == {"3": "AVAILABLE"}  # latest, one version
        assert server.states("other") == {"5": "AVAILABLE"}
        # the file changes: served as it says, without a restart
        third = tmp_path / "third"
        save_tiny_model(third, 7)
        entries = [
            {"config": {"name": "tiny", "base_path": str(repository)}},
            {"config": {"name": "third", "base_path": str(third)}},
        ]
        config.write_text(json.dumps({"model_config_list": entries}))
        server.wait_for(lambda: set(server.config()) == {"tiny", "third"}, timeout=10)
        server.wait_for(lambda: server.states("third") == {"7": "AVAILABLE"}, timeout=10)
        np.testing.assert_array_equal(infer_http(server, "third"), expected(7))
        with pytest.raises(InferenceServerException):
            infer_http(server, "other")
        config.write_text("{broken")  # not used: the models stay as they are
        server.wait_for(lambda: b"The changed config file is not used" in server.log.read_bytes())
        np.testing.assert_array_equal(infer_http(server, "tiny"), expected(3))


def test_a_missing_path_is_reported_and_polled_until_it_appears(tmp_path: Path) -> None:
    missing = tmp_path / "later"
    args = ["--model_path", str(missing), "--model_name", "tiny"]
    args += ["--file_system_poll_wait_seconds", "1"]
    with running_server(args, tmp_path, ready=False) as server:
        server.wait_for(lambda: bool(server.config()["tiny"]["model_version_status"]))
        (status,) = server.config()["tiny"]["model_version_status"]
        assert status["status"]["error_code"] == "NOT_FOUND"
        assert str(missing) in status["status"]["error_message"]
        assert get(f"{server.url}/v2/health/ready")[0] != 200
        save_tiny_model(missing, 1)
        server.wait_for(lambda: get(f"{server.url}/v2/health/ready")[0] == 200, timeout=20)
        np.testing.assert_array_equal(infer_http(server, "tiny"), expected(1))


def test_a_removed_version_is_unloaded_and_a_broken_one_reported(tmp_path: Path) -> None:
    root = tmp_path / "tiny"
    for version in (1, 2):
        save_tiny_model(root, version)
    args = ["--model_path", str(root), "--model_name", "tiny"]
    args += ["--model_version_policy", '{"all": {}}', "--file_system_poll_wait_seconds", "1"]
    with running_server(args, tmp_path) as server:
        assert server.states("tiny") == {"2": "AVAILABLE", "1": "AVAILABLE"}
        shutil.rmtree(root / "2")
        server.wait_for(lambda: server.states("tiny").get("2") == "END", timeout=10)
        np.testing.assert_array_equal(infer_http(server, "tiny"), expected(1))
        (root / "3").mkdir()
        (root / "3" / "model.xml").write_text("<not a model")
        (root / "3" / "model.bin").write_bytes(b"")

        def broken() -> dict[str, Any]:
            statuses = server.config()["tiny"]["model_version_status"]
            return next((s for s in statuses if s["version"] == "3"), {})

        server.wait_for(lambda: "error_code" in str(broken()) and "OK" not in str(broken()))
        assert (broken()["state"], broken()["status"]["error_code"]) == (
            "LOADING",
            "FAILED_PRECONDITION",
        )
        assert str(root / "3" / "model.xml") in broken()["status"]["error_message"]
        np.testing.assert_array_equal(infer_http(server, "tiny"), expected(1))
        shutil.rmtree(root / "3")
        server.wait_for(lambda: "3" not in server.states("tiny"), timeout=10)


# -- S3 --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    with embedded_s3(tmp_path_factory.mktemp("s3")) as server:
        server.admin_client("s3").create_bucket(Bucket="models")
        yield server


def s3_env(s3: S3Server, key: str, secret: str, tmp: Path) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_REGION": s3.region,
        "S3_ENDPOINT": s3.endpoint_url.removeprefix("http://"),
        "TMPDIR": str(tmp),
        # nothing else is read: a credentials file with other keys changes nothing
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp / "no-such-file"),
    }


def test_a_new_version_uploaded_to_s3_is_served_without_a_restart(
    s3: S3Server, tmp_path: Path
) -> None:
    admin = s3.admin_client("s3")
    upload_version(admin, "models", "team/tiny", 1, tmp_path / "scratch")
    downloads = tmp_path / "tmp"
    downloads.mkdir()
    env = s3_env(s3, s3.admin["access_key_id"], s3.admin["secret_access_key"], downloads)
    args = ["--model_path", "s3://models/team/tiny", "--model_name", "tiny"]
    args += ["--file_system_poll_wait_seconds", "1"]
    with running_server(args, tmp_path, env=env) as server:
        np.testing.assert_array_equal(infer_http(server, "tiny"), expected(1))
        (local,) = downloads.iterdir()
        assert stat.S_IMODE(local.stat().st_mode) == 0o700
        upload_version(admin, "models", "team/tiny", 2, tmp_path / "scratch")
        server.wait_for(lambda: server.states("tiny").get("2") == "AVAILABLE", timeout=10)
        np.testing.assert_array_equal(infer_http(server, "tiny"), expected(2))
        assert server.states("tiny") == {"2": "AVAILABLE", "1": "END"}
        (now,) = downloads.iterdir()  # version 1's download is removed
        assert now != local


def test_only_ovms_variables_are_read_not_aws_files(s3: S3Server, tmp_path: Path) -> None:
    """Valid keys in ~/.aws and AWS_PROFILE are not used: without OVMS's variables the
    requests are anonymous, and refused."""
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "credentials").write_text(
        f"[default]\naws_access_key_id = {s3.admin['access_key_id']}\n"
        f"aws_secret_access_key = {s3.admin['secret_access_key']}\n"
    )
    env = {"HOME": str(home), "S3_ENDPOINT": s3.endpoint_url, "AWS_PROFILE": "default"}
    env["AWS_ACCESS_KEY_ID"] = env["AWS_SECRET_ACCESS_KEY"] = ""
    args = ["--model_path", "s3://models/team/tiny", "--model_name", "tiny"]
    with running_server(args, tmp_path, env=env, ready=False) as server:
        server.wait_for(lambda: bool(server.config()["tiny"]["model_version_status"]))
        (status,) = server.config()["tiny"]["model_version_status"]
        assert status["status"]["error_code"] == "PERMISSION_DENIED", status


def test_wrong_credentials_are_reported_naming_the_path(s3: S3Server, tmp_path: Path) -> None:
    env = s3_env(s3, s3.admin["access_key_id"], "not-the-secret", tmp_path)
    args = ["--model_path", "s3://models/team/tiny", "--model_name", "tiny"]
    args += ["--file_system_poll_wait_seconds", "1"]
    with running_server(args, tmp_path, env=env, ready=False) as server:
        server.wait_for(lambda: bool(server.config()["tiny"]["model_version_status"]))
        (status,) = server.config()["tiny"]["model_version_status"]
        assert status["state"] == "LOADING"
        assert status["status"]["error_code"] == "PERMISSION_DENIED"
        message = status["status"]["error_message"]
        assert "s3://models/team/tiny" in message and "SignatureDoesNotMatch" in message
        assert get(f"{server.url}/v2/health/ready")[0] != 200
        assert get(f"{server.url}/v2/health/live")[0] == 200
        server.wait_for(lambda: b"SignatureDoesNotMatch" in server.log.read_bytes())
        assert server.process.poll() is None  # still running, still polling


def read_response(connection: socket.socket) -> bytes:
    """Read one HTTP response whole: its headers and its Content-Length of body, however
    the server's writes were split into packets."""
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = connection.recv(65536)
        if not chunk:
            return answer
        answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = connection.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body
