"""Cases (casus), meetings (overleggen), minutes, actions, documented exceptions and the
municipal stepwise workflow.

The use cases (open_case, schedule_meeting, close_case, update_meeting, write_minute,
add_action, record_exception, record_youth_weighing, open_workflow, take_step,
read_workflow, read_case, list_cases) take a `Unit` (services/context.py) first: the
session, who acts and today. What is done or logged in a professional's name needs one
(`Unit.professional_or`); need to know (working in or reading a case, a workflow) is decided
by services/access.py: a case of another organisation is answered as an unknown one. The
lookups (get_*), the
views (*_view) and the SQL facts the engine asks (documented_*, help_request_*) take a
session."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from deelwijs.domain import codes, labels
from deelwijs.domain import exceptions as exc_domain
from deelwijs.domain import workflow as wf
from deelwijs.domain.ruleset import Ruleset
from deelwijs.services import access, rulesets
from deelwijs.services.casus.youth_text import Texts, no_bsn_in_anonymous
from deelwijs.services.casus.youths import birth_of, get_youth
from deelwijs.services.context import Unit
from deelwijs.services.covenant.registry import (
    LONG_TEXT_MAX,
    checked_text,
    limit_of,
    region_of,
)
from deelwijs.services.errors import Conflict, Invalid, NotFound, Refused
from deelwijs.services.log import audit
from deelwijs.services.views import (
    ActionView,
    CaseView,
    MeetingView,
    MinuteView,
    WeighingView,
    WorkflowView,
)
from deelwijs.storage import orm

# nouns with "het": onbekend overleg, not onbekende overleg
_HET = frozenset({"overleg", "agendapunt", "verslag", "werkproces"})


def _get(session: Session, model, ident, what: str, field: str):
    row = session.get(model, ident) if ident is not None else None
    if row is None:
        raise NotFound("not_found", f"onbekend{'' if what in _HET else 'e'} {what} ({ident})",
                       field)
    return row


def _unknown(what: str, ident, field: str) -> NotFound:
    """What an unknown id of this kind is answered (also for a record of a case the actor's
    organisation does not take part in: access.require_case)."""
    return NotFound("not_found", f"onbekend{'' if what in _HET else 'e'} {what} ({ident})",
                    field)


def get_case(session: Session, case_id: int) -> orm.Case:
    return _get(session, orm.Case, case_id, "casus", "case")


def get_meeting(session: Session, meeting_id: int) -> orm.Meeting:
    return _get(session, orm.Meeting, meeting_id, "overleg", "meeting")


def get_agenda_item(session: Session, agenda_item_id: int) -> orm.AgendaItem:
    return _get(session, orm.AgendaItem, agenda_item_id, "agendapunt", "agenda_item")


def get_workflow(session: Session, workflow_id: int) -> orm.Workflow:
    return _get(session, orm.Workflow, workflow_id, "werkproces", "workflow")


def resolve_purpose(ruleset: Ruleset, purpose: str) -> tuple[str, str | None]:
    """A model purpose or a regional overleg name → (model purpose, overleg name)."""
    if purpose in ruleset.overleg_types:
        return ruleset.overleg_types[purpose], purpose
    if purpose in ruleset.purposes and ruleset.purposes[purpose].route != "legal":
        return purpose, None
    names = ", ".join([*ruleset.overleg_types, *(p for p, v in ruleset.purposes.items()
                                                  if v.route != "legal")])
    raise Invalid("unknown_code", f"onbekend overleg of doel '{purpose}' (kies uit {names})",
                  "purpose")


def not_before_birth(u: Unit, youth: orm.Youth, opened_on: dt.date, field: str) -> None:
    """A case opened about a registered youth opens on or after the youth's birth. (An
    anonymous case may have opened before: concern about an unborn child, named once the child
    is born and registered, services.casus.identification.)"""
    birth = birth_of(u.keys, youth)
    if opened_on < birth:
        raise Invalid("before_birth", f"de casus opent op {opened_on.isoformat()}, vóór de "
                      f"geboortedatum van de jongere ({birth.isoformat()})", field)


def open_case(u: Unit, ruleset: Ruleset | None, region: orm.Region, title: str,
              purpose: str, participants: list[int], opened_on: dt.date | None = None,
              youth: orm.Youth | int | None = None) -> orm.Case:
    """A case about a youth (or its id), or an anonymous case (no youth: nothing identifying
    is stored), opened by the acting professional (their organisation takes part) on
    `opened_on` (default today). The youth is of the region and their data were not
    destroyed. `ruleset` None: the one the region has in force on `opened_on` (none: NotFound
    on `on`)."""
    session = u.session
    created_by = u.professional_or("created_by", "een casus openen")
    opened_on = opened_on or u.today
    if ruleset is None:
        version = rulesets.active_version(session, region.id, opened_on, field="on")
        ruleset = rulesets.compiled(session, version.id, version.digest)
    access.require_party(u, "een casus openen")
    if isinstance(youth, int):
        youth = get_youth(session, youth)
    model_purpose, overleg = resolve_purpose(ruleset, purpose)
    title = checked_text(title, "title", "de titel", limit_of(orm.Case.title),
                         missing="een casus heeft een titel")
    no_bsn_in_anonymous(youth.id if youth is not None else None, title, "title", "de titel")
    if youth is not None:
        if youth.region_id != region.id:
            raise Invalid("other_region", "de jongere hoort niet bij deze regio", "youth")
        if youth.key_wrapped is None:
            raise Invalid("shredded", "de gegevens van deze jongere zijn vernietigd", "youth")
        not_before_birth(u, youth, opened_on, "opened_on")
    orgs = []
    for org_id in dict.fromkeys([created_by.organisation_id, *participants]):
        org = session.get(orm.Organisation, org_id)
        if org is None or org.region_id != region.id:
            where = (f"participants[{participants.index(org_id)}]" if org_id in participants
                     else "created_by")
            raise NotFound("not_found", f"onbekende organisatie ({org_id})", where)
        orgs.append(org)
    title, title_enc = Texts.for_youth(session, youth.id if youth else None).seal(title, "title")
    case = orm.Case(region_id=region.id, youth_id=youth.id if youth else None,
                    anonymous=youth is None, purpose=model_purpose, overleg=overleg,
                    title=title, title_enc=title_enc, opened_on=opened_on,
                    created_by_id=created_by.id)
    session.add(case)
    session.flush()
    for org in orgs:
        session.add(orm.CaseParticipant(case_id=case.id, organisation_id=org.id))
    session.flush()
    return case


# --- free text, encrypted with the youth's key (services/youth_text) -----------------------

def case_title(session: Session, case: orm.Case, texts: Texts | None = None) -> str:
    return (texts or Texts.for_case(session, case)).open(case.title, case.title_enc)


def meeting_agenda(session: Session, meeting: orm.Meeting, texts: Texts | None = None
                   ) -> list[str]:
    """The meeting's agenda as its item titles (in the order of the agenda)."""
    texts = texts or texts_of_meeting(session, meeting)
    return texts.open(meeting.agenda, meeting.agenda_enc).splitlines()


