"""A stand-in single-user server for scale benches: answers every request with 200.

Real jupyterhub-singleuser processes cost ~100 MB each; 500 of them do not fit on a bench
machine. This one listens where the hub expects the server (JUPYTERHUB_SERVICE_URL, which the
simulator's kubelet points at the pod's own loopback IP) so the hub sees it come up.

A plain socket loop, one connection at a time (the hub's and the proxy's checks are single
requests): importing ``http.server`` and ``threading`` tripled its memory (about 12 MB
proportional set size each, against 4 MB), which decides how many fit in the hub restart
scenario (reliability/restart.py).
"""

import os
import socket

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"

netloc = os.environ["JUPYTERHUB_SERVICE_URL"].split("//", 1)[1].split("/", 1)[0]
host, _, port = netloc.rpartition(":")
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind((host or "127.0.0.1", int(port or 8888)))
listener.listen(128)
while True:
    conn, _ = listener.accept()
    try:
        conn.settimeout(10)
        conn.recv(65536)  # one request's head; its content is never needed
        conn.sendall(ANSWER)
    except OSError:
        pass
    finally:
        conn.close()
