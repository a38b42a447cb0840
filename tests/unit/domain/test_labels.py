"""The Dutch words for the codes (domain/labels.py): every table covers exactly the codes of its
concept, where Deelwijs has that list (domain/codes.py, or the dataclass whose fields it
names), so a new code cannot go out without its words; and no table repeats another."""

from __future__ import annotations

import dataclasses

import pytest

from deelwijs.domain import codes, exceptions, labels, ruleset, workflow
from deelwijs.domain.engine import required_consenters
from deelwijs.rules import loader, show
from deelwijs.services.casus import disclosures
from deelwijs.services.log import audit, breaches
from deelwijs.services.rights import requests


def _fields(*classes) -> set[str]:
    return {f.name for cls in classes for f in dataclasses.fields(cls)}


def _tables() -> dict[str, object]:
    return {name: value for name, value in vars(labels).items()
            if name.isupper() and not name.startswith("_")}


# table → the codes its keys must be (exactly)
EXACT = {
    "GROUND_CITED": set(codes.GROUNDS),
    "GROUND_NAME": set(codes.GROUNDS),
    "REASON_PHRASE": set(codes.REASONS),
    "ROUTE_SHORT": set(codes.ROUTES),
    "ROUTE_PHRASE": {*codes.ROUTES, "system"},  # "system": Deelwijs's own activities
    "ROUTE_HEADING": set(codes.ROUTES),
    "PARTY_KIND_SHORT": set(codes.PARTY_KINDS),
    "PARTY_KIND_EVERY": set(codes.PARTY_KINDS),
    "MEMBERSHIP_SHORT": set(codes.COVENANT_MEMBERSHIP),
    "MEMBERSHIP_CONDITION": set(codes.COVENANT_MEMBERSHIP),
    "PURPOSE_AIM": set(codes.PURPOSES),
    "EDUCATION_STATUS_ADJECTIVE": set(codes.EDUCATION_STATUSES),
    "CONSENT_ANSWER": set(codes.CONSENT_ANSWERS),
    "WORKFLOW_STATE": set(workflow.NEXT),
    "WEIGHING_KIND": set(exceptions.KINDS),
    "OBLIGATION_INSTRUCTION": set(codes.OBLIGATIONS),
    "RECORD_AND_START": set(codes.RECORDS),
    "HAT_CHOICE": set(codes.HATS),
    "TASK_CHOICE": set(codes.TASKS),
    "ROUTE_FIELD": _fields(ruleset.Route),
    "ABSENCE_FIELD": _fields(ruleset.AbsenceRule),
    "CONSENT_FIELD": _fields(ruleset.ConsentRule),
    # what a diff compares: every field of a ruleset but its header and the whole-file ones
    "RULESET_SECTION": _fields(ruleset.Ruleset) - show.NOT_DIFFED,
    "CONSENTER": {who for age in range(31) for who in required_consenters(age, loader.model())},
    "COVENANT_ARTICLE_TITLE": set(range(1, 22)),
    "VNG_GROUND": set("abcdef"),  # the letters of art. 6 lid 1 AVG
    "RIGHTS_REQUEST_KIND": set(requests.KINDS),
    "RIGHTS_REQUEST_DECISION": {*requests.HONOURED, "afgewezen"},
    "RECTIFIABLE_FIELD": set(requests.FIELDS),
    "DISCLOSURE_KIND_WHERE": set(disclosures.KINDS),
    "BREACH_RISK": set(breaches.RISKS),
}
# table → codes its keys are among (only some of them have these words)
AMONG = {
    "GROUND_AVG_ARTICLE": set(codes.GROUNDS),
    "RULE_FIELD": _fields(ruleset.Rule, ruleset.Citations),
    "PARTY_FIELD": _fields(ruleset.Party),
    # an action without its plain words (rekey) is shown by its actieNaam
    "LOG_ACTION_PLAIN": set(audit.ACTIONS),
}
# tables whose keys no code list of Deelwijs holds, with what they are keyed by
NO_CODE_LIST = {
    "ROLE_PLURAL": "the register's roles of data subjects",
    "ABSENCE_DUTY": "the engine's duty of an absence report",
    "RETENTION_TERM": "a ruleset retention's term (minimum | maximum)",
    "OUTCOME_VERDICT": "the engine's outcome (allow | deny | partial)",
    "JSON_ERROR": "Python's JSON error messages",
    "INFORM_MELDCODE_INSTRUCTION": "one text: INFORM_DATA_SUBJECT on the meldrecht",
    "MONTHS": "the months, in order",
    "CONSENT_STATE": "a consent version's answer (given | refused | withdrawn), for the inzage",
    "LOG_HANDELING_PLAIN": "a log entry's handelingNaam, where it says more than its action",
    "RETENTION_BASIS": "what a retention term runs from (retention.py)",
}


def test_every_table_is_checked_here():
    assert set(_tables()) == set(EXACT) | set(AMONG) | set(NO_CODE_LIST)


@pytest.mark.parametrize("name", sorted(EXACT))
def test_a_table_has_words_for_every_code_of_its_concept_and_no_other(name):
    assert set(getattr(labels, name)) == EXACT[name]


@pytest.mark.parametrize("name", sorted(AMONG))
def test_a_partial_table_names_only_codes_of_its_concept(name):
    assert set(getattr(labels, name)) <= AMONG[name]


def test_the_tables_the_wizard_lists_keep_the_order_of_the_codes():
    assert list(labels.ROUTE_HEADING) == list(codes.ROUTES)
    assert list(labels.HAT_CHOICE) == list(codes.HATS)
    assert list(labels.CONSENT_ANSWER) == list(codes.CONSENT_ANSWERS)


def test_the_words_are_text():
    for name, table in _tables().items():
        values = table.values() if isinstance(table, dict) else [table]
        for value in values:
            parts = value if isinstance(value, tuple) else (value,)
            assert all(isinstance(p, str) for p in parts), name
    assert len(labels.MONTHS) == 12


def test_no_two_tables_are_the_same():
    tables = _tables()
    names = sorted(tables)
    same = [(a, b) for i, a in enumerate(names) for b in names[i + 1:]
            if tables[a] == tables[b]]
    assert same == []
