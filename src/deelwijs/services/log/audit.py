"""The processing log (verwerkingenlogging): every processing of personal data writes an entry
in the same transaction as the action; if the entry cannot be written, the action fails.

An entry carries the fields of the VNG Verwerkingenlogging API 0.9 `verwerkingsactie` and the
Logboek Dataverwerkingen trace and span ids; the data subject is a keyed pseudonym. Each entry
is a leaf of the region's Merkle tree (RFC 6962). The order of leaves is assigned by the
database: a writer first increments the region's `log_head` row, whose lock serialises
appends across processes and machines until the transaction ends, so write the entry as late
in the transaction as possible.

The head row also carries a MAC of its own state (`head_blob`): a writer that finds a head
whose size and frontier do not fit it stops (HeadTampered) before it writes anything.

Signed checkpoints (C2SP signed notes, Ed25519) are written with the first entry of a log,
every N entries, with the first entry T minutes or more after the newest checkpoint (N and T:
settings), at the end of the demo and of the retention run, and on demand; each one is also
appended to the witness file outside the database once its transaction has committed
(services.witness).

The reads the CLI offers on behalf of someone (`entries_for_youth`, `verifier_keys`) take the
unit of work (`u: Unit`, services/context.py) first; the rest (`log`, `log_system`, the
write path, `checkpoint(s)`, `origin`, `entry`, `entry_view`) are building blocks on a
session that the use cases and verify call.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import logging
import os
import secrets
import time
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote

from sqlalchemy import bindparam, event, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from deelwijs import __version__
from deelwijs import settings as settings_mod
from deelwijs.crypto import Keyring
from deelwijs.domain import checkpoint as cp
from deelwijs.domain import log_export, log_format, merkle
from deelwijs.services.errors import Invalid, NotFound, ServiceError
from deelwijs.storage import fast, orm
from deelwijs.tracing import Trace, current_trace, parse_traceparent, trace

if TYPE_CHECKING:
    from deelwijs.services.context import Actor, Unit

__all__ = ["Trace", "current_trace", "log", "log_system", "parse_traceparent", "trace"]

SYSTEEM = f"Deelwijs {__version__}"
GEGEVENSBRON = "deelwijs"
# a checkpoint every N entries and with the first entry T minutes after the newest one; the
# app's settings (DEELWIJS_CHECKPOINT_EVERY, _MINUTES) take precedence over these defaults
CHECKPOINT_EVERY = int(settings_mod.lenient_number(
    "DEELWIJS_CHECKPOINT_EVERY", settings_mod.DEFAULT_CHECKPOINT_EVERY, True))
CHECKPOINT_MINUTES = float(settings_mod.lenient_number(
    "DEELWIJS_CHECKPOINT_MINUTES", settings_mod.DEFAULT_CHECKPOINT_MINUTES, False))
# the log's retention (bewaartermijn of the entries themselves, not of the data): the longest
# term of the data it is about (a youth-care file, 20 years) plus a margin for audits
LOG_RETENTION = "P25Y"
# the same in years: every entry carries LOG_RETENTION as its bewaartermijn, and the triggers
# of migration 0006 (which cannot read a pruned body) hold this number
LOG_RETENTION_YEARS = 25


def prunable(registered_at: dt.datetime, at: dt.datetime) -> bool:
    """Whether an entry registered at `registered_at` may lose its body at `at` (both UTC,
    naive): once its term (LOG_RETENTION) has passed, by whole days as the retention run
    counts it (from the day after the registration day plus the term), with one day's leeway
    for a run whose local date is ahead of UTC. The log's UPDATE trigger (migration 0006)
    applies the same rule with the database's clock, and verify with a body's `pruned_at`."""
    until = registered_at
    try:
        until = until.replace(year=until.year + LOG_RETENTION_YEARS)
    except ValueError:  # 29 February in a year that has none: the 28th, as PostgreSQL does
        until = until.replace(year=until.year + LOG_RETENTION_YEARS, day=28)
    return until < dt.datetime.combine(at.date() + dt.timedelta(days=2), dt.time())

# what the VNG spec calls actieNaam (infinitive verb + noun), per kind of processing: the
# table of the log's format 2 (`rekey`: deelwijs keys rewrap, no youth named, only a count).
# A new kind of processing is added here; format 2's table stays as it was defined, and a
# body whose actieNaam it does not hold is stored with that name in full.
ACTIONS = dict(log_format.ACTION_NAMES)


# --- writing -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Written:
    seq: int
    actie_id: str
    span_id: str
    leaf_hash: bytes


# The canonical JSON of a full entry body (format 1): sorted keys, no whitespace, UTF-8 text.
canonical = log_format.canonical
# Whether prepare() stores bodies in the compact format 2 (domain/log_format.py) where they
# fit it; format 1 (the full canonical JSON) otherwise, and for entries written before it.
COMPACT = True


def leaf_data(region_id: int, seq: int, actie_id: str, subject: str | None, activity_id: str,
              registered_at: dt.datetime, body: str) -> bytes:
    """The bytes of a leaf: a header of the indexed columns, then the canonical body."""
    return (f"{region_id}\n{seq}\n{actie_id}\n{subject or ''}\n{activity_id}\n"
            f"{registered_at.isoformat()}\n{body}").encode()


# The write path's statements, built once from table columns (plain Core: no ORM bulk step).
_HEAD = orm.LogHead.__table__
_ENTRY = orm.LogEntry.__table__
_BUMP = (update(_HEAD).where(_HEAD.c.region_id == bindparam("r"))
         .values(size=_HEAD.c.size + 1)
         .returning(_HEAD.c.size, _HEAD.c.frontier))
_SET_FRONTIER = (update(_HEAD).where(_HEAD.c.region_id == bindparam("r"))
                 .values(frontier=bindparam("f")))
ENTRY_COLUMNS = ("region_id", "seq", "actie_id", "subject", "activity_id", "registered_at",
                  "body", "leaf_hash", "mac", "pruned_at")
_INSERT_ENTRY = insert(_ENTRY).values({c: bindparam(f"e_{c}", type_=_ENTRY.c[c].type)
                                       for c in ENTRY_COLUMNS})
# On PostgreSQL the entry and the new frontier go in one statement (the INSERT as a
# data-modifying CTE of the UPDATE): one round trip fewer while the head row is locked.
_ENTRY_AND_FRONTIER = _SET_FRONTIER.add_cte(_INSERT_ENTRY.cte("entry"))
# The same where the head was locked without being advanced yet (append_locked).
_SET_SIZE = (update(_HEAD).where(_HEAD.c.region_id == bindparam("r"))
             .values(size=_HEAD.c.size + 1, frontier=bindparam("f")))
_ENTRY_AND_SIZE = _SET_SIZE.add_cte(_INSERT_ENTRY.cte("entry"))


def _ensure_head(session: Session, region_id: int) -> None:
    dialect = session.get_bind().dialect.name
    ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(orm.LogHead)
    session.execute(ins.values(region_id=region_id, size=0, frontier=b"")
                    .on_conflict_do_nothing(index_elements=["region_id"]))


def uuid7() -> uuid.UUID:
    """A time-ordered UUID (RFC 9562, version 7: 48 bits of Unix milliseconds, then random
    bits) for an entry's actieId. Entries written close together get ids close together, so
    the unique index on actie_id grows at one end instead of touching a random page of a
    large index for every entry."""
    ms = time.time_ns() // 1_000_000
    value = (ms & 0xFFFF_FFFF_FFFF) << 80 | int.from_bytes(os.urandom(10), "big")
    value = value & ~(0xF << 76) | 0x7 << 76  # version 7
    value = value & ~(0x3 << 62) | 0x2 << 62  # variant 10 (RFC 9562)
    return uuid.UUID(int=value)


def now() -> dt.datetime:
    """The application's clock for `tijdstip` (taken when an action starts, UTC)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