def item_title(texts: Texts, item: orm.AgendaItem) -> str:
    return texts.open(item.title, item.title_enc)


def action_description(texts: Texts, action: orm.Action) -> str:
    return texts.open(action.description, action.description_enc)


def exception_answers(texts: Texts, row: orm.ExceptionRecord) -> list[dict]:
    """The written weighing's answers ([{question, key, answer, by, at}]); [] once the
    youth's key is gone."""
    return texts.open_json(row.answers, row.answers_enc, [])


def texts_of_meeting(session: Session, meeting: orm.Meeting) -> Texts:
    return Texts.for_case(session, session.get(orm.Case, meeting.case_id))


def seal_case_texts(session: Session, case: orm.Case) -> None:
    """Encrypt what was kept as written while the case was anonymous (title, agendas, agenda
    items, minutes, actions, weighings, disclosure contents) with the key of the youth it is
    now about, and put its disclosures on the youth's name."""
    texts = Texts.for_case(session, case)
    if not texts.identifiable:
        return
    if case.title_enc is None:
        case.title, case.title_enc = texts.seal(case.title, "title")
    meetings = session.scalars(select(orm.Meeting).where(orm.Meeting.case_id == case.id)).all()
    for m in meetings:
        if m.agenda_enc is None:
            m.agenda, m.agenda_enc = texts.seal(m.agenda, "agenda")
        for item in session.scalars(select(orm.AgendaItem)
                                    .where(orm.AgendaItem.meeting_id == m.id)):
            if item.title_enc is None:
                item.title, item.title_enc = texts.seal(item.title, "agenda")
            for minute in session.scalars(select(orm.Minute)
                                          .where(orm.Minute.agenda_item_id == item.id)):
                if minute.text_enc is None:
                    minute.text, minute.text_enc = texts.seal(minute.text, "text")
        for action in session.scalars(select(orm.Action).where(orm.Action.meeting_id == m.id)):
            if action.description_enc is None:
                action.description, action.description_enc = texts.seal(action.description,
                                                                        "description")
    for row in session.scalars(select(orm.ExceptionRecord)
                               .where(orm.ExceptionRecord.case_id == case.id)):
        if row.answers_enc is None:
            row.answers, row.answers_enc = texts.seal_json(list(row.answers or []), [],
                                                           "answers")
    # the disclosures made in the case while it was anonymous are now about the youth too
    # (listed, in the inzage, wiped by the retention run); their decisions stay as made
    for disclosure in session.scalars(select(orm.Disclosure).where(
            orm.Disclosure.case_id == case.id, orm.Disclosure.youth_id.is_(None))):
        disclosure.youth_id = case.youth_id
        for item in session.scalars(select(orm.DisclosureItem).where(
                orm.DisclosureItem.disclosure_id == disclosure.id)):
            if item.content is not None and item.content_enc is None:
                _, item.content_enc = texts.seal(item.content, "content")
                item.content = None


def participants(session: Session, case: orm.Case) -> list[orm.Organisation]:
    ids = session.scalars(select(orm.CaseParticipant.organisation_id)
                          .where(orm.CaseParticipant.case_id == case.id)).all()
    return [session.get(orm.Organisation, i) for i in ids]


def _agenda(agenda: list[str] | str) -> list[str]:
    """The agenda's item titles: a list (one per item), or a text with one item per line
    (blank lines skipped). Each title is one line of at most the column's length."""
    if isinstance(agenda, str):
        agenda = [line for line in agenda.splitlines() if line.strip()]
    if not isinstance(agenda, list | tuple):
        raise Invalid("wrong_type", "de agenda is een lijst van agendapunten", "agenda")
    return [checked_text(title, f"agenda[{i}]", "het agendapunt",
                         limit_of(orm.AgendaItem.title), missing="een agendapunt heeft een titel")
            for i, title in enumerate(agenda)]


def _meeting_day(case: orm.Case, held_on: dt.date) -> None:
    if held_on < case.opened_on:
        raise Invalid("invalid_date", f"het overleg ligt vóór de opening van de casus "
                      f"({case.opened_on.isoformat()})", "held_on")


