"""The casusoverleg's tables (SQLAlchemy 2). Never imported by deelwijs.domain.

Personal data of a youth (names, date of birth, BSN, the names of parents) is stored
encrypted with that youth's own data key, which is stored wrapped by the master key; the BSN
is also stored as a keyed hash for look-up. Destroying a youth's key makes every copy of
that data unreadable (crypto-shredding, used by the retention run of a later issue).

Rows that must never lose a concurrent update (meetings, minutes, consent series, cases,
workflows) carry a `version` column used for optimistic locking.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Region(Base):
    __tablename__ = "region"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    wams_in_force: Mapped[bool] = mapped_column(Boolean, default=False)
    # The controller (verwerkingsverantwoordelijke) and its FG, named in a parent's inzage
    # (migration 0005); None until an administrator records them.
    controller_name: Mapped[str | None] = mapped_column(String(200))
    controller_address: Mapped[str | None] = mapped_column(String(500))
    # its OIN, as the VNG register (VAR) names a controller (migration 0007)
    controller_oin: Mapped[str | None] = mapped_column(String(20))
    fg_name: Mapped[str | None] = mapped_column(String(200))
    fg_email: Mapped[str | None] = mapped_column(String(254))
    fg_phone: Mapped[str | None] = mapped_column(String(40))


class RulesetVersion(Base):
    """A ruleset exactly as it was used: its text is kept, so old decisions stay traceable."""

    __tablename__ = "ruleset_version"
    id: Mapped[int] = mapped_column(primary_key=True)
    ruleset_id: Mapped[str] = mapped_column(String(100))
    version: Mapped[str] = mapped_column(String(50))
    digest: Mapped[str] = mapped_column(String(80), unique=True)
    source: Mapped[str] = mapped_column(Text)
    stored_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)


class RulesetActivation(Base):
    """A region switching to a ruleset version. The newest activation is the active one; a new
    version never rewrites the decisions made under an older one."""

    __tablename__ = "ruleset_activation"
    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    ruleset_version_id: Mapped[int] = mapped_column(ForeignKey("ruleset_version.id"))
    activated_on: Mapped[dt.date] = mapped_column(Date)
    activated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)


class Organisation(Base):
    __tablename__ = "organisation"
    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    party: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    kvk: Mapped[str | None] = mapped_column(String(8))
    oin: Mapped[str | None] = mapped_column(String(20))
    domain: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)
    signatories: Mapped[list[Signatory]] = relationship(back_populates="organisation")
    __table_args__ = (UniqueConstraint("region_id", "name"),)


class Signatory(Base):
    __tablename__ = "signatory"
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    function: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[Organisation] = relationship(back_populates="signatories")


class CovenantSignature(Base):
    __tablename__ = "covenant_signature"
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    ruleset_version_id: Mapped[int] = mapped_column(ForeignKey("ruleset_version.id"))
    signatory_id: Mapped[int | None] = mapped_column(ForeignKey("signatory.id"))
    signed_on: Mapped[dt.date] = mapped_column(Date)
    on_behalf_of_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))


class Mandate(Base):
    """A school board's written mandate (machtiging) to the SWV's director to sign for it."""

    __tablename__ = "mandate"
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    swv_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    granted_on: Mapped[dt.date] = mapped_column(Date)
    document_ref: Mapped[str] = mapped_column(String(200))
    revoked_on: Mapped[dt.date | None] = mapped_column(Date)


class AccessionForm(Base):
    """Toetredingsformulier aangesloten partij (Bijlage 1), per casusoverleg."""

    __tablename__ = "accession_form"
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("casus.id"), index=True)
    signed_on: Mapped[dt.date] = mapped_column(Date)
    notified_on: Mapped[dt.date | None] = mapped_column(Date)
    document_ref: Mapped[str] = mapped_column(String(200))


class Professional(Base):
    __tablename__ = "professional"
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    function: Mapped[str] = mapped_column(String(200))
    hats: Mapped[list] = mapped_column(JSON, default=list)
    pseudonym: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Youth(Base):
    __tablename__ = "youth"
    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    key_wrapped: Mapped[bytes | None] = mapped_column(LargeBinary)
    name_enc: Mapped[bytes] = mapped_column(LargeBinary)
    birth_enc: Mapped[bytes] = mapped_column(LargeBinary)
    bsn_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    bsn_hash: Mapped[str | None] = mapped_column(String(64))
    # holds a startkwalificatie (havo, vwo or mbo-2 diploma): ends kwalificatieplicht and the
    # RMC task. Not encrypted, unlike the name and the birth date: a yes/no identifies no one
    # (the row is a pseudonym without the youth's key), is not a special category, and every
    # recorded disclosure reads it in its one fact query, as `school_id` and a guardian's
    # `has_gezag` are kept. Shredding resets it (services.rights.shred_youth).
    startkwalificatie: Mapped[bool] = mapped_column(Boolean, default=False,
                                                    server_default=false())
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)
    shredded_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    guardians: Mapped[list[Guardian]] = relationship(back_populates="youth",
                                                     order_by="Guardian.id")
    __table_args__ = (UniqueConstraint("region_id", "bsn_hash"),)


class Guardian(Base):
    """A parent or guardian, with or without parental authority (gezag)."""

    __tablename__ = "guardian"
    id: Mapped[int] = mapped_column(primary_key=True)
    youth_id: Mapped[int] = mapped_column(ForeignKey("youth.id"), index=True)
    name_enc: Mapped[bytes] = mapped_column(LargeBinary)
    relation: Mapped[str] = mapped_column(String(32))
    has_gezag: Mapped[bool] = mapped_column(Boolean)
    youth: Mapped[Youth] = relationship(back_populates="guardians")


class ConsentRecord(Base):
    """One version of one consent (or refusal) by one person. Append-only.

    A series is one person's answer about one scope; a withdrawal or change is a new version
    in the same series. Nothing is ever updated or deleted.
    """

    __tablename__ = "consent_record"
    id: Mapped[int] = mapped_column(primary_key=True)
    youth_id: Mapped[int] = mapped_column(ForeignKey("youth.id"), index=True)
    series: Mapped[str] = mapped_column(String(36), index=True)
    version: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))  # parent | youth
    guardian_id: Mapped[int | None] = mapped_column(ForeignKey("guardian.id"))
    answer: Mapped[str] = mapped_column(String(16))  # given | refused | withdrawn
    purposes: Mapped[list] = mapped_column(JSON)
    categories: Mapped[list] = mapped_column(JSON)
    recipient_ids: Mapped[list] = mapped_column(JSON)  # organisation ids; [] = every party
    written: Mapped[bool] = mapped_column(Boolean)
    document_ref: Mapped[str | None] = mapped_column(String(200))
    given_on: Mapped[dt.date] = mapped_column(Date)
    prior_to_meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id"))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("professional.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)
    __table_args__ = (UniqueConstraint("series", "version"),)


class Case(Base):
    __tablename__ = "casus"
    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    youth_id: Mapped[int | None] = mapped_column(ForeignKey("youth.id"), index=True)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    purpose: Mapped[str] = mapped_column(String(32))
    overleg: Mapped[str | None] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))  # "" when encrypted
    # about an identifiable youth: encrypted with the youth's key (shredded with it); so are
    # the agenda, agenda items, actions, weighing answers and workflow notes below
    title_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    opened_on: Mapped[dt.date] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("professional.id"))
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}


class CaseParticipant(Base):
    __tablename__ = "case_participant"
    case_id: Mapped[int] = mapped_column(ForeignKey("casus.id"), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"),
                                                 primary_key=True)


class Meeting(Base):
    __tablename__ = "meeting"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("casus.id"), index=True)
    held_on: Mapped[dt.date] = mapped_column(Date)
    agenda: Mapped[str] = mapped_column(Text, default="")  # "" when encrypted
    agenda_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}


class MeetingParticipant(Base):
    __tablename__ = "meeting_participant"
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), primary_key=True)
    professional_id: Mapped[int] = mapped_column(ForeignKey("professional.id"),
                                                 primary_key=True)


class AgendaItem(Base):
    __tablename__ = "agenda_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))  # "" when encrypted
    title_enc: Mapped[bytes | None] = mapped_column(LargeBinary)


class Minute(Base):
    __tablename__ = "minute"
    id: Mapped[int] = mapped_column(primary_key=True)
    agenda_item_id: Mapped[int] = mapped_column(ForeignKey("agenda_item.id"), index=True)
    text: Mapped[str] = mapped_column(Text)  # "" when encrypted
    # about an identifiable youth: encrypted with the youth's key (shredded with it)
    text_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("professional.id"))
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}


class Action(Base):
    __tablename__ = "action"
    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("professional.id"))
    description: Mapped[str] = mapped_column(Text)  # "" when encrypted
    description_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    due_on: Mapped[dt.date] = mapped_column(Date)
    evaluate_on: Mapped[dt.date | None] = mapped_column(Date)
    done_on: Mapped[dt.date | None] = mapped_column(Date)


class ExceptionRecord(Base):
    """A documented weighing: conflict of duties, vital interest, compatible purpose or a legal
    duty in a case; the use of a statutory power (e.g. art. 1:240 BW towards the Raad) about a
    youth, outside any case. Only a complete record (every question answered) makes the
    engine's fact true, and only for what was weighed: the recipients and categories named
    (empty: every participant or category, allowed only for compatible purpose and legal
    duty), from the day it was recorded until `valid_until` (if set)."""

    __tablename__ = "exception_record"
    id: Mapped[int] = mapped_column(primary_key=True)
    # a weighing in a case, or (kind statutory_power: a legal route has no case) about a youth
    case_id: Mapped[int | None] = mapped_column(ForeignKey("casus.id"), index=True)
    youth_id: Mapped[int | None] = mapped_column(ForeignKey("youth.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    # [{question, answer, by, at}]; [] when encrypted (answers_enc: that list as JSON)
    answers: Mapped[list] = mapped_column(JSON)
    answers_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    complete: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("professional.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)
    to_org_ids: Mapped[list] = mapped_column(JSON, default=list)
    categories: Mapped[list] = mapped_column(JSON, default=list)
    valid_until: Mapped[dt.date | None] = mapped_column(Date)


class Disclosure(Base):
    """Data about a youth going from one organisation to another, with the full decision."""

    __tablename__ = "disclosure"
    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"))
    youth_id: Mapped[int | None] = mapped_column(ForeignKey("youth.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("casus.id"), index=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id"))
    from_org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    to_org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    professional_id: Mapped[int] = mapped_column(ForeignKey("professional.id"))
    hat: Mapped[str | None] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))  # minute | document | answer
    outcome: Mapped[str] = mapped_column(String(8))
    decision: Mapped[dict] = mapped_column(JSON)
    ruleset_version_id: Mapped[int] = mapped_column(ForeignKey("ruleset_version.id"))
    ruleset_digest: Mapped[str] = mapped_column(String(80))
    disclosed_on: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)
    items: Mapped[list[DisclosureItem]] = relationship(back_populates="disclosure",
                                                       order_by="DisclosureItem.id")


class DisclosureItem(Base):
    """One category of a disclosure. Content is kept only where the item was allowed."""

    __tablename__ = "disclosure_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    disclosure_id: Mapped[int] = mapped_column(ForeignKey("disclosure.id"), index=True)
    category: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(8))
    codes: Mapped[list] = mapped_column(JSON)
    rules: Mapped[list] = mapped_column(JSON)
    content: Mapped[str | None] = mapped_column(Text)  # anonymous cases only
    # identifiable youth: encrypted with the youth's key (shredded with it)
    content_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    disclosure: Mapped[Disclosure] = relationship(back_populates="items")


class Workflow(Base):
    """The municipal stepwise workflow (Wams-style): the resident's request sets the scope."""

    __tablename__ = "workflow"
    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"))
    youth_id: Mapped[int] = mapped_column(ForeignKey("youth.id"), index=True)
    state: Mapped[str] = mapped_column(String(32))
    scope: Mapped[list] = mapped_column(JSON, default=list)
    coordination: Mapped[str | None] = mapped_column(String(8))
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("professional.id"))
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}


