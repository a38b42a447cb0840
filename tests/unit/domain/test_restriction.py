"""A restriction of processing (AVG art. 18) as an input of the engine: `subject.restricted`
names the restricted categories, each with the id of the request that restricted it, and the
engine denies those items itself (RESTRICTED, rule avg.art18.beperking) before every check of
the contract, with the Dutch text that names the request. A request without the field is
decided as before."""

from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deelwijs.domain import codes, engine
from deelwijs.domain.contract import decide_payload
from deelwijs.domain.errors import RequestError
from deelwijs.domain.request import parse_request
from deelwijs.rules import loader

MODEL = loader.model()
TEXT = ("De verwerking van deze gegevens is beperkt op verzoek van de betrokkene (AVG art. 18, "
        "verzoek {}): ze worden niet verstrekt zolang de beperking geldt.")
ENTRY = {"title": "Beperking van de verwerking op verzoek van de betrokkene",
         "citations": {"avg": "art. 18 AVG"}}
BASE = {"kind": "disclosure", "discloser": {"party": "school"},
        "recipient": {"party": "jeugdhulp"}, "subject": {"age": 14}, "purpose": "oza",
        "data": ["gedrag", "thuissituatie"], "consent": {"parents": "given", "youth": "given"}}


def _with(restricted: dict, **changes) -> dict:
    obj = copy.deepcopy({**BASE, **changes})
    obj["subject"]["restricted"] = restricted
    return obj


def test_a_restricted_category_is_denied_by_the_engine_and_the_rest_is_decided_as_before():
    free = decide_payload({**BASE, "data": ["thuissituatie"]}, MODEL)
    answer = decide_payload(_with({"gedrag": 7}), MODEL)
    gedrag, thuissituatie = answer["items"]
    assert gedrag == {"data": "gedrag", "outcome": "deny", "reasons": ["RESTRICTED"],
                      "grounds": [], "rules": ["avg.art18.beperking"],
                      "explanation": TEXT.format(7)}
    assert thuissituatie == free["items"][0]
    assert answer["outcome"] == "partial"
    assert answer["obligations"] == free["obligations"]
    # the question and its answer as without the restricted item, then the restriction's text
    assert answer["explanation"] == f"{free['explanation']} {TEXT.format(7)}"
    assert answer["rules"] == {**free["rules"], "avg.art18.beperking": ENTRY}
    assert list(answer["rules"])[-1] == "avg.art18.beperking"


def test_only_restricted_categories_give_only_their_texts():
    answer = decide_payload(_with({"gedrag": 3, "thuissituatie": 4}), MODEL)
    assert answer["outcome"] == "deny"
    assert answer["obligations"] == []
    assert answer["explanation"] == f"{TEXT.format(3)} {TEXT.format(4)}"
    assert answer["rules"] == {"avg.art18.beperking": ENTRY}


def test_the_restriction_comes_before_every_check_and_is_traced():
    answer = decide_payload(_with({"gedrag": 5}, context={"bulk": True}), MODEL, True)
    assert [i["reasons"] for i in answer["items"]] == [["RESTRICTED"], ["BULK_REQUEST"]]
    assert answer["items"][0]["trace"] == [
        {"rule": "avg.art18.beperking", "verdict": "deny", "note": "RESTRICTED"}]
    assert answer["items"][1]["trace"][:2] == [
        {"rule": "avg.art18.beperking", "verdict": "pass"},
        {"rule": "bulk.no_bulk", "verdict": "deny", "note": "BULK_REQUEST"}]
    # without the field, the trace is as it was
    plain = decide_payload({**BASE, "context": {"bulk": True}}, MODEL, True)
    assert plain["items"][0]["trace"][0]["rule"] == "bulk.no_bulk"


def test_a_category_restricted_but_not_asked_for_changes_nothing():
    assert decide_payload(_with({"verzuim": 9}), MODEL)["items"] == \
        decide_payload(BASE, MODEL)["items"]