def schedule_meeting(u: Unit, case: orm.Case, held_on: dt.date, agenda: list[str],
                     professional_ids: list[int]) -> orm.Meeting:
    """A meeting in an open case on `held_on`, with its agenda and the professionals (of
    participating organisations) taking part; by the operator or a professional of a
    participating organisation."""
    session = u.session
    access.require_case(u, case.id)
    if case.closed_on is not None:
        raise Refused("case_closed", "deze casus is gesloten", "case")
    _meeting_day(case, held_on)
    agenda = _agenda(agenda)
    for i, title in enumerate(agenda):
        no_bsn_in_anonymous(case.youth_id, title, f"agenda[{i}]", "het agendapunt")
    texts = Texts.for_case(session, case)
    plain, enc = texts.seal("\n".join(agenda), "agenda")
    meeting = orm.Meeting(case_id=case.id, held_on=held_on, agenda=plain, agenda_enc=enc)
    session.add(meeting)
    session.flush()
    allowed = {o.id for o in participants(session, case)}
    for pid in dict.fromkeys(professional_ids):
        i = professional_ids.index(pid)  # where it is in the input, duplicates included
        pro = _get(session, orm.Professional, pid, "professional", f"participants[{i}]")
        if pro.organisation_id not in allowed:
            raise Invalid("not_a_participant", f"{pro.name} werkt niet bij een deelnemende "
                          "organisatie van deze casus", f"participants[{i}]")
        session.add(orm.MeetingParticipant(meeting_id=meeting.id, professional_id=pid))
    for pos, title in enumerate(agenda, 1):
        plain, enc = texts.seal(title, f"agenda[{pos - 1}]")
        session.add(orm.AgendaItem(meeting_id=meeting.id, position=pos, title=plain,
                                   title_enc=enc))
    session.flush()
    return meeting


def close_case(u: Unit, case_id: int, expected_version: int, closed_on: dt.date | None = None
               ) -> orm.Case:
    """Close a case, by a professional of a participating organisation: from `closed_on`
    (default today, never after it) its retention term runs (casusoverleg_verslag). Name the
    version you saw; a case closed or changed since is a conflict."""
    session = u.session
    u.professional_or("by", "een casus sluiten")
    closed_on = closed_on or u.today
    case = get_case(session, case_id)
    access.require_case(u, case.id)
    if case.closed_on is not None:
        raise Conflict("conflict", f"deze casus is al gesloten op {case.closed_on.isoformat()}",
                       "case")
    if case.version != expected_version:
        raise Conflict("conflict", f"de casus is intussen gewijzigd (versie {case.version}, u "
                       f"zag {expected_version}); laad opnieuw", "expected_version")
    if closed_on > u.today:
        raise Invalid("date_in_future", "de sluitdatum ligt in de toekomst", "closed_on")
    if closed_on < case.opened_on:
        raise Invalid("invalid_date", "een casus kan niet sluiten vóór hij geopend is",
                      "closed_on")
    case.closed_on = closed_on
    _save(session, "de casus")
    return case


def _save(session: Session, what: str) -> None:
    try:
        session.flush()
    except StaleDataError:
        raise Conflict("conflict", f"{what} is intussen door iemand anders gewijzigd; niets "
                       "van uw wijziging is opgeslagen. Laad opnieuw en probeer het nog eens.",
                       "expected_version") from None


def update_meeting(u: Unit, meeting_id: int, expected_version: int,
                   held_on: dt.date | None = None, agenda: list[str] | str | None = None
                   ) -> orm.Meeting:
    """A new date and/or a new agenda (a list of titles, or a text with one per line). The
    agenda items, on which the minutes hang, follow the new agenda: an item whose title stays
    keeps its id (and its minutes) and moves to its new place, a new title becomes a new item,
    and an item that is left out goes, unless it has a minute (then nothing is saved)."""
    session = u.session
    access.require_case_kind(u)
    meeting = get_meeting(session, meeting_id)
    access.require_case(u, meeting.case_id, unknown=_unknown("overleg", meeting_id, "meeting"))
    if meeting.version != expected_version:
        raise Conflict("conflict", f"het overleg is intussen gewijzigd (versie "
                       f"{meeting.version}, u zag {expected_version}); laad opnieuw",
                       "expected_version")
    # every check and read first: a query would flush a change to the meeting early, and its
    # version conflict would surface outside _save
    titles = _agenda(agenda) if agenda is not None else None
    case = session.get(orm.Case, meeting.case_id)
    for i, title in enumerate(titles or []):
        no_bsn_in_anonymous(case.youth_id, title, f"agenda[{i}]", "het agendapunt")
    if held_on is not None:
        _meeting_day(case, held_on)
    texts = Texts.for_case(session, case)
    follow = _follow_agenda(session, meeting, titles, texts) if titles is not None else None
    if held_on is not None:
        meeting.held_on = held_on
    if follow is not None:
        follow()
        meeting.agenda, meeting.agenda_enc = texts.seal("\n".join(titles), "agenda")
    _save(session, "het overleg")
    return meeting