_now = now


def activity(ruleset_id: str, purpose: str) -> str:
    """The processing activity (art. 30 register) an entry references."""
    return f"{ruleset_id}/{purpose}"


def decision_summary(decision: dict, digest: str) -> dict:
    """What allowed or refused a disclosure, for its log entry: outcome, per category the
    grounds or reasons and the rule ids, and the ruleset digest."""
    return {"uitkomst": decision["outcome"], "ruleset_digest": digest,
            "items": [{"gegeven": i["data"], "uitkomst": i["outcome"],
                       ("gronden" if i["outcome"] == "allow" else "redenen"):
                       i["grounds"] if i["outcome"] == "allow" else i["reasons"],
                       "regels": i["rules"]} for i in decision["items"]]}


def keys_of(session: Session) -> Keyring:
    """The keyring of the app that opened this session (App.transaction puts it there)."""
    keys = session.info.get("deelwijs_keys")
    if keys is None:
        raise RuntimeError("this session was not opened by App.transaction(): no keys to log "
                           "with, and no processing goes unlogged")
    return keys


_ACTIVE = (select(orm.RulesetVersion.ruleset_id, orm.RulesetVersion.version,
                  orm.RulesetVersion.digest)
           .join(orm.RulesetActivation,
                 orm.RulesetActivation.ruleset_version_id == orm.RulesetVersion.id)
           .where(orm.RulesetActivation.region_id == bindparam("r"))
           .order_by(orm.RulesetActivation.activated_on.desc(), orm.RulesetActivation.id.desc())
           .limit(1))


def version_label(version: str, digest: str) -> str:
    """An activity's version as the register states it (register.version)."""
    return f"{version}@{digest}"


def region_activity(session: Session, region_id: int, name: str) -> tuple[str, str]:
    """(activity id, version) of one of the region's activities under its newest ruleset:
    a purpose, or one of the register's own activities (registratie, rechten, …). A region
    without an active ruleset works under the model covenant's register."""
    row = session.execute(_ACTIVE, {"r": region_id}).first()
    if row is None:
        from deelwijs.rules import loader
        model = loader.resolve("model-convenant")
        return activity(model.id, name), version_label(model.version, model.digest)
    return activity(row.ruleset_id, name), version_label(row.version, row.digest)