class WorkflowStep(Base):
    __tablename__ = "workflow_step"
    id: Mapped[int] = mapped_column(primary_key=True)
    workflow_id: Mapped[int] = mapped_column(ForeignKey("workflow.id"), index=True)
    step: Mapped[str] = mapped_column(String(32))
    details: Mapped[dict] = mapped_column(JSON, default=dict)  # without the note
    note_enc: Mapped[bytes | None] = mapped_column(LargeBinary)  # details["note"], encrypted
    taken_on: Mapped[dt.date] = mapped_column(Date)
    professional_id: Mapped[int] = mapped_column(ForeignKey("professional.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)


# --- the processing log (verwerkingenlogging) ------------------------------------------------

# a 64-bit key on PostgreSQL, SQLite's rowid there (BIGINT is not a rowid alias in SQLite)
BigId = BigInteger().with_variant(Integer(), "sqlite")


class LogHead(Base):
    """One per region: the size of the region's log and the Merkle frontier (the roots of the
    perfect subtrees). Every writer updates this row first, so the database, not a process,
    orders the leaves: the row lock serialises appends across processes and machines."""

    __tablename__ = "log_head"
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    frontier: Mapped[bytes] = mapped_column(LargeBinary, default=b"")


class LogEntry(Base):
    """One processing of personal data (a VNG verwerkingsactie / Logboek Dataverwerkingen
    line), one per data subject. Append-only: on PostgreSQL a trigger refuses UPDATE and
    DELETE, except the retention run's removal of a body past its term (the leaf hash stays).

    `body` is the canonical JSON of the entry; the leaf is SHA-256(0x00 || header || body) with
    the header built from the indexed columns, so an edit of any of them changes the leaf."""

    __tablename__ = "log_entry"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"))
    seq: Mapped[int] = mapped_column(BigInteger)
    actie_id: Mapped[str] = mapped_column(String(36), unique=True)
    subject: Mapped[str | None] = mapped_column(String(64), index=True)
    activity_id: Mapped[str] = mapped_column(String(120))
    registered_at: Mapped[dt.datetime] = mapped_column(DateTime)
    body: Mapped[str | None] = mapped_column(Text)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary)
    mac: Mapped[bytes] = mapped_column(LargeBinary)
    pruned_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    __table_args__ = (UniqueConstraint("region_id", "seq", name="uq_log_entry_region_seq"),)


class LogCheckpoint(Base):
    """A signed tree head: size and root of a region's log, as a C2SP signed note (Ed25519)."""

    __tablename__ = "log_checkpoint"
    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    root: Mapped[bytes] = mapped_column(LargeBinary)
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)
    __table_args__ = (UniqueConstraint("region_id", "size", name="uq_log_checkpoint_region_size"),)