def _follow_agenda(session: Session, meeting: orm.Meeting, titles: list[str], texts: Texts):
    """Check that the items can follow the new titles (compared as decrypted); returns what
    makes them do so. New items are sealed as the case's texts are."""
    texts.ensure_writable("agenda")  # refused, with nothing written, once the youth is shredded
    items = session.scalars(select(orm.AgendaItem).where(orm.AgendaItem.meeting_id == meeting.id)
                            .order_by(orm.AgendaItem.position, orm.AgendaItem.id)).all()
    by_title: dict[str, list[orm.AgendaItem]] = {}
    for item in items:
        by_title.setdefault(item_title(texts, item), []).append(item)
    placed: list[tuple[int, orm.AgendaItem | None, str]] = []
    for pos, title in enumerate(titles, 1):
        same = by_title.get(title)
        placed.append((pos, same.pop(0) if same else None, title))
    left = [i for group in by_title.values() for i in group]
    if left:  # checked before anything changes
        with_minute = session.scalars(select(orm.Minute.agenda_item_id).where(
            orm.Minute.agenda_item_id.in_([i.id for i in left]))).first()
        if with_minute is not None:
            kept = next(item_title(texts, i) for i in left if i.id == with_minute)
            raise Invalid("has_minute", f"agendapunt '{kept}' heeft een verslag en kan "
                          "niet van de agenda", "agenda")

    def apply() -> None:
        for pos, item, title in placed:
            if item is None:
                plain, enc = texts.seal(title, f"agenda[{pos - 1}]")
                session.add(orm.AgendaItem(meeting_id=meeting.id, position=pos, title=plain,
                                           title_enc=enc))
            elif item.position != pos:
                item.position = pos
        for item in left:
            session.delete(item)
    return apply


def _minute_case(session: Session, agenda_item_id: int) -> orm.Case:
    return session.scalars(select(orm.Case).join(orm.Meeting, orm.Meeting.case_id == orm.Case.id)
                           .join(orm.AgendaItem, orm.AgendaItem.meeting_id == orm.Meeting.id)
                           .where(orm.AgendaItem.id == agenda_item_id)).one()


def _set_minute_text(session: Session, minute: orm.Minute, case: orm.Case, text: str
                     ) -> orm.Youth | None:
    """About an identifiable youth the text is encrypted with the youth's key; in an anonymous
    case it is kept as is. Returns the youth (the caller logs the writing once it is saved)."""
    no_bsn_in_anonymous(case.youth_id, text, "text", "het verslag")
    youth = session.get(orm.Youth, case.youth_id) if case.youth_id is not None else None
    # (read before the minute changes: a query after it would flush the change early)
    minute.text, minute.text_enc = Texts.for_case(session, case).seal(text, "text")
    return youth


def _log_minute(session: Session, case: orm.Case, youth: orm.Youth | None,
                pro: orm.Professional) -> None:
    if youth is None:
        return
    audit.log_system(session, region_id=case.region_id, name=case.purpose, actie="minute",
                     youth_id=youth.id, categories=[], professional=pro,
                     uitvoerder=session.get(orm.Organisation, pro.organisation_id),
                     verwerking=f"Casusoverleg {case.purpose}",
                     verwerking_id=f"deelwijs:casus:{case.id}")


def minute_text(session: Session, minute: orm.Minute) -> str:
    """The text of a minute ('[vernietigd]' once the youth's key was destroyed)."""
    if minute.text_enc is None:
        return minute.text
    return Texts.for_case(session, _minute_case(session, minute.agenda_item_id)).open(
        "", minute.text_enc)


def _minute_target(session: Session, agenda_item_id: int, minute_id: int | None) -> int:
    """The minute of an agenda item to change: the one named, else the item's newest."""
    if minute_id is not None:
        minute = session.get(orm.Minute, minute_id)
        if minute is None or minute.agenda_item_id != agenda_item_id:
            raise NotFound("not_found", f"onbekend verslag bij dit agendapunt ({minute_id})",
                           "minute")
        return minute.id
    found = session.scalars(select(orm.Minute.id).where(orm.Minute.agenda_item_id ==
                                                        agenda_item_id)
                            .order_by(orm.Minute.id.desc()).limit(1)).first()
    if found is None:
        raise NotFound("not_found", "dit agendapunt heeft nog geen verslag (laat --version weg "
                       "voor een nieuw verslag)", "minute")
    return found


def write_minute(u: Unit, agenda_item_id: int, text: str, minute_id: int | None = None,
                 expected_version: int | None = None) -> orm.Minute:
    """A new minute for an agenda item (neither a minute nor a version), or a change to one:
    name the version you saw, and the minute (default, with a version: the item's newest).
    The writer, the acting professional, works for an organisation taking part in the case
    (access.require_case)."""
    session = u.session
    by = u.professional_or("by", "een verslag schrijven")
    item = get_agenda_item(session, agenda_item_id)
    access.require_case(u, _minute_case(session, item.id).id,
                        unknown=_unknown("agendapunt", agenda_item_id, "agenda_item"))
    if expected_version is not None:
        minute_id = _minute_target(session, item.id, minute_id)
    text = checked_text(text, "text", "het verslag", LONG_TEXT_MAX,
                        missing="een verslag heeft tekst", multiline=True)
    if minute_id is None:
        case = _minute_case(session, item.id)
        minute = orm.Minute(agenda_item_id=item.id, text="", updated_by_id=by.id)
        youth = _set_minute_text(session, minute, case, text)
        session.add(minute)
        session.flush()
        _log_minute(session, case, youth, by)
        return minute
    minute = _get(session, orm.Minute, minute_id, "verslag", "minute")
    if minute.agenda_item_id != agenda_item_id:
        raise NotFound("not_found", f"onbekend verslag bij dit agendapunt ({minute_id})",
                       "minute")
    case = _minute_case(session, minute.agenda_item_id)
    if expected_version is None or minute.version != expected_version:
        raise Conflict("conflict", f"het verslag is intussen gewijzigd (versie "
                       f"{minute.version}, u zag {expected_version}); laad opnieuw",
                       "expected_version")
    youth = _set_minute_text(session, minute, case, text)
    minute.updated_by_id = by.id
    _save(session, "het verslag")
    _log_minute(session, case, youth, by)
    return minute