def log_system(session: Session, *, region_id: int, name: str, **kw) -> Written:
    """log() under one of the region's activities, looked up by name."""
    act, version = region_activity(session, region_id, name)
    return log(session, region_id=region_id, activity=act, activity_version=version, **kw)


# --- who really acts: an administrator acting for a professional ---------------------------
#
# When an administrator acts for a professional (the CLI's `--by` without a token or with an
# administrator's token; services/context.py, `Actor.acted_by`), the entry records both
# identities: "gebruiker" is the professional acted for, as always, and UITGEVOERD_DOOR the
# administrator: "beheer" for the installation's operator, "account:<id>" for an
# administrator's account (an id, never a name: the log keeps its entries for 25 years). The
# key is stored in the body as it is (in format 2 among the other keys, position 17) and is
# withheld from the data subject's view, as "gebruiker" is.
#
# The unit's creator says so once, around the whole unit of work (`with audit.acting(actor):`;
# cli/common.unit does), and every entry prepared inside it carries the key: the use cases
# and their calls to `log`, `log_system` and `prepare` stay as they are. It is a context
# variable, so a thread or an asyncio task of its own (a web request) sees only its own.

#
# An account that is no professional (an FG, an administrator, a parent or a youth: an
# inzage of their own child, a read of the log) is the entry's "gebruiker" as
# "account:<id>" instead of "beheer", which stays the installation's operator.

UITGEVOERD_DOOR = "uitgevoerdDoor"
_ACTING: ContextVar[str | None] = ContextVar("deelwijs_uitgevoerd_door", default=None)
_USER: ContextVar[str | None] = ContextVar("deelwijs_gebruiker", default=None)


def user_ref(actor: Actor) -> str | None:
    """The "gebruiker" of an account that is no professional ("account:<id>"), else None
    (a professional is named by their pseudonym, the operator as "beheer")."""
    if actor.account_id is None or actor.professional_id is not None:
        return None
    return f"account:{actor.account_id}"


def acting_ref(actor: Actor) -> str | None:
    """The administrator who really acts for the professional `actor` is, as the log names
    them (see above), or None when the actor acts for themselves."""
    if actor.acted_by is None:
        return None
    return "beheer" if actor.account_id is None else f"account:{actor.account_id}"


@contextmanager
def acting(actor: Actor) -> Iterator[None]:
    """Every entry prepared inside records who really acts for `actor` (acting_ref), if
    anyone; afterwards it is as it was."""
    token = _ACTING.set(acting_ref(actor))
    user = _USER.set(user_ref(actor))
    try:
        yield
    finally:
        _USER.reset(user)
        _ACTING.reset(token)


def acting_now() -> str | None:
    """Who the entries prepared now record under UITGEVOERD_DOOR (None: nobody)."""
    return _ACTING.get()


@dataclass(frozen=True)
class Pending:
    """An entry built but not yet appended: everything that does not depend on its position."""
    region_id: int
    actie_id: str
    span_id: str
    subject: str | None
    activity: str
    registered_at: dt.datetime
    body: str  # the stored text: format 2 (log_format.compact) or the canonical JSON


def extra_of(extra: dict | None) -> dict:
    """The keys an entry's body has beyond the VNG fields: `extra`, and UITGEVOERD_DOOR
    inside `acting`."""
    by = _ACTING.get()
    if by is None:
        return extra or {}
    return {UITGEVOERD_DOOR: by, **(extra or {})}


