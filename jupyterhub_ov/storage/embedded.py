"""A throw-away, in-memory S3 server for trying jupyterhub-ov on one machine.

Runs moto's S3/IAM emulation with IAM enforced, so per-user credentials and bucket policies
really apply. moto lets its first few requests through unauthenticated; this program spends
them itself, before anyone else may talk to the server (a random token gates that phase), on
an admin identity whose keys it writes (mode 0600) to a JSON file the hub's bucket
provisioner reads. Everything is lost when it stops. Not for real data: point
`LocalBucketProvisioner.endpoint_url` at a real S3 service for that.

What it refuses, before moto sees the request (403 AccessDenied):

- everything moto would route to its dashboard and management API (``/moto-api/...``: every
  access key with its secret, reset of all state, reset of authentication, recording, seeds),
  however the path is spelled (percent-encoded, doubled slashes, absolute URLs, upper case);
- every service but S3, IAM and STS, as moto itself routes the request (so also its
  instance-metadata stub, ``/favicon.ico`` and a signature scope naming another service);
- requests without a signature (header or presigned query): moto would only fail them;
- moto's ``x-moto-account-id`` header (it switches the account moto answers for);
- a copy (CopyObject, UploadPartCopy) whose caller may not read the source object: moto only
  checks the destination, so without this any user could copy another user's object into
  their own bucket and read it.

The admin identity is `names.EMBEDDED_ADMIN_IAM_USER` on the IAM path
`names.EMBEDDED_ADMIN_IAM_PATH`: a name no hub user's IAM name can take. It listens on
loopback unless ``--host`` says otherwise: the hub and local single-user servers need nothing
more.

    python -m jupyterhub_ov.storage.embedded --port 9000 --credentials-file s3-admin.json
"""

from __future__ import annotations

import argparse
import hmac
import json
import logging
import os
import re
import secrets
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from .. import names

#: create user, put its policy, create its key: the only requests allowed without a signature
BOOTSTRAP_CALLS = 3
ADMIN_USER = names.EMBEDDED_ADMIN_IAM_USER
ALLOW_ALL = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
#: the services moto may answer: S3 for notebooks, IAM for the hub, STS for "who am I"
SERVED = frozenset({"s3", "iam", "sts"})
#: the header that admits the bootstrap calls while the server is not yet open
BOOTSTRAP_HEADER = "X-Jupyterhub-Ov-Bootstrap"

_SCHEME_AND_HOST = re.compile(r"^[a-z][a-z0-9+.-]*:/+[^/]*", re.IGNORECASE)
_SLASHES = re.compile(r"[/\\]+")
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")

log = logging.getLogger("jupyterhub-ov-s3")


def reaches_moto_api(path: str) -> bool:
    """Whether this request path (raw or decoded) is, or could become, moto's ``/moto-api``.

    moto routes every PATH_INFO starting with ``/moto-api`` to its management app; werkzeug
    decodes the path once and its router merges slashes. Decoding until stable, dropping an
    absolute URL's scheme and host and merging slashes covers every spelling of that.
    """
    path = path.split("?", 1)[0]
    for _ in range(5):
        decoded = unquote(path, errors="replace")
        if decoded == path:
            break
        path = decoded
    path = _SLASHES.sub("/", _SCHEME_AND_HOST.sub("", path.strip()))
    return path.lower().lstrip("/").startswith("moto-api")


class Gate:
    """WSGI middleware in front of moto's dispatcher: only S3, IAM and STS get through.

    Until `open()`, only requests carrying the bootstrap token are served (503 otherwise), so
    nobody else can spend moto's unauthenticated calls.
    """

    def __init__(self, dispatcher: Any, bootstrap_token: str) -> None:
        self.dispatcher = dispatcher
        self._token = bootstrap_token
        self._open = False

    def open(self) -> None:
        self._open = True

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if not self._open:
            offered = environ.get("HTTP_" + BOOTSTRAP_HEADER.upper().replace("-", "_"), "")
            if not hmac.compare_digest(str(offered).encode(), self._token.encode()):
                return _refuse(start_response, "503 Service Unavailable", "Starting up.")
        paths = (environ.get(k, "") for k in ("PATH_INFO", "REQUEST_URI", "RAW_URI"))
        if any(reaches_moto_api(str(p)) for p in paths):
            return _refuse(start_response, "403 Forbidden", "moto's management API is off.")
        if not _signed(environ):  # moto would fail it with a 500 and log a traceback
            return _refuse(start_response, "403 Forbidden", "Requests must be signed.")
        # moto's own routing decision (it reads the path, the signature scope, the body)
        try:
            app = self.dispatcher.get_application(environ)
        except Exception:  # a service moto does not know (e.g. a made-up signature scope)
            app = None
        if getattr(app, "service", None) not in SERVED:
            return _refuse(start_response, "403 Forbidden", "Only S3, IAM and STS are served.")
        if "HTTP_X_MOTO_ACCOUNT_ID" in environ:
            return _refuse(start_response, "403 Forbidden", "x-moto-account-id is not served.")
        if not copy_source_readable(environ):
            return _refuse(start_response, "403 Forbidden", "Access Denied")
        return app(environ, start_response)


