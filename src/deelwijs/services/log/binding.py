"""Consent versions and disclosures bound to the processing log, both ways.

Every consent version and every disclosure writes its log entry in the same transaction, and
that entry names the row and commits to a digest of the row's canonical content: the body's
field `rij` is `<table>:<id>:<digest>` (the digest in hex). The entry is MAC'd and in the
Merkle tree, so the row cannot be changed, inserted or deleted behind the application's back
without `audit verify` noticing (`reconcile`): every row must have its entry with the same
digest, and every entry's row must exist.

The canonical content of a row is the canonical JSON (`audit.canonical`) of a list of its
stored columns that carry meaning, in a fixed order, led by the table's name and the form's
version (see `consent_digest` and `disclosure_digest`); the digest is its SHA-256. Left out,
and why:

- `recorded_at` / `created_at`: the moment of writing, which the log entry holds itself
  (`tijdstipRegistratie`);
- a disclosure's `youth_id`: an anonymous case's disclosures are put on the youth's name when
  the case is identified (cases.seal_case_texts), so the column legitimately changes once.
  It is bound through the log entry's pseudonymous subject instead: a disclosure recorded
  about a youth must still be about that youth; one recorded in an anonymous case may only
  be about nobody or about its case's youth (`reconcile`);
- the content of the items (`content`, `content_enc`): the retention run empties it after
  crypto-shredding and identification encrypts the plain text of an anonymous case, so it
  has no fixed value to bind. What is bound is that a refused item holds no content.

The decision is bound through the SHA-256 of its JSON text exactly as stored (the database
keeps a JSON column's text verbatim; `record` serialises the decision once, `decision_text`,
and stores that text), so verify hashes the stored text without parsing it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import heapq
import json
import re
from dataclasses import dataclass, field
from typing import NamedTuple

from sqlalchemy import Integer, Text, bindparam, case, cast, func, or_, select
from sqlalchemy.orm import Session

from deelwijs.crypto import Keyring
from deelwijs.domain import log_format
from deelwijs.services.log import audit
from deelwijs.storage import orm

FIELD = "rij"  # the entry body's field that names the row and its digest
FORM = 1  # version of the canonical forms below

CONSENT = "consent_record"
DISCLOSURE = "disclosure"


def decision_text(decision: dict) -> str:
    """A disclosure's decision as the JSON text that is stored (json.dumps, the same text
    the database drivers would have written)."""
    return json.dumps(decision)


def text_digest(text: str | bytes) -> str:
    """SHA-256 (hex) of a text's UTF-8 bytes."""
    return hashlib.sha256(text.encode() if isinstance(text, str) else text).hexdigest()


# audit.canonical for a list of plain values and lists (no mappings, so no keys to sort),
# with the encoder built once
_CANONICAL = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _digest(parts: list) -> str:
    return hashlib.sha256(_CANONICAL(parts).encode()).hexdigest()


def _day(value) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def consent_digest(row) -> str:
    """The digest of a consent version (an orm.ConsentRecord or a row with its columns)."""
    return _digest([CONSENT, FORM, row.id, row.youth_id, row.series, row.version, row.role,
                    row.guardian_id, row.answer, list(row.purposes), list(row.categories),
                    list(row.recipient_ids), bool(row.written), row.document_ref,
                    _day(row.given_on), row.prior_to_meeting_id, row.recorded_by_id])


DISCLOSURE_COLUMNS = ("id", "region_id", "case_id", "meeting_id", "from_org_id", "to_org_id",
                      "professional_id", "hat", "purpose", "kind", "outcome",
                      "ruleset_version_id", "ruleset_digest", "disclosed_on")


def disclosure_digest(values, decision_sha256: str, items) -> str:
    """The digest of a disclosure: `values` its columns (a mapping, or a row with those
    attributes) of DISCLOSURE_COLUMNS, `decision_sha256` text_digest of the stored decision
    text, `items` its items in id order as (category, outcome, codes, rules, …): further
    values (the content) are not part of it."""
    cols = ([values[c] for c in DISCLOSURE_COLUMNS] if isinstance(values, dict)
            else [getattr(values, c) for c in DISCLOSURE_COLUMNS])
    cols[-1] = _day(cols[-1])
    return _digest([DISCLOSURE, FORM, *cols, decision_sha256,
                    [[c, o, list(codes), list(rules)] for c, o, codes, rules, *_ in items]])


def ref(table: str, row_id: int, digest: str) -> str:
    """The value of an entry's FIELD."""
    return f"{table}:{row_id}:{digest}"