def prepare(keys: Keyring, *, region_id: int, actie: str, activity: str,
            activity_version: str, youth_id: int | None = None, categories: list[str] = (),
            handeling: str | None = None, verwerking: str | None = None,
            verwerking_id: str | None = None, professional: orm.Professional | None = None,
            uitvoerder: orm.Organisation | None = None, afnemer: orm.Organisation | None = None,
            decision: dict | None = None, hat: str | None = None,
            tijdstip: dt.datetime | None = None, vertrouwelijkheid: str = "vertrouwelijk",
            status: int = 1, betrokkenheid: str = "jeugdige", extra: dict | None = None,
            compact: bool | None = None) -> Pending:
    """Build one entry (no I/O). `decision` is what allowed or refused the processing:
    {"uitkomst", "gronden"|"redenen", "regels", "ruleset_digest"}. The body is stored in
    format 2 where it fits (`compact`, default COMPACT), else as its canonical JSON. Inside
    `acting`, the body also names the administrator who really acts (UITGEVOERD_DOOR)."""
    if actie not in ACTIONS:
        raise ValueError(f"unknown log action {actie!r}")
    trace_ = current_trace()
    span_id = secrets.token_hex(8)
    actie_id = str(uuid7())
    subject = keys.subject(youth_id) if youth_id is not None else None
    registered_at = _now()
    body = {
        "actieNaam": ACTIONS[actie],
        "actie": actie,
        "handelingNaam": handeling or ACTIONS[actie],
        "verwerkingNaam": verwerking,
        "verwerkingId": verwerking_id,
        "verwerkingsactiviteitId": activity,
        "verwerkingsactiviteitVersie": activity_version,
        "vertrouwelijkheid": vertrouwelijkheid,
        "bewaartermijn": LOG_RETENTION,
        "uitvoerder": (uitvoerder.oin or f"deelwijs:org:{uitvoerder.id}") if uitvoerder else None,
        "systeem": SYSTEEM,
        "gebruiker": (professional.pseudonym if professional is not None
                      else _USER.get() or "beheer"),
        "gegevensbron": GEGEVENSBRON,
        "soortAfnemerId": ("OIN" if afnemer.oin else "deelwijs") if afnemer else None,
        "afnemerId": (afnemer.oin or f"deelwijs:org:{afnemer.id}") if afnemer else None,
        "tijdstip": (tijdstip or registered_at).isoformat(),
        "verwerkteObjecten": [] if subject is None else [{
            "objecttype": "persoon", "soortObjectId": "deelwijs-pseudoniem",
            "objectId": subject, "betrokkenheid": betrokkenheid,
            "verwerkteSoortenGegevens": [{"soortGegeven": c} for c in categories]}],
        "trace_id": trace_.trace_id,
        "span_id": span_id,
        "parent_span_id": trace_.parent_span_id,
        "foreign_operation": ({"trace_id": trace_.trace_id, "span_id": trace_.parent_span_id}
                              if trace_.foreign else None),
        "status_code": status,
        "besluit": ({**decision, **({"pet": hat} if hat else {})} if decision is not None
                    else None),
        **extra_of(extra),
    }
    if COMPACT if compact is None else compact:
        text = log_format.compact(body, subject, activity, registered_at)
    else:
        text = canonical(body)
    return Pending(region_id, actie_id, span_id, subject, activity, registered_at, text)


# --- the log head: its size and frontier, with a MAC of its own --------------------------------

HEAD_TAG_SIZE = 16


class HeadTampered(ServiceError):
    """The log head does not fit its MAC: changed behind the application's back. Nothing is
    written (fail closed); `deelwijs audit verify` says what else is wrong."""

    status = 500

    def __init__(self, region_id: int, size: int, why: str):
        super().__init__(
            "log_head_tampered",
            f"het verwerkingslog is aangetast: de logkop van regio {region_id} (grootte {size}) "
            f"{why}. Er is niets geschreven; zolang het log niet klopt verwerkt Deelwijs niets. "
            "Laat het log controleren met: deelwijs audit verify")


# how the databases name a second entry at a taken position (the log's unique constraint)
_SEQ_TAKEN = ("uq_log_entry_region_seq", "log_entry.region_id, log_entry.seq")


def head_behind(exc: Exception, region_id: int, seq: int) -> HeadTampered | None:
    """HeadTampered when `exc` is the database refusing an entry at a position that is
    already taken: the head was put back to an older state (with its valid MAC, e.g. from a
    backup) behind the log. None for any other error."""
    text = str(getattr(exc, "orig", None) or exc)
    if not any(name in text for name in _SEQ_TAKEN):
        return None
    return HeadTampered(region_id, seq, f"staat achter het log: op positie {seq} staat al een "
                        "logregel (een oudere logkop teruggezet?)")


def _head_tag(keys: Keyring, region_id: int, size: int, nodes: bytes) -> bytes:
    """The head's MAC: the entry MAC key over position -1 (never an entry's) and a digest of
    the region, the size and the frontier's nodes."""
    digest = hashlib.sha256(b"deelwijs log head v1\n%d\n%d\n" % (region_id, size) + nodes)
    return keys.entry_mac(-1, digest.digest())


def head_blob(keys: Keyring, region_id: int, size: int, nodes: bytes) -> bytes:
    """What `log_head.frontier` holds: the frontier's nodes (merkle.Frontier.to_bytes) and
    their MAC with the region and size (HEAD_TAG_SIZE bytes)."""
    return bytes(nodes) + _head_tag(keys, region_id, size, bytes(nodes))


def head_nodes(keys: Keyring, region_id: int, size: int, blob: bytes) -> bytes:
    """The frontier's nodes of a head read as (size, blob), once its MAC checks out; the
    empty head a region starts with (size 0, no bytes) needs none. Raises HeadTampered."""
    blob = bytes(blob)
    if size == 0 and blob == b"":
        return b""
    n = 32 * size.bit_count() if isinstance(size, int) and size >= 0 else -1
    if n < 0 or len(blob) != n + HEAD_TAG_SIZE:
        why = ("heeft geen sleutelcontrole (een log van voor deze versie, of de kop is "
               "vervangen)" if len(blob) == n else "heeft niet de lengte die bij die grootte "
               "hoort")
        raise HeadTampered(region_id, size, why)
    nodes = blob[:n]
    if not hmac.compare_digest(blob[n:], _head_tag(keys, region_id, size, nodes)):
        raise HeadTampered(region_id, size, "past niet bij zijn sleutelcontrole")
    return nodes


