"""The decision contract as one call: JSON in, JSON out, the same for the CLI, the API and
the scenarios (pure).

`parse_json` reads a request text as `deelwijs decide` and POST /api/v1/decisions read it;
`decide_payload` decides one request object, or an array of them, with `decide` and renders
the answers with `to_json`. How an answer is written out (`answer_json`, with orjson) is the
service layer's (services/decisions.py).
"""

from __future__ import annotations

import json

from deelwijs.domain import labels
from deelwijs.domain.engine import decide
from deelwijs.domain.errors import Problem, RequestError
from deelwijs.domain.render import to_json
from deelwijs.domain.request import parse_request
from deelwijs.domain.ruleset import Ruleset
from deelwijs.errors import DeelwijsError


class NotJson(DeelwijsError, ValueError):
    """Request text that is not usable JSON; the message is the Dutch reason (the CLI and the
    API put `request: ` before it: the field)."""

    code = "invalid_json"
    status = 400
    field = "request"


def _not_json(token: str):
    raise ValueError(f"{token} is geen JSON-getal (RFC 8259)")


def parse_json(text: str):
    """The JSON of a request text, as `deelwijs decide` and POST /api/v1/decisions read it:
    Python's json (integers of any length), NaN and Infinity refused; raises NotJson."""
    try:
        return json.loads(text, parse_constant=_not_json)
    except json.JSONDecodeError as exc:
        raise NotJson(f"geen geldige JSON (regel {exc.lineno}, kolom {exc.colno}): "
                      f"{labels.JSON_ERROR.get(exc.msg, 'ongeldige JSON')}") from None
    except RecursionError:
        raise NotJson("geen bruikbare JSON: te diep genest") from None
    except ValueError as exc:  # NaN/Infinity (see _not_json), or a number too long to read
        said = str(exc) if "JSON-getal" in str(exc) else "een getal is te lang om te lezen"
        raise NotJson(f"geen geldige JSON: {said}") from None


def decide_payload(payload, ruleset: Ruleset, explain: bool = False):
    """Decide one request object, or an array of them (the answer is then an array, in order).

    Raises RequestError with every problem of every request, each naming its JSON path;
    nothing is decided when any request is bad.
    """
    if isinstance(payload, list):
        parsed, problems = [], []
        for i, obj in enumerate(payload):
            try:
                parsed.append(parse_request(obj, ruleset, f"request[{i}]"))
            except RequestError as exc:
                problems.extend(exc.problems)
        if problems:
            raise RequestError(problems)
        return [to_json(decide(r, ruleset, explain), explain) for r in parsed]
    if not isinstance(payload, dict):
        raise RequestError([Problem("request", "wrong_type",
                                    "verwacht een JSON-object of een lijst van objecten")])
    request = parse_request(payload, ruleset, "request")
    return to_json(decide(request, ruleset, explain), explain)
