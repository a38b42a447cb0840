"""Deciding requests of the contract: JSON in, JSON out, the same for CLI and API."""

from __future__ import annotations

from deelwijs.domain.engine import decide
from deelwijs.domain.errors import Problem, RequestError
from deelwijs.domain.render import to_json
from deelwijs.domain.request import parse_request
from deelwijs.domain.ruleset import Ruleset


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
