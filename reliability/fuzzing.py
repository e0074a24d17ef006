"""Scenario 4, API fuzzing: schemathesis against the platform service's OpenAPI document as a
real hub in local mode serves it (the shipped config, the real local build backend and local
model servers), with the API tokens of an admin and of a plain user.

Every operation is fuzzed with schemathesis' positive (valid by the document) and negative
(invalid) cases, then as a state machine over the links schemathesis infers between the
operations (a build's ``id`` from ``POST /api/builds`` into ``GET /api/builds/{id}``, ...).
Each answer is checked by schemathesis' ``not_a_server_error`` and the conformance checks
(status code, media type, body schema, headers) against the document. The builds the fuzzer
starts find the package index and every proxy on a closed loopback port (they fail in
seconds, without the network); at the end the admin cancels running builds and deletes
every model server and notebook, and no process of the run may outlive the hub.

The hub routes jupyterhub-ov adds (the trial authenticator's ``/hub/login`` and
``/hub/auth/change-password``) are HTML forms with no OpenAPI document: hypothesis makes
their bodies, in the same hub (`formfuzz`).
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import schemathesis
from hypothesis import given
from hypothesis.errors import FlakyStrategyDefinition, Unsatisfiable
from schemathesis import GenerationMode, checks
from schemathesis.core.failures import Failure, FailureGroup

from jupyterhub_ov.hubconfig import SERVICE_NAME
from jupyterhub_ov.service.scopes import (
    METRICS_SCOPE,
    MODEL_READ_SCOPE,
    MODEL_WRITE_SCOPE,
    READ_SCOPE,
    WRITE_SCOPE,
)
from tests.hubproc import Hub, running_hub
from tests.service.svc import PREFIX, Builder
from tests.util import free_port

from . import figures, formfuzz
from .crashstack import strays_mentioning
from .figures import Figure
from .fuzztally import CONFORMANCE, SERVER_ERROR, Tally
from .hypo import quiet

NAME = "fuzzing"
SURFACE = "platform service API"
ACCESS = f"access:services!service={SERVICE_NAME}"
#: each identity's token asks for the service's scopes it holds (the user role reads only)
IDENTITIES = {
    "admin": (
        "admin",
        True,
        [ACCESS, READ_SCOPE, WRITE_SCOPE, MODEL_READ_SCOPE, MODEL_WRITE_SCOPE, METRICS_SCOPE],
    ),
    "plain user": ("fuzz-user", False, [ACCESS, READ_SCOPE, MODEL_READ_SCOPE]),
}
CHECKS = {name: getattr(checks, name) for name in sorted(CONFORMANCE | {SERVER_ERROR})}
#: seconds one request may take (an event stream ends with its build, within seconds here)
TIMEOUT = 60.0


@dataclass(frozen=True)
class Budget:
    examples: int  # per operation and generation mode
    scenarios: int  # state machine runs
    steps: int  # calls per state machine run


#: state machine runs per round (see `fuzz_stateful`)
ROUND = 10
SHORT = Budget(examples=3, scenarios=4, steps=4)
FULL = Budget(examples=150, scenarios=150, steps=15)


@dataclass
class Target:
    """Where requests go and as whom; every answer is judged into ``tally``."""

    base_url: str
    token: str
    tally: Tally

    def kwargs(self) -> dict[str, Any]:
        headers = {"Authorization": f"token {self.token}"}
        return {"base_url": self.base_url, "headers": headers, "timeout": TIMEOUT}

    def send(self, case: Any, *, stateful: bool = False) -> Any:
        response = case.call(**self.kwargs())
        self.judge(case, response, stateful=stateful)
        return response

    def judge(self, case: Any, response: Any, *, stateful: bool = False) -> None:
        failed: dict[str, str] = {}
        for name, check in CHECKS.items():
            try:
                case.validate_response(response, checks=[check])
            except (Failure, FailureGroup) as e:
                parts = e.exceptions if isinstance(e, FailureGroup) else (e,)
                failed[name] = " | ".join(f"{p.title}: {p.message}" for p in parts)
        operation = case.operation
        self.tally.record(
            operation.method, operation.path, response.status_code, failed, stateful=stateful
        )


def fuzz_operations(schema: Any, target: Target, budget: Budget, derandomize: bool) -> None:
    """Every operation, ``budget.examples`` positive and as many negative cases."""
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @quiet(budget.examples, derandomize)
            @given(case=operation.as_strategy(generation_mode=mode))
            def one(case: Any) -> None:
                target.send(case)

            try:
                one()
            except Unsatisfiable:
                # nothing to make invalid (an operation without parameters or body)
                if mode is not GenerationMode.NEGATIVE:
                    raise


def fuzz_stateful(schema: Any, target: Target, budget: Budget, derandomize: bool) -> None:
    """Sequences of calls along the links between operations (schemathesis infers them from
    the document: ids in answers feeding path parameters)."""
    machine = schema.as_state_machine()

    class Workflow(machine):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return target.kwargs()

        def validate_response(self, response: Any, case: Any, *a: Any, **kw: Any) -> None:
            target.judge(case, response, stateful=True)

    # the service keeps what earlier runs made, so hypothesis may find a run's rules drawn
    # differently than before (FlakyStrategyDefinition) and stop: the runs go in rounds,
    # and a round so stopped still counted every call it made
    done = 0
    while done < budget.scenarios:
        count = min(ROUND, budget.scenarios - done)
        with contextlib.suppress(FlakyStrategyDefinition):
            Workflow.run(settings=quiet(count, derandomize, stateful_step_count=budget.steps))
        done += count


def wait_builds_ended(api: requests.Session, base: str, timeout: float = 60) -> int:
    """Cancel every running build and wait for all to end; how many were still running."""
    deadline = time.monotonic() + timeout
    while True:
        running = [
            b
            for b in api.get(f"{base}/api/builds", params={"limit": 500}).json()["builds"]
            if b["phase"] not in ("Success", "Failure")
        ]
        if not running or time.monotonic() > deadline:
            return len(running)
        for build in running:
            api.post(f"{base}/api/builds/{build['id']}/cancel")
        time.sleep(0.5)


def clean_up(base: str, token: str) -> dict[str, int]:
    """As the admin: end every build, delete every model server and notebook; what was left."""
    with requests.Session() as api:
        api.headers["Authorization"] = f"token {token}"
        for ms in api.get(f"{base}/api/modelservers").json()["modelservers"]:
            api.delete(f"{base}/api/modelservers/{ms['name']}")
        for nb in api.get(f"{base}/api/notebooks").json()["notebooks"]:
            api.delete(f"{base}/api/notebooks/{nb['name']}")
        running = wait_builds_ended(api, base)
        servers = len(api.get(f"{base}/api/modelservers").json()["modelservers"])
    return {"builds still running": running, "model servers left": servers}


def offline_env() -> dict[str, str]:
    """The hub's (and so the service's and builds') index and proxies: a closed port."""
    dead = f"http://127.0.0.1:{free_port()}"
    env = {name: f"{dead}/simple" for name in ("UV_DEFAULT_INDEX", "UV_INDEX_URL", "PIP_INDEX_URL")}
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        env[name] = env[name.lower()] = dead
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