def bump(session: Session, region_id: int) -> tuple[int, bytes]:
    """Take the next position in the region's log: (new size, frontier before it). Locks the
    region's log head until the transaction ends, so call it as late as possible; pending ORM
    rows are flushed first (not while the head is locked)."""
    if session.autoflush:
        session.flush()
    conn = session.connection()
    rows = fast.execute(conn, _BUMP, {"r": region_id})
    if not rows:
        _ensure_head(session, region_id)
        rows = fast.execute(conn, _BUMP, {"r": region_id})
    return rows[0][0], rows[0][1]


@dataclass(frozen=True)
class Sealed:
    params: dict  # the entry's columns as the parameters e_<column> of _INSERT_ENTRY
    frontier: bytes  # the head's frontier after it, with its MAC (head_blob)
    size: int
    written: Written


def seal(keys: Keyring, entry: Pending, size: int, frontier_before: bytes) -> Sealed:
    """The position-dependent part of an entry appended as leaf size - 1 (no I/O): its leaf
    hash and MAC, and the head after it. The head before it, as read (`frontier_before` at
    size - 1), must fit its MAC, else HeadTampered and nothing is to be written."""
    seq = size - 1
    nodes = head_nodes(keys, entry.region_id, seq, frontier_before)
    leaf = merkle.leaf_hash(leaf_data(entry.region_id, seq, entry.actie_id, entry.subject,
                                      entry.activity, entry.registered_at, entry.body))
    frontier = merkle.Frontier.from_bytes(seq, nodes)
    frontier.append(leaf)
    params = {"e_region_id": entry.region_id, "e_seq": seq, "e_actie_id": entry.actie_id,
              "e_subject": entry.subject, "e_activity_id": entry.activity,
              "e_registered_at": entry.registered_at, "e_body": entry.body,
              "e_leaf_hash": leaf, "e_mac": keys.entry_mac(seq, leaf), "e_pruned_at": None}
    return Sealed(params, head_blob(keys, entry.region_id, size, frontier.to_bytes()), size,
                  Written(seq, entry.actie_id, entry.span_id, leaf))


def appended(session: Session, keys: Keyring, region_id: int, sealed: Sealed) -> Written:
    """After an entry's row and the head's frontier were written: the checkpoint due at its
    size, if any (`_due`)."""
    if _due(session, region_id, sealed.size):
        nodes = sealed.frontier[:-HEAD_TAG_SIZE]
        _sign(session, keys, region_id, sealed.size,
              merkle.Frontier.from_bytes(sealed.size, nodes).root())
    return sealed.written


def append(session: Session, keys: Keyring, entry: Pending) -> Written:
    """Append a prepared entry to its region's log (in the caller's transaction)."""
    size, blob = bump(session, entry.region_id)
    # from here on the region's log head is locked until the transaction ends: only the
    # position-dependent work and the writes follow
    return _write(session, keys, seal(keys, entry, size, blob), advance=False)


# --- the log's part of a statement that also writes the row it logs ----------------------------


def head_columns(region_id) -> list:
    """SQL: the region's log head as it stands (not locked), its size and frontier as scalar
    subqueries for `region_id` (a column of the enclosing query or a bound parameter), so
    that an entry can be sealed before it is written (see append_statement)."""
    return [select(_HEAD.c[c]).where(_HEAD.c.region_id == region_id)
            .scalar_subquery() for c in ("size", "frontier")]


@functools.cache
def append_statement():
    """PostgreSQL: the statement (data-modifying CTEs) that appends a sealed entry in the
    round trip of the statement before it, which writes the row the entry logs
    (fast.execute_all): `l` locks the region's head (until the transaction ends) and reads it
    as it stands; only if it still has the size read before (:expected) is it advanced (`h`,
    to the new frontier :f) and the entry inserted (`e`, its columns as e_<column>,
    audit.seal). Returns one row: the entries written (1, or 0 when another writer came
    first) and the head's size and frontier as locked, for append_locked; no row when the
    region has no head yet. :r is the region. The row it logs is written in a statement of
    its own: PostgreSQL runs a data-modifying CTE that the final SELECT does not read only
    after that SELECT, so a row written in this statement would be written after the lock
    was taken, holding up every other writer of the region meanwhile."""
    cols = ENTRY_COLUMNS
    sql = (f"WITH l AS (SELECT region_id, size, frontier FROM {_HEAD.name} "
           "WHERE region_id = :r FOR UPDATE), "
           f"h AS (UPDATE {_HEAD.name} AS t SET size = t.size + 1, frontier = :f "
           "FROM l WHERE t.region_id = l.region_id AND l.size = :expected "
           "RETURNING t.size), "
           f"e AS (INSERT INTO {_ENTRY.name} ({', '.join(cols)}) "
           f"SELECT {', '.join(f':e_{c}' for c in cols)} FROM h) "
           "SELECT (SELECT count(*) FROM h), l.size, l.frontier FROM l")
    return text(sql).bindparams(
        *(bindparam(f"e_{c}", type_=_ENTRY.c[c].type) for c in cols),
        bindparam("f", type_=_HEAD.c.frontier.type),
        bindparam("r", type_=_HEAD.c.region_id.type),
        bindparam("expected", type_=_HEAD.c.size.type))


