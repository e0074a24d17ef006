"""The names scenario's checkers (reliability/namerules.py): each rule refuses what its
target refuses, and the platform's pod shapes are recognised."""

from __future__ import annotations

import pytest

from reliability import namerules as r


@pytest.mark.parametrize(
    "rule, good, bad",
    [
        (r.dns_label_problem, ["a", "a-1", "x" * 63], ["", "A", "-a", "a-", "a.b", "x" * 64]),
        (r.dns_subdomain_problem, ["a.b", "a-1.b2", "x" * 253], ["a..b", ".a", "A", "x" * 254]),
        (r.iam_user_problem, ["a.b@c", "A_b+=,-", "x" * 64], ["", "a b", "a/b", "é", "x" * 65]),
        (r.posix_user_problem, ["jupyter-a", "_a", "a$", "x" * 32], ["-a", "1a", "A", "x" * 33]),
        (
            r.s3_bucket_problem,
            ["abc", "a.b-c", "x" * 63],
            ["ab", "a..b", "a-.b", "1.2.3.4", "xn--a", "a-s3alias", "Abc", "x" * 64],
        ),
        (
            r.path_component_problem,
            ["a", "a-b", "x" * 255],
            ["", ".", "..", "a/b", ".a", "x" * 256],
        ),
    ],
)
def test_rules(rule, good, bad):
    assert [g for g in good if rule(g)] == []
    assert [b for b in bad if not rule(b)] == []


def test_collisions_count_names_shared_by_different_users():
    pairs = [("a", "n1"), ("b", "n1"), ("c", "n2"), ("c", "n2"), ("d", "n3"), ("e", "n3")]
    assert r.collisions(pairs) == 2


@pytest.mark.parametrize(
    "name, what",
    [
        ("x-notebook-0123456789ab-validate", "build validation pod"),
        # image names no longer start as users' pods do (issue 17's finding)
        ("jupyter-x-notebook-0123456789ab-validate", None),
        ("x-notebook-0123456789ab-12-build", "OpenShift build pod"),
        ("x-notebook-0123456789ab-build-pod", "Tekton build pod"),
        ("resnet-ovms-5d8f9c7b4-abcde", "model server pod"),
        ("jupyter-alice", None),
        ("x-notebook-validate", None),  # no tag
        ("Bad-notebook-0123456789ab-validate", None),  # not an image name
    ],
)
def test_platform_pods(name, what):
    assert r.platform_pod(name) == what