def parse_ref(value: str) -> tuple[str, int, str] | None:
    """(table, id, digest) of an entry's FIELD; None when it is not one."""
    parts = value.split(":")
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    return parts[0], int(parts[1]), parts[2]


# --- verify: the rows against the entries that bind them ----------------------------------

_MARK = f'"{FIELD}":"'
# entries written before the binding (revision 0006) name their row without a digest
_OLD_CONSENT = '"toestemming":{'  # {"antwoord", "doelen", "reeks", "rol", "versie"}
_OLD_DISCLOSURE = '"verstrekking":'
_ACTIE = '"actie":"'
# a body of format 2 (domain/log_format.py) names its row right at its start, or binds none
_ROW2 = log_format.ROW_MARK
_ROW2_LEN = len(_ROW2)
_ROW2_B = _ROW2.encode()
_NO_ROW2_B = log_format.NO_ROW_MARK.encode()

_CON = orm.ConsentRecord.__table__
_DIS = orm.Disclosure.__table__
_ITEM = orm.DisclosureItem.__table__
_CASE = orm.Case.__table__
_YOUTH = orm.Youth.__table__
_HEAD = orm.LogHead.__table__
_ENTRY = orm.LogEntry.__table__

NOUNS = {CONSENT: "toestemmingsversie", DISCLOSURE: "verstrekking"}
BATCH = 10_000


def _region_and_head():
    """A one-row subquery of the region (parameter r), outer-joined to its log head: each
    row query reads the log's size in the same statement (the same snapshot) as the rows,
    so that an entry at or past it belongs to a transaction it did not see."""
    x = select(bindparam("r", type_=Integer).label("rid")).subquery("x")
    return x, x.outerjoin(_HEAD, _HEAD.c.region_id == x.c.rid)


@functools.cache
def _consent_rows():
    x, joined = _region_and_head()
    joined = joined.outerjoin(_CON.join(_YOUTH, _YOUTH.c.id == _CON.c.youth_id),
                              _YOUTH.c.region_id == x.c.rid)
    cols = ("id", "youth_id", "series", "version", "role", "guardian_id", "answer",
            "purposes", "categories", "recipient_ids", "written", "document_ref", "given_on",
            "prior_to_meeting_id", "recorded_by_id", "recorded_at")
    return select(_HEAD.c.size, *(_CON.c[c] for c in cols)).select_from(joined)


@functools.cache
def _disclosure_rows(dialect: str):
    x, joined = _region_and_head()
    joined = (joined.outerjoin(_DIS, _DIS.c.region_id == x.c.rid)
              .outerjoin(_CASE, _CASE.c.id == _DIS.c.case_id))
    stored = cast(_DIS.c.decision, Text)  # the JSON text as stored
    if dialect == "postgresql":  # hashed where it is: 4 to 5 KB that need not travel
        decision = func.encode(func.sha256(func.convert_to(stored, "UTF8")), "hex")
    else:
        decision = stored
    return (select(_HEAD.c.size, *(_DIS.c[c] for c in DISCLOSURE_COLUMNS), _DIS.c.youth_id,
                   _DIS.c.created_at, _CASE.c.youth_id.label("case_youth"),
                   decision.label("decision"))
            .select_from(joined).order_by(_DIS.c.id))


_ITEMS = (select(_ITEM.c.disclosure_id, _ITEM.c.category, _ITEM.c.outcome, _ITEM.c.codes,
                 _ITEM.c.rules,
                 or_(_ITEM.c.content.is_not(None), _ITEM.c.content_enc.is_not(None))
                 .label("has_content"))
          .where(_ITEM.c.disclosure_id.between(bindparam("lo"), bindparam("hi")))
          .order_by(_ITEM.c.disclosure_id, _ITEM.c.id))


_MARKERS = {"rij": (_MARK, 120), "actie": (_ACTIE, 12), "toestemming": (_OLD_CONSENT, 600),
            "verstrekking": (_OLD_DISCLOSURE, 24)}
_ENTRY_COLUMNS = (_ENTRY.c.id, _ENTRY.c.seq, _ENTRY.c.actie_id, _ENTRY.c.subject,
                  _ENTRY.c.registered_at, _ENTRY.c.pruned_at)


