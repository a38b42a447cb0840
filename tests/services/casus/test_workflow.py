"""The municipal stepwise workflow: each step recorded with date and who, no step skipped, and
the scope the resident sets drives context.help_request_domains (OUT_OF_SCOPE outside it)."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.services.helpers import outcomes, unit_of

from deelwijs.services.casus import cases
from deelwijs.services.casus import facts as stored_facts
from deelwijs.services.errors import Conflict, Refused
from deelwijs.storage import orm

DAY = dt.date(2024, 3, 1)
MULTIPLE = ("assessment", {"problems": "multiple"})
SCOPE = ("investigation", {"scope": ["jeugd", "onderwijs"], "with_resident": True})


@pytest.fixture
def youth(build) -> int:
    return build.youth()


@pytest.fixture
def flow(app, build, youth) -> int:
    with app.transaction() as s:
        return cases.open_workflow(unit_of(app, s, by=build.pro("dave")),
                                   s.get(orm.Region, build.w.region_id),
                                   s.get(orm.Youth, youth)).id


def step(app, build, flow: int, name: str, details: dict | None = None,
         on: dt.date = DAY, who: str = "dave", expected: int | None = None) -> dict:
    with app.transaction() as s:
        if expected is None:
            expected = s.get(orm.Workflow, flow).version
        row = cases.take_step(unit_of(app, s, by=build.pro(who)), flow, expected, name,
                              details or {},
                              on)
        return cases.workflow_view(s, row)


def view(app, flow: int) -> dict:
    with app.transaction() as s:
        return cases.workflow_view(s, s.get(orm.Workflow, flow))


def test_skipping_a_step_is_refused_and_nothing_is_written(app, build, flow):
    before = build.counts()
    with pytest.raises(Refused) as refused:
        step(app, build, flow, *MULTIPLE)
    assert (refused.value.code, refused.value.field) == ("step_out_of_order", "step")
    assert "eerst: intake" in refused.value.message
    assert build.counts() == before
    assert (view(app, flow)["state"], view(app, flow)["version"]) == ("new", 1)

    step(app, build, flow, "intake")
    with pytest.raises(Refused) as skipped:
        step(app, build, flow, *SCOPE)  # the assessment comes first
    assert skipped.value.code == "step_out_of_order"
    assert "eerst: assessment" in skipped.value.message
    assert [s["step"] for s in view(app, flow)["steps"]] == ["intake"]


def test_every_step_is_recorded_with_its_date_and_who_took_it(app, build, flow):
    step(app, build, flow, "intake", on=dt.date(2024, 3, 1), who="dave")
    step(app, build, flow, *MULTIPLE, on=dt.date(2024, 3, 4), who="dave")
    step(app, build, flow, *SCOPE, on=dt.date(2024, 3, 11), who="bob")
    step(app, build, flow, "proposal", {"note": "aanpak met wijkteam"}, on=dt.date(2024, 3, 18))
    step(app, build, flow, "decision", {"outcome": "accepted"}, on=dt.date(2024, 3, 25))
    final = step(app, build, flow, "coordinator",
                 {"coordination": "licht", "coordinator_id": build.pro("bob")},
                 on=dt.date(2024, 3, 26))
    assert [(s["step"], s["on"], s["by"]) for s in final["steps"]] == [
        ("intake", "2024-03-01", build.pro("dave")),
        ("assessment", "2024-03-04", build.pro("dave")),
        ("investigation", "2024-03-11", build.pro("bob")),
        ("proposal", "2024-03-18", build.pro("dave")),
        ("decision", "2024-03-25", build.pro("dave")),
        ("coordinator", "2024-03-26", build.pro("dave"))]
    assert final["steps"][2]["details"] == {"scope": ["jeugd", "onderwijs"],
                                            "with_resident": True}
    assert final["steps"][3]["details"] == {"note": "aanpak met wijkteam"}  # decrypted
    assert final["steps"][5]["details"]["coordinator"] == "Bob Jansen"
    assert (final["state"], final["coordination"], final["next"], final["version"]) == (
        "coordinator", "licht", [], 7)


def test_single_problems_close_the_workflow(app, build, flow, youth):
    step(app, build, flow, "intake")
    closed = step(app, build, flow, "assessment", {"problems": "single"})
    assert (closed["state"], closed["next"]) == ("single", [])
    with pytest.raises(Refused) as refused:
        step(app, build, flow, *SCOPE)
    assert refused.value.code == "workflow_closed"
    assert "afgerond" in refused.value.message
    with app.transaction() as s:
        assert stored_facts.help_request_domains(s, youth) is None


def test_a_resident_who_declines_the_proposal_closes_the_workflow(app, build, flow):
    for name, details in (("intake", {}), MULTIPLE, SCOPE, ("proposal", {})):
        step(app, build, flow, name, details)
    assert step(app, build, flow, "decision", {"outcome": "declined"})["state"] == "declined"
    with pytest.raises(Refused) as refused:
        step(app, build, flow, "coordinator",
             {"coordination": "zwaar", "coordinator_id": build.pro("dave")})
    assert refused.value.code == "workflow_closed"


@pytest.mark.parametrize("details", [
    {"scope": ["jeugd"]},
    {"scope": [], "with_resident": True},
    {"scope": ["jeugd", "verkeer"], "with_resident": True},
], ids=["without the resident", "an empty scope", "an unknown domain"])
def test_an_investigation_without_the_resident_or_a_valid_scope_is_refused(app, build, flow,
                                                                           details):
    step(app, build, flow, "intake")
    step(app, build, flow, *MULTIPLE)
    before = build.counts()
    with pytest.raises(Refused) as refused:
        step(app, build, flow, "investigation", details)
    assert refused.value.code == "invalid_details"
    assert build.counts() == before


def test_a_step_taken_on_a_stale_version_is_a_conflict(app, build, flow):
    step(app, build, flow, "intake", expected=1)
    with pytest.raises(Conflict) as conflict:
        step(app, build, flow, *MULTIPLE, expected=1)
    assert "intussen gewijzigd" in conflict.value.message
    assert [s["step"] for s in view(app, flow)["steps"]] == ["intake"]


def test_the_residents_scope_becomes_the_help_request_domains_and_bounds_disclosure(
        app, build, flow, youth):
    case = build.case("gecoordineerde_aanpak", creator="dave", youth_id=youth,
                      participants=("school", "gemeente", "gemeente_schulden", "jeugdhulp"))
    cats = ["identificatie", "thuissituatie"]

    # before the resident set the scope: no domains, so nothing is in scope
    step(app, build, flow, "intake")
    step(app, build, flow, *MULTIPLE)
    assert "help_request_domains" not in build.facts("alice", "gemeente", cats, DAY,
                                                     case_id=case)[0]["context"]
    assert outcomes(build.decide("alice", "gemeente", cats, DAY, case_id=case)) == {
        c: ("deny", ["OUT_OF_SCOPE"]) for c in cats}

    step(app, build, flow, *SCOPE)
    with app.transaction() as s:
        assert stored_facts.help_request_domains(s, youth) == ["jeugd", "onderwijs"]
    facts = build.facts("alice", "gemeente", cats, DAY, case_id=case)
    assert facts[0]["context"]["help_request_domains"] == ["jeugd", "onderwijs"]
    assert facts[0]["recipient"] == {"party": "gemeente", "domain": "jeugd"}

    # the municipality's debt-relief team acts in a domain outside the request for help
    assert outcomes(build.decide("alice", "gemeente_schulden", cats, DAY, case_id=case)) == {
        c: ("deny", ["OUT_OF_SCOPE"]) for c in cats}
    # inside the scope the school shares on the public task
    assert outcomes(build.decide("alice", "gemeente", cats, DAY, case_id=case)) == {
        c: ("allow", ["PUBLIC_TASK"]) for c in cats}


def test_inside_the_scope_only_the_right_discloser_shares_with_the_municipality(
        app, build, flow, youth):
    case = build.case("gecoordineerde_aanpak", creator="dave", youth_id=youth,
                      participants=("gemeente", "jeugdhulp"))
    for name, details in (("intake", {}), MULTIPLE, SCOPE):
        step(app, build, flow, name, details)
    build.parents_consent(youth, purposes=["gecoordineerde_aanpak"],
                          categories=["thuissituatie"], given_on=dt.date(2024, 2, 1))
    # bob in his access role acts for the municipality: public task
    assert outcomes(build.decide("bob", "gemeente", ["thuissituatie"], DAY, case_id=case,
                                 hat="toeleiding")) == {
        "thuissituatie": ("allow", ["PUBLIC_TASK"])}
    # bob as care provider is bound by secrecy; the parents' consent lifts it, and the college
    # receives on its own public task (contract 1.1, rule 8)
    assert outcomes(build.decide("bob", "gemeente", ["thuissituatie"], DAY, case_id=case,
                                 hat="hulpverlening")) == {
        "thuissituatie": ("allow", ["CONSENT", "PUBLIC_TASK"])}
    # without that consent (gedrag was not consented to) his secrecy holds
    assert outcomes(build.decide("bob", "gemeente", ["gedrag"], DAY, case_id=case,
                                 hat="hulpverlening")) == {
        "gedrag": ("deny", ["PROFESSIONAL_SECRECY"])}


def test_without_a_workflow_toeleiding_is_scoped_to_youth_care(build, youth):
    case = build.case("toeleiding", creator="dave", youth_id=youth,
                      participants=("school", "gemeente", "gemeente_schulden"))
    assert outcomes(build.decide("alice", "gemeente", ["identificatie"], DAY,
                                 case_id=case)) == {"identificatie": ("allow", ["PUBLIC_TASK"])}
    assert outcomes(build.decide("alice", "gemeente_schulden", ["identificatie"], DAY,
                                 case_id=case)) == {"identificatie": ("deny", ["OUT_OF_SCOPE"])}
