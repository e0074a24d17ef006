"""What the local model server costs per inference, and how soon a new version is served.

(a) A tiny OpenVINO model (Parameter [1,3] x constant): KServe v2 REST inference through the
local model server (`python -m jupyterhub_ov.ovms`, a real process; tritonclient's asyncio
HTTP client, binary tensors, one client per concurrent caller) against calling the OpenVINO
runtime in-process (the same model compiled the same way, one infer request per client);
sequential and with ``--clients`` concurrent clients. Prints requests/s, p50/p99, the
overhead per request and the ratio.
(a') The same for a small image model (a [1,3,128,128] input through two 3x3 convolutions,
a pooling and a dense layer: about 300 million multiply-adds, as much as MobileNet's),
where the issue's throughput target is read: with concurrent clients the server should reach
half of the in-process requests/s. For the tiny model the per-request cost of HTTP is
everything, so its ratio measures only that overhead.
(b) The time from "a new version is uploaded to S3" (the embedded S3 server, IAM enforced)
to "it answers requests", against ``file_system_poll_wait_seconds`` + 1 s.

    .venv/bin/python bench/model_server.py [--requests 2000] [--clients 4]
        [--small-requests 1000] [--trials 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import openvino as ov
import tritonclient.http as httpclient
import tritonclient.http.aio as aiohttpclient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.ovms.helpers import (  # noqa: E402
    INPUT,
    OUTPUT,
    SAMPLE,
    RunningServer,
    expected,
    running_server,
    save_tiny_model,
    upload_version,
)
from tests.s3server import embedded_s3  # noqa: E402

POLL = 1


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_clients(
    make: Callable[[], Callable[[], object]], clients: int, requests: int
) -> tuple[float, list[float]]:
    """(requests per second, latencies in s) of ``clients`` threads each calling their own
    ``make()`` ``requests // clients`` times (after 20 warm-up calls each)."""
    latencies: list[float] = []
    lock = threading.Lock()
    per_client = requests // clients
    calls = [make() for _ in range(clients)]
    for call in calls:
        for _ in range(20):
            call()
    barrier = threading.Barrier(clients + 1)

    def work(call: Callable[[], object]) -> None:
        mine = []
        barrier.wait()
        for _ in range(per_client):
            start = time.perf_counter()
            call()
            mine.append(time.perf_counter() - start)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=work, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    return per_client * clients / (time.perf_counter() - start), latencies


#: the small model's input
IMAGE = np.random.default_rng(0).random((1, 3, 128, 128), dtype=np.float32)


def save_small_model(directory: Path) -> Path:
    """``directory/1/model.xml|.bin``: conv 3→32 3x3, relu, conv 32→64 3x3, relu, global
    average pooling, dense 64→10 (random weights), input INPUT, output OUTPUT."""
    from openvino import opset13 as ops

    rng = np.random.default_rng(1)
    x = ops.parameter([1, 3, 128, 128], np.float32, name=INPUT)

    def conv(node: object, cin: int, cout: int) -> object:
        weights = ops.constant(rng.standard_normal((cout, cin, 3, 3), dtype=np.float32) * 0.1)
        return ops.relu(ops.convolution(node, weights, [1, 1], [1, 1], [1, 1], [1, 1]))

    features = conv(conv(x, 3, 32), 32, 64)
    pooled = ops.reduce_mean(features, ops.constant(np.array([2, 3], dtype=np.int64)), False)
    dense = ops.constant(rng.standard_normal((64, 10), dtype=np.float32))
    result = ops.result(ops.matmul(pooled, dense, False, False))
    model = ov.Model([result], [x], "small")
    model.outputs[0].get_tensor().set_names({OUTPUT})
    target = directory / "1"
    target.mkdir(parents=True, exist_ok=True)
    ov.save_model(model, str(target / "model.xml"))
    return target


def direct(model: Path, sample: np.ndarray = SAMPLE) -> Callable[[], Callable[[], object]]:
    core = ov.Core()
    compiled = core.compile_model(core.read_model(str(model)), "CPU")

    def make() -> Callable[[], object]:
        request = compiled.create_infer_request()
        return lambda: request.infer({INPUT: sample})

    return make


async def _rest_clients(
    server: RunningServer,
    clients: int,
    requests: int,
    name: str = "tiny",
    sample: np.ndarray = SAMPLE,
) -> tuple[float, list[float]]:
    """tritonclient's asyncio HTTP client (its gevent one is not for threads): ``clients``
    concurrent callers, each with its own client, after 20 warm-up calls each."""
    per_client = requests // clients
    latencies: list[float] = []
    tensor = aiohttpclient.InferInput(INPUT, list(sample.shape), "FP32")
    tensor.set_data_from_numpy(sample, binary_data=True)
    callers = [aiohttpclient.InferenceServerClient(server.rest) for _ in range(clients)]

    async def call(client: aiohttpclient.InferenceServerClient, count: int, timed: bool) -> None:
        for _ in range(count):
            start = time.perf_counter()
            (await client.infer(name, [tensor])).as_numpy(OUTPUT)
            if timed:
                latencies.append(time.perf_counter() - start)

    try:
        await asyncio.gather(*(call(c, 20, False) for c in callers))
        start = time.perf_counter()
        await asyncio.gather(*(call(c, per_client, True) for c in callers))
        elapsed = time.perf_counter() - start
    finally:
        await asyncio.gather(*(c.close() for c in callers))
    return per_client * clients / elapsed, latencies


