"""The published request schema and `parse_request` give every body of the suite one verdict.

Bodies: the OpenAPI document's examples, the valid and the invalid tables of test_spec.py,
test_service_api.py's hostile requests, test_service_hostile.py's wrong shapes and the
bodies the backend cases send. Every valid body passes both. Every invalid body is refused by
the parser; the schema refuses it too, unless what is wrong is one of the rules only the
parser can check (`request_schema.SEMANTIC_RULES`): then each of its problems must be one of
those rules (the agreement is one-way there), and every listed rule must be needed by some
body here, so the list stays exactly what the schema cannot say.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from jupyterhub_ov.builds.model.request_schema import EXAMPLES, SEMANTIC_RULES
from jupyterhub_ov.builds.model.spec import InvalidBuildRequest, SpecPolicy, parse_request
from tests.builds.cases import local as local_case
from tests.builds.cases import openshift as openshift_case
from tests.builds.model import test_spec

from . import test_service_hostile
from .features.builds import test_service_api
from .openapi_check import BASE, DOC

SERVICE_POLICY = SpecPolicy(git_schemes=("https", "file"))  # what svc.py starts the service with


def _ecma_pattern(
    validator: Any, pattern: str, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    """``pattern`` as ECMA 262 (the schema's dialect) reads it: ``$`` ends the text; Python's
    re would also let it match before a final newline."""
    if validator.is_type(instance, "string") and not re.search(
        pattern.replace("$", r"\Z"), instance
    ):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


Ecma = validators.extend(Draft202012Validator, {"pattern": _ecma_pattern})
SCHEMA = Ecma(
    {"$ref": BASE + "#/components/schemas/BuildRequest"},
    registry=Registry().with_resource(
        BASE, Resource.from_contents(DOC, default_specification=DRAFT202012)
    ),
)


def schema_accepts(body: Any) -> bool:
    return SCHEMA.is_valid(body)


def problems_of(body: Any, policy: SpecPolicy) -> list[str] | None:
    """The parser's problems, or None when it accepts the body."""
    try:
        parse_request(body, creator="admin", policy=policy)
    except InvalidBuildRequest as e:
        return e.problems
    return None


def semantic_rules_of(problem: str) -> set[str]:
    return {rule for rule, marks in SEMANTIC_RULES.items() if any(m in problem for m in marks)}


def _valid() -> list[tuple[Any, SpecPolicy]]:
    published = DOC["components"]["schemas"]["BuildRequest"]["examples"]
    local = local_case.request_body
    found = [(b, SpecPolicy()) for b in published]
    found += [(b, SpecPolicy()) for b in EXAMPLES.values()]
    found += list(test_spec.VALID)
    found += [
        (local("pl", "PackageList", packageVersions=["ovtiny"], runtimeEnvironment={}), LOCAL),
        (local("git", "GitRepository", repositoryUrl="file:///tmp/repo", gitRef="main"), LOCAL),
        (local("imp", "ImportImage", fromImage="/srv/envs/base"), LOCAL),
        (local("lay", "PackageList", packageVersions=["a"], builderImage="/srv/env"), LOCAL),
        (openshift_case.body("os-pl", {"buildType": "PackageList", "packageVersions": ["a"]}), OS),
        (
            openshift_case.body("os-imp", {"buildType": "ImportImage", "fromImage": IMPORT}),
            OS,
        ),
        (test_service_api.fresh("ovtiny"), SERVICE_POLICY),
    ]
    return found


LOCAL = local_case.POLICY
OS = openshift_case.POLICY
IMPORT = openshift_case.GOOD_IMPORT


def _invalid() -> list[tuple[str, Any, SpecPolicy]]:
    body, packages, policy = test_spec.body, test_spec.PACKAGES, test_spec.POLICY
    found: list[tuple[str, Any, SpecPolicy]] = []
    for package, _ in test_spec.BAD_PACKAGES:
        spec = {"buildType": "PackageList", "packageVersions": ["numpy", package]}
        found.append((f"package {package!r:.40}", body(spec), policy))
    found += [(f"name {n!r:.40}", body(packages, name=n), policy) for n, _ in test_spec.BAD_NAMES]
    for url, _ in test_spec.BAD_GIT_URLS:
        found.append(
            (f"url {url!r}", body({"buildType": "GitRepository", "repositoryUrl": url}), policy)
        )
    for ref in test_spec.BAD_GIT_REFS:
        spec = {
            "buildType": "GitRepository",
            "repositoryUrl": "https://github.com/a/b",
            "gitRef": ref,
        }
        found.append((f"ref {ref!r}", body(spec), policy))
    found += [(f"spec {s!r:.60}", body(s), policy) for s, _ in test_spec.BAD_SPECS]
    found += [(f"body {b!r:.60}", b, policy) for b, _ in test_spec.BAD_BODIES]
    found += [(f"service {name}", b, SERVICE_POLICY) for name, b, _ in test_service_api.HOSTILE]
    found += [
        (f"shape {r!r}", json.loads(r), SERVICE_POLICY) for r in test_service_hostile.WRONG_TYPES
    ]
    return found


VALID = _valid()
INVALID = _invalid()


@pytest.mark.parametrize("body, policy", VALID)
def test_every_valid_body_passes_the_schema_and_the_parser(body: Any, policy: SpecPolicy) -> None:
    assert problems_of(body, policy) is None
    assert schema_accepts(body), [e.message for e in SCHEMA.iter_errors(body)]


@pytest.mark.parametrize("name, body, policy", INVALID, ids=[c[0] for c in INVALID])
def test_every_invalid_body_is_refused_by_both_or_for_a_semantic_rule(
    name: str, body: Any, policy: SpecPolicy
) -> None:
    problems = problems_of(body, policy)
    assert problems, f"{name}: the parser accepts it"
    if schema_accepts(body):
        unexplained = [p for p in problems if not semantic_rules_of(p)]
        assert not unexplained, f"{name}: the schema accepts what the parser refuses for"


def test_every_semantic_rule_is_needed_and_most_bodies_agree_both_ways() -> None:
    needed: set[str] = set()
    one_way = 0
    for _, body, policy in INVALID:
        if schema_accepts(body):
            one_way += 1
            needed.update(*(semantic_rules_of(p) for p in problems_of(body, policy) or []))
    assert needed == set(SEMANTIC_RULES)
    assert one_way < len(INVALID) / 2, (one_way, len(INVALID))