# --- rights of the data subject, retention, breaches ------------------------------------------


class RightsRequest(Base):
    """A request under AVG art. 15–18 or 21 (inzage, rectificatie, wissing, beperking,
    bezwaar), who asked it, and what was decided. An honoured restriction or objection stays in
    force (from `decided_on` until `ends_on`) and is read by every later disclosure."""

    __tablename__ = "rights_request"
    id: Mapped[int] = mapped_column(primary_key=True)
    youth_id: Mapped[int] = mapped_column(ForeignKey("youth.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    requester: Mapped[str] = mapped_column(String(16))  # youth | parent
    guardian_id: Mapped[int | None] = mapped_column(ForeignKey("guardian.id"))
    received_on: Mapped[dt.date] = mapped_column(Date)
    due_on: Mapped[dt.date] = mapped_column(Date)
    scope: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16))  # toegewezen | afgewezen | deels
    motivation: Mapped[str] = mapped_column(Text, default="")
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    ends_on: Mapped[dt.date | None] = mapped_column(Date)
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("professional.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)


class YouthCorrection(Base):
    """Rectification history: the old and new value, encrypted with the youth's key."""

    __tablename__ = "youth_correction"
    id: Mapped[int] = mapped_column(primary_key=True)
    youth_id: Mapped[int] = mapped_column(ForeignKey("youth.id"), index=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("rights_request.id"))
    field: Mapped[str] = mapped_column(String(32))
    old_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    new_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    corrected_on: Mapped[dt.date] = mapped_column(Date)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("professional.id"))


