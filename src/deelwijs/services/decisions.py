"""Writing the answers of the decision contract as `deelwijs decide` prints them.

Deciding itself (`decide_payload`, `parse_json`, `NotJson`) is pure and lives in the domain
(domain/contract.py); they are imported here too only for bench/engine.py, bench/api.py and
tests/conftest.py, which still import them from here.
"""

from __future__ import annotations

import json

import orjson

from deelwijs.domain.contract import NotJson, decide_payload, parse_json

__all__ = ["NotJson", "answer_json", "decide_payload", "parse_json"]

_INDENTED = (orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE | orjson.OPT_PASSTHROUGH_DATACLASS
             | orjson.OPT_PASSTHROUGH_DATETIME)


def answer_json(answer) -> bytes | str:
    """The answer as `deelwijs decide` prints it: the bytes (UTF-8) of
    `json.dumps(answer, ensure_ascii=False, indent=2)` and a newline.

    orjson writes those bytes ten times faster than json's indenting encoder, which is pure
    Python. It escapes every character as json does with ensure_ascii=False (checked over every
    code point) and indents the same way, but it writes floats differently (1e-05 as
    0.00001) and refuses what json would write (an integer beyond 64 bits, a lone surrogate,
    a key that is not a string). So json writes every answer that is not a disclosure and
    holds a float (a disclosure answer holds no numbers), and any answer orjson refuses;
    that text (a str, no bytes) goes out as json's always did.
    """
    for one in answer if isinstance(answer, list) else (answer,):
        if isinstance(one, dict) and one.get("kind") != "disclosure" and _has_float(one):
            return json.dumps(answer, ensure_ascii=False, indent=2) + "\n"
    try:
        return orjson.dumps(answer, option=_INDENTED)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(answer, ensure_ascii=False, indent=2) + "\n"


def _has_float(value) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, dict):
        return any(_has_float(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_float(v) for v in value)
    return False
