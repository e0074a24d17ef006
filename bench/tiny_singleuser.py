"""A stand-in single-user server for scale benches: answers every request with 200.

Real jupyterhub-singleuser processes cost ~100 MB each; 500 of them do not fit on a bench
machine. This one listens where the hub expects the server (JUPYTERHUB_SERVICE_URL, which the
simulator's kubelet points at the pod's own loopback IP) so the hub sees it come up.
"""

import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


url = urlsplit(os.environ["JUPYTERHUB_SERVICE_URL"])
ThreadingHTTPServer((url.hostname or "127.0.0.1", url.port or 8888), Ok).serve_forever()