class Breach(Base):
    """A personal-data breach (AVG art. 33/34): the 72-hour deadline to the Autoriteit
    Persoonsgegevens, the affected youths and whether they must be informed."""

    __tablename__ = "breach"
    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    discovered_at: Mapped[dt.datetime] = mapped_column(DateTime)
    ap_deadline: Mapped[dt.datetime] = mapped_column(DateTime)
    description: Mapped[str] = mapped_column(Text)
    categories: Mapped[list] = mapped_column(JSON, default=list)
    risk: Mapped[str] = mapped_column(String(16))  # onwaarschijnlijk | risico | hoog
    measures: Mapped[str] = mapped_column(Text, default="")
    ap_notified_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    ap_reference: Mapped[str | None] = mapped_column(String(100))
    no_notification_reason: Mapped[str | None] = mapped_column(Text)
    partners_notified_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("professional.id"))
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}


class BreachSubject(Base):
    __tablename__ = "breach_subject"
    breach_id: Mapped[int] = mapped_column(ForeignKey("breach.id"), primary_key=True)
    youth_id: Mapped[int] = mapped_column(ForeignKey("youth.id"), primary_key=True)
    must_inform: Mapped[bool] = mapped_column(Boolean)
    informed_on: Mapped[dt.date | None] = mapped_column(Date)