def test_the_memo_keeps_restrictions_apart():
    rs = loader.load_text(loader.builtin_path("voorbeeldregio").read_text(encoding="utf-8"),
                          "voorbeeldregio.yaml")  # a memo of its own
    plain = decide_payload(BASE, rs)
    restricted = decide_payload(_with({"gedrag": 1}), rs)
    other = decide_payload(_with({"gedrag": 2}), rs)
    again = decide_payload(BASE, rs)
    assert plain == again
    assert restricted["items"][0]["reasons"] == ["RESTRICTED"]
    assert other["items"][0]["explanation"] == TEXT.format(2)
    req = parse_request(_with({"gedrag": 1}), rs)
    free = parse_request(BASE, rs)
    valid, crule = engine.consent_is_valid(req, rs), engine.consent_rule_for(req.age, rs)
    assert engine.situation_key(req, rs, valid, crule) != \
        engine.situation_key(free, rs, valid, crule)


@pytest.mark.parametrize(("restricted", "path", "code"), [
    (["gedrag"], "request.subject.restricted", "wrong_type"),
    ({"gedraag": 1}, "request.subject.restricted.gedraag", "unknown_code"),
    ({"gedrag": "1"}, "request.subject.restricted.gedrag", "wrong_type"),
    ({"gedrag": True}, "request.subject.restricted.gedrag", "wrong_type"),
    ({"gedrag": 0}, "request.subject.restricted.gedrag", "out_of_range"),
])
def test_a_bad_restriction_is_bad_input_with_its_path(restricted, path, code):
    with pytest.raises(RequestError) as exc:
        decide_payload(_with(restricted), MODEL)
    assert [(p.path, p.code) for p in exc.value.problems] == [(path, code)]


# --- property: a restricted category is never allowed ----------------------------------------

PARTIES = st.sampled_from(codes.PARTIES)
REQUESTS = st.fixed_dictionaries({
    "discloser": st.fixed_dictionaries({"party": PARTIES}),
    "recipient": st.fixed_dictionaries({"party": PARTIES},
                                       optional={"domain": st.sampled_from(codes.DOMAINS)}),
    "subject": st.fixed_dictionaries({"age": st.integers(0, 30)},
                                      optional={"anonymous": st.booleans()}),
    "purpose": st.sampled_from(codes.PURPOSES),
    "data": st.lists(st.sampled_from(codes.CATEGORIES), min_size=1, unique=True),
    "consent": st.fixed_dictionaries({"parents": st.sampled_from(codes.CONSENT_ANSWERS),
                                      "youth": st.sampled_from(codes.CONSENT_ANSWERS)}),
    "exceptions": st.fixed_dictionaries({"vital_interest": st.booleans(),
                                         "legal_duty": st.booleans()}),
    "context": st.fixed_dictionaries({"bulk": st.booleans()}),
})


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(obj=REQUESTS, data=st.data())
def test_a_restricted_category_is_never_allowed(obj, data):
    restricted = data.draw(st.dictionaries(st.sampled_from(obj["data"]),
                                           st.integers(1, 10**6), min_size=1))
    obj["subject"]["restricted"] = restricted
    for explain in (False, True):
        answer = decide_payload(obj, MODEL, explain)
        for item in answer["items"]:
            if item["data"] in restricted:
                assert (item["outcome"], item["reasons"], item["rules"]) == (
                    "deny", ["RESTRICTED"], ["avg.art18.beperking"])
                assert item["explanation"] == TEXT.format(restricted[item["data"]])
        assert answer["outcome"] != "allow"
    # the other items are those of the request without the restriction
    del obj["subject"]["restricted"]
    free = {i["data"]: i for i in decide_payload(obj, MODEL)["items"]}
    for item in answer["items"]:
        if item["data"] not in restricted:
            assert {k: v for k, v in item.items() if k != "trace"} == free[item["data"]]
