"""Runs inside a notebook image or environment: the BYON checks, ending with one JSON report.

The one validation script of both backends: the OpenShift validation pod runs it as
``python3 -c <this file> ...`` with whatever Python the image has; the local backend runs it
the same way with the environment's own interpreter (`validation.command` builds both command
lines). Standard library only, and syntax Python 3.6 still parses (no walrus, no
annotations), so an old interpreter reports "too old" instead of a syntax error.

Checks, as Open Data Hub's BYON validation does: Python no older than ``--min-python`` (the
service passes its floor, `spec_rules.MIN_PYTHON`; `MIN_PYTHON` here is only the default of a
standalone run); ``import jupyterhub`` and ``import jupyterlab``; ``$HOME`` set and writable;
the spawner's entry point ``jupyterhub-singleuser`` starts and answers HTTP (on loopback,
against a stand-in for the hub's API that only tells its version), then is stopped. With
``--no-server`` the last check is ``import jupyterhub.singleuser`` instead (the local backend
starts a real server itself). Each check prints an ``ok:`` or ``FAILED:`` line; the last line
is `MARKER` followed by JSON: ``python`` (the full version), ``packages`` (top-level
distributions: installed and required by no other; with ``--site-only`` those of the
environment's own site directories only, i.e. a layer's and not its base's), ``passed`` and
``problems``. Exit status 0 when there are no problems.
"""

import argparse
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
#: the floor of a standalone run; the service always passes its own (``--min-python``)
MIN_PYTHON = (3, 8)
IGNORED = ("pip", "setuptools", "wheel")
PREFIX = "/user/image-check/"


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def top_level(distributions):
    """Of ``(name, version, requirement strings)`` in sys.path order, those no other requires
    (``pip list --not-required``; extras do not count, the first of a name wins, pip,
    setuptools and wheel are left out), as ``{"name", "version"}`` sorted by name."""
    found = {}
    required = set()
    for name, version, requires in distributions:
        if not name or canonical(name) in found:
            continue
        found[canonical(name)] = {"name": name, "version": version}
        for requirement in requires or []:
            if re.search(r"\bextra\s*==", requirement):
                continue
            match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
            if match:
                required.add(canonical(match.group(1)))
    top = [p for key, p in found.items() if key not in required and key not in IGNORED]
    return sorted(top, key=lambda p: canonical(p["name"]))


def top_level_packages(site_only=False):
    """The interpreter's top-level distributions (of its own site directories only, if
    ``site_only``: a layer's, not those its base contributes)."""
    import site
    from importlib import metadata

    path = [d for d in site.getsitepackages() if os.path.isdir(d)] if site_only else None
    dists = metadata.distributions(path=path) if path is not None else metadata.distributions()
    return top_level((d.metadata["Name"], d.version, d.requires) for d in dists)


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


def check_python(floor, problems, passed):
    python = "{}.{}.{}".format(*sys.version_info[:3])
    if sys.version_info[:2] < floor:
        problems.append("Python {} is older than {}.{}".format(python, *floor))
        return False
    passed.append(f"Python {python}")
    return True


def check_imports(modules, problems, passed):
    imported = True
    for module in modules:
        try:
            __import__(module)
            passed.append(f"import {module}")
        except Exception as error:  # any failure to import is the finding
            imported = False
            problems.append(f"import {module} failed: {type(error).__name__}: {error}")
    return imported


def arguments(argv):
    parser = argparse.ArgumentParser(prog="imagecheck", description=__doc__.split("\n")[0])
    parser.add_argument("server_timeout", nargs="?", type=float, default=60.0)
    parser.add_argument(
        "--min-python", default="{}.{}".format(*MIN_PYTHON), help="the oldest Python allowed"
    )
    parser.add_argument("--no-server", action="store_true", help="do not start a server")
    parser.add_argument("--site-only", action="store_true", help="packages of site dirs only")
    args = parser.parse_args(argv[1:])
    args.min_python = tuple(int(x) for x in args.min_python.split(".")[:2])
    return args


def main(argv):
    args = arguments(argv)
    packages = []  # type: list[dict[str, str]]
    passed = []  # type: list[str]
    problems = []  # type: list[str]
    if check_python(args.min_python, problems, passed):
        try:
            packages = top_level_packages(args.site_only)
        except Exception as error:
            problems.append(f"cannot list the installed packages: {error}")
    modules = ["jupyterhub", "jupyterlab"] + (["jupyterhub.singleuser"] if args.no_server else [])
    imported = check_imports(modules, problems, passed)
    if check_home(problems):
        passed.append("$HOME is writable")
    if imported and not args.no_server and check_server(args.server_timeout, problems):
        passed.append("jupyterhub-singleuser started and answered")
    for line in passed:
        print("ok:     " + line)
    for line in problems:
        print("FAILED: " + line)
    python = "{}.{}.{}".format(*sys.version_info[:3])
    report = {"python": python, "packages": packages, "passed": passed, "problems": problems}
    sys.stdout.flush()
    print(MARKER + " " + json.dumps(report, sort_keys=True), flush=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