def prune(session: Session, region_id: int, cutoff: dt.datetime, dry_run: bool = False) -> int:
    """Remove the bodies of the region's entries registered before `cutoff` (their term has
    passed; the trigger refuses any earlier), keeping every leaf hash and MAC, so that the
    log still verifies. Returns the entries pruned (in a dry run: that would be)."""
    entry = orm.LogEntry
    where = [entry.region_id == region_id, entry.registered_at < cutoff,
             entry.body.is_not(None), entry.pruned_at.is_(None)]
    if dry_run:
        return session.scalar(select(func.count()).select_from(entry).where(*where)) or 0
    result = session.execute(update(entry).where(*where).values(body=None, pruned_at=now())
                             .execution_options(synchronize_session=False))
    return result.rowcount or 0


def append_locked(session: Session, keys: Keyring, entry: Pending, size: int,
                  frontier: bytes) -> Written:
    """Append a prepared entry to its region's log whose head the caller's transaction has
    already locked (SELECT … FOR UPDATE) and read as (size, frontier), without advancing
    it: the entry becomes leaf `size` and the head is advanced to size + 1."""
    return _write(session, keys, seal(keys, entry, size + 1, frontier), advance=True)


def _write(session: Session, keys: Keyring, sealed: Sealed, advance: bool) -> Written:
    """Write a sealed entry and the head's new frontier (and, with `advance`, its size)."""
    conn = session.connection()
    region_id = sealed.params["e_region_id"]
    head = {"r": region_id, "f": sealed.frontier}
    try:
        if conn.dialect.name == "postgresql":  # one round trip: the INSERT as a CTE
            fast.execute(conn, _ENTRY_AND_SIZE if advance else _ENTRY_AND_FRONTIER,
                         {**sealed.params, **head})
        else:
            conn.execute(_INSERT_ENTRY, sealed.params)
            conn.execute(_SET_SIZE if advance else _SET_FRONTIER, head)
    except Exception as exc:
        behind = head_behind(exc, region_id, sealed.written.seq)
        if behind is None:
            raise
        raise behind from exc
    return appended(session, keys, region_id, sealed)


def log(session: Session, keys: Keyring | None = None, **kw) -> Written:
    """Write one entry (in the caller's transaction): prepare() with these arguments, then
    append()."""
    keys = keys or keys_of(session)
    return append(session, keys, prepare(keys, **kw))


# --- checkpoints ---------------------------------------------------------------------------

def deployment_id(keys: Keyring) -> str:
    """This deployment's id in the origin of its checkpoints: 12 hex digits of SHA-256 over
    "deelwijs deployment v1\\n" and the checkpoint public key. Every deployment has its own
    master key, so its own id; nothing is stored, so nothing in the database can change it,
    and anyone with the verifier key can recompute it."""
    raw = keys.verify_key.public_bytes_raw()
    return hashlib.sha256(b"deelwijs deployment v1\n" + raw).hexdigest()[:12]


def origin_for(keys: Keyring, code: str) -> str:
    """The origin of a region's checkpoints, which is also the name of the key that signs
    them (as the signed-note spec has it): `deelwijs/<deployment id>/<region code>/
    verwerkingslog`, the code percent-encoded where it holds more than letters, digits and
    -._~ (a key name has no spaces or '+')."""
    return f"deelwijs/{deployment_id(keys)}/{quote(code, safe='-._~')}/verwerkingslog"


def origin(session: Session, region_id: int, keys: Keyring | None = None) -> str:
    code = session.scalar(select(orm.Region.code).where(orm.Region.id == region_id))
    return origin_for(keys or keys_of(session), code)


def _settings(session: Session) -> settings_mod.Settings | None:
    return session.info.get("deelwijs_settings")


def intervals(session: Session) -> tuple[int, float]:
    """(N, T): a checkpoint every N entries, and with the first entry T minutes or more after
    the newest checkpoint: the app's settings, else this module's defaults."""
    config = _settings(session)
    every = config.checkpoint_every if config and config.checkpoint_every else CHECKPOINT_EVERY
    minutes = (config.checkpoint_minutes if config and config.checkpoint_minutes
               else CHECKPOINT_MINUTES)
    return every, minutes


_NEWEST = (select(orm.LogCheckpoint.size, orm.LogCheckpoint.created_at)
           .where(orm.LogCheckpoint.region_id == bindparam("r"))
           .order_by(orm.LogCheckpoint.size.desc()).limit(1))
# per engine, per region: (when, size) of the newest checkpoint this process knows of, so that
# an append reads log_checkpoint only when a checkpoint may be due by time
_KNOWN: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _known(session: Session) -> dict | None:
    try:
        return _KNOWN.setdefault(session.get_bind(), {})
    except TypeError:  # a bind that cannot be weakly referenced: no memory, read each time
        return None


