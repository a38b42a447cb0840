"""The services themselves refuse bad input, whoever calls them (the CLI, the web app, the API):
an id from another organisation, region or case, a youth whose data were destroyed, a date out
of order, and text that is empty, has a line break where one line belongs, or is longer than
its column (on PostgreSQL that would otherwise end as a DataError, shown as "interne fout").
Each refusal names its field, says in Dutch what is wrong, and writes nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DataError

from deelwijs.services.casus import cases, consent, youths
from deelwijs.services.covenant import registry
from deelwijs.services.errors import Invalid, NotFound, ServiceError
from deelwijs.storage import orm

from .helpers import START, TODAY, TWO_PARENTS, unit_of

OPENED = dt.date(2024, 3, 1)  # the case is opened on this day
MEETING_DAY = dt.date(2024, 3, 15)
STEP_DAY = dt.date(2024, 3, 4)  # the workflow's intake
LONG = "x" * 300


@dataclass
class Setting:
    """What the refusals below point at: records of the test region and of another region."""

    youth: int
    shredded_youth: int
    case: int
    meeting: int
    items: list[int]  # the meeting's agenda items, in order: Opening (with a minute), Bespreking
    minute: int
    workflow: int
    signatory: int  # W. Bestuurder, of the leerplicht organisation
    elders: int  # another region, with
    elders_school: int
    elders_swv: int
    elders_pro: int  # Olga Oost, consulent at the SWV Elders
    elders_youth: int


@pytest.fixture
def setting(app, build) -> Setting:
    youth = build.youth()
    shredded = build.youth(name="Lotte Smit")
    case = build.case("oza", participants=("leerplicht", "swv", "jeugdhulp"), youth_id=youth,
                      opened_on=OPENED)
    meeting = build.meeting(case, MEETING_DAY)
    with app.transaction() as s:
        u = unit_of(app, s)
        items = [i.id for i in s.scalars(select(orm.AgendaItem)
                                         .where(orm.AgendaItem.meeting_id == meeting)
                                         .order_by(orm.AgendaItem.position))]
        alice = s.get(orm.Professional, build.pro("alice"))
        minute = cases.write_minute(unit_of(app, s, by=alice), items[0], "Welkom.").id
        region = s.get(orm.Region, build.w.region_id)
        flow = cases.open_workflow(unit_of(app, s, by=build.pro("dave")), region,
                                   s.get(orm.Youth, youth))
        cases.take_step(unit_of(app, s, by=build.pro("dave")), flow.id, flow.version, "intake", {},
                        STEP_DAY)
        s.get(orm.Youth, shredded).key_wrapped = None  # as the retention run destroys a key
        signatory = s.scalars(select(orm.Signatory.id).where(
            orm.Signatory.organisation_id == build.org("leerplicht"))).one()
        elders = registry.create_region(u, "elders", "Regio Elders")
        registry.activate_ruleset(u, elders, "voorbeeldregio", START)
        school = registry.create_organisation(u, elders, "school", "Stichting Onderwijs Elders")
        swv = registry.create_organisation(u, elders, "swv", "SWV Elders")
        pro = registry.create_professional(u, swv, "Olga Oost", "consulent")
        elders_youth = youths.create_youth(unit_of(app, s), elders, "Noor Jansen",
                                           dt.date(2014, 1, 1))
        return Setting(youth, shredded, case, meeting, items, minute, flow.id, signatory,
                       elders.id, school.id, swv.id, pro.id, elders_youth.id)


# --- short calls: each takes (session, builder, setting) ---------------------------------------


def _org(s, b, key):
    return s.get(orm.Organisation, b.org(key))


def _pro(s, b, key):
    return s.get(orm.Professional, b.pro(key))


def _region(s, b):
    return s.get(orm.Region, b.w.region_id)


def _sign(s, b, x, org="jeugdhulp", signatory=None, on_behalf_of=None):
    return registry.sign_covenant(unit_of(b.app, s), _org(s, b, org),
                                  s.get(orm.RulesetVersion, b.w.version_id), START, signatory,
                                  on_behalf_of)


def _mandate(s, b, x, school=None, swv=None, document_ref="MACHT-002"):
    return registry.grant_mandate(unit_of(b.app, s), school or _org(s, b, "school"),
                                  swv or _org(s, b, "swv"), START, document_ref)


def _accession(s, b, x, org="jeugdhulp", document_ref="TOETR-9"):
    return registry.record_accession(unit_of(b.app, s), _org(s, b, org),
                                     cases.get_case(s, x.case), OPENED, document_ref, OPENED)


def _organisation(s, b, x, name="Wijkteam Noord", **kwargs):
    return registry.create_organisation(unit_of(b.app, s), _region(s, b), "jeugdhulp", name,
                                        **kwargs)


def _professional(s, b, x, name="Eva de Boer", function="mentor"):
    return registry.create_professional(unit_of(b.app, s), _org(s, b, "school"), name,
                                        function)


def _youth(s, b, x, name="Sem de Vries", by=None, **kwargs):
    args = {"school": _org(s, b, "school"), "guardians": list(TWO_PARENTS), **kwargs}
    return youths.create_youth(unit_of(b.app, s, by=by), _region(s, b), name,
                               dt.date(2014, 6, 15), **args)


def _case(s, b, x, youth=None, title="Zorgen over aanwezigheid"):
    _, ruleset = b.app.active_ruleset(s, b.w.region_id, OPENED)
    return cases.open_case(unit_of(b.app, s, by=_pro(s, b, "alice")), ruleset, _region(s, b), title,
                           "oza", [b.org("leerplicht")],
                           OPENED,
                           youth=s.get(orm.Youth, youth) if youth else None)


def _schedule(s, b, x, held_on=MEETING_DAY, agenda=("Opening",)):
    return cases.schedule_meeting(unit_of(b.app, s), cases.get_case(s, x.case), held_on,
                                  list(agenda),
                                  [b.pro("alice")])


def _update(s, b, x, held_on=None, agenda=None):
    return cases.update_meeting(unit_of(b.app, s), x.meeting, 1, held_on, agenda)


def _minute(s, b, x, who="alice", text="Notitie.", item=1, minute_id=None, version=None):
    return cases.write_minute(unit_of(b.app, s, by=_pro(s, b, who)), x.items[item], text, minute_id,
                              version)


def _action(s, b, x, who="bob", description="Gesprek met ouders plannen"):
    return cases.add_action(unit_of(b.app, s), s.get(orm.Meeting, x.meeting), _pro(s, b, who),
                            description,
                            MEETING_DAY + dt.timedelta(days=14))


def _weighing(s, b, x, who="dave"):
    return cases.record_exception(unit_of(b.app, s, by=_pro(s, b, who)), cases.get_case(s, x.case),
                                  "compatible_purpose", {},
                                  dt.datetime(2024, 3, 20, 10))


def _open_workflow(s, b, x, youth=None, by=None):
    return cases.open_workflow(unit_of(b.app, s, by=by or _pro(s, b, "dave")), _region(s, b),
                               s.get(orm.Youth, youth or x.youth))


def _step(s, b, x, by=None, on=STEP_DAY, today=TODAY):
    return cases.take_step(unit_of(b.app, s, by=by or _pro(s, b, "dave"), today=today),
                           x.workflow, 2, "assessment", {"problems": "multiple"}, on)


def _consent(s, b, x, document_ref="TOEST-1", recipients=()):
    youth = s.get(orm.Youth, x.youth)  # 9 on OPENED: the parents with gezag consent
    return consent.record(unit_of(b.app, s, today=OPENED), youth, "parent", "given", ["oza"],
                          ["gedrag"], OPENED, recipient_ids=list(recipients),
                          document_ref=document_ref, guardian_id=youth.guardians[0].id)


def _elders(s, x, attr):
    if attr == "elders_pro":
        return s.get(orm.Professional, x.elders_pro)
    return s.get(orm.Organisation, getattr(x, attr))


TOO_LONG_200 = "is te lang (300 tekens; ten hoogste 200)"

BAD = {
    # registry: who signs, for whom, on what paper
    "a signature by a signatory of another organisation":
        (lambda s, b, x: _sign(s, b, x, signatory=s.get(orm.Signatory, x.signatory)),
         Invalid, "other_organisation", "signatory",
         "W. Bestuurder tekent niet voor Wijkteam Centrum"),
    "a signature on behalf of a school board of another region":
        (lambda s, b, x: _sign(s, b, x, org="swv",
                               on_behalf_of=_elders(s, x, "elders_school")),
         Invalid, "other_region", "on_behalf_of",
         "Stichting Onderwijs Elders hoort niet bij deze regio"),
    "a mandate to an SWV of another region":
        (lambda s, b, x: _mandate(s, b, x, swv=_elders(s, x, "elders_swv")),
         Invalid, "other_region", "swv", "SWV Elders hoort niet bij deze regio"),
    "a mandate from a municipality":
        (lambda s, b, x: _mandate(s, b, x, school=_org(s, b, "gemeente")),
         Invalid, "invalid_mandate", "mandate",
         "een machtiging gaat van een schoolbestuur naar een samenwerkingsverband"),
    "a mandate to a school board instead of an SWV":
        (lambda s, b, x: _mandate(s, b, x, swv=_org(s, b, "school")),
         Invalid, "invalid_mandate", "mandate",
         "een machtiging gaat van een schoolbestuur naar een samenwerkingsverband"),
    "a mandate with a blank document reference":
        (lambda s, b, x: _mandate(s, b, x, document_ref="   "),
         Invalid, "missing_field", "document_ref",
         "een schriftelijke machtiging heeft een documentverwijzing"),
    "a mandate with a document reference of 300 characters":
        (lambda s, b, x: _mandate(s, b, x, document_ref=LONG),
         Invalid, "too_long", "document_ref", f"de documentverwijzing {TOO_LONG_200}"),
    "an accession form by an organisation outside the case":
        (lambda s, b, x: _accession(s, b, x, org="jgz"),
         Invalid, "not_a_participant", "organisation",
         "JGZ Voorbeeldregio neemt geen deel aan deze casus"),
    "an accession form with a blank document reference":
        (lambda s, b, x: _accession(s, b, x, document_ref=" "),
         Invalid, "missing_field", "document_ref",
         "een toetredingsformulier heeft een documentverwijzing"),
    "an accession form with a document reference of 300 characters":
        (lambda s, b, x: _accession(s, b, x, document_ref=LONG),
         Invalid, "too_long", "document_ref", f"de documentverwijzing {TOO_LONG_200}"),
    # registry: free text and registration numbers
    "a region code of 65 characters":
        (lambda s, b, x: registry.create_region(unit_of(b.app, s), "r" * 65, "Regio"),
         Invalid, "too_long", "region.code",
         "de regiocode is te lang (65 tekens; ten hoogste 64)"),
    "a region name of 300 characters":
        (lambda s, b, x: registry.create_region(unit_of(b.app, s), "lang", LONG),
         Invalid, "too_long", "region.name", f"de naam van de regio {TOO_LONG_200}"),
    "a region without a code":
        (lambda s, b, x: registry.create_region(unit_of(b.app, s), " ", "Regio"),
         Invalid, "missing_field", "region.code", "een regio heeft een code"),
    "an organisation name of 300 characters":
        (lambda s, b, x: _organisation(s, b, x, name=LONG),
         Invalid, "too_long", "name", f"de naam {TOO_LONG_200}"),
    "an organisation name with a line break":
        (lambda s, b, x: _organisation(s, b, x, name="Wijkteam\nNoord"),
         Invalid, "invalid_character", "name",
         "de naam bevat een regeleinde; dat kan hier niet"),
    "an organisation name with a NUL character":
        (lambda s, b, x: _organisation(s, b, x, name="Wijkteam\x00Noord"),
         Invalid, "invalid_character", "name",
         "de naam bevat teken U+0000; dat kan hier niet"),
    "a KvK number of eight Arabic-Indic digits":
        (lambda s, b, x: _organisation(s, b, x, kvk="١٢٣٤٥٦٧٨"),
         Invalid, "invalid_kvk", "kvk", "KvK-nummer '١٢٣٤٥٦٧٨' moet uit 8 cijfers bestaan"),
    "a KvK number of nine digits":
        (lambda s, b, x: _organisation(s, b, x, kvk="123456789"),
         Invalid, "invalid_kvk", "kvk", "KvK-nummer '123456789' moet uit 8 cijfers bestaan"),
    "an OIN with a superscript digit":
        (lambda s, b, x: _organisation(s, b, x, oin="0000000100123456700²"),
         Invalid, "invalid_oin", "oin",
         "OIN '0000000100123456700²' moet uit 20 cijfers bestaan"),
    "a signatory name of 300 characters":
        (lambda s, b, x: registry.add_signatory(unit_of(b.app, s), _org(s, b, "school"), LONG,
                                                "bestuurder"),
         Invalid, "too_long", "name", f"de naam {TOO_LONG_200}"),
    "a signatory without a function":
        (lambda s, b, x: registry.add_signatory(unit_of(b.app, s), _org(s, b, "school"),
                                                "J. de Wit", ""),
         Invalid, "missing_field", "function", "een ondertekenaar heeft een functie"),
    "a professional name of 300 characters":
        (lambda s, b, x: _professional(s, b, x, name=LONG),
         Invalid, "too_long", "name", f"de naam {TOO_LONG_200}"),
    "a professional function of 300 characters":
        (lambda s, b, x: _professional(s, b, x, function=LONG),
         Invalid, "too_long", "function", f"de functie {TOO_LONG_200}"),
    "a professional without a function":
        (lambda s, b, x: _professional(s, b, x, function="  "),
         Invalid, "missing_field", "function", "een professional heeft een functie"),
    # youths
    "a youth at a school board of another region":
        (lambda s, b, x: _youth(s, b, x, school=_elders(s, x, "elders_school")),
         Invalid, "other_region", "school",
         "Stichting Onderwijs Elders hoort niet bij deze regio"),
    "a youth registered by a professional of another region":
        (lambda s, b, x: _youth(s, b, x, by=_elders(s, x, "elders_pro")),
         Invalid, "other_region", "by", "Olga Oost werkt niet in deze regio"),
    "a youth name of 300 characters":
        (lambda s, b, x: _youth(s, b, x, name=LONG),
         Invalid, "too_long", "name", f"de naam {TOO_LONG_200}"),
    "a parent name of 300 characters":
        (lambda s, b, x: _youth(s, b, x, guardians=[{"name": LONG, "relation": "moeder",
                                                       "gezag": True}]),
         Invalid, "too_long", "guardians[0].name", f"de naam {TOO_LONG_200}"),
    "a parent that is not an object":
        (lambda s, b, x: _youth(s, b, x, guardians=["Fatima de Vries"]),
         Invalid, "wrong_type", "guardians[0]",
         "een ouder of voogd is een object met naam, relatie en gezag"),
    # cases
    "a case about a youth of another region":
        (lambda s, b, x: _case(s, b, x, youth=x.elders_youth),
         Invalid, "other_region", "youth", "de jongere hoort niet bij deze regio"),
    "a case about a youth whose data were destroyed":
        (lambda s, b, x: _case(s, b, x, youth=x.shredded_youth),
         Invalid, "shredded", "youth", "de gegevens van deze jongere zijn vernietigd"),
    "a case title of 300 characters":
        (lambda s, b, x: _case(s, b, x, title=LONG),
         Invalid, "too_long", "title", f"de titel {TOO_LONG_200}"),
    "a meeting before the case was opened":
        (lambda s, b, x: _schedule(s, b, x, held_on=OPENED - dt.timedelta(days=1)),
         Invalid, "invalid_date", "held_on",
         "het overleg ligt vóór de opening van de casus (2024-03-01)"),
    "a meeting with an agenda item of 300 characters":
        (lambda s, b, x: _schedule(s, b, x, agenda=("Opening", LONG)),
         Invalid, "too_long", "agenda[1]", f"het agendapunt {TOO_LONG_200}"),
    "a meeting with a blank agenda item":
        (lambda s, b, x: _schedule(s, b, x, agenda=(" ", "Bespreking")),
         Invalid, "missing_field", "agenda[0]", "een agendapunt heeft een titel"),
    "a meeting moved to before the case was opened":
        (lambda s, b, x: _update(s, b, x, held_on=OPENED - dt.timedelta(days=1)),
         Invalid, "invalid_date", "held_on",
         "het overleg ligt vóór de opening van de casus (2024-03-01)"),
    "a new agenda without the item that has a minute":
        (lambda s, b, x: _update(s, b, x, agenda=["Bespreking", "Rondvraag"]),
         Invalid, "has_minute", "agenda",
         "agendapunt 'Opening' heeft een verslag en kan niet van de agenda"),
    "a new agenda, as text, without the item that has a minute":
        (lambda s, b, x: _update(s, b, x, agenda="Bespreking\nRondvraag\n"),
         Invalid, "has_minute", "agenda",
         "agendapunt 'Opening' heeft een verslag en kan niet van de agenda"),
    "a new agenda with an item of 300 characters":
        (lambda s, b, x: _update(s, b, x, agenda=["Opening", LONG]),
         Invalid, "too_long", "agenda[1]", f"het agendapunt {TOO_LONG_200}"),
    # need to know: an agenda item of a case the professional's organisation is not in is
    # answered as an unknown one (IDOR: 404, no hint that it exists)
    "a minute by a professional outside the case":
        (lambda s, b, x: _minute(s, b, x, who="dave"),
         NotFound, "not_found", "agenda_item", "onbekend agendapunt ({items[1]})"),
    "a change to a minute by a professional outside the case":
        (lambda s, b, x: _minute(s, b, x, who="dave", item=0, minute_id=x.minute, version=1),
         NotFound, "not_found", "agenda_item", "onbekend agendapunt ({items[0]})"),
    "a change to a minute of another agenda item":
        (lambda s, b, x: _minute(s, b, x, item=1, minute_id=x.minute, version=1),
         NotFound, "not_found", "minute", "onbekend verslag bij dit agendapunt ({minute})"),
    "a minute of more than 100,000 characters":
        (lambda s, b, x: _minute(s, b, x, text="x" * 100_001),
         Invalid, "too_long", "text",
         "het verslag is te lang (100001 tekens; ten hoogste 100000)"),
    "a minute on an unknown agenda item":
        (lambda s, b,
         x: cases.write_minute(unit_of(b.app, s, by=_pro(s, b, "alice")), 987654, "Notitie."),
         NotFound, "not_found", "agenda_item", "onbekend agendapunt (987654)"),
    "an action owned by a professional outside the case":
        (lambda s, b, x: _action(s, b, x, who="dave"),
         Invalid, "not_a_participant", "owner",
         "Dave Mulder werkt niet bij een deelnemende organisatie van deze casus"),
    "an action without a description":
        (lambda s, b, x: _action(s, b, x, description="\n "),
         Invalid, "missing_field", "description", "een actie heeft een omschrijving"),
    "a weighing recorded by a professional outside the case":
        (lambda s, b, x: _weighing(s, b, x, who="dave"),
         NotFound, "not_found", "case", "onbekende casus ({case})"),
    # the municipal workflow
    "a workflow opened by a professional of another region":
        (lambda s, b, x: _open_workflow(s, b, x, by=_elders(s, x, "elders_pro")),
         Invalid, "other_region", "by", "Olga Oost werkt niet in de regio van deze jongere"),
    "a workflow about a youth of another region":
        (lambda s, b, x: _open_workflow(s, b, x, youth=x.elders_youth),
         Invalid, "other_region", "youth", "de jongere hoort niet bij deze regio"),
    "a workflow about a youth whose data were destroyed":
        (lambda s, b, x: _open_workflow(s, b, x, youth=x.shredded_youth),
         Invalid, "shredded", "youth", "de gegevens van deze jongere zijn vernietigd"),
    "a step by a professional of another region":
        (lambda s, b, x: _step(s, b, x, by=_elders(s, x, "elders_pro")),
         Invalid, "other_region", "by", "Olga Oost werkt niet in de regio van dit werkproces"),
    "a step dated before the previous step":
        (lambda s, b, x: _step(s, b, x, on=STEP_DAY - dt.timedelta(days=1)),
         Invalid, "invalid_date", "on",
         "een stap kan niet vóór de vorige stap (2024-03-04) liggen"),
    "a step dated after today":
        (lambda s, b, x: _step(s, b, x, on=STEP_DAY + dt.timedelta(days=2),
                               today=STEP_DAY + dt.timedelta(days=1)),
         Invalid, "date_in_future", "on", "de datum van de stap (2024-03-06) ligt in de toekomst"),
    # consent
    "consent with a document reference of 300 characters":
        (lambda s, b, x: _consent(s, b, x, document_ref=LONG),
         Invalid, "too_long", "document_ref", f"de documentverwijzing {TOO_LONG_200}"),
    "written consent with a blank document reference":
        (lambda s, b, x: _consent(s, b, x, document_ref="  "),
         Invalid, "missing_field", "document_ref",
         "schriftelijke toestemming heeft een documentverwijzing"),
    "consent for a recipient of another region":
        (lambda s, b, x: _consent(s, b, x, recipients=[x.elders_swv]),
         Invalid, "other_region", "recipient_ids",
         "SWV Elders hoort niet bij de regio van deze jongere"),
}


@pytest.mark.parametrize(("call", "error", "code", "field", "message"), BAD.values(),
                         ids=BAD.keys())
def test_the_service_refuses_bad_input_with_its_field_and_a_dutch_message_and_writes_nothing(
        app, build, setting, call, error, code, field, message):
    before = build.counts()
    with pytest.raises(ServiceError) as refused, app.transaction() as s:
        call(s, build, setting)
    assert type(refused.value) is error
    assert (refused.value.code, refused.value.field) == (code, field)
    assert refused.value.message == message.format(minute=setting.minute, items=setting.items,
                                                   case=setting.case)
    assert str(refused.value) == f"{field}: {refused.value.message}"
    assert build.counts() == before


def test_a_consent_change_with_a_document_reference_of_300_characters_is_refused(app, build,
                                                                                setting):
    with app.transaction() as s:
        series = _consent(s, build, setting).series
    before = build.counts()
    with pytest.raises(Invalid) as refused, app.transaction() as s:
        consent.change(unit_of(app, s, today=OPENED), series, 1, "withdrawn", OPENED,
                       document_ref=LONG)
    assert (refused.value.code, refused.value.field) == ("too_long", "document_ref")
    assert refused.value.message == f"de documentverwijzing {TOO_LONG_200}"
    assert build.counts() == before


def test_a_coordinator_of_another_region_is_refused(app, build, setting):
    steps = [("assessment", {"problems": "multiple"}),
             ("investigation", {"scope": ["jeugd"], "with_resident": True}),
             ("proposal", {}), ("decision", {"outcome": "accepted"})]
    with app.transaction() as s:
        for name, details in steps:
            flow = s.get(orm.Workflow, setting.workflow)
            cases.take_step(unit_of(app, s, by=_pro(s, build, "dave"), today=STEP_DAY), flow.id,
                            flow.version, name, details, STEP_DAY)
    before = build.counts()
    with pytest.raises(Invalid) as refused, app.transaction() as s:
        cases.take_step(unit_of(app, s, by=_pro(s, build, "dave")), setting.workflow, 6,
                        "coordinator",
                        {"coordination": "licht", "coordinator_id": setting.elders_pro},
                        STEP_DAY)
    assert (refused.value.code, refused.value.field) == ("other_region",
                                                         "details.coordinator_id")
    assert refused.value.message == "Olga Oost werkt niet in de regio van dit werkproces"
    assert build.counts() == before


def test_a_300_character_name_is_invalid_not_a_database_error(app, build):
    """On PostgreSQL the column would refuse it with a DataError ("interne fout" to a user);
    the service refuses it first, with the field and a Dutch message, on either database."""
    before = build.counts()
    with pytest.raises(Invalid) as refused, app.transaction() as s:
        registry.create_organisation(unit_of(app, s), _region(s, build), "jeugdhulp",
                                     "W" * 300)
    assert (refused.value.code, refused.value.field) == ("too_long", "name")
    assert refused.value.message == "de naam is te lang (300 tekens; ten hoogste 200)"
    assert build.counts() == before
    if app.engine.dialect.name == "postgresql":  # what the check keeps users from seeing
        with pytest.raises(DataError), app.transaction() as s:
            s.add(orm.Organisation(region_id=build.w.region_id, party="jeugdhulp",
                                   name="W" * 300))
            s.flush()
    assert build.counts() == before


def test_text_at_its_limit_is_kept_stripped(app, build):
    with app.transaction() as s:
        u = unit_of(app, s)
        org = registry.create_organisation(u, _region(s, build), "jeugdhulp",
                                           f"  {'W' * 200}\t", kvk=" ", oin="")
        sig = registry.add_signatory(u, org, " J. de Wit ", " bestuurder ")
        pro = registry.create_professional(u, org, "Eva de Boer ", " mentor")
    with app.transaction() as s:
        org, sig, pro = (s.get(orm.Organisation, org.id), s.get(orm.Signatory, sig.id),
                         s.get(orm.Professional, pro.id))
        assert (org.name, org.kvk, org.oin) == ("W" * 200, None, None)
        assert (sig.name, sig.function, pro.name, pro.function) == (
            "J. de Wit", "bestuurder", "Eva de Boer", "mentor")


def test_a_new_agenda_moves_the_items_that_stay_and_adds_and_drops_the_others(app, build,
                                                                             setting):
    opening, talk = setting.items
    with app.transaction() as s:
        cases.update_meeting(unit_of(app, s), setting.meeting, 1, agenda=["Rondvraag", "Opening"])
    with app.transaction() as s:
        meeting = s.get(orm.Meeting, setting.meeting)
        items = s.scalars(select(orm.AgendaItem).where(orm.AgendaItem.meeting_id == meeting.id)
                          .order_by(orm.AgendaItem.position)).all()
        texts = cases.texts_of_meeting(s, meeting)
        assert (cases.meeting_agenda(s, meeting), meeting.version) == (["Rondvraag", "Opening"],
                                                                       2)
        assert [(i.position, cases.item_title(texts, i)) for i in items] == [
            (1, "Rondvraag"), (2, "Opening")]
        assert items[1].id == opening  # with its minute
        assert s.get(orm.AgendaItem, talk) is None  # no minute: it went
        assert s.get(orm.Minute, setting.minute).agenda_item_id == opening
    with app.transaction() as s:  # an agenda as text: one item a line, blank lines skipped
        cases.update_meeting(unit_of(app, s), setting.meeting, 2,
                             agenda="Opening\n\n  Afspraken  \n")
    with app.transaction() as s:
        items = s.scalars(select(orm.AgendaItem)
                          .where(orm.AgendaItem.meeting_id == setting.meeting)
                          .order_by(orm.AgendaItem.position)).all()
        meeting = s.get(orm.Meeting, setting.meeting)
        texts = cases.texts_of_meeting(s, meeting)
        assert [(i.id == opening, cases.item_title(texts, i)) for i in items] == [
            (True, "Opening"), (False, "Afspraken")]
        assert cases.meeting_agenda(s, meeting) == ["Opening", "Afspraken"]


def test_a_step_on_the_day_of_the_previous_one_and_today_is_taken(app, build, setting):
    with app.transaction() as s:
        flow = _step(s, build, setting, on=STEP_DAY, today=STEP_DAY)
        assert (flow.state, flow.version) == ("assessment", 3)
