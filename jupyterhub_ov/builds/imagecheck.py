"""Runs inside a notebook image: the BYON checks, ending with one JSON report line.

Executed as ``python3 -c <this file> [server timeout]`` by the validation pod, with whatever
Python the image has: standard library only, and syntax Python 3.6 still parses (no walrus,
no annotations), so an old interpreter reports "too old" instead of a syntax error.

Checks, as Open Data Hub's BYON validation does: Python >= 3.8; ``import jupyterhub`` and
``import jupyterlab``; ``$HOME`` set and writable; the spawner's entry point
``jupyterhub-singleuser`` starts and answers HTTP (on loopback, against a stand-in for the
hub's API that only tells its version), then is stopped. The last line is `MARKER` followed
by JSON: ``python`` (the full version), ``packages`` (top-level distributions: installed and
required by no other), ``passed`` and ``problems``. Exit status 0 when there are no problems.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

MARKER = "JUPYTERHUB_OV_IMAGE_CHECK"
MIN_PYTHON = (3, 8)
IGNORED = ("pip", "setuptools", "wheel")
PREFIX = "/user/image-check/"


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def top_level_packages():
    """Distributions no other installed distribution requires (extras do not count)."""
    from importlib import metadata

    found = {}
    required = set()
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if not name:
            continue
        found[canonical(name)] = {"name": name, "version": dist.version}
        for requirement in dist.requires or []:
            if re.search(r"\bextra\s*==", requirement):
                continue
            match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
            if match:
                required.add(canonical(match.group(1)))
    top = [p for key, p in found.items() if key not in required and key not in IGNORED]
    return sorted(top, key=lambda p: p["name"].lower())


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stand_in_hub(version):
    """A loopback server answering the hub API's version request, as the hub would."""
    import http.server

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps({"version": version}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("X-JupyterHub-Version", version)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def answers(url):
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200 and "version" in json.loads(response.read())
    except (OSError, ValueError):
        return False


def stop(process):
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def tail(output, lines=8):
    output.seek(0)
    return " | ".join(output.read().decode(errors="replace").splitlines()[-lines:])


def check_server(timeout, problems):
    """Start jupyterhub-singleuser as the spawner would and wait until it answers."""
    import jupyterhub

    command = shutil.which("jupyterhub-singleuser")
    if not command:
        problems.append("jupyterhub-singleuser is not on the PATH")
        return False
    hub = stand_in_hub(jupyterhub.__version__)
    port = free_port()
    env = dict(
        os.environ,
        JUPYTERHUB_API_TOKEN=os.urandom(16).hex(),
        JUPYTERHUB_CLIENT_ID="jupyterhub-user-image-check",
        JUPYTERHUB_API_URL=f"http://127.0.0.1:{hub.server_address[1]}/hub/api",
        JUPYTERHUB_BASE_URL="/",
        JUPYTERHUB_SERVICE_PREFIX=PREFIX,
        JUPYTERHUB_SERVICE_URL=f"http://127.0.0.1:{port}{PREFIX}",
        JUPYTERHUB_OAUTH_CALLBACK_URL=PREFIX + "oauth_callback",
        JUPYTERHUB_USER="image-check",
    )
    args = [command] + (["--allow-root"] if os.geteuid() == 0 else [])
    output = tempfile.TemporaryFile()
    process = subprocess.Popen(args, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                problems.append(
                    f"jupyterhub-singleuser exited with {process.returncode}: {tail(output)}"
                )
                return False
            if answers(f"http://127.0.0.1:{port}{PREFIX}api"):
                return True
            time.sleep(0.2)
        problems.append(f"jupyterhub-singleuser did not answer within {timeout:g}s: {tail(output)}")
        return False
    finally:
        if process.poll() is None:
            stop(process)
        hub.shutdown()
        output.close()


def check_home(problems):
    home = os.environ.get("HOME")
    if not home:
        problems.append("$HOME is not set")
        return False
    try:
        with tempfile.NamedTemporaryFile(dir=home):
            pass
    except OSError as error:
        problems.append(f"$HOME ({home}) is not writable: {error.strerror or error}")
        return False
    return True


def main(argv):
    timeout = float(argv[1]) if len(argv) > 1 else 60.0
    python = "{}.{}.{}".format(*sys.version_info[:3])
    packages, passed, problems = [], [], []
    if sys.version_info[:2] < MIN_PYTHON:
        problems.append("Python {} is older than {}.{}".format(python, *MIN_PYTHON))
    else:
        passed.append(f"Python {python}")
        packages = top_level_packages()
    imported = True
    for module in ("jupyterhub", "jupyterlab"):
        try:
            __import__(module)
            passed.append(f"import {module}")
        except Exception as error:  # any failure to import is the finding
            imported = False
            problems.append(f"import {module} failed: {type(error).__name__}: {error}")
    if check_home(problems):
        passed.append("$HOME is writable")
    if imported and check_server(timeout, problems):
        passed.append("jupyterhub-singleuser started and answered")
    report = {"python": python, "packages": packages, "passed": passed, "problems": problems}
    sys.stdout.flush()
    print(MARKER + " " + json.dumps(report, sort_keys=True), flush=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