@functools.cache
def _entries(dialect: str):
    """The region's entries from position `from` on that name a row, and those without a
    body (pruned, or emptied).
    On PostgreSQL with a window of the body after each marker (cut where it is stored);
    elsewhere with the body (`_windows` cuts them here: SQLite cuts slower than Python)."""
    body = _ENTRY.c.body
    if dialect != "postgresql":
        return (select(*_ENTRY_COLUMNS, body)
                .where(_ENTRY.c.region_id == bindparam("r"), _ENTRY.c.seq >= bindparam("from"),
                       or_(body.is_(None), func.substr(body, 1, _ROW2_LEN) == _ROW2,
                           *(func.instr(body, m) > 0 for m in (
                               _MARK, _OLD_CONSENT, _OLD_DISCLOSURE))))
                .order_by(_ENTRY.c.seq))
    # the positions once per row (OFFSET 0 keeps PostgreSQL from inlining them again); a
    # body of format 2 names its row at a fixed place (log_format.ROW_MARK)
    inner = (select(*_ENTRY_COLUMNS, body,
                    (func.substr(body, 1, _ROW2_LEN) == _ROW2).label("row2"),
                    *(func.strpos(body, m).label(f"p_{k}") for k, (m, _) in _MARKERS.items()))
             .where(_ENTRY.c.region_id == bindparam("r"), _ENTRY.c.seq >= bindparam("from"))
             .offset(0).subquery("e"))
    windows = [case(*([(inner.c.row2, func.substr(inner.c.body, _ROW2_LEN + 1, n))]
                      if k == "rij" else []),
                    (inner.c[f"p_{k}"] > 0,
                     func.substr(inner.c.body, inner.c[f"p_{k}"] + len(m), n))).label(k)
               for k, (m, n) in _MARKERS.items()]
    return (select(*(inner.c[c.name] for c in _ENTRY_COLUMNS),
                   inner.c.body.is_(None).label("gone"), *windows)
            .where(or_(inner.c.body.is_(None), inner.c.row2, inner.c.p_rij > 0,
                       inner.c.p_toestemming > 0,
                       inner.c.p_verstrekking > 0))
            .order_by(inner.c.seq))


class _Windows(NamedTuple):
    """A row of _entries as PostgreSQL gives it, from a row with the body."""
    id: int
    seq: int
    actie_id: str
    subject: str | None
    registered_at: dt.datetime
    pruned_at: dt.datetime | None
    gone: bool
    rij: str | None
    actie: str | None
    toestemming: str | None
    verstrekking: str | None


def _windows(row) -> _Windows:
    body = row.body
    if body is None:
        return _Windows(*row[:6], True, None, None, None, None)
    cut = []
    if body.startswith(_ROW2):  # format 2: the row at a fixed place, no older markers
        n = _MARKERS["rij"][1]
        return _Windows(*row[:6], False, body[_ROW2_LEN:_ROW2_LEN + n], None, None, None)
    for marker, n in _MARKERS.values():
        at = body.find(marker)
        cut.append(None if at < 0 else body[at + len(marker):at + len(marker) + n])
    return _Windows(*row[:6], False, *cut)


_RIJ_B, _ACTIE_B, _OLD_CONSENT_B, _OLD_DISCLOSURE_B = (
    (m.encode(), n) for m, n in _MARKERS.values())


def _cut(leaf: bytes, at: int, marker: tuple[bytes, int]) -> str | None:
    """The window of `marker` in leaf[at:] as _entries cuts it on PostgreSQL (the n
    characters after its first occurrence), or None."""
    m, n = marker
    found = leaf.find(m, at)
    if found < 0:
        return None
    start = found + len(m)
    # n characters are at most 4n bytes; a character cut off at the end is beyond them
    return leaf[start:start + 4 * n].decode("utf-8", "ignore")[:n]