def report(label: str, rps: float, latencies: list[float]) -> float:
    p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
    print(f"  {label:<34} {rps:9.0f} req/s   p50 {p50 * 1e3:7.3f} ms   p99 {p99 * 1e3:7.3f} ms")
    return p50


def inference(args: argparse.Namespace, work: Path) -> None:
    save_tiny_model(work / "tiny", 1)
    with running_server(
        ["--model_path", str(work / "tiny"), "--model_name", "tiny", "--log_level", "ERROR"],
        work,
    ) as server:
        for clients in (1, args.clients):
            print(f"(a) inference, {clients} client(s), {args.requests} requests")
            d_rps, d_lat = run_clients(
                direct(work / "tiny" / "1" / "model.xml"), clients, args.requests
            )
            s_rps, s_lat = asyncio.run(_rest_clients(server, clients, args.requests))
            d50 = report("OpenVINO runtime in-process", d_rps, d_lat)
            s50 = report("local model server, REST", s_rps, s_lat)
            print(
                f"  overhead per request (p50): {(s50 - d50) * 1e3:.3f} ms;"
                f" in-process is {d_rps / s_rps:.1f}x the server's requests/s"
            )


def small_model(args: argparse.Namespace, work: Path) -> None:
    save_small_model(work / "small")
    with running_server(
        ["--model_path", str(work / "small"), "--model_name", "small", "--log_level", "ERROR"],
        work,
    ) as server:
        for clients in (1, args.clients):
            print(f"(a') small image model, {clients} client(s), {args.small_requests} requests")
            d_rps, d_lat = run_clients(
                direct(work / "small" / "1" / "model.xml", IMAGE), clients, args.small_requests
            )
            s_rps, s_lat = asyncio.run(
                _rest_clients(server, clients, args.small_requests, "small", IMAGE)
            )
            d50 = report("OpenVINO runtime in-process", d_rps, d_lat)
            s50 = report("local model server, REST", s_rps, s_lat)
            print(
                f"  overhead per request (p50): {(s50 - d50) * 1e3:.3f} ms;"
                f" the server reaches {s_rps / d_rps:.0%} of the in-process requests/s"
                " (target with concurrent clients: 50%)"
            )


def new_versions(args: argparse.Namespace, work: Path) -> None:
    print(f"(b) a new version uploaded to S3 until served, poll {POLL} s, {args.trials} trials")
    with embedded_s3(work) as s3:
        admin = s3.admin_client("s3")
        admin.create_bucket(Bucket="models")
        upload_version(admin, "models", "tiny", 1, work / "scratch")
        env = {
            "AWS_ACCESS_KEY_ID": s3.admin["access_key_id"],
            "AWS_SECRET_ACCESS_KEY": s3.admin["secret_access_key"],
            "AWS_REGION": s3.region,
            "S3_ENDPOINT": s3.endpoint_url,
        }
        model = ["--model_path", "s3://models/tiny", "--model_name", "tiny"]
        model += ["--file_system_poll_wait_seconds", str(POLL), "--log_level", "ERROR"]
        with running_server(model, work, env=env) as server:
            client = httpclient.InferenceServerClient(server.rest)
            tensor = httpclient.InferInput(INPUT, [1, 3], "FP32")
            tensor.set_data_from_numpy(SAMPLE)
            delays = []
            for version in range(2, 2 + args.trials):
                time.sleep(0.37 * version % 1)  # not in step with the poll
                upload_version(admin, "models", "tiny", version, work / "scratch")
                start = time.monotonic()
                want = expected(version)
                while not np.array_equal(client.infer("tiny", [tensor]).as_numpy(OUTPUT), want):
                    time.sleep(0.01)
                delays.append(time.monotonic() - start)
    bound = POLL + 1
    print(
        f"  upload → served: mean {statistics.mean(delays):.2f} s, max {max(delays):.2f} s"
        f" (bound: poll {POLL} s + 1 s = {bound} s; max is {max(delays) / bound:.0%} of it)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--small-requests", type=int, default=1000)
    parser.add_argument("--trials", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-ovms-") as tmp:
        inference(args, Path(tmp))
        small_model(args, Path(tmp))
        new_versions(args, Path(tmp))


if __name__ == "__main__":
    main()