def add_action(u: Unit, meeting: orm.Meeting | int, owner: orm.Professional,
               description: str, due_on: dt.date, evaluate_on: dt.date | None = None
               ) -> orm.Action:
    """An action from a meeting (or its id); its owner (a professional named, not the actor)
    works for an organisation taking part in the case."""
    session = u.session
    access.require_case_kind(u)
    if isinstance(meeting, int):
        meeting = get_meeting(session, meeting)
    access.require_case(u, meeting.case_id, unknown=_unknown("overleg", meeting.id, "meeting"))
    description = checked_text(description, "description", "de omschrijving", LONG_TEXT_MAX,
                               missing="een actie heeft een omschrijving", multiline=True)
    owner_takes_part = exists().where(
        orm.CaseParticipant.case_id == meeting.case_id,
        orm.CaseParticipant.organisation_id == owner.organisation_id)
    if not session.scalar(select(owner_takes_part)):
        raise Invalid("not_a_participant", f"{owner.name} werkt niet bij een deelnemende "
                      "organisatie van deze casus", "owner")
    no_bsn_in_anonymous(session.get(orm.Case, meeting.case_id).youth_id, description,
                        "description", "de omschrijving")
    if due_on < meeting.held_on:
        raise Invalid("invalid_date", "de deadline ligt vóór het overleg", "due_on")
    if evaluate_on is not None and evaluate_on < meeting.held_on:
        raise Invalid("invalid_date", "de evaluatiedatum ligt vóór het overleg", "evaluate_on")
    plain, enc = texts_of_meeting(session, meeting).seal(description, "description")
    action = orm.Action(meeting_id=meeting.id, owner_id=owner.id, description=plain,
                        description_enc=enc, due_on=due_on, evaluate_on=evaluate_on)
    session.add(action)
    session.flush()
    return action


SCOPED_KINDS = ("conflict_of_duties", "vital_interest", "statutory_power")


def _checked_weighing(kind: str, answers: dict[str, str], to_org_ids: list[int] | None,
                      categories: list[str] | None, valid_until: dt.date | None,
                      at: dt.datetime) -> tuple[bool, dict[str, str], list[int], list[str]]:
    """What every weighing checks: known questions, the scope a scoped kind must name, known
    categories, a sensible end. Returns (complete, {key: question}, recipients, categories)."""
    complete, _problems = exc_domain.check_answers(kind, answers)
    questions = {k: q for k, q, _ in exc_domain.QUESTIONS[kind]}
    unknown = [k for k in answers if k not in questions]
    if unknown:
        raise Invalid("unknown_field", f"onbekende vraag: {', '.join(unknown)}", "answers")
    to_org_ids, categories = list(to_org_ids or []), list(categories or [])
    if kind in SCOPED_KINDS and not to_org_ids:
        raise Invalid("missing_field", "een afweging bij deze uitzondering noemt aan wie u "
                      "verstrekt", "to_org_ids")
    if kind in SCOPED_KINDS and not categories:
        raise Invalid("missing_field", "een afweging bij deze uitzondering noemt welke "
                      "gegevens u verstrekt", "categories")
    for c in categories:
        if c not in codes.CATEGORIES:
            raise Invalid("unknown_code", f"onbekende gegevenscategorie '{c}'", "categories")
    if valid_until is not None and valid_until < at.date():
        raise Invalid("invalid_date", "een afweging kan niet aflopen vóór ze is gemaakt",
                      "valid_until")
    return complete, questions, to_org_ids, categories


def _sealed_answers(texts: Texts, questions: dict[str, str], answers: dict[str, str],
                    pro: orm.Professional, at: dt.datetime) -> tuple[object, bytes | None]:
    return texts.seal_json(
        [{"question": questions[k], "key": k, "answer": v, "by": pro.id, "at": at.isoformat()}
         for k, v in answers.items()], [], "answers")


def record_exception(u: Unit, case: orm.Case, kind: str, answers: dict[str, str],
                     at: dt.datetime, *,
                     to_org_ids: list[int] | None = None, categories: list[str] | None = None,
                     valid_until: dt.date | None = None) -> orm.ExceptionRecord:
    """The written weighing (each question answered, by whom, when) and what it is about: the
    recipients and categories weighed, and until when it holds. A breach of secrecy (conflict
    of duties) or an emergency (vital interest) is weighed for a particular disclosure, so those
    must name both; for a compatible purpose or a legal duty empty means the whole case. The
    use of a statutory power is weighed about the youth, not in a case (record_youth_weighing):
    the legal route it opens is outside the casusoverleg. It is recorded in the name of the
    acting professional, of an organisation taking part in the case."""
    session = u.session
    by = u.professional_or("by", "een afweging vastleggen")
    if kind in exc_domain.YOUTH_KINDS:
        raise Invalid("not_in_case", f"een {labels.WEIGHING_KIND[kind]} hoort bij de jongere, "
                      "niet bij een casus: die verstrekking (zoals aan de Raad voor de "
                      "Kinderbescherming) valt buiten het casusoverleg. Gebruik: deelwijs "
                      "youth weighing record", "kind")
    if kind not in exc_domain.CASE_KINDS:
        raise Invalid("unknown_code", f"onbekende uitzondering '{kind}' (kies uit "
                      f"{', '.join(exc_domain.CASE_KINDS)})", "kind")
    access.require_case(u, case.id)
    complete, questions, to_org_ids, categories = _checked_weighing(
        kind, answers, to_org_ids, categories, valid_until, at)
    for key, answer in answers.items():
        no_bsn_in_anonymous(case.youth_id, answer, f"answers.{key}", "het antwoord")
    taking_part = {o.id for o in participants(session, case)}
    for org_id in to_org_ids:
        if org_id not in taking_part:
            raise Invalid("not_a_participant", f"organisatie {org_id} neemt geen deel aan "
                          "deze casus", "to_org_ids")
    plain, enc = _sealed_answers(Texts.for_case(session, case), questions, answers, by, at)
    row = orm.ExceptionRecord(
        case_id=case.id, kind=kind, complete=complete, recorded_by_id=by.id, recorded_at=at,
        answers=plain, answers_enc=enc, to_org_ids=to_org_ids, categories=categories,
        valid_until=valid_until)
    session.add(row)
    session.flush()
    return row