def marked(seq: int, leaf: bytes) -> tuple | None:
    """An entry read by verify's bulk pass (verify_bulk), from its leaf bytes
    (audit.leaf_data: six header lines, then the body): what `reconcile` needs of it, as
    (seq, actie_id, subject, rij, actie, toestemming, verstrekking) with the windows that
    _entries cuts, when its body names a row (as _entries selects them); else None. The
    windows of an entry written before the binding are only cut when its `rij` does not name
    a row (reconcile does not look at them otherwise)."""
    at = -1
    for _ in range(6):
        at = leaf.find(b"\n", at + 1)
        if at < 0:
            raise ValueError(f"entry {seq}: not the bytes of a leaf")
    body = at + 1
    if leaf.startswith(_ROW2_B, body):  # format 2: the row at a fixed place
        start = body + _ROW2_LEN
        n = _RIJ_B[1]
        rij = leaf[start:start + 4 * n].decode("utf-8", "ignore")[:n]
        header = leaf[:at].decode().split("\n")
        return (seq, header[2], header[3] or None, rij, None, None, None)
    if leaf.startswith(_NO_ROW2_B, body):
        return None
    rij = _cut(leaf, body, _RIJ_B)
    actie = old_consent = old_disclosure = None
    if rij is None or parse_ref(_upto(rij)) is None:
        old_consent = _cut(leaf, body, _OLD_CONSENT_B)
        old_disclosure = _cut(leaf, body, _OLD_DISCLOSURE_B)
        if rij is None and old_consent is None and old_disclosure is None:
            return None
        actie = _cut(leaf, body, _ACTIE_B)
    header = leaf[:at].decode().split("\n")
    return (seq, header[2], header[3] or None, rij, actie, old_consent, old_disclosure)


# where a body of format 2 that binds a row starts in a run of leaf bytes: right after the
# header's sixth line feed (a line feed inside a body is always escaped, and the header's
# fields hold none of these characters)
_ROW2_AT = re.compile(b"\n" + re.escape(_ROW2_B))
# the same with the header before it (seq, actie_id, subject, activity, time) and the row
_ROW2_ENTRY = re.compile(b"\n([0-9]+)\n([^\n]*)\n([^\n]*)\n[^\n]*\n[^\n]*\n"
                         + re.escape(_ROW2_B) + b'([^"]*)"')
# what only a body of format 1 can hold when it names a row
_FORMAT1_MARKS = (_RIJ_B[0], _OLD_CONSENT_B[0], _OLD_DISCLOSURE_B[0])


def marked_run(data: bytes, starts: list[int], seqs: list[int]) -> list[tuple]:
    """`marked` of every leaf in a run of leaf bytes one after the other (`data`; leaf i
    starts at starts[i] and is entry seqs[i]), in order. Where no leaf holds a body of format
    1 that names a row, in one search of the run, with `rij` cut at its closing quote (all
    that reconcile reads of the window: `_upto`); else entry by entry. The position in each
    tuple is the one the leaf's own header holds (the bytes were checked against the stored
    leaf hash and MAC, which commit to the position, before they come here)."""
    if not any(m in data for m in _FORMAT1_MARKS):
        found = _ROW2_ENTRY.findall(data)
        if len(found) == data.count(b"\n" + _ROW2_B):  # every one with its whole header
            return [(int(seq), actie_id.decode(), subject.decode() or None, rij.decode(),
                     None, None, None) for seq, actie_id, subject, rij in found]
    ends = [*starts[1:], len(data)]
    return [m for m in map(marked, seqs, (data[a:b] for a, b in zip(starts, ends,
                                                                     strict=True)))
            if m is not None]


# the subject of every leaf whose body is of format 2 and, when the body binds a row, that
# row (up to its closing quote), or `null` when it binds none: from a line feed before a
# position, over the five header lines after it, to the body's start
_ROW2_ALL = re.compile(b"\n[0-9]+\n[^\n]*\n([^\n]*)\n[^\n]*\n[^\n]*\n"
                       + re.escape(_ROW2_B[:-1]) + b'(?:"([^"\n]*)"|(null))')


class Named(NamedTuple):
    """The entries of a run of leaf bytes from position `seq` on that bind a row, all of
    format 2, as the distinct (subject, rij) they name (the bytes of the header's subject,
    empty for none, and of the body's `rij` up to its closing quote) in the order in which
    each first occurs: what the reconciliation reads of them, without an object per entry
    (`reconcile`; of a row named more than once, only the first entry counts there)."""
    seq: int
    pairs: tuple


def named_run(data: bytes, first: int, leaves: int) -> Named | None:
    """Named of a run of `leaves` leaves (leaf bytes one after the other, checked against
    their leaf hashes), the first of them entry `first`, when every body in it is of format
    2 (a row named at its start, or none); else None (then marked_run).

    Every leaf holds at least the six line feeds between its header fields (audit.leaf_data)
    and a body holds none unescaped; when the run holds exactly six per leaf, no field holds
    one, and every match of _ROW2_ALL takes six consecutive ones. As many matches as leaves
    then take all of them, six by six from the first, so that each match is one leaf's
    header and its body's start, in order."""
    if data.count(b"\n") != 6 * leaves:
        return None
    found = _ROW2_ALL.findall(data)
    if len(found) != leaves:
        return None
    return Named(first, tuple((subject, rij) for subject, rij, none in dict.fromkeys(found)
                              if not none))


