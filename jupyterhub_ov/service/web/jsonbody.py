"""Request bodies as JSON, parsed so that hostile input is refused with a reason, never a 500.

`json` and `jsonschema` recurse per nesting level: ``[[[[...]]]]`` well under the body limit
raises RecursionError in either. The depth is therefore measured on the text first (strings
removed, so brackets inside them do not count). Numbers Python cannot hold (more digits than
``sys.int_max_str_digits``, floats beyond range), ``NaN``/``Infinity`` (not JSON) and
duplicate keys (which one wins differs between parsers) are refused too.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

#: far deeper than any request of the API needs (a build request nests 3 levels)
MAX_DEPTH = 32

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


class BadJSON(ValueError):
    """The body is not JSON this service accepts; the message says why."""


def nesting_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in ``text`` (JSON or almost JSON)."""
    depth = deepest = 0
    for bracket in _BRACKET.finditer(_STRING.sub('""', text)):
        if bracket.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        twice = sorted({key for key in keys if keys.count(key) > 1})
        raise BadJSON(f"duplicate keys {twice}")
    return dict(pairs)


def _constant(name: str) -> Any:
    raise BadJSON(f"{name} is not a JSON number")


def _float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise BadJSON(f"the number {text[:20]}... is too large")
    return value


def loads(raw: bytes) -> Any:
    """``raw`` as JSON, or BadJSON saying what is wrong with it."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BadJSON(f"not UTF-8 ({e.reason} at byte {e.start})") from None
    depth = nesting_depth(text)
    if depth > MAX_DEPTH:
        raise BadJSON(f"nested {depth} levels deep, more than {MAX_DEPTH}")
    try:
        return json.loads(
            text, object_pairs_hook=_object, parse_constant=_constant, parse_float=_float
        )
    except BadJSON:
        raise
    except json.JSONDecodeError as e:
        raise BadJSON(str(e)) from None
    except ValueError:  # an integer of more digits than Python converts
        limit = sys.get_int_max_str_digits()
        raise BadJSON(f"a number has more than {limit} digits") from None
    except RecursionError:  # the depth check above should make this unreachable
        raise BadJSON(f"nested more than {MAX_DEPTH} levels deep") from None