def left_running(directory: str, timeout: float = 10) -> list[tuple[int, str]]:
    """Processes naming the run's directory still alive ``timeout`` s after the hub stopped."""
    deadline = time.monotonic() + timeout
    while (stray := strays_mentioning(directory)) and time.monotonic() < deadline:
        time.sleep(0.5)
    return stray


@contextmanager
def fuzz_hub(directory: Path) -> Iterator[Hub]:
    with running_hub(directory, env=offline_env()) as hub:
        Builder(hub, directory).wait_up()
        yield hub


def run(full: bool) -> list[Figure]:
    budget = FULL if full else SHORT
    result: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="ov-fuzz-") as tmp:
        directory = Path(tmp)
        with fuzz_hub(directory) as hub:
            base = hub.url + PREFIX.rstrip("/")
            schema = schemathesis.openapi.from_url(f"{base}/api/openapi.json")
            tokens = {}
            for who, (user, writer, scopes) in IDENTITIES.items():
                tokens[who] = hub.new_token(user, scopes=scopes)
                target = Target(base, tokens[who], Tally(who, writer))
                fuzz_operations(schema, target, budget, derandomize=not full)
                fuzz_stateful(schema, target, budget, derandomize=not full)
                result += target.tally.figures(NAME, SURFACE)
                for finding in target.tally.findings:
                    print(f"fuzzing: {who}: {finding}", flush=True)
            left = clean_up(base, tokens["admin"])
            result += formfuzz.run(hub.url, hub.admin_password, full)
        result += [figures.zero(NAME, name, count) for name, count in left.items()]
        stray = left_running(tmp)
        for pid, command in stray:
            print(f"fuzzing: left running: {pid} {command}", flush=True)
        result.append(figures.zero(NAME, "processes left after the hub stopped", len(stray)))
    return result
