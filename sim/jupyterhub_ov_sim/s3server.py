"""``python -m jupyterhub_ov_sim.s3server``: moto's S3/IAM server with IAM enforced.

moto lets its first ``INITIAL_NO_AUTH_ACTION_COUNT`` requests through unauthenticated; this
program spends them at once on an admin identity (create user, attach an allow-all policy,
create a key) and writes its credentials to a JSON file (mode 0600), which the simulated
bucket provisioner reads. Afterwards every request needs a valid signature and is checked
against IAM policies. In memory, loopback, the simulator's own: a test double, never storage.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
from pathlib import Path

BOOTSTRAP_CALLS = 3
ADMIN_USER = "sim-obc-admin"
ALLOW_ALL = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


def bootstrap_admin(endpoint_url: str, region: str) -> dict[str, str]:
    """Spend the unauthenticated calls on an admin identity; return its credentials."""
    import boto3

    iam = boto3.client(
        "iam",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id="bootstrap",
        aws_secret_access_key="bootstrap",
    )
    iam.create_user(UserName=ADMIN_USER)
    iam.put_user_policy(
        UserName=ADMIN_USER, PolicyName="allow-all", PolicyDocument=json.dumps(ALLOW_ALL)
    )
    key = iam.create_access_key(UserName=ADMIN_USER)["AccessKey"]
    return {
        "endpoint_url": endpoint_url,
        "region": region,
        "access_key_id": key["AccessKeyId"],
        "secret_access_key": key["SecretAccessKey"],
    }


def write_private_json(path: Path, data: dict[str, str]) -> None:
    """Atomically, readable by the owner only (the simulator polls for the file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--credentials-file", type=Path, required=True)
    args = parser.parse_args(argv)
    # only the main thread (in sigwait) receives these; the server threads inherit the mask
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = str(BOOTSTRAP_CALLS)  # read at moto's import
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address=args.host, port=args.port, verbose=False)
    server.start()
    endpoint = f"http://{args.host}:{args.port}"
    write_private_json(args.credentials_file, bootstrap_admin(endpoint, args.region))
    signal.sigwait(stop_signals)
    args.credentials_file.unlink(missing_ok=True)
    server.stop()
    os._exit(0)  # all in memory: nothing to save, and tearing moto down takes seconds


if __name__ == "__main__":
    main()
