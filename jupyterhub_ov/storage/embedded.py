"""A throw-away, in-memory S3 server for trying jupyterhub-ov on one machine.

Runs moto's server with IAM enforced, so per-user credentials and bucket policies really
apply: the first three requests are the only unauthenticated ones, and this program makes
them itself to create an admin identity, whose keys it writes (mode 0600) to a JSON file the
hub's bucket provisioner reads. Everything is lost when it stops. Not for real data: point
`LocalBucketProvisioner.endpoint_url` at a real S3 service for that.

    python -m jupyterhub_ov.storage.embedded --port 9000 --credentials-file s3-admin.json
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path

#: create user, put its policy, create its key: the only requests allowed without a signature
BOOTSTRAP_CALLS = 3
ADMIN_USER = "jupyterhub-ov-admin"
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
    """Write atomically, readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--credentials-file", required=True, type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[%(levelname)s %(name)s] %(message)s")
    log = logging.getLogger("jupyterhub-ov-s3")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise

    # moto reads this when first imported: only our bootstrap calls go unauthenticated
    os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = str(BOOTSTRAP_CALLS)
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address=args.host, port=args.port, verbose=False)
    server.start()
    endpoint = f"http://{args.host}:{args.port}"
    try:
        credentials = bootstrap_admin(endpoint, args.region)
    except Exception as e:
        log.error("Could not set up the embedded S3 server at %s: %s", endpoint, e)
        server.stop()
        sys.exit(1)
    write_private_json(args.credentials_file, credentials)
    log.info(
        "Embedded S3 (in memory, IAM enforced) at %s; admin credentials in %s",
        endpoint,
        args.credentials_file,
    )
    stopped = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopped.set())
    stopped.wait()
    args.credentials_file.unlink(missing_ok=True)
    server.stop()


if __name__ == "__main__":
    main()