# --- accounts: who logs in, their sessions and tokens (issue 13) -------------------------------


class Account(Base):
    """Someone who logs in: a professional, a privacy officer (FG), an administrator, a parent
    or a youth (`kind`, services/context.py). A professional's account is linked to the
    professional (and so to an organisation and region); the others name their region (None:
    an administrator of every region). The password is an argon2id hash; the TOTP secret is
    sealed with a key derived from the master key (crypto.Keyring.seal). `oidc_subject` is
    "issuer sub" of a login through OpenID Connect."""

    __tablename__ = "account"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    professional_id: Mapped[int | None] = mapped_column(ForeignKey("professional.id"),
                                                        unique=True)
    email: Mapped[str | None] = mapped_column(String(254))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    totp_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_confirmed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)  # a code is used once
    oidc_subject: Mapped[str | None] = mapped_column(String(400), unique=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)


class AccountSubject(Base):
    """Whose data a parent's or youth's account may see: the youth, and for a parent the
    guardian row it is (gezag is read from that row, each time)."""

    __tablename__ = "account_subject"
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), primary_key=True)
    youth_id: Mapped[int] = mapped_column(ForeignKey("youth.id"), primary_key=True)
    guardian_id: Mapped[int | None] = mapped_column(ForeignKey("guardian.id"))


class WebSession(Base):
    """A logged-in browser. The cookie holds a random token; only its SHA-256 is stored. A
    session ends at `expires_at`, after `idle` minutes without a request, or at logout.
    `second_factor_at` is None until the TOTP code was given (where one is needed)."""

    __tablename__ = "web_session"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    hat: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    second_factor_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class AccessToken(Base):
    """A personal access token for the API and the CLI, scoped like its account. Only the
    SHA-256 of the token is stored; `prefix` (its first characters) names it in lists."""

    __tablename__ = "access_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)
    expires_on: Mapped[dt.date | None] = mapped_column(Date)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class AccountEvent(Base):
    """What happened to an account (a security log, no personal data of youths): logins,
    refused logins, lock-outs, second factors, logouts, switching hats, tokens, an
    administrator acting for someone. `account_id` None: a login with an unknown name."""

    __tablename__ = "account_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), index=True)
    event: Mapped[str] = mapped_column(String(32))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    remote: Mapped[str | None] = mapped_column(String(64))
