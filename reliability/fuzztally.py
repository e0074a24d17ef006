"""What the fuzzing scenario counts, per identity (pure: no I/O): the operations fuzzed, the
requests sent, the answers that were 5xx, that broke the OpenAPI document (status, media type,
body schema, headers), and the writes a plain user got through.

`Tally.record` takes one request's outcome as plain values (the operation's method and path
template, the status, the names of the schemathesis checks that failed with their messages),
so the rules are tested without a hub."""

from __future__ import annotations

from dataclasses import dataclass, field

from .figures import Figure, info, zero

#: methods that change something; a plain user's token must never get a 2xx for one
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: schemathesis checks whose failure means the answer broke the OpenAPI document
CONFORMANCE = frozenset(
    {
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
    }
)
SERVER_ERROR = "not_a_server_error"
#: how many findings of each kind are kept for the report (the counts are all of them)
KEEP = 5


@dataclass
class Tally:
    """One identity's run: ``writer`` says whether its writes are allowed to succeed."""

    identity: str
    writer: bool
    operations: set[str] = field(default_factory=set)
    cases: int = 0
    server_errors: int = 0
    violations: int = 0
    writes_succeeded: int = 0
    stateful_steps: int = 0
    #: answers by class: ``{"2xx": n, "4xx": m, ...}``
    classes: dict[str, int] = field(default_factory=dict)
    findings: list[str] = field(default_factory=list)

    def record(
        self,
        method: str,
        path: str,
        status: int,
        failed: dict[str, str],
        *,
        stateful: bool = False,
    ) -> None:
        """One request: ``failed`` maps the names of the checks that failed to their message
        (checks other than the 5xx and conformance ones are not counted)."""
        label = f"{method.upper()} {path}"
        self.operations.add(label)
        self.cases += 1
        self.stateful_steps += stateful
        kind = f"{status // 100}xx"
        self.classes[kind] = self.classes.get(kind, 0) + 1
        if status >= 500 or SERVER_ERROR in failed:
            self.server_errors += 1
            self._keep(label, status, failed.get(SERVER_ERROR, "server error"))
        broken = sorted(CONFORMANCE & failed.keys())
        if broken:
            self.violations += 1
            self._keep(label, status, "; ".join(f"{name}: {failed[name]}" for name in broken))
        if not self.writer and method.upper() in WRITES and 200 <= status < 300:
            self.writes_succeeded += 1
            self._keep(label, status, "a plain user's write succeeded")

    def _keep(self, label: str, status: int, what: str) -> None:
        if len(self.findings) < KEEP:
            self.findings.append(f"{label} -> {status}: {what[:300]}")

    def figures(self, scenario: str, surface: str) -> list[Figure]:
        who = f"{surface}, {self.identity}"
        result = [
            info(scenario, f"{who}: operations fuzzed", len(self.operations)),
            info(
                scenario,
                f"{who}: cases sent (stateful steps)",
                f"{self.cases} ({self.stateful_steps})",
            ),
            info(scenario, f"{who}: answers", answers(self.classes)),
            zero(scenario, f"{who}: 5xx answers", self.server_errors),
            zero(scenario, f"{who}: answers breaking the OpenAPI document", self.violations),
        ]
        if not self.writer:
            result.append(zero(scenario, f"{who}: writes that succeeded", self.writes_succeeded))
        return result


def answers(classes: dict[str, int]) -> str:
    """``{"4xx": 3, "2xx": 5}`` as ``2xx 5, 4xx 3``."""
    return ", ".join(f"{kind} {classes[kind]}" for kind in sorted(classes)) or "none"