def _due(session: Session, region_id: int, size: int) -> bool:
    """Whether the entry that made the log `size` long gets a checkpoint: at every multiple
    of N, and when the newest checkpoint is T minutes old or more (or there is none: the
    first entry of a log gets one). The newest checkpoint is read from the database only when
    what this process remembers of it does not already say no."""
    every, minutes = intervals(session)
    if size % every == 0:
        return True
    known = _known(session)
    now_ = _now()
    period = dt.timedelta(minutes=minutes)
    seen = known.get(region_id) if known is not None else None
    if seen is not None and seen[1] < size and now_ - seen[0] < period:
        return False
    row = session.execute(_NEWEST, {"r": region_id}).first()
    if row is None:
        return True
    if known is not None:
        known[region_id] = (row.created_at, row.size)
    return row.size < size and now_ - row.created_at >= period


_log = logging.getLogger("deelwijs.audit")
_SIGNED = "deelwijs_checkpoints_signed"  # session.info: notes to witness after the commit


def _sign(session: Session, keys: Keyring, region_id: int, size: int, root: bytes
          ) -> orm.LogCheckpoint:
    name = origin(session, region_id, keys)
    note = cp.sign(keys.signing_key, name, name, size, root)
    row = orm.LogCheckpoint(region_id=region_id, size=size, root=root, note=note,
                            created_at=_now())
    session.add(row)
    session.flush()
    if not session.info.get(_LISTENING):
        session.info[_LISTENING] = True
        event.listen(session, "after_commit", _witness)
        event.listen(session, "after_rollback", _forget)
    session.info.setdefault(_SIGNED, []).append((region_id, size, row.created_at, note))
    return row


_LISTENING = "deelwijs_witness_listening"


def _forget(session: Session) -> None:
    session.info.pop(_SIGNED, None)


def _witness(session: Session) -> None:
    """After the commit: what this process knows of the newest checkpoints, and every note
    signed in the transaction appended to the witness file. A witness file that cannot be
    written is reported (one Dutch line on the log's logger) but does not undo what was
    committed; `deelwijs audit checkpoint` appends what the file misses."""
    signed = session.info.get(_SIGNED) or []
    _forget(session)
    known = _known(session)
    if known is not None:
        for region_id, size, created_at, _ in signed:
            if region_id not in known or known[region_id][1] <= size:
                known[region_id] = (created_at, size)
    config = _settings(session)
    if config is None or config.witness_file is None or not signed:
        return
    from deelwijs.services.log import witness
    try:
        witness.append(config.witness_file, [note for *_, note in signed])
    except OSError as exc:
        _log.error("getuigenbestand %s: kon %d checkpoint(s) niet bijschrijven (%s); "
                   "deelwijs audit checkpoint schrijft ze later alsnog bij",
                   config.witness_file, len(signed), exc.strerror or exc)


def _head(session: Session, keys: Keyring, region_id: int) -> tuple[int, bytes]:
    """The region's head, locked, as (size, frontier nodes) once its MAC checks out."""
    row = session.execute(
        select(orm.LogHead.size, orm.LogHead.frontier)
        .where(orm.LogHead.region_id == region_id).with_for_update()).first()
    if row is None:
        _ensure_head(session, region_id)
        row = (0, b"")
    size, blob = row
    return size, head_nodes(keys, region_id, size, blob)


def checkpoint(session: Session, keys: Keyring, region_id: int) -> orm.LogCheckpoint:
    """Sign the region's log as it stands now (on demand). Locks the head, so the size and
    root are those of a committed prefix; an existing checkpoint of that size is returned. A
    head that does not fit its MAC is not signed (HeadTampered)."""
    size, nodes = _head(session, keys, region_id)
    existing = session.scalars(select(orm.LogCheckpoint).where(
        orm.LogCheckpoint.region_id == region_id, orm.LogCheckpoint.size == size)).first()
    if existing is not None:
        return existing
    return _sign(session, keys, region_id, size, merkle.Frontier.from_bytes(size, nodes).root())


def checkpoint_all(session: Session, keys: Keyring, region_ids: list[int] | None = None
                   ) -> list[orm.LogCheckpoint]:
    """A checkpoint of every region's log (or of these regions) that grew since its newest
    checkpoint: what the demo and the retention run end with, so that no entry of theirs is
    left uncovered. Returns the new checkpoints."""
    if region_ids is None:
        region_ids = list(session.scalars(select(orm.Region.id).order_by(orm.Region.id)))
    out = []
    for region_id in region_ids:
        size = session.scalar(select(orm.LogHead.size).where(orm.LogHead.region_id == region_id))
        newest = session.execute(_NEWEST, {"r": region_id}).first()
        if size and (newest is None or newest.size < size):
            out.append(checkpoint(session, keys, region_id))
    return out