def _upto(window: str | None, stop: str = '"') -> str | None:
    return None if window is None else window.split(stop, 1)[0]


def _old_consent(window: str) -> tuple[str, int] | None:
    """(series, version) from an old consent entry's window."""
    at = window.find('"reeks":"')
    vat = window.find('"versie":')
    if at < 0 or vat < 0:
        return None
    version = window[vat + 9:].split(",", 1)[0].split("}", 1)[0]
    return (window[at + 9:].split('"', 1)[0], int(version)) if version.isdigit() else None


@dataclass
class _Rows:
    """One table's rows as read: {id: (digest, time, extra…)} and the log's size then."""
    table: str
    size: int | None
    rows: dict
    matched: set = field(default_factory=set)
    bound: int = 0
    unbound: int = 0

    def sees(self, seq: int) -> bool:
        return self.size is None or seq < self.size


def read_rows(session: Session, region_id: int, code: str) -> tuple:
    """The region's consent versions and disclosures as `reconcile` reads them (its `rows`):
    verify reads them while its bulk pass's workers scan the log."""
    problems: list = []
    return (_read_consents(session, region_id),
            _read_disclosures(session, region_id, session.connection().dialect.name, code,
                              problems), problems)


def reconcile(session: Session, keys: Keyring, region_id: int, code: str,
              now: dt.datetime | None = None, anonymous: set[int] | None = None,
              scanned=None, rows: tuple | None = None) -> tuple[list, dict]:
    """Every consent version and disclosure of the region against the log entry that binds
    it, and every entry that binds a row against that row; every pruned body against its
    term. Returns the problems (verify.Problem, one line each naming the table and id, or
    the entry) and a summary for the region's report:

    - `gebonden`: rows whose entry holds their digest, per table;
    - `ongebonden`: rows whose entry was written before the binding (revision 0006): it
      names them without a digest, so their content cannot be checked (but their existence
      can: a row without any entry, or an entry without its row, is a problem all the same);
    - `niet_meer_te_controleren`: rows without an entry that were written no later than the
      newest entry whose body the retention run removed (past its term the entry no longer
      says what it was about).

    `anonymous`, when given, gets the ids of the disclosures recorded in an anonymous case
    that are now about a youth (identified since).

    `scanned`: what verify's bulk pass (verify_bulk.Outcome) read of the region's entries, in
    this transaction: its size and `marked` (binding.Named of its chunks whose entries are
    all of format 2, `marked` of every other entry before that size whose body names a row).
    Then the bodies are not read a second time; only the entries without a body before that
    size, and every entry from it on, are read here. A Named is checked at once, against all
    rows: when anything in it is not exactly in order (a row that is not there or not as
    named, a subject that does not fit, rows read at a smaller log size than the bulk
    pass's), the region is reconciled again without `scanned`, entry by entry, so that what
    is reported is always that pass's.

    `rows`: read_rows of the region, read before in this transaction (used once: the
    reconciliation takes the rows it matches out of them)."""
    if scanned is not None and any(type(m) is Named for m in scanned.marked or ()):
        try:
            return _reconcile(session, keys, region_id, code, now, anonymous, scanned, rows)
        except _Unsure:
            if anonymous is not None:
                anonymous.clear()
            scanned = rows = None
    return _reconcile(session, keys, region_id, code, now, anonymous, scanned, rows)


class _Unsure(Exception):
    """A binding.Named that is not exactly in order: reconcile entry by entry."""


