"""The errors the service's parts share: the engine and the features raise them, the web
side answers them (404, 409, 422). Imports nothing of the package."""

from __future__ import annotations

from collections.abc import Sequence


class NotFound(LookupError):
    """No such thing (a build id, a notebook's name); ``args[0]`` is what was asked for."""


class Conflict(RuntimeError):
    """The thing is not in a state that allows this (the message says why)."""


class Invalid(ValueError):
    """A request that must not run; ``problems`` says everything that is wrong."""

    #: the answer's message; ``problems`` are its details
    summary = "The request is invalid."

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))
