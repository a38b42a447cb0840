"""One error hierarchy: every error class of the package is a DeelwijsError with a stable code
(listed in docs/errors.md), and carries its Dutch message and field as the CLI has always
printed them. Their problem+json shape: tests/web/test_error_shape.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tests.fixtures.errors import error_classes, samples

from deelwijs.errors import DeelwijsError

ROOT = Path(__file__).resolve().parents[2]
CODE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
CLASSES = error_classes()


def test_the_package_has_its_error_classes_found():
    names = {cls.__name__ for cls in CLASSES}
    assert {"DeelwijsError", "ServiceError", "Invalid", "NotFound", "Conflict", "Refused",
            "ErasureRefused", "HeadTampered", "WitnessError", "ServeError", "SettingsError",
            "OutputRefused", "Unreadable", "RulesetError", "NotMigrated", "RolesError",
            "UnknownActivity", "NotJson", "RequestError", "WorkflowError", "CheckpointError",
            "NoStanding"} <= names


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__qualname__)
def test_every_error_class_derives_from_the_base_and_has_a_stable_code(cls):
    assert issubclass(cls, DeelwijsError), f"{cls.__module__}.{cls.__qualname__}"
    assert CODE.match(cls.code), cls.code


def test_every_class_code_is_in_the_table_of_docs_errors_md():
    table = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    for cls in CLASSES:
        assert f"`{cls.__name__}`" in table, cls.__name__
        if cls.__name__ != "DeelwijsError":
            assert f"`{cls.code}`" in table, (cls.__name__, cls.code)


def test_the_samples_cover_every_class():
    assert {type(e) for e in samples()} == set(CLASSES)


@pytest.mark.parametrize("error", samples(), ids=lambda e: type(e).__name__)
def test_every_raised_error_has_code_message_field_and_status(error):
    assert CODE.match(error.code) and error.message
    assert error.status is None or 400 <= error.status <= 599
    assert error.field is None or isinstance(error.field, str)
    for e in error.errors():
        assert set(e) == {"path", "code", "message"} and e["path"] and e["message"]
        assert CODE.match(e["code"]), e
    assert error.lines() and all(error.lines())
    with pytest.raises(DeelwijsError):
        raise error


def test_the_text_and_lines_are_as_the_cli_has_always_printed_them():
    from deelwijs.domain.contract import NotJson
    from deelwijs.domain.errors import Problem, RequestError
    from deelwijs.domain.standing import NoStanding
    from deelwijs.domain.workflow import WorkflowError
    from deelwijs.rules.loader import RulesetError, RulesetProblem
    from deelwijs.services.errors import Invalid, Refused
    from deelwijs.settings import SettingsError

    e = Invalid("invalid_date", "geen datum", "on")
    assert (str(e), e.code, e.message, e.field, e.status) == (
        "on: geen datum", "invalid_date", "geen datum", "on", 422)
    assert e.lines() == ["on: geen datum"] and e.args == ("on: geen datum",)
    e = Refused("case_closed", "gesloten")
    assert (str(e), e.field, e.status, e.lines()) == ("gesloten", None, 403, ["gesloten"])
    e = SettingsError("DEELWIJS_X: onzin")
    assert (str(e), e.code, e.field, e.status) == ("DEELWIJS_X: onzin", "invalid_setting",
                                                   None, None)
    assert isinstance(e, ValueError) and e.lines() == [str(e)]
    e = NotJson("geen geldige JSON")  # the CLI and the API put `request: ` before it
    assert (str(e), e.field, e.lines()) == ("geen geldige JSON", "request",
                                            ["request: geen geldige JSON"])
    problems = [Problem("request.age", "out_of_range", "te oud"),
                Problem("request.data", "missing_field", "verplicht")]
    e = RequestError(problems)
    assert str(e) == "request.age: te oud; request.data: verplicht"
    assert e.lines() == ["request.age: te oud", "request.data: verplicht"]
    assert (e.code, e.field, e.status) == ("invalid_request", "request.age", 422)
    ruleset_problems = [RulesetProblem("widening", "r.yaml", 3, "consent.age", "verruimt"),
                        RulesetProblem("not_found", "x.yaml", None, "(bestand)", "weg")]
    e = RulesetError(ruleset_problems)
    assert e.lines() == [str(p) for p in ruleset_problems] == str(e).split("\n")
    e = WorkflowError("unknown_step", "onbekende stap 'x'")
    assert (str(e), e.code, e.field) == ("onbekende stap 'x'", "unknown_step", "step")
    e = NoStanding("refused", "too_young", "te jong", "requester")
    assert (str(e), e.kind, e.code, e.message, e.field, e.status) == (
        "requester: te jong", "refused", "too_young", "te jong", "requester", 403)
    assert NoStanding("invalid", "missing_field", "noem hem", "guardian").status == 422