def _reconcile(session: Session, keys: Keyring, region_id: int, code: str,
               now: dt.datetime | None, anonymous: set[int] | None, scanned,
               rows: tuple | None) -> tuple[list, dict]:
    from deelwijs.services.log.problems import Problem

    now = now or audit.now()
    conn = session.connection()
    dialect = conn.dialect.name
    consents, disclosures, problems = rows or read_rows(session, region_id, code)
    tables = {CONSENT: consents, DISCLOSURE: disclosures}
    by_series: dict | None = None
    latest_pruned: dt.datetime | None = None

    def label(table: str, row_id: int) -> str:
        return f"{table} {row_id}"

    subject_of = functools.lru_cache(maxsize=4096)(keys.subject)

    def check(e, table: str, row_id: int, digest: str | None) -> None:
        """The row an entry names (its digest None: named without one) against that row."""
        rows = tables.get(table)
        if rows is None or not rows.sees(e.seq):
            return
        row = rows.rows.pop(row_id, None)
        if row is None:
            if row_id not in rows.matched:
                problems.append(Problem(
                    "row_deleted", code, e.seq, e.id, e.actie_id,
                    f"{_where(e)} noemt deze {NOUNS[table]}, maar de rij bestaat niet meer",
                    row=label(table, row_id)))
            return
        rows.matched.add(row_id)
        if digest is None:
            rows.unbound += 1
            return
        rows.bound += 1
        if row[0] != digest:
            problems.append(Problem(
                "row_altered", code, e.seq, e.id, e.actie_id,
                f"de inhoud past niet meer bij wat {_where(e)} over deze {NOUNS[table]} "
                "vastlegde", row=label(table, row_id)))
        elif table == DISCLOSURE:
            if anonymous is not None and e.subject is None and row[2] is not None:
                anonymous.add(row_id)
            message = _other_youth(subject_of, e.subject, row[2], row[3], e)
            if message is not None:
                problems.append(Problem("row_altered", code, e.seq, e.id, e.actie_id,
                                        message, row=label(table, row_id)))

    expected: dict[bytes, tuple] | None = None

    def named(e: Named) -> None:
        """check() of every (subject, rij) of a chunk in order, where it finds nothing
        wrong: each names a row that was matched before (then it is not looked at, as in
        check()), or one that is there with the digest named and a subject that fits.
        Raises _Unsure otherwise. (Entries with the same subject and rij after the first
        are left out of a Named: check() ignores them, their row being matched then.)"""
        nonlocal expected
        if expected is None:
            expected = _expected(tables, subject_of, scanned.size)
        for subject, rij in e.pairs:
            hit = expected.get(rij)
            if hit is None:  # not a row as named, unless one matched before
                parts = rij.split(b":")
                rows = tables.get(parts[0].decode("utf-8", "replace"))
                # (check() reads a window of _MARKERS["rij"] characters: within it here)
                if (len(rij) <= _MARKERS["rij"][1] and len(parts) == 3
                        and parts[1].isdigit() and rows is not None
                        and int(parts[1]) in rows.matched):
                    continue
                raise _Unsure
            rows, row_id, allowed, youth_id = hit
            if row_id in rows.matched:
                continue
            if allowed is not None and subject not in allowed:
                raise _Unsure
            del rows.rows[row_id]
            rows.matched.add(row_id)
            rows.bound += 1
            if (allowed is not None and anonymous is not None and not subject
                    and youth_id is not None):
                anonymous.add(row_id)

    for e in _stream(session, region_id, dialect, scanned):
        if type(e) is _Bound:  # named with its digest (the usual case): checked at once
            check(e, e.table, e.row_id, e.digest)
            continue
        if type(e) is Named:
            named(e)
            continue
        if e.gone:
            if e.pruned_at is None:  # verify's log check names it (gewijzigd)
                continue
            if latest_pruned is None or e.registered_at > latest_pruned:
                latest_pruned = e.registered_at
            message = _early(e.registered_at, e.pruned_at, now)
            if message is not None:
                problems.append(Problem("pruned_early", code, e.seq, e.id, e.actie_id,
                                        message))
            continue
        named = parse_ref(_upto(e.rij)) if e.rij is not None else None
        if named is not None:
            check(e, *named)
            continue
        # written before the binding: named by its old reference, if at all
        actie = _upto(e.actie)
        if actie == "consent" and e.toestemming is not None:
            old = _old_consent(e.toestemming)
            if old is None:
                continue
            if by_series is None:
                by_series = {(v[2], v[3]): k for k, v in consents.rows.items()}
            row_id = by_series.get(old)
            if row_id is None:
                if consents.sees(e.seq):
                    problems.append(Problem(
                        "row_deleted", code, e.seq, e.id, e.actie_id,
                        f"{_where(e)} noemt toestemmingsversie {old[1]} van reeks "
                        f"{old[0]}, maar die rij bestaat niet meer",
                        row=f"{CONSENT} (reeks {old[0]}, versie {old[1]})"))
                continue
            check(e, CONSENT, row_id, None)
        elif actie in ("disclose", "deny") and e.verstrekking is not None:
            number = _upto(e.verstrekking, ",").split("}", 1)[0]
            if number.isdigit():
                check(e, DISCLOSURE, int(number), None)
    excused = 0
    for table, rows in tables.items():
        for row_id, row in sorted(rows.rows.items()):
            if (latest_pruned is not None and row[1] is not None
                    and row[1] <= latest_pruned + dt.timedelta(days=1)):
                excused += 1
                continue
            problems.append(Problem(
                "row_unlogged", code, None, None, None,
                f"geen logregel legt deze {NOUNS[table]} vast: buiten Deelwijs om "
                "ingevoegd, of de logregel is verwijderd", row=label(table, row_id)))
    if any(p.entry_id is None and p.seq is not None for p in problems):
        problems = _with_ids(session, region_id, problems)
    summary = {"gebonden": {"toestemmingsversies": consents.bound,
                            "verstrekkingen": disclosures.bound},
               "ongebonden": consents.unbound + disclosures.unbound}
    if excused:
        summary["niet_meer_te_controleren"] = excused
    return problems, summary


