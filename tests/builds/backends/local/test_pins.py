"""Table tests of `builder.pins` (pure)."""

from __future__ import annotations

import pytest

from jupyterhub_ov.builds.backends.local import pins
from jupyterhub_ov.builds.model.spec import SpecPolicy

URLS = SpecPolicy(allow_urls=True)


@pytest.mark.parametrize(
    "text, policy, requirements, problems",
    [
        ("", SpecPolicy(), (), []),
        ("# only a comment\n\n   \n", SpecPolicy(), (), []),
        ("numpy>=2 # inline comment\npandas\n", SpecPolicy(), ("numpy>=2", "pandas"), []),
        ("numpy\\\n>=2\n", SpecPolicy(), ("numpy>=2",), []),
        (
            "requests[socks] ; python_version >= '3.8'\n",
            SpecPolicy(),
            ('requests[socks]; python_version >= "3.8"',),
            [],
        ),
        (
            "ok\n--index-url https://evil.example/simple\n",
            SpecPolicy(),
            ("ok",),
            [
                "requirements.txt line 2: package '--index-url https://evil.example/simple': pip"
                " options are not allowed, only requirements"
            ],
        ),
        (
            "-e .\n",
            SpecPolicy(),
            (),
            [
                "requirements.txt line 1: package '-e .': pip options are not allowed, only"
                " requirements"
            ],
        ),
        (
            "-r other.txt\n",
            SpecPolicy(),
            (),
            [
                "requirements.txt line 1: package '-r other.txt': pip options are not allowed, only"
                " requirements"
            ],
        ),
        (
            "x @ https://h.example/x.whl#sha256=ab\n",
            SpecPolicy(),
            (),
            [
                "requirements.txt line 1: package 'x @ https://h.example/x.whl#sha256=ab': direct"
                " URLs are not allowed"
            ],
        ),
        (
            "x @ https://h.example/x.whl#sha256=ab\n",
            URLS,
            ("x @ https://h.example/x.whl#sha256=ab",),
            [],
        ),
        ("a\nnot a requirement!\n", SpecPolicy(), ("a",), ["requirements.txt line 2: package"]),
        (
            "a\nb \\\n",
            SpecPolicy(),
            ("a",),
            ["requirements.txt line 2: the file ends in a line continuation"],
        ),
        ("numpy \\\n  --hash=sha256:00\n", SpecPolicy(), (), ["requirements.txt line 1: package"]),
    ],
)
def test_requirements_file(text, policy, requirements, problems):
    got, found = pins.requirements_from_file(text, policy)
    assert got == requirements
    assert len(found) == len(problems)
    for problem, expected in zip(found, problems, strict=True):
        assert problem.startswith(expected)


def test_base_constraints_pin_every_parsable_version():
    assert pins.base_constraints({"b": "2.0", "a": "1.0+local", "weird": "not-a-version"}) == (
        "a==1.0+local",
        "b==2.0",
    )


@pytest.mark.parametrize(
    "lock, base, installs",
    [
        (("a==1.0", "b==2.0"), {}, ("a==1.0", "b==2.0")),
        (("a==1.0", "b==2.0"), {"a": "1.0"}, ("b==2.0",)),
        (("a==1.0",), {"a": "1.0.0"}, ()),  # PEP 440: the same version
        (("a==1.1",), {"a": "1.0"}, ("a==1.1",)),  # cannot happen with constraints; installed
        (("Foo_Bar==1",), {"foo-bar": "1"}, ()),  # canonical names
        (("a==1", "b>=2"), {"b": "3"}, ("a==1", "b>=2")),  # not a pin: installed as is
        (("x==1",), {"x": "garbage"}, ("x==1",)),
    ],
)
def test_layer_installs(lock, base, installs):
    assert pins.layer_installs(lock, base) == installs


@pytest.mark.parametrize(
    "requested, base, ok",
    [
        ("", "3.11.7", True),
        ("3.11", "3.11.7", True),
        ("3.10", "3.11.7", False),
        ("3.1", "3.11.7", False),
        ("3.12", "3.12.0", True),
    ],
)
def test_python_mismatch(requested, base, ok):
    problem = pins.python_mismatch(requested, base)
    assert (problem is None) is ok
    if not ok:
        assert problem.startswith(f"Python {requested} was requested, but the base environment")


def test_base_identity_changes_with_path_python_and_packages():
    one = pins.base_identity("/env", "3.11.7", {"a": "1", "b": "2"})
    assert one == pins.base_identity("/env", "3.11.7", {"b": "2", "a": "1"})  # order-free
    assert one.startswith("/env python=3.11.7 packages=")
    for other in (
        pins.base_identity("/env2", "3.11.7", {"a": "1", "b": "2"}),
        pins.base_identity("/env", "3.11.8", {"a": "1", "b": "2"}),
        pins.base_identity("/env", "3.11.7", {"a": "1", "b": "3"}),
        pins.base_identity("/env", "3.11.7", {"a": "1"}),
    ):
        assert other != one