def checkpoints(session: Session, region_id: int) -> list[orm.LogCheckpoint]:
    return list(session.scalars(select(orm.LogCheckpoint).where(
        orm.LogCheckpoint.region_id == region_id).order_by(orm.LogCheckpoint.size)))


def verifier_key(keys: Keyring, origin_: str) -> str:
    """The line a supervisor needs to check one region's checkpoints (C2SP vkey): the key's
    name is the log's origin."""
    return cp.verifier_key(origin_, keys.verify_key)


def verifier_keys(u: Unit, region_id: int | None = None) -> list[str]:
    """The vkey line of every region's log (or of one): the same public key under each
    region's origin (`deelwijs audit key`); for the FG and the administrator
    (access.require_fg_or_admin), of their own region."""
    from deelwijs.services import access

    access.require_fg_or_admin(u, "De sleutel van het verwerkingslog", region_id)
    if region_id is None and u.actor.region_id is not None:
        region_id = u.actor.region_id
    stmt = select(orm.Region.code).order_by(orm.Region.id)
    if region_id is not None:
        stmt = stmt.where(orm.Region.id == region_id)
    return [verifier_key(u.keys, origin_for(u.keys, code)) for code in u.session.scalars(stmt)]


# --- reading -------------------------------------------------------------------------------

def entry_view(row: orm.LogEntry, *, for_subject: bool = False) -> dict:
    """An entry as the VNG Verwerkingenlogging API and Logboek Dataverwerkingen exchange it
    (domain.log_export; docs/audit.md "Export"). For the data subject (inzage), `gebruiker`,
    `systeem` and `gegevensbron` are withheld, as the VNG inzage API does, and so is who
    acted for the professional (UITGEVOERD_DOOR). `row`: a LogEntry,
    or a row of SUBJECT_VIEWS (the same attributes)."""
    out = {"actieId": row.actie_id, "seq": row.seq, "verwerkingsactiviteitId": row.activity_id,
           "tijdstipRegistratie": row.registered_at.isoformat()}
    if row.body is None:
        out["opgeschoond"] = row.pruned_at.isoformat() if row.pruned_at else True
        return log_export.export_pruned(out)
    body = body_of(row)
    if for_subject:
        for k in _WITHHELD:
            body.pop(k, None)
    out.update(body)  # as {**out, **body}: a key in both keeps its place, with body's value
    # as the standards exchange it (VNG Verwerkingsactie, Logboek Dataverwerkingen log line)
    return log_export.export(out)


_WITHHELD = ("gebruiker", UITGEVOERD_DOOR, "systeem", "gegevensbron")


def body_of(row) -> dict | None:
    """The full body of a stored entry (format 1's object, keys sorted), whichever format
    it is stored in; None when it was pruned. `row`: a LogEntry, or a row with its
    `body`, `subject`, `activity_id` and `registered_at`."""
    if row.body is None:
        return None
    return log_format.expand(row.body, row.subject, row.activity_id, row.registered_at)


# A youth's entries with only what entry_view shows (no leaf hash or MAC, no ORM objects),
# in log order; the parameter `subject` is keys.subject(youth_id). Built once, for
# storage.fast (rights.inzage reads it with its other statements).
SUBJECT_VIEWS = (select(orm.LogEntry.actie_id, orm.LogEntry.seq, orm.LogEntry.activity_id,
                        orm.LogEntry.registered_at, orm.LogEntry.body, orm.LogEntry.pruned_at,
                        orm.LogEntry.subject)
                 .where(orm.LogEntry.subject == bindparam("subject"))
                 .order_by(orm.LogEntry.region_id, orm.LogEntry.seq))


def entries_for_youth(u: Unit, youth_id: int, limit: int | None = None) -> list[orm.LogEntry]:
    """A youth's entries in log order, at most `limit` (`deelwijs audit log`, for the FG;
    reading the log writes no entry). For the FG and the administrator
    (access.require_fg_or_admin), of their own region's log."""
    from deelwijs.services import access

    access.require_fg_or_admin(u, "Het verwerkingslog")
    stmt = (select(orm.LogEntry).where(orm.LogEntry.subject == u.keys.subject(youth_id))
            .order_by(orm.LogEntry.region_id, orm.LogEntry.seq))
    if u.actor.region_id is not None:
        stmt = stmt.where(orm.LogEntry.region_id == u.actor.region_id)
    if limit:
        stmt = stmt.limit(limit)
    return list(u.session.scalars(stmt))


def entry(session: Session, ref: str, region_id: int | None = None) -> orm.LogEntry:
    """An entry by its actieId, or by its position (seq) in a region's log."""
    stmt = select(orm.LogEntry)
    if ref.isdigit():
        if region_id is None:
            raise Invalid("missing_field", "noem de regio bij een volgnummer", "region")
        stmt = stmt.where(orm.LogEntry.region_id == region_id, orm.LogEntry.seq == int(ref))
    else:
        stmt = stmt.where(orm.LogEntry.actie_id == ref)
    row = session.scalars(stmt).first()
    if row is None:
        raise NotFound("not_found", f"geen logregel '{ref}'", "entry")
    return row
