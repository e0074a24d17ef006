"""Label and field selectors, parsed and matched like the Kubernetes API server does.

Part of the cluster simulator, a test double of Kubernetes (see ``jupyterhub_ov_sim``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import bad_request

_KEY = r"[A-Za-z0-9][-A-Za-z0-9_./]*"
_VALUE = r"[-A-Za-z0-9_.]*"
_SET_RE = re.compile(rf"^\s*({_KEY})\s+(in|notin)\s*\(([^)]*)\)\s*$")
_EXISTS_RE = re.compile(rf"^\s*(!?)\s*({_KEY})\s*$")
_CMP_RE = re.compile(rf"^\s*({_KEY})\s*(==|=|!=)\s*({_VALUE})\s*$")
_FIELD_RE = re.compile(r"^\s*([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*?)\s*$")


@dataclass(frozen=True)
class Requirement:
    """One ``key op values`` term; op is one of in, notin, exists, !exists, =, !=."""

    key: str
    op: str
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.op == "exists":
            return present
        if self.op == "!exists":
            return not present
        if self.op in ("=", "in"):
            return present and value in self.values
        # != and notin also match objects without the key, as in Kubernetes.
        return value not in self.values


def _split_terms(selector: str) -> list[str]:
    """Split on commas outside parentheses."""
    terms: list[str] = []
    current: list[str] = []
    depth = 0
    for char in selector:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            terms.append("".join(current))
            current = []
        else:
            current.append(char)
    terms.append("".join(current))
    return [t for t in terms if t.strip()]


def _parse_label_term(term: str) -> Requirement:
    if match := _SET_RE.match(term):
        key, op, raw = match.groups()
        values = frozenset(v.strip() for v in raw.split(",") if v.strip())
        return Requirement(key, op, values)
    if match := _CMP_RE.match(term):
        key, op, value = match.groups()
        return Requirement(key, "!=" if op == "!=" else "=", frozenset([value]))
    if match := _EXISTS_RE.match(term):
        bang, key = match.groups()
        return Requirement(key, "!exists" if bang else "exists")
    raise bad_request(f"unable to parse requirement: found '{term.strip()}', expected: selector")


def parse_label_selector(selector: str | None) -> list[Requirement]:
    """Parse ``a=b,c!=d,e in (f,g),!h``; an empty selector matches everything."""
    if not selector:
        return []
    return [_parse_label_term(term) for term in _split_terms(selector)]


def labels_match(requirements: Iterable[Requirement], labels: Mapping[str, str] | None) -> bool:
    return all(req.matches(labels or {}) for req in requirements)


@dataclass(frozen=True)
class FieldRequirement:
    path: str
    op: str
    value: str

    def matches(self, obj: Mapping[str, Any]) -> bool:
        actual = field_value(obj, self.path)
        return (actual == self.value) == (self.op == "=")


def field_value(obj: Mapping[str, Any], path: str) -> str:
    """The string form of a dotted field, ``""`` when absent (as the real server indexes it)."""
    current: Any = obj
    for part in path.split("."):
        if not isinstance(current, Mapping):
            return ""
        current = current.get(part)
    if current is None:
        return ""
    if isinstance(current, bool):
        return "true" if current else "false"
    return str(current)


def parse_field_selector(selector: str | None, allowed: Iterable[str]) -> list[FieldRequirement]:
    """Parse ``metadata.name=x,status.phase!=Running``, refusing fields the kind cannot select."""
    if not selector:
        return []
    allowed_set = set(allowed)
    result = []
    for term in _split_terms(selector):
        match = _FIELD_RE.match(term)
        if not match:
            raise bad_request(f"invalid selector: '{selector}'; can't understand '{term}'")
        path, op, value = match.groups()
        if path not in allowed_set:
            raise bad_request(f"field label not supported: {path}")
        result.append(FieldRequirement(path, "!=" if op == "!=" else "=", value))
    return result


Matcher = Callable[[Mapping[str, Any]], bool]


def object_matcher(
    label_selector: str | None, field_selector: str | None, allowed_fields: Iterable[str]
) -> Matcher:
    """One predicate for both selectors; raises ApiError(400) for malformed selectors."""
    labels = parse_label_selector(label_selector)
    fields = parse_field_selector(field_selector, allowed_fields)

    def matches(obj: Mapping[str, Any]) -> bool:
        meta = obj.get("metadata") or {}
        return labels_match(labels, meta.get("labels")) and all(f.matches(obj) for f in fields)

    return matches