def record_youth_weighing(u: Unit, youth: orm.Youth | int, kind: str,
                          answers: dict[str, str], at: dt.datetime, *,
                          to_org_ids: list[int], categories: list[str],
                          valid_until: dt.date | None = None) -> orm.ExceptionRecord:
    """The written weighing for using a statutory power to provide data about a youth (e.g.
    art. 1:240 BW towards the Raad voor de Kinderbescherming): outside any case, because the
    legal route is outside the casusoverleg. It names the recipients and categories weighed
    (a power is used for a particular provision) and counts only for disclosures by the
    organisation of the professional who weighed (whose power it is), to those recipients,
    of those categories, from the day it was recorded until `valid_until` (if set). The
    answers are encrypted with the youth's key. The youth may be given by id; the weigher is
    the acting professional, of the youth's region."""
    session = u.session
    by = u.professional_or("by", "een afweging vastleggen")
    if isinstance(youth, int):
        youth = get_youth(session, youth)
    if kind in exc_domain.CASE_KINDS:
        raise Invalid("in_case_only", f"een {labels.WEIGHING_KIND[kind]} hoort bij een casus "
                      "(deelwijs case weighing record)", "kind")
    if kind not in exc_domain.YOUTH_KINDS:
        raise Invalid("unknown_code", f"onbekende afweging '{kind}' (kies uit "
                      f"{', '.join(exc_domain.YOUTH_KINDS)})", "kind")
    if youth.key_wrapped is None:
        raise Invalid("shredded", "de gegevens van deze jongere zijn vernietigd", "youth")
    access.require_region(u, youth.region_id, "by", "de regio van deze jongere")
    access.require_party(u, "een afweging vastleggen")
    complete, questions, to_org_ids, categories = _checked_weighing(
        kind, answers, to_org_ids, categories, valid_until, at)
    for org_id in to_org_ids:
        org = session.get(orm.Organisation, org_id)
        if org is None or org.region_id != youth.region_id:
            raise NotFound("not_found", f"onbekende organisatie in deze regio ({org_id})",
                           "to_org_ids")
    plain, enc = _sealed_answers(Texts.for_youth(session, youth.id), questions, answers, by,
                                 at)
    row = orm.ExceptionRecord(
        youth_id=youth.id, kind=kind, complete=complete, recorded_by_id=by.id,
        recorded_at=at, answers=plain, answers_enc=enc, to_org_ids=to_org_ids,
        categories=categories, valid_until=valid_until)
    session.add(row)
    session.flush()
    return row


# --- the municipal workflow ----------------------------------------------------------------


def open_workflow(u: Unit, region: orm.Region | None, youth: orm.Youth | int
                  ) -> orm.Workflow:
    """The workflow about a youth (or its id) of the region (None: the youth's), opened by the
    acting professional, who works there."""
    session = u.session
    by = u.professional_or("by", "een werkproces openen")
    if isinstance(youth, int):
        youth = get_youth(session, youth)
    if region is None:
        region = session.get(orm.Region, youth.region_id)
    if youth.region_id != region.id:
        raise Invalid("other_region", "de jongere hoort niet bij deze regio", "youth")
    if youth.key_wrapped is None:
        raise Invalid("shredded", "de gegevens van deze jongere zijn vernietigd", "youth")
    access.require_region(u, region.id, "by", "de regio van deze jongere")
    access.require_municipal(u, "een werkproces openen")
    row = orm.Workflow(region_id=region.id, youth_id=youth.id, state="new", scope=[],
                       opened_by_id=by.id)
    session.add(row)
    session.flush()
    return row


def take_step(u: Unit, workflow_id: int, expected_version: int, step: str,
              details: dict, on: dt.date | None = None) -> orm.Workflow:
    """The next step, by the acting professional (and to professionals) of the workflow's
    region, on `on` (default today): a day not before the previous step and not after
    today."""
    session = u.session
    by = u.professional_or("by", "een stap zetten")
    on = on or u.today
    flow = get_workflow(session, workflow_id)
    access.require_region(u, flow.region_id, "by", "de regio van dit werkproces")
    access.require_municipal(u, "een stap zetten")
    if flow.version != expected_version:
        raise Conflict("conflict", f"het werkproces is intussen gewijzigd (versie "
                       f"{flow.version}, u zag {expected_version}); laad opnieuw",
                       "expected_version")
    if on > u.today:
        raise Invalid("date_in_future", f"de datum van de stap ({on.isoformat()}) ligt in de "
                      "toekomst", "on")
    previous = session.scalar(select(orm.WorkflowStep.taken_on)
                              .where(orm.WorkflowStep.workflow_id == flow.id)
                              .order_by(orm.WorkflowStep.id.desc()).limit(1))
    if previous is not None and on < previous:
        raise Invalid("invalid_date", f"een stap kan niet vóór de vorige stap "
                      f"({previous.isoformat()}) liggen", "on")
    try:
        state, checked = wf.advance(flow.state, step, details)
    except wf.WorkflowError as e:
        raise Refused(e.code, str(e), "step") from None
    note_enc = None  # (sealed before the workflow changes: reading the key after would flush)
    if "note" in checked:  # free text about the resident: encrypted with the youth's key
        _, note_enc = Texts.for_youth(session, flow.youth_id).seal(str(checked.pop("note")),
                                                                   "details.note")
    if step == "coordinator":
        coordinator = _get(session, orm.Professional, checked["coordinator_id"], "professional",
                           "details.coordinator_id")
        if region_of(session, coordinator) != flow.region_id:
            raise Invalid("other_region", f"{coordinator.name} werkt niet in de regio van dit "
                          "werkproces", "details.coordinator_id")
        checked["coordinator"] = coordinator.name
        flow.coordination = checked["coordination"]
    if step == "investigation":
        flow.scope = checked["scope"]
    flow.state = state
    session.add(orm.WorkflowStep(workflow_id=flow.id, step=step, details=checked,
                                 note_enc=note_enc, taken_on=on, professional_id=by.id))
    _save(session, "het werkproces")
    return flow