def _expected(tables: dict, subject_of, size: int) -> dict[bytes, tuple]:
    """The `rij` of every row as its entry names it (table:id:digest, bytes) -> (its
    _Rows, its id, for a disclosure the subjects its entry may have (bytes; empty for none:
    see _other_youth), and its youth). Raises _Unsure when the rows were read at a smaller
    log size than `size` (an entry their statement did not see is not checked against them,
    and which ones those are is known only entry by entry)."""
    out: dict[bytes, tuple] = {}
    for table, rows in tables.items():
        if rows.size is not None and rows.size < size:
            raise _Unsure
        for row_id, row in rows.rows.items():
            allowed = youth_id = None
            if table == DISCLOSURE:
                _, _, youth_id, case_youth = row
                if youth_id is None:
                    allowed = {b""}
                else:
                    allowed = {subject_of(youth_id).encode()}
                    if youth_id == case_youth:
                        allowed.add(b"")
            out[f"{table}:{row_id}:{row[0]}".encode()] = (rows, row_id, allowed, youth_id)
    return out


_GONE = (select(*_ENTRY_COLUMNS)
         .where(_ENTRY.c.region_id == bindparam("r"), _ENTRY.c.seq < bindparam("size"),
                _ENTRY.c.body.is_(None))
         .order_by(_ENTRY.c.seq))
# the same for the positions the bulk pass found without a body
_GONE_AT = (select(*_ENTRY_COLUMNS)
            .where(_ENTRY.c.region_id == bindparam("r"),
                   _ENTRY.c.seq.in_(bindparam("seqs", expanding=True)),
                   _ENTRY.c.body.is_(None))
            .order_by(_ENTRY.c.seq))
_IDS = (select(_ENTRY.c.seq, _ENTRY.c.id)
        .where(_ENTRY.c.region_id == bindparam("r"),
               _ENTRY.c.seq.in_(bindparam("seqs", expanding=True))))


def _stream(session: Session, region_id: int, dialect: str, scanned):
    """The entries reconcile looks at, in log order (_Windows, or rows of _entries with the
    same attributes). With `scanned`: the marked entries of verify's bulk pass (their id
    left out: _with_ids fills it in for a problem), the entries without a body before its
    size and every entry from it on; else all of them from _entries."""
    params = {"r": region_id, "from": 0}
    if scanned is not None and scanned.marked is not None:
        params["from"] = scanned.size
    cut = (lambda row: row) if dialect == "postgresql" else _windows
    rest = (e for part in session.execute(_entries(dialect), params,
                                          execution_options={"yield_per": BATCH}).partitions()
            for e in map(cut, part))
    if not params["from"]:
        yield from rest
        return
    pruned = getattr(scanned, "pruned", None)
    if pruned is None:  # not known: read where they are
        rows = session.execute(_GONE, {"r": region_id, "size": scanned.size})
    elif pruned:  # known by position (the bulk pass read every entry before its size)
        rows = (row for part in range(0, len(pruned), BATCH)
                for row in session.execute(_GONE_AT, {"r": region_id,
                                                      "seqs": pruned[part:part + BATCH]}))
    else:
        rows = ()
    gone = [_Windows(*row, True, None, None, None, None) for row in rows]
    marked = (m if type(m) is Named else _from_marked(m) for m in scanned.marked)
    if gone:
        yield from heapq.merge(marked, gone, key=_seq)
    else:
        yield from marked
    yield from rest


class _Bound(NamedTuple):
    """A marked entry that names its row with a digest (what reconcile reads of it)."""
    seq: int
    actie_id: str
    subject: str | None
    table: str
    row_id: int
    digest: str
    id: None = None