def _signed(environ: dict[str, Any]) -> bool:
    """A signature in the header or, for presigned URLs, the query (moto checks it)."""
    query = str(environ.get("QUERY_STRING", ""))
    return bool(environ.get("HTTP_AUTHORIZATION")) or "X-Amz-Credential=" in query


def copy_source_readable(environ: dict[str, Any]) -> bool:
    """Whether the signer of a copy may read its source object (True if it is no copy).

    The signature itself is moto's to check, as for any request; this only asks whether the
    key's owner has ``s3:GetObject`` on the source, the way moto evaluates IAM policies.
    """
    source = environ.get("HTTP_X_AMZ_COPY_SOURCE")
    if source is None:
        return True
    bucket, _, key = unquote(urlsplit(str(source)).path).lstrip("/").partition("/")
    found = _CREDENTIAL.search(str(environ.get("HTTP_AUTHORIZATION", "")))
    key_id = found.group(1) if found else ""
    if not key_id:
        credential = parse_qs(str(environ.get("QUERY_STRING", ""))).get("X-Amz-Credential")
        key_id = credential[0].split("/")[0] if credential else ""
    return bool(key_id) and _permitted(key_id, "s3:GetObject", f"arn:aws:s3:::{bucket}/{key}")


def _permitted(key_id: str, action: str, resource: str) -> bool:
    """moto's own IAM evaluation for this access key's user: an explicit Deny wins, an
    Allow is needed; an unknown key (or an assumed role: none exist here) is not allowed."""
    from moto.iam.access_control import IAMPolicy, IAMUserAccessKey, PermissionResult
    from moto.iam.models import get_account_id_from

    try:
        owner = IAMUserAccessKey(
            account_id=get_account_id_from(key_id),
            partition="aws",
            access_key_id=key_id,
            headers={},
        )
        results = [
            IAMPolicy(p).is_action_permitted(action, resource) for p in owner.collect_policies()
        ]
    except Exception:
        return False
    return PermissionResult.DENIED not in results and PermissionResult.PERMITTED in results


def _refuse(start_response: Callable[..., Any], status: str, message: str) -> list[bytes]:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>AccessDenied</Code><Message>{message}</Message></Error>"
    ).encode()
    start_response(
        status, [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))]
    )
    return [body]


def bootstrap_admin(endpoint_url: str, region: str, token: str) -> dict[str, str]:
    """Spend the unauthenticated calls on an admin identity; return its credentials."""
    import boto3

    iam = boto3.client(
        "iam",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id="bootstrap",
        aws_secret_access_key="bootstrap",
    )

    def add_token(request: Any, **_: Any) -> None:
        request.headers[BOOTSTRAP_HEADER] = token

    iam.meta.events.register("before-sign.iam", add_token)
    iam.create_user(UserName=ADMIN_USER, Path=names.EMBEDDED_ADMIN_IAM_PATH)
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


def start_server(host: str, port: int, token: str) -> tuple[Any, Gate]:
    """moto's WSGI app behind the gate, on werkzeug's threaded server (as moto serves it)."""
    # moto reads this when first imported: only our bootstrap calls go unauthenticated
    os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = str(BOOTSTRAP_CALLS)
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    gate = Gate(DomainDispatcherApplication(create_backend_app), token)
    server = make_server(host, port, gate, threaded=True, request_handler=MotoRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, gate


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: loopback only)"
    )
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--credentials-file", required=True, type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[%(levelname)s %(name)s] %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise

    # Only the main thread, in sigwait below, may receive these: a signal handler would not
    # run while the main thread waits if the kernel delivered the signal to a server thread
    # (seen: the server then ignored SIGTERM). Threads inherit this mask.
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    token = secrets.token_urlsafe(32)
    server, gate = start_server(args.host, args.port, token)
    endpoint = f"http://{args.host}:{args.port}"
    try:
        credentials = bootstrap_admin(endpoint, args.region, token)
    except Exception as e:
        log.error("Could not set up the embedded S3 server at %s: %s", endpoint, e)
        server.shutdown()
        sys.exit(1)
    gate.open()
    write_private_json(args.credentials_file, credentials)
    log.info(
        "Embedded S3 (in memory, IAM enforced; S3, IAM and STS only) at %s;"
        " admin credentials in %s",
        endpoint,
        args.credentials_file,
    )
    signal.sigwait(stop_signals)
    args.credentials_file.unlink(missing_ok=True)
    server.shutdown()
    logging.shutdown()
    # nothing is left to save (it is all in memory), and tearing down moto's hundreds of
    # modules takes seconds: a hub or test stopping this server should not wait for that
    os._exit(0)


if __name__ == "__main__":
    main()