def workflow_view(session: Session, flow: orm.Workflow) -> WorkflowView:
    steps = session.scalars(select(orm.WorkflowStep).where(
        orm.WorkflowStep.workflow_id == flow.id).order_by(orm.WorkflowStep.id)).all()
    texts = Texts.for_youth(session, flow.youth_id)
    return {"id": flow.id, "youth_id": flow.youth_id, "state": flow.state,
            "state_nl": labels.WORKFLOW_STATE[flow.state], "scope": flow.scope,
            "coordination": flow.coordination, "version": flow.version,
            "next": list(wf.NEXT[flow.state]),
            "steps": [{"step": s.step, "details": step_details(texts, s),
                       "on": s.taken_on.isoformat(), "by": s.professional_id} for s in steps]}


def read_workflow(u: Unit, workflow_id: int) -> WorkflowView:
    """One workflow with its steps, their notes decrypted, for the operator or a
    professional of the municipality or a wijkteam (access.require_municipal) whose
    organisation opened it or took a step in it (anyone else's: as an unknown workflow).
    About a youth whose data are still there, the read is logged in the actor's name."""
    session = u.session
    access.require_municipal(u, "een werkproces inzien")
    flow = get_workflow(session, workflow_id)
    pro = u.professional
    if pro is not None:
        org = pro.organisation_id
        involved = or_(
            exists().where(orm.Professional.id == flow.opened_by_id,
                           orm.Professional.organisation_id == org),
            exists().where(orm.WorkflowStep.workflow_id == flow.id,
                           orm.Professional.id == orm.WorkflowStep.professional_id,
                           orm.Professional.organisation_id == org))
        if flow.region_id != u.actor.region_id or not session.scalar(select(involved)):
            raise _unknown("werkproces", workflow_id, "workflow")
    view = workflow_view(session, flow)
    youth = session.get(orm.Youth, flow.youth_id)
    if youth is not None and youth.key_wrapped is not None:
        audit.log_system(session, region_id=flow.region_id, name="toeleiding", actie="read",
                         youth_id=youth.id, categories=[], professional=pro,
                         uitvoerder=session.get(orm.Organisation, pro.organisation_id)
                         if pro else None, handeling="Inzien werkproces",
                         verwerking="Werkproces gemeente",
                         verwerking_id=f"deelwijs:werkproces:{flow.id}")
    return view


def step_details(texts: Texts, step: orm.WorkflowStep) -> dict:
    """A step's details with its note decrypted ('[vernietigd]' once the key is gone)."""
    if step.note_enc is None:
        return step.details
    return {**step.details, "note": texts.open("", step.note_enc)}


# --- reading cases, and the views the commands print (and the API will answer) -------------


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def case_view(session: Session, case: orm.Case) -> CaseView:
    return {"id": case.id, "region_id": case.region_id, "title": case_title(session, case),
            "purpose": case.purpose, "overleg": case.overleg, "anonymous": case.anonymous,
            "youth_id": case.youth_id, "opened_on": case.opened_on.isoformat(),
            "created_by": case.created_by_id, "version": case.version,
            "participants": [{"id": o.id, "party": o.party, "name": o.name}
                             for o in participants(session, case)]}


def read_case(u: Unit, case_id: int) -> dict:
    """One case with its participants, meetings (agenda, actions) and disclosures, its free
    text decrypted, for the actor to read: a professional of a participating organisation
    (access.require_case), or the administrator. About an identifiable youth the read is
    logged in the actor's name."""
    from deelwijs.services.casus import disclosures

    session = u.session
    access.require_case_kind(u)
    case = get_case(session, case_id)
    access.require_case(u, case.id)
    texts = Texts.for_case(session, case)
    meetings = session.scalars(select(orm.Meeting).where(orm.Meeting.case_id == case.id)
                               .order_by(orm.Meeting.held_on, orm.Meeting.id)).all()
    out = {"id": case.id, "title": case_title(session, case, texts),
           "purpose": case.purpose, "overleg": case.overleg, "anonymous": case.anonymous,
           "youth_id": case.youth_id, "opened_on": case.opened_on, "version": case.version,
           "participants": [{"id": o.id, "party": o.party, "name": o.name}
                            for o in participants(session, case)],
           "meetings": [{"id": m.id, "held_on": m.held_on, "version": m.version,
                         "agenda": meeting_agenda(session, m, texts),
                         "actions": [{"description": action_description(texts, a),
                                      "owner": a.owner_id, "due_on": a.due_on,
                                      "evaluate_on": a.evaluate_on}
                                     for a in session.scalars(select(orm.Action).where(
                                         orm.Action.meeting_id == m.id)
                                         .order_by(orm.Action.id))]}
                        for m in meetings],
           "disclosures": [disclosures.view(session, d) for d in session.scalars(
               select(orm.Disclosure).where(orm.Disclosure.case_id == case.id)
               .order_by(orm.Disclosure.id))]}
    _log_case_read(session, case, texts, u.professional, "Inzien casus")
    return out