def _from_marked(m: tuple):
    """A marked entry (binding.marked) as reconcile reads it: a _Bound when it names its row
    with a digest, else the _Windows it stands for."""
    seq, actie_id, subject, rij, *old = m
    if rij is not None:
        parts = rij.split('"', 1)[0].split(":")
        if len(parts) == 3 and parts[1].isdigit():
            return _Bound(seq, actie_id, subject, parts[0], int(parts[1]), parts[2])
    return _Windows(None, seq, actie_id, subject, None, None, False, rij, *old)


def _seq(e) -> int:
    return e.seq


def _with_ids(session: Session, region_id: int, problems: list) -> list:
    """The problems with the id of the entry they name filled in where it was not known."""
    seqs = sorted({p.seq for p in problems if p.entry_id is None and p.seq is not None})
    ids = dict(session.execute(_IDS, {"r": region_id, "seqs": seqs}).all())
    return [dataclasses.replace(p, entry_id=ids.get(p.seq))
            if p.entry_id is None and p.seq is not None else p for p in problems]


def _early(registered_at: dt.datetime, pruned_at: dt.datetime, now: dt.datetime
           ) -> str | None:
    """Why a body removed at `pruned_at` was removed too early, or None."""
    if pruned_at > now + dt.timedelta(days=1):
        return (f"het tijdstip van opschonen ({pruned_at.isoformat()}) ligt in de toekomst; "
                f"de bewaartermijn ({audit.LOG_RETENTION} na {registered_at.isoformat()}) "
                "is niet voorbij")
    if not audit.prunable(registered_at, pruned_at):
        return (f"de inhoud is verwijderd op {pruned_at.date().isoformat()}, binnen de "
                f"bewaartermijn ({audit.LOG_RETENTION} na {registered_at.isoformat()})")
    return None


def _where(e) -> str:
    return f"logregel {e.seq} (actieId {e.actie_id})"


def _other_youth(subject_of, subject: str | None, youth_id: int | None,
                 case_youth: int | None, e) -> str | None:
    """A disclosure's youth against its entry's subject: recorded about a youth, it must
    still be about that youth; recorded in an anonymous case (no subject), about nobody or
    about the youth the case was later put on (identification)."""
    if subject is not None:
        if youth_id is None or subject_of(youth_id) != subject:
            return (f"de verstrekking gaat nu over een andere jongere dan {_where(e)} "
                    "vastlegde")
    elif youth_id is not None and youth_id != case_youth:
        return (f"{_where(e)} legde een anonieme verstrekking vast; die gaat nu over een "
                "jongere die niet die van haar casus is")
    return None


def _read_consents(session: Session, region_id: int) -> _Rows:
    out = _Rows(CONSENT, None, {})
    first = True
    for part in session.execute(_consent_rows(), {"r": region_id},
                                execution_options={"yield_per": BATCH}).partitions():
        for row in part:
            if first:
                out.size, first = row.size, False
            if row.id is not None:
                out.rows[row.id] = (consent_digest(row), row.recorded_at, row.series,
                                    row.version)
    return out


def _read_disclosures(session: Session, region_id: int, dialect: str, code: str,
                      problems: list) -> _Rows:
    """The region's disclosures with their digests; a refused item that holds content is a
    problem here already."""
    from deelwijs.services.log.problems import Problem

    out = _Rows(DISCLOSURE, None, {})
    first = True
    conn = session.connection()
    for part in session.execute(_disclosure_rows(dialect), {"r": region_id},
                                execution_options={"yield_per": BATCH}).partitions():
        if first:
            out.size, first = part[0].size, False
        part = [r for r in part if r.id is not None]
        if not part:
            continue
        items: dict[int, list] = {r.id: [] for r in part}
        for item in conn.execute(_ITEMS, {"lo": part[0].id, "hi": part[-1].id}):
            found = items.get(item.disclosure_id)
            if found is None:  # another region's
                continue
            found.append(item)
            if item.has_content and item.outcome != "allow":
                problems.append(Problem(
                    "row_altered", code, None, None, None,
                    f"het geweigerde onderdeel {item.category} bevat inhoud",
                    row=f"{DISCLOSURE} {item.disclosure_id}"))
        for r in part:
            decision = r.decision if dialect == "postgresql" else text_digest(r.decision)
            digest = disclosure_digest(r, decision, [
                (i.category, i.outcome, i.codes, i.rules) for i in items[r.id]])
            out.rows[r.id] = (digest, r.created_at, r.youth_id, r.case_youth)
    return out
