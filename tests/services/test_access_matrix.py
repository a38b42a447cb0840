"""Need to know in the service layer (issue 13): every persona × the use cases the issue names,
each allowed or refused with its exact error, and ids of records that are not the actor's to
know (another organisation's case or disclosure, another child) answered as an unknown id
would be (IDOR: 404, the same message, no hint and no record).

The personas: the operator (`Actor.admin()`, the CLI without an account), an administrator's
account of the region and one of another region, the region's FG, Alice (school board: the
youth's school, in the case), Dave (municipality: not in the case, not the youth's school),
Sam (a sports club: not a covenant party), a parent with and one without gezag, and a youth
account under and one from the age at which the region's ruleset lets a youth ask (the ages
are read from the ruleset in force, not written down here). Accounts are made with
services.accounts.create and turned into Actors with accounts.actor_for.

Every call runs in a transaction that is rolled back, so each cell sees the same world.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from deelwijs.services import accounts, rulesets
from deelwijs.services.casus import cases, consent, disclosures, youths
from deelwijs.services.context import Actor, Unit, actor_of
from deelwijs.services.covenant import registry
from deelwijs.services.errors import Invalid, NotFound, Refused, ServiceError
from deelwijs.services.log import audit, breaches
from deelwijs.services.rights import requests as rights
from deelwijs.storage import orm

from .helpers import TODAY, unit_of

DAY = dt.date(2026, 2, 2)  # the disclosure's day
FOUND = dt.datetime(2026, 2, 3, 9, 0)  # the breach's discovery


@dataclass
class Matrix:
    region: int
    elders: int
    sem: int  # the youth of the case: old enough to ask on their own, parents still may
    young: int  # a youth too young to ask on their own
    mother: int  # Sem's mother, with gezag
    father: int  # Sem's father, without gezag
    case: int
    disclosure: int
    breach: int
    actors: dict[str, Actor]
    own: dict[str, int]  # the youth each persona's inzage is about


def _birth(years: int) -> dt.date:
    """A date of birth that makes a youth `years` old on TODAY."""
    return dt.date(TODAY.year - years, TODAY.month, 1)


@pytest.fixture
def m(app, build) -> Matrix:
    with app.transaction() as s:
        ages = rulesets.in_force(s, build.w.region_id, TODAY).consent
    sem = build.youth(birth=_birth(ages.youth_and_parents_from + 1), guardians=(
        {"name": "Fatima de Vries", "relation": "moeder", "gezag": True},
        {"name": "Daan de Vries", "relation": "vader", "gezag": False}))
    young = build.youth(birth=_birth(ages.youth_and_parents_from - 1), name="Lotte Bos")
    mother, father = build.guardians(sem)
    case = build.case("oza", participants=("leerplicht", "swv"), creator="alice", youth_id=sem)
    disclosure = build.disclose("alice", "leerplicht", {"verzuim": "Drie dagen afwezig"}, DAY,
                                case_id=case)
    with app.transaction() as s:
        op = unit_of(app, s)
        region = s.get(orm.Region, build.w.region_id)
        elders = registry.create_region(op, "elders", "Elders")
        club = registry.create_organisation(op, region, "derde", "Sportvereniging De Sprinters")
        sam = registry.create_professional(op, club, "Sam Kok", "trainer")
        breach = breaches.record_breach(
            unit_of(app, s, by=build.pro("alice")), region=region,
            organisation_id=build.org("school"), discovered_at=FOUND,
            description="Een verslag ging naar de verkeerde ouder.",
            categories=["identificatie"], risk="risico", youth_ids=[sem]).id

        def account(name: str, kind: str, **kw) -> Actor:
            row = accounts.create(op, username=name, display_name=name, kind=kind, **kw)
            return accounts.actor_for(s, row)

        actors = {
            "operator": Actor.admin(),
            "admin": account("beheer.test", "admin", region_id=region.id),
            "admin_elders": account("beheer.elders", "admin", region_id=elders.id),
            "fg": account("fg.test", "fg", region_id=region.id),
            "participant": actor_of(s, build.pro("alice")),
            "other_org": actor_of(s, build.pro("dave")),
            "sports_club": actor_of(s, sam.id),
            "parent_gezag": account("moeder", "parent", guardian_id=mother),
            "parent_no_gezag": account("vader", "parent", guardian_id=father),
            "youth_too_young": account("lotte", "youth", youth_id=young),
            "youth_old_enough": account("sem", "youth", youth_id=sem),
        }
        return Matrix(region.id, elders.id, sem, young, mother, father, case, disclosure,
                      breach, actors, {k: young if k == "youth_too_young" else sem
                                       for k in actors})


class _Rollback(Exception):
    pass


def attempt(app, actor: Actor, call) -> str | tuple[str, str]:
    """'ok', or (the error's class, its code); whatever the call wrote is rolled back."""
    try:
        with app.transaction() as s:
            call(Unit(app, s, actor, TODAY), s)
            raise _Rollback
    except _Rollback:
        return "ok"
    except ServiceError as exc:
        return (type(exc).__name__, exc.code)


def _region(s, m):
    return s.get(orm.Region, m.region)


USE_CASES = {
    "read a youth's record": lambda u, s, m, who: youths.read_youth(u, m.sem),
    "read the consent history": lambda u, s, m, who: consent.history(u, m.sem),
    "list a youth's disclosures": lambda u, s, m, who: disclosures.list_for_youth(u, m.sem),
    "read a disclosure's contents": lambda u, s, m, who: disclosures.read(
        u, s.get(orm.Disclosure, m.disclosure)),
    "read a case": lambda u, s, m, who: cases.read_case(u, m.case),
    "list the region's cases": lambda u, s, m, who: cases.list_cases(u, _region(s, m)),
    "open a case": lambda u, s, m, who: cases.open_case(
        u, None, _region(s, m), "Zorgen over aanwezigheid", "oza",
        [s.scalar(select(orm.Organisation.id).where(orm.Organisation.party == "leerplicht"))],
        TODAY, youth=m.sem),
    "open a municipal workflow": lambda u, s, m, who: cases.open_workflow(u, None, m.sem),
    "correct a youth's name": lambda u, s, m, who: rights.rectify(
        u, m.sem, "name", "Sem Jansen", requester="parent", guardian_id=m.mother),
    "record a breach of the school": lambda u, s, m, who: breaches.record_breach(
        u, region=m.region, organisation_id=s.get(orm.Youth, m.sem).school_id,
        discovered_at=FOUND, description="Een lijst lag open op het bureau.",
        categories=["identificatie"], risk="onwaarschijnlijk", youth_ids=[]),
    "list the breaches": lambda u, s, m, who: breaches.list_breaches(u),
    "read the processing log about a youth": lambda u, s, m, who: audit.entries_for_youth(
        u, m.sem),
    "the inzage of one's own child": lambda u, s, m, who: rights.inzage(
        u, m.own[who], requester="parent",
        guardian_id=m.mother if m.own[who] == m.sem else youths.get_youth(
            s, m.own[who]).guardians[0].id),
    "create an organisation": lambda u, s, m, who: registry.create_organisation(
        u, _region(s, m), "derde", "Muziekschool Forte"),
}

OK = "ok"
NO_CASE = ("Refused", "no_case_content")
NO_YOUTH = ("Refused", "no_youth_data")
UNKNOWN = ("NotFound", "not_found")
PRO_ONLY = ("Refused", "professional_only")
NOT_PRO = ("Invalid", "professional_required")  # the operator: unchanged
FG_OR_ADMIN = ("Refused", "fg_or_admin_only")
ADMIN_ONLY = ("Refused", "admin_only")
NO_GEZAG = ("Refused", "no_gezag")
TOO_YOUNG = ("Refused", "too_young")
OTHER_ORG = ("Refused", "other_organisation")

PERSONAS = ("operator", "admin", "admin_elders", "fg", "participant", "other_org",
            "sports_club", "parent_gezag", "parent_no_gezag", "youth_too_young",
            "youth_old_enough")

# one row per use case, one column per persona (in the order of PERSONAS)
EXPECTED = {
    "read a youth's record":
        (OK, NO_YOUTH, NO_YOUTH, NO_YOUTH, OK, UNKNOWN, UNKNOWN, OK, NO_GEZAG, UNKNOWN, OK),
    "read the consent history":
        (OK, NO_YOUTH, NO_YOUTH, NO_YOUTH, OK, UNKNOWN, UNKNOWN, OK, NO_GEZAG, UNKNOWN, OK),
    "list a youth's disclosures":
        (OK, NO_YOUTH, NO_YOUTH, NO_YOUTH, OK, UNKNOWN, UNKNOWN, OK, NO_GEZAG, UNKNOWN, OK),
    "read a disclosure's contents":
        (OK, NO_YOUTH, NO_YOUTH, NO_YOUTH, OK, UNKNOWN, UNKNOWN, OK, NO_GEZAG, UNKNOWN, OK),
    "read a case":
        (OK, NO_CASE, NO_CASE, NO_CASE, OK, UNKNOWN, UNKNOWN, NO_CASE, NO_CASE, NO_CASE,
         NO_CASE),
    "list the region's cases":
        (OK, NO_CASE, NO_CASE, NO_CASE, OK, OK, OK, NO_CASE, NO_CASE, NO_CASE, NO_CASE),
    "open a case":
        (NOT_PRO, PRO_ONLY, PRO_ONLY, PRO_ONLY, OK, OK, ("Refused", "not_a_party"), PRO_ONLY,
         PRO_ONLY, PRO_ONLY, PRO_ONLY),
    "open a municipal workflow":
        (NOT_PRO, PRO_ONLY, PRO_ONLY, PRO_ONLY, ("Refused", "not_municipal"), OK,
         ("Refused", "not_municipal"), PRO_ONLY, PRO_ONLY, PRO_ONLY, PRO_ONLY),
    "correct a youth's name":
        (NOT_PRO, NO_YOUTH, NO_YOUTH, NO_YOUTH, OK, UNKNOWN, UNKNOWN, PRO_ONLY, PRO_ONLY,
         PRO_ONLY, PRO_ONLY),
    "record a breach of the school":
        (NOT_PRO, PRO_ONLY, PRO_ONLY, PRO_ONLY, OK, OTHER_ORG, OTHER_ORG, PRO_ONLY, PRO_ONLY,
         PRO_ONLY, PRO_ONLY),
    "list the breaches":
        (OK, OK, OK, OK, OK, OK, OK, FG_OR_ADMIN, FG_OR_ADMIN, FG_OR_ADMIN, FG_OR_ADMIN),
    "read the processing log about a youth":
        (OK, OK, OK, OK, FG_OR_ADMIN, FG_OR_ADMIN, FG_OR_ADMIN, FG_OR_ADMIN, FG_OR_ADMIN,
         FG_OR_ADMIN, FG_OR_ADMIN),
    "the inzage of one's own child":
        (OK, NO_YOUTH, NO_YOUTH, NO_YOUTH, OK, UNKNOWN, UNKNOWN, OK, NO_GEZAG, TOO_YOUNG, OK),
    "create an organisation":
        (OK, OK, ("Refused", "other_region"), ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY,
         ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY, ADMIN_ONLY),
}


def test_the_matrix_names_every_use_case_and_every_persona():
    assert set(EXPECTED) == set(USE_CASES)
    assert all(len(row) == len(PERSONAS) for row in EXPECTED.values())


@pytest.mark.parametrize("use_case", list(USE_CASES))
def test_each_persona_is_allowed_or_refused_with_the_exact_error(app, m, use_case):
    call = USE_CASES[use_case]
    got = {who: attempt(app, m.actors[who], lambda u, s, who=who: call(u, s, m, who))
           for who in PERSONAS}
    assert got == dict(zip(PERSONAS, EXPECTED[use_case], strict=True))


# --- IDOR: another organisation's records, another child -----------------------------------


def _error(app, actor: Actor, call) -> ServiceError:
    with pytest.raises(ServiceError) as exc, app.transaction() as s:
        call(Unit(app, s, actor, TODAY), s)
    return exc.value


def _same_as_unknown(app, m, actor: Actor, call, unknown_call) -> NotFound:
    """The refusal of a record that exists is exactly the answer to an id that does not."""
    hidden, missing = _error(app, actor, call), _error(app, actor, unknown_call)
    assert isinstance(hidden, NotFound) and isinstance(missing, NotFound)
    assert (hidden.code, hidden.field) == (missing.code, missing.field) == ("not_found",
                                                                            hidden.field)
    return hidden


def test_a_case_and_its_meeting_of_another_organisation_answer_as_unknown_ids(app, m, build):
    dave = m.actors["other_org"]
    meeting = build.meeting(m.case, DAY, participants=("alice",))
    with app.transaction() as s:
        item = s.scalar(select(orm.AgendaItem.id).where(orm.AgendaItem.meeting_id == meeting))
    before = build.counts()
    hidden = _same_as_unknown(app, m, dave, lambda u, s: cases.read_case(u, m.case),
                              lambda u, s: cases.read_case(u, 987654))
    assert (hidden.field, hidden.message) == ("case", f"onbekende casus ({m.case})")
    hidden = _error(app, dave, lambda u, s: cases.write_minute(u, item, "Notitie."))
    assert (type(hidden), hidden.field, hidden.message) == (
        NotFound, "agenda_item", f"onbekend agendapunt ({item})")
    hidden = _error(app, dave, lambda u, s: cases.update_meeting(u, meeting, 1,
                                                                 agenda=["Opening"]))
    assert (type(hidden), hidden.field, hidden.message) == (
        NotFound, "meeting", f"onbekend overleg ({meeting})")
    hidden = _error(app, dave, lambda u, s: cases.close_case(u, m.case, 1))
    assert (type(hidden), hidden.message) == (NotFound, f"onbekende casus ({m.case})")
    assert build.counts() == before  # nothing written, not even a log entry


def test_a_youth_and_a_disclosure_another_organisation_does_not_know_answer_as_unknown(
        app, m, build):
    dave, sam = m.actors["other_org"], m.actors["sports_club"]
    before = build.counts()
    for actor in (dave, sam):
        hidden = _same_as_unknown(app, m, actor, lambda u, s: youths.read_youth(u, m.sem),
                                  lambda u, s: youths.read_youth(u, 987654))
        assert hidden.message == f"onbekende jongere ({m.sem})"
        hidden = _error(app, actor, lambda u, s: disclosures.read(
            u, s.get(orm.Disclosure, m.disclosure)))
        assert (type(hidden), hidden.field, hidden.message) == (
            NotFound, "disclosure", f"onbekende verstrekking ({m.disclosure})")
        hidden = _error(app, actor, lambda u, s: rights.rectify(
            u, m.sem, "name", "Sem Jansen", requester="parent", guardian_id=m.mother))
        assert (type(hidden), hidden.message) == (NotFound, f"onbekende jongere ({m.sem})")
        hidden = _error(app, actor, lambda u, s: breaches.get_breach(u, m.breach))
        assert (type(hidden), hidden.message) == (NotFound, f"onbekend datalek ({m.breach})")
    assert build.counts() == before


def test_a_youth_of_another_region_is_unknown_to_a_disclosure_without_a_case(app, m, build):
    """Asking whether to share, or sharing, about a youth outside a case: a youth of another
    region answers exactly as an id that does not exist, before any of their facts are read,
    and nothing is written."""
    with app.transaction() as s:
        op = unit_of(app, s)
        elders = s.get(orm.Region, m.elders)
        school = registry.create_organisation(op, elders, "school", "Elders College")
        leerplicht = registry.create_organisation(op, elders, "leerplicht", "Leerplicht Elders")
        eva = actor_of(s, registry.create_professional(op, school, "Eva Elders", "ib").id)
        to = leerplicht.id
    before = build.counts()
    for ask in (lambda y: lambda u, s: disclosures.decide_stored(
                    u, to_org_id=to, categories=["verzuim"], day=DAY, youth_id=y,
                    purpose="verzuimmelding"),
                lambda y: lambda u, s: disclosures.record(
                    u, to_org_id=to, contents={"verzuim": "Drie dagen afwezig"}, day=DAY,
                    youth_id=y, purpose="verzuimmelding")):
        hidden = _same_as_unknown(app, m, eva, ask(m.sem), ask(987654))
        assert (hidden.field, hidden.message) == ("youth", f"onbekende jongere ({m.sem})")
    assert build.counts() == before


def test_a_parent_sees_only_their_own_child_and_another_child_is_unknown(app, m, build):
    mother = m.actors["parent_gezag"]
    with app.transaction() as s:
        assert rights.inzage(Unit(app, s, mother, TODAY), m.sem, requester="parent")
        assert youths.read_youth(Unit(app, s, mother, TODAY), m.sem)["id"] == m.sem
    for call in (lambda u, s: rights.inzage(u, m.young, requester="parent"),
                 lambda u, s: youths.read_youth(u, m.young),
                 lambda u, s: consent.history(u, m.young),
                 lambda u, s: disclosures.list_for_youth(u, m.young)):
        hidden = _same_as_unknown(app, m, mother, call,
                                  lambda u, s: youths.read_youth(u, 987654))
        assert hidden.message == f"onbekende jongere ({m.young})"


def test_a_parent_s_inzage_is_recorded_as_theirs_whatever_they_claim(app, m):
    """The account decides who asks: a parent's claim to ask as the youth (or with another
    guardian, or with the youth's agreement) does not count."""
    with app.transaction() as s:
        rights.inzage(Unit(app, s, m.actors["parent_gezag"], TODAY), m.sem,
                      requester="youth", guardian_id=m.father, youth_agrees=True)
        row = s.scalars(select(orm.RightsRequest).order_by(orm.RightsRequest.id.desc())).first()
        assert (row.requester, row.guardian_id, row.scope["youth_agrees"]) == (
            "parent", m.mother, False)


def test_a_parent_with_gezag_is_refused_once_the_youth_decides_alone(app, build):
    """From the age the ruleset in force names (youth_alone_from), the youth decides: the
    parent's account no longer opens the child's data."""
    with app.transaction() as s:
        ages = rulesets.in_force(s, build.w.region_id, TODAY).consent
    older = build.youth(birth=_birth(ages.youth_alone_from), name="Noor Visser")
    guardian = build.guardians(older)[0]
    with app.transaction() as s:
        parent = accounts.actor_for(s, accounts.create(
            unit_of(app, s), username="ouder.noor", display_name="Ouder", kind="parent",
            guardian_id=guardian))
    with pytest.raises(Refused) as refused, app.transaction() as s:
        youths.read_youth(Unit(app, s, parent, TODAY), older)
    assert (refused.value.code, refused.value.field) == ("youth_decides", "by")


# --- what each may see of a list -----------------------------------------------------------


def test_a_professional_lists_only_the_youths_cases_and_breaches_of_their_organisation(
        app, m, build):
    with app.transaction() as s:
        region = s.get(orm.Region, m.region)
        seen = {}
        for who in ("operator", "participant", "other_org", "sports_club"):
            u = Unit(app, s, m.actors[who], TODAY)
            seen[who] = ({y["id"] for y in youths.list_youths(u, region)},
                         [c["id"] for c in cases.list_cases(u, region)],
                         [b.id for b in breaches.list_breaches(u)])
        for who in ("admin", "admin_elders", "fg"):
            seen[who] = [b.id for b in breaches.list_breaches(Unit(app, s, m.actors[who],
                                                                   TODAY))]
    assert seen["operator"] == ({m.sem, m.young}, [m.case], [m.breach])
    assert seen["participant"] == ({m.sem, m.young}, [m.case], [m.breach])  # their school
    assert seen["other_org"] == (set(), [], [])
    assert seen["sports_club"] == (set(), [], [])
    assert (seen["admin"], seen["admin_elders"], seen["fg"]) == ([m.breach], [], [m.breach])


def test_the_fg_reads_the_log_of_its_own_region_only(app, m, build):
    with app.transaction() as s:
        youths.read_youth(unit_of(app, s), m.sem)  # at least one entry about Sem
    with app.transaction() as s:
        mine = audit.entries_for_youth(Unit(app, s, m.actors["fg"], TODAY), m.sem)
        elders = audit.entries_for_youth(Unit(app, s, m.actors["admin_elders"], TODAY), m.sem)
        keys = audit.verifier_keys(Unit(app, s, m.actors["fg"], TODAY))
    assert mine and all(e.region_id == m.region for e in mine)
    assert elders == []
    assert len(keys) == 1  # its own region's key only
    with pytest.raises(Refused) as refused, app.transaction() as s:
        audit.verifier_keys(Unit(app, s, m.actors["fg"], TODAY), m.elders)
    assert refused.value.code == "other_region"


# --- every read of personal data is logged -------------------------------------------------


def _log_size(app) -> int:
    with app.transaction() as s:
        return s.scalar(select(func.count()).select_from(orm.LogEntry))


@pytest.mark.parametrize("read", [
    "read a youth's record", "read the consent history", "list a youth's disclosures",
    "read a disclosure's contents", "read a case"])
def test_every_read_of_personal_data_writes_one_entry_and_a_refused_one_none(app, m, build,
                                                                          read):
    build.consent(m.sem, "youth", given_on=DAY)  # a consent to read in the history
    call = USE_CASES[read]
    before = _log_size(app)
    with app.transaction() as s:
        call(Unit(app, s, m.actors["participant"], TODAY), s, m, "participant")
    assert _log_size(app) == before + 1
    with app.transaction() as s:
        alice = s.get(orm.Professional, build.pro("alice"))
        newest = s.scalars(select(orm.LogEntry).order_by(orm.LogEntry.id.desc())).first()
        body = audit.body_of(newest)
        assert (body["actie"], body["gebruiker"]) == ("read", alice.pseudonym)
        assert newest.subject == app.keys.subject(m.sem)
    with pytest.raises((NotFound, Refused, Invalid)), app.transaction() as s:
        call(Unit(app, s, m.actors["other_org"], TODAY), s, m, "other_org")
    assert _log_size(app) == before + 1


# --- the municipal workflow ---------------------------------------------------------------


def test_a_workflow_is_read_by_the_organisation_that_runs_it_and_the_read_is_logged(
        app, m, build):
    with app.transaction() as s:
        flow = cases.open_workflow(unit_of(app, s, by=build.pro("dave")), None, m.sem).id
        cases.take_step(unit_of(app, s, by=build.pro("dave")), flow, 1, "intake",
                        {"note": "Moeder belde over de schulden"}, DAY)
    before = _log_size(app)
    with app.transaction() as s:
        view = cases.read_workflow(unit_of(app, s, by=build.pro("dave")), flow)
    assert view["steps"][0]["details"]["note"] == "Moeder belde over de schulden"
    assert _log_size(app) == before + 1
    with app.transaction() as s:
        bob = actor_of(s, build.pro("bob"))
    outcomes = {who: attempt(app, actor, lambda u, s: cases.read_workflow(u, flow))
                for who, actor in (("operator", m.actors["operator"]), ("wijkteam", bob),
                                   ("school", m.actors["participant"]),
                                   ("sports_club", m.actors["sports_club"]),
                                   ("fg", m.actors["fg"]),
                                   ("parent", m.actors["parent_gezag"]))}
    assert outcomes == {"operator": OK, "wijkteam": UNKNOWN,
                        "school": ("Refused", "not_municipal"),
                        "sports_club": ("Refused", "not_municipal"),
                        "fg": PRO_ONLY, "parent": PRO_ONLY}
    hidden = _error(app, bob, lambda u, s: cases.read_workflow(u, flow))
    assert (hidden.field, hidden.message) == ("workflow", f"onbekend werkproces ({flow})")


def test_only_the_operator_or_an_administrator_of_every_region_creates_a_region(app, m):
    with app.transaction() as s:
        everywhere = accounts.actor_for(s, accounts.create(
            unit_of(app, s), username="beheer.alles", display_name="Beheer", kind="admin"))
    call = lambda u, s: registry.create_region(u, "noord", "Noord")  # noqa: E731
    assert {who: attempt(app, actor, call) for who, actor in (
        ("operator", m.actors["operator"]), ("everywhere", everywhere),
        ("admin", m.actors["admin"]), ("fg", m.actors["fg"]),
        ("professional", m.actors["participant"]))} == {
        "operator": OK, "everywhere": OK, "admin": ("Refused", "other_region"),
        "fg": ADMIN_ONLY, "professional": ADMIN_ONLY}