def list_cases(u: Unit, region: orm.Region, limit: int = 50) -> list[dict]:
    """A page of the region's cases with their titles decrypted: for a professional only the
    cases their organisation takes part in (need to know, as access.may_see_case), for the
    administrator all. One read is logged per case about an identifiable youth shown, in the
    actor's name."""
    session = u.session
    access.require_case_kind(u)
    access.require_region(u, region.id)
    query = select(orm.Case).where(orm.Case.region_id == region.id)
    if not u.actor.is_operator:
        query = query.where(exists().where(
            orm.CaseParticipant.case_id == orm.Case.id,
            orm.CaseParticipant.organisation_id == u.actor.organisation_id))
    rows = session.scalars(query.order_by(orm.Case.id).limit(limit)).all()
    by = u.professional
    out = []
    for case in rows:
        texts = Texts.for_case(session, case)
        out.append({"id": case.id, "purpose": case.purpose, "overleg": case.overleg,
                    "anonymous": case.anonymous, "youth_id": case.youth_id,
                    "title": case_title(session, case, texts)})
        _log_case_read(session, case, texts, by, "Raadplegen lijst casussen")
    return out


def _log_case_read(session: Session, case: orm.Case, texts: Texts,
                   pro: orm.Professional | None, handeling: str) -> None:
    if not texts.identifiable or texts.shredded:  # nothing about a person to read
        return
    audit.log_system(session, region_id=case.region_id, name=case.purpose, actie="read",
                     youth_id=case.youth_id, categories=[], professional=pro,
                     uitvoerder=session.get(orm.Organisation, pro.organisation_id) if pro else None,
                     handeling=handeling, verwerking=f"Casusoverleg {case.purpose}",
                     verwerking_id=f"deelwijs:casus:{case.id}")


def meeting_view(session: Session, meeting: orm.Meeting) -> MeetingView:
    items = session.scalars(select(orm.AgendaItem).where(orm.AgendaItem.meeting_id == meeting.id)
                            .order_by(orm.AgendaItem.position, orm.AgendaItem.id)).all()
    pros = session.scalars(select(orm.MeetingParticipant.professional_id).where(
        orm.MeetingParticipant.meeting_id == meeting.id)).all()
    texts = texts_of_meeting(session, meeting)
    return {"id": meeting.id, "case_id": meeting.case_id, "held_on": meeting.held_on.isoformat(),
            "version": meeting.version,
            "agenda": [{"id": i.id, "position": i.position, "title": item_title(texts, i)}
                       for i in items],
            "participants": sorted(pros)}


def minute_view(session: Session, row: orm.Minute) -> MinuteView:
    return {"id": row.id, "agenda_item_id": row.agenda_item_id, "version": row.version,
            "text": minute_text(session, row), "updated_by": row.updated_by_id}


def action_view(session: Session, row: orm.Action) -> ActionView:
    texts = texts_of_meeting(session, session.get(orm.Meeting, row.meeting_id))
    return {"id": row.id, "meeting_id": row.meeting_id, "owner": row.owner_id,
            "description": action_description(texts, row),
            "due_on": row.due_on.isoformat(),
            "evaluate_on": _iso(row.evaluate_on), "done_on": _iso(row.done_on)}


def weighing_view(session: Session, row: orm.ExceptionRecord, answers: dict[str, str]
                  ) -> WeighingView:
    """A weighing just recorded (record_exception, record_youth_weighing) from the `answers`
    given, with what is still missing for a complete weighing."""
    texts = (Texts.for_case(session, session.get(orm.Case, row.case_id))
             if row.case_id is not None else Texts.for_youth(session, row.youth_id))
    kind = row.kind
    unanswered = [{"key": k, "question": q} for k, q, _ in exc_domain.QUESTIONS[kind]
                  if not str(answers.get(k, "")).strip()]
    _, problems = exc_domain.check_answers(kind, answers)
    return {"id": row.id, "case_id": row.case_id, "youth_id": row.youth_id, "kind": kind,
            "label": labels.WEIGHING_KIND[kind], "complete": row.complete,
            "recorded_by": row.recorded_by_id, "recorded_at": row.recorded_at.isoformat(),
            "to_org_ids": list(row.to_org_ids or []), "categories": list(row.categories or []),
            "valid_until": _iso(row.valid_until),
            "answers": [{"key": a["key"], "question": a["question"], "answer": a["answer"]}
                        for a in exception_answers(texts, row)],
            "unanswered": unanswered, "problems": problems}


def read_meeting(u: Unit, meeting_id: int) -> dict:
    """One meeting with its agenda, participants and minutes (decrypted), for the actor to
    read: as read_case, a professional of a participating organisation (access.require_case)
    or the operator. About an identifiable youth the read is logged in the actor's name
    (minutes are personal data)."""
    session = u.session
    meeting = get_meeting(session, meeting_id)
    access.require_case(u, meeting.case_id, "by")
    case = session.get(orm.Case, meeting.case_id)
    out = dict(meeting_view(session, meeting))
    minutes = session.scalars(
        select(orm.Minute).join(orm.AgendaItem, orm.AgendaItem.id == orm.Minute.agenda_item_id)
        .where(orm.AgendaItem.meeting_id == meeting.id)
        .order_by(orm.AgendaItem.position, orm.Minute.id)).all()
    out["minutes"] = [minute_view(session, m) for m in minutes]
    _log_case_read(session, case, Texts.for_case(session, case), u.professional,
                   "Inzien overleg met verslag")
    return out
