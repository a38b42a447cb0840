"""Benchmark: the processing log (verwerkingenlogging) on PostgreSQL.

    .venv/bin/python bench/audit.py [--url postgresql://postgres@127.0.0.1:5432/deelwijs_audit_bench]
        [--fresh] [--verify-entries 1000000] [--inzage-entries 10000000] [--subjects 100000]
        [--verify-runs 3] [--inzage-runs 200] [--disclosures 2000] [--block 100]
        [--verify-inzage-region] [--seed 1]

Acceptance item: "1,000,000 log entries; `audit verify` time, against raw hashlib SHA-256 over
the same bytes in the same run (target >= 0.6x that rate, <= 3 s); inzage for one youth with
10,000,000 entries in PostgreSQL (target <= 50 ms); log write overhead per disclosure (target
<= 20 % on top of the disclosure alone)."

Setup (timed, not a headline figure; skipped when the database already holds both regions at
the requested size; --fresh drops and recreates the database). Two regions, each with a log of
its own, built the same way:

  * region `auditbench-verify`: --verify-entries entries (1,000,000), for phase B;
  * region `auditbench-inzage`: --inzage-entries entries (10,000,000), for phases C and D.

  Per region:
  * migrate with deelwijs.storage.db.upgrade; the region, the voorbeeldregio ruleset, seven
    organisations (signatures, a mandate) and five professionals through the real services
    (registry.*, as the `world` fixture of tests/services/conftest.py);
  * one real youth (in region B a second one, for phase D) with parents, consent (parents and
    youth), a case, an accession form and a meeting through youths/consent/cases/registry, and
    a first allowed disclosure, a refused one and a read of the youth's record: the real
    audit.log writes those entries. Their bodies are the templates of the bulk entries (one or
    more per kind: create, consent, read, disclose, deny);
  * then 100 rounds: a bulk chunk, followed by one more real action for the real youth
    (disclose, read, disclose, deny, consent in turn) through the services, so the real
    youth's ~110 entries are spread over the whole log, not bunched at one end;
  * a bulk chunk is built exactly as audit.log builds an entry: the template body with the
    varying parts filled in (subject = keys.subject(id) of one of --subjects synthetic youth
    ids, ~100 entries per subject in region B; trace and span ids; tijdstip; case, disclosure
    and consent-series ids), stored as audit.prepare stores it (log_format.compact: format
    2 where it fits; read back and compared with the full body on a sample),
    audit.leaf_data, merkle.leaf_hash, keys.entry_mac of the app's Keyring, seq from the
    log_head row (locked FOR UPDATE), the frontier advanced with merkle.Frontier, a checkpoint
    signed with deelwijs.domain.checkpoint.sign and keys.signing_key at every multiple of
    audit.CHECKPOINT_EVERY, and the log_head row (size, frontier) written in the same
    transaction as the COPY of the entries (psycopg3 `cursor.copy`, FK triggers off for that
    connection: session_replication_role = replica);
  * the two indexes with random keys (uq_log_entry_actie_id, ix_log_entry_subject) are dropped
    before the bulk load and rebuilt after it from their own definitions (pg_get_indexdef /
    pg_get_constraintdef), then VACUUM ANALYZE.

Timed phases (every figure and its peer measured in this run):
  B. verify.verify(session, keys, "auditbench-verify") end to end (reading from PostgreSQL
     included), --verify-runs times, and the parts of its bulk pass, each on its own in one
     process: the server building and sending the chunks, leaf hashes, MACs, Merkle roots,
     checkpoint signatures. Peer: hashlib.sha256 over exactly the same leaf bytes
     (b"\\x00" + audit.leaf_data(...) of every entry, materialised in memory beforehand), one
     call per entry, as entries/s and MB/s. Target: verify rate >= 0.6x the raw rate and
     <= 3 s for 1,000,000 entries.
  C. Inzage for the real youth among 10,000,000 entries: audit.entries_for_youth +
     audit.entry_view(row, for_subject=True), --inzage-runs times, one transaction each
     (p50/p99), plus the EXPLAIN ANALYZE of the log query (it must use ix_log_entry_subject);
     and services.rights.inzage (the whole art. 15 overview) when that module exists, each
     call rolled back so the data stays the same between runs. Target <= 50 ms.
  D. Log write overhead: --disclosures disclosures through services.disclosures.record with
     the log on, and as many with the log off: deelwijs.services.log.audit.prepare replaced (in
     this process only) by a function returning None, which makes record write the
     disclosure and its items without building, sealing or writing a log entry and without
     taking the log head (on PostgreSQL still in one statement, with the id reserved in its
     first query, as with the log on). One client, one transaction each, interleaved in
     blocks of --block (on/off/off/on...) so both see the same warm-up and noise. Also the
     cost of one audit.log call alone (its own statements, not folded into a disclosure's),
     timed inside the transaction. Target <= 20 % overhead.

With --verify-inzage-region, verify.verify also runs once over the 10,000,000-entry region (a
check of the bulk entries of region B; printed for information).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import copy
import datetime as dt
import gc
import hashlib
import hmac
import json
import os
import platform
import random
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import event, select
from tqdm import tqdm

from deelwijs import settings as settings_mod
from deelwijs.domain import checkpoint as cp
from deelwijs.domain import log_format, merkle
from deelwijs.services.app import App, open_app
from deelwijs.services.casus import cases, consent, disclosures, youths
from deelwijs.services.context import PROFESSIONAL, Actor, actor_of, unit
from deelwijs.services.covenant import registry
from deelwijs.services.log import audit, verify
from deelwijs.storage import db, orm

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/deelwijs_audit_bench"
REGION_VERIFY = "auditbench-verify"
REGION_INZAGE = "auditbench-inzage"
RULESET = "voorbeeldregio"
TARGET_VERIFY_RATIO = 0.6  # verify rate / raw SHA-256 rate over the same bytes
TARGET_ENTRY_BYTES = 600  # an entry's leaf bytes (the header columns and the stored body)
TARGET_VERIFY_S = 3.0  # seconds for 1,000,000 entries
TARGET_FLOOR_RATIO = 0.8  # verify rate / read-out floor rate (issue 11)
TARGET_INZAGE_MS = 50.0
TARGET_OVERHEAD = 0.20
ROUNDS = 100  # bulk chunks per region, each followed by one real action
FAKE_YOUTH_BASE = {REGION_VERIFY: 2_000_000, REGION_INZAGE: 1_000_000}  # synthetic youth ids
# Synthetic data only: a fixed master key so that a reused database stays readable.
MASTER_KEY = base64.urlsafe_b64encode(hashlib.sha256(b"deelwijs audit bench master key").digest())
# what the bulk entries are, by kind (per 100 entries)
KIND_WEIGHTS = {"disclose": 45, "deny": 10, "read": 30, "consent": 14, "create": 1}
RANDOM_KEYED = ("uq_log_entry_actie_id", "ix_log_entry_subject")
COPY_ENTRIES = ("COPY log_entry (region_id, seq, actie_id, subject, activity_id, registered_at, "
                "body, leaf_hash, mac) FROM STDIN (FORMAT BINARY)")
ENTRY_TYPES = ("int4", "int8", "varchar", "varchar", "varchar", "timestamp", "text", "bytea",
               "bytea")
COPY_CHECKPOINTS = ("COPY log_checkpoint (region_id, size, root, note, created_at) FROM STDIN "
                    "(FORMAT BINARY)")
CHECKPOINT_TYPES = ("int4", "int8", "bytea", "text", "timestamp")
TWO_PARENTS = (
    {"name": "Fatima de Vries", "relation": "moeder", "gezag": True},
    {"name": "Daan de Vries", "relation": "vader", "gezag": True},
)
ORGS = {  # key: (party, name, domain), as tests/services/conftest.py
    "school": ("school", "Stichting Onderwijs De Linde", None),
    "swv": ("swv", "Samenwerkingsverband Passend Onderwijs Voorbeeldregio", None),
    "leerplicht": ("leerplicht", "Leerplicht Voorbeeldstad", None),
    "gemeente": ("gemeente", "Gemeente Voorbeeldstad, team Jeugd", "jeugd"),
    "jeugdhulp": ("jeugdhulp", "Wijkteam Centrum", None),
    "jgz": ("jgz", "JGZ Voorbeeldregio", None),
    "huisarts": ("huisarts", "Huisartsenpraktijk Het Anker", None),
}
PERSONAS = {  # key: (organisation, name, function, hats)
    "alice": ("school", "Alice Bakker", "intern begeleider", []),
    "bob": ("jeugdhulp", "Bob Jansen", "wijkteamer", ["toeleiding", "hulpverlening"]),
    "carol": ("leerplicht", "Carol Visser", "leerplichtambtenaar", []),
    "dave": ("gemeente", "Dave Mulder", "consulent sociaal domein", []),
    "erin": ("jgz", "Erin Smit", "jeugdverpleegkundige", []),
}
ALLOWED = {"gedrag": "Onrustig in de klas; afspraken met de leerkracht over een rustplek en "
                     "een dagelijkse check-in, evaluatie over zes weken."}
REFUSED = {"thuissituatie": "Ouders gescheiden; wisselende woonsituatie."}


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


# --- database and app -----------------------------------------------------------------------


def admin_url(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres")), parts.path.lstrip("/")


def ensure_database(url: str, fresh: bool) -> bool:
    """Create the database if missing (drop it first with --fresh). True if it was created."""
    admin, name = admin_url(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists and fresh:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
            return True
    return False


def bench_app(url: str) -> App:
    return open_app(settings_mod.Settings(database_url=url, master_key=MASTER_KEY))


@dataclass
class Timings:
    steps: dict[str, float] = field(default_factory=dict)

    @contextlib.contextmanager
    def step(self, name: str):
        t0 = time.perf_counter()
        yield
        self.steps[name] = self.steps.get(name, 0.0) + time.perf_counter() - t0


# --- the real part of a region: registry, youths, consent, cases (services) -----------------


@dataclass
class World:
    region_id: int
    code: str
    orgs: dict[str, int]
    pros: dict[str, int]
    youths: list[int]  # [the inzage youth, (region B) phase D's youth]
    cases: dict[int, int]  # youth id -> case id
    meetings: dict[int, int]  # case id -> meeting id


def dates(today: dt.date) -> dict[str, dt.date]:
    start = today - dt.timedelta(days=400)
    return {"start": start, "consent": start + dt.timedelta(days=10),
            "case": start + dt.timedelta(days=20), "meeting": start + dt.timedelta(days=30),
            "birth": today - dt.timedelta(days=int(13.4 * 365.25))}  # 13: may ask inzage


def build_world(app: App, code: str, name: str, n_youths: int, today: dt.date) -> World:
    """Region, ruleset, organisations, signatures, mandate, professionals (registry services,
    as the `world` fixture), then per youth: the youth and parents, the parents' consent, a
    case with an accession and a meeting (youths/consent/cases/registry services)."""
    d = dates(today)
    with app.transaction() as s:
        u = unit(app, s, today=today)  # the administrator
        region = registry.create_region(u, code, name)
        version = registry.activate_ruleset(u, region, RULESET, d["start"])
        orgs = {}
        for key, (party, org_name, domain) in ORGS.items():
            orgs[key] = registry.create_organisation(u, region, party, org_name, domain=domain)
        for key in ("swv", "leerplicht", "gemeente"):
            sig = registry.add_signatory(u, orgs[key], "W. Bestuurder", "bestuurder")
            registry.sign_covenant(u, orgs[key], version, d["start"], sig)
        registry.grant_mandate(u, orgs["school"], orgs["swv"], d["start"], "MACHT-001")
        registry.sign_covenant(u, orgs["swv"], version, d["start"], on_behalf_of=orgs["school"])
        for org, pro_name, function, hats in PERSONAS.values():
            registry.create_professional(u, orgs[org], pro_name, function, hats)
    world = load_world(app, code)
    for i in range(n_youths):
        with audit.trace(), app.transaction() as s:
            region = s.get(orm.Region, world.region_id)
            youth = youths.create_youth(
                unit(app, s, actor_of(s, world.pros["alice"]), today), region,
                ["Sem de Vries", "Fenna Oosterhout"][i % 2], d["birth"],
                school=s.get(orm.Organisation, world.orgs["school"]),
                guardians=[dict(g) for g in TWO_PARENTS])
            youth_id = youth.id
        with app.transaction() as s:
            gezag = [g.id for g in youths.get_youth(s, youth_id).guardians if g.has_gezag]
        for g in [*gezag, None]:  # the parents with gezag and (13 years old) the youth
            with audit.trace(), app.transaction() as s:
                consent.record(unit(app, s, actor_of(s, world.pros["alice"]), d["consent"]),
                               youths.get_youth(s, youth_id), "youth" if g is None
                               else "parent", "given", ["oza"], ["gedrag"], d["consent"],
                               written=True, guardian_id=g,
                               document_ref=f"TOEST-{g or 'youth'}")
        with app.transaction() as s:
            region = s.get(orm.Region, world.region_id)
            _, ruleset = app.active_ruleset(s, region.id, d["case"])
            as_alice = unit(app, s, actor_of(s, world.pros["alice"]), today)
            case = cases.open_case(
                as_alice, ruleset, region, "Zorgen over gedrag in de klas", "oza",
                [world.orgs[p] for p in ("school", "jeugdhulp", "swv")], d["case"],
                youth=youths.get_youth(s, youth_id))
            registry.record_accession(unit(app, s, today=today),
                                      s.get(orm.Organisation, world.orgs["jeugdhulp"]), case,
                                      d["case"], f"TOETR-jeugdhulp-{case.id}", d["case"])
            cases.schedule_meeting(as_alice, case, d["meeting"], ["Opening", "Bespreking"],
                                   [world.pros["alice"], world.pros["bob"]])
    return load_world(app, code)


def load_world(app: App, code: str) -> World:
    with app.transaction() as s:
        region = s.scalars(select(orm.Region).where(orm.Region.code == code)).one()
        orgs = {key: s.scalars(select(orm.Organisation.id).where(
            orm.Organisation.region_id == region.id, orm.Organisation.name == name)).one()
            for key, (_, name, _) in ORGS.items()}
        pros = {key: s.scalars(select(orm.Professional.id).where(
            orm.Professional.organisation_id == orgs[org], orm.Professional.name == name)).one()
            for key, (org, name, _, _) in PERSONAS.items()}
        youth_ids = list(s.scalars(select(orm.Youth.id).where(orm.Youth.region_id == region.id)
                                   .order_by(orm.Youth.id)))
        case_rows = s.execute(select(orm.Case.youth_id, orm.Case.id).where(
            orm.Case.region_id == region.id).order_by(orm.Case.id)).all()
        case_map = {y: c for y, c in case_rows}
        meetings = {c: s.scalar(select(orm.Meeting.id).where(orm.Meeting.case_id == c)
                                .order_by(orm.Meeting.id)) for c in case_map.values()}
    return World(region.id, code, orgs, pros, youth_ids, case_map, meetings)


REAL_ACTIONS = ("disclose", "read", "disclose", "deny", "consent")


def alice(w: World) -> Actor:
    """Alice (of the school board) as an actor, from ids only: the web app keeps the actor
    so, and disclosures.record then loads no professional of its own."""
    return Actor(PROFESSIONAL, professional_id=w.pros["alice"],
                 organisation_id=w.orgs["school"], region_id=w.region_id)


def real_action(app: App, w: World, youth_id: int, kind: str, today: dt.date) -> None:
    """One processing about a real youth through the services (one log entry)."""
    case_id = w.cases[youth_id]
    with audit.trace(), app.transaction() as s:
        if kind in ("disclose", "deny"):
            disclosures.record(unit(app, s, alice(w), today),
                               to_org_id=w.orgs["jeugdhulp"],
                               contents=dict(ALLOWED if kind == "disclose" else REFUSED),
                               day=today, kind="minute", case_id=case_id,
                               meeting_id=w.meetings[case_id])
        elif kind == "read":
            youths.read_youth(unit(app, s, actor_of(s, w.pros["bob"]), today), youth_id)
        else:
            youth = youths.get_youth(s, youth_id)
            g = next(g.id for g in youth.guardians if g.has_gezag)
            consent.record(unit(app, s, alice(w), today), youth, "parent", "given", ["oza"],
                           ["gedrag"], today, written=True, guardian_id=g,
                           document_ref=f"TOEST-parent-{g}")


# --- bulk entries, built as audit.log builds them -------------------------------------------

S, T, P, W, C, V, R = (f"@@{c}@@" for c in "STPWCVR")  # sentinels of the varying parts


@dataclass
class Template:
    """A real entry's full body with its varying parts replaced by sentinels."""

    kind: str
    activity: str
    shape: dict  # the full body (format 1's object) with sentinels
    needs: frozenset[str]

    def as_dict(self, values: dict[str, object]) -> dict:
        """The full body with the sentinels filled in, as audit.prepare builds it."""
        def fill(node):
            if isinstance(node, dict):
                return {k: fill(v) for k, v in node.items()}
            if isinstance(node, list):
                return [fill(v) for v in node]
            if isinstance(node, str) and "@@" in node:
                for key, value in values.items():
                    sentinel = f"@@{key}@@"
                    if node == sentinel:
                        return value
                    node = node.replace(sentinel, str(value))
            return node
        return fill(copy.deepcopy(self.shape))


def make_template(row: orm.LogEntry) -> Template:
    body = audit.body_of(row)
    body["trace_id"], body["span_id"], body["tijdstip"] = T, P, W
    for obj in body.get("verwerkteObjecten") or []:
        obj["objectId"] = S
    if str(body.get("verwerkingId") or "").startswith("deelwijs:casus:"):
        body["verwerkingId"] = f"deelwijs:casus:{C}"
    if "verstrekking" in body and "rij" not in body:
        body["verstrekking"] = V  # (an entry that binds its row names that row's id)
    if isinstance(body.get("toestemming"), dict):
        body["toestemming"]["reeks"] = R
    if body.get("parent_span_id") is not None or body.get("foreign_operation") is not None:
        raise SystemExit("template entry was written under a foreign trace")
    text = json.dumps(body)
    needs = frozenset(key for key in "STPWCVR" if f"@@{key}@@" in text)
    return Template(body["actie"], row.activity_id, body, needs)


def load_templates(app: App, region_id: int) -> dict[str, list[Template]]:
    with app.transaction() as s:
        rows = list(s.scalars(select(orm.LogEntry).where(orm.LogEntry.region_id == region_id)
                              .order_by(orm.LogEntry.seq)))
    out: dict[str, list[Template]] = {}
    for row in rows:
        t = make_template(row)
        out.setdefault(t.kind, []).append(t)
    missing = set(KIND_WEIGHTS) - set(out)
    if missing:
        raise SystemExit(f"no real entry of kind {', '.join(sorted(missing))} to copy")
    return out


@dataclass
class Bulk:
    """What the bulk entries of one region are made from."""

    region_id: int
    origin: str
    templates: dict[str, list[Template]]
    subjects: list[str]  # keys.subject(id) of the synthetic youths
    t0: dt.datetime  # registered_at of bulk entry 0 ...
    step_us: float  # ... and the time between two entries
    rnd: random.Random
    next_disclosure: int = 50_000_000  # synthetic disclosure ids in the bodies
    checked: int = 0  # bodies read back and compared with the full body
    compact: int = 0  # of those, stored in format 2


def bulk_chunk(conn: psycopg.Connection, keys, bulk: Bulk, n: int, bar: tqdm) -> None:
    """Append n entries to the region's log in one transaction, exactly as audit.log does."""
    rnd = bulk.rnd
    kinds = rnd.choices(list(KIND_WEIGHTS), weights=list(KIND_WEIGHTS.values()), k=n)
    pick_subject = rnd.randrange
    n_subjects = len(bulk.subjects)
    bits = rnd.getrandbits
    leaf_data, leaf_hash, entry_mac = audit.leaf_data, merkle.leaf_hash, keys.entry_mac
    every = audit.CHECKPOINT_EVERY
    region_id, subjects, templates = bulk.region_id, bulk.subjects, bulk.templates
    td, UUID = dt.timedelta, uuid.UUID
    started_before = td(milliseconds=9)  # disclosures.record takes tijdstip before it decides
    checkpoints = []
    with conn.cursor() as cur:
        size, blob = cur.execute("SELECT size, frontier FROM log_head WHERE region_id = %s "
                                 "FOR UPDATE", (region_id,)).fetchone()
        # the head carries a MAC of its own (audit.head_blob): checked, and written again below
        frontier = merkle.Frontier.from_bytes(size, audit.head_nodes(keys, region_id, size,
                                                                     blob))
        append = frontier.append
        step = td(microseconds=bulk.step_us)
        registered_at = bulk.t0 + td(microseconds=int(size * bulk.step_us)) - step
        # binary COPY (less parsing for the server); a writer thread sends while we build
        with cur.copy(COPY_ENTRIES, writer=QueuedLibpqWriter(cur)) as copy_:
            copy_.set_types(ENTRY_TYPES)
            write = copy_.write_row
            for i, kind in enumerate(kinds):
                seq = size + i
                group = templates[kind]
                tpl = group[pick_subject(len(group))] if len(group) > 1 else group[0]
                who = pick_subject(n_subjects)
                subject = subjects[who]
                registered_at += step
                values = {"S": subject, "T": f"{bits(128):032x}", "P": f"{bits(64):016x}",
                          "W": registered_at.isoformat()}
                needs = tpl.needs
                if "C" in needs:
                    values["C"] = 3_000_000 + who
                    values["W"] = (registered_at - started_before).isoformat()
                if "V" in needs:
                    values["V"] = bulk.next_disclosure
                    bulk.next_disclosure += 1
                if "R" in needs:
                    values["R"] = str(UUID(int=bits(128), version=4))
                full = tpl.as_dict(values)
                # stored as audit.prepare stores it (format 2 where it fits)
                body = log_format.compact(full, subject, tpl.activity, registered_at)
                if seq % 99_991 == 0 or i == 0:  # a sample: it reads back as the full body
                    if (audit.canonical(log_format.expand(body, subject, tpl.activity,
                                                          registered_at))
                            != audit.canonical(full)):
                        raise SystemExit(f"bulk body of kind {kind} does not read back")
                    bulk.checked += 1
                    bulk.compact += log_format.is_compact(body)
                actie_id = str(UUID(int=bits(128), version=4))
                leaf = leaf_hash(leaf_data(region_id, seq, actie_id, subject, tpl.activity,
                                           registered_at, body))
                append(leaf)
                if (seq + 1) % every == 0:
                    checkpoints.append((region_id, seq + 1, frontier.root(),
                                        cp.sign(keys.signing_key, bulk.origin, bulk.origin,
                                                seq + 1, frontier.root()), registered_at))
                write((region_id, seq, actie_id, subject, tpl.activity, registered_at, body,
                       leaf, entry_mac(seq, leaf)))
                if i % 10_000 == 9_999:
                    bar.update(10_000)
        bar.update(n % 10_000)
        if checkpoints:
            with cur.copy(COPY_CHECKPOINTS) as copy_:
                copy_.set_types(CHECKPOINT_TYPES)
                for row in checkpoints:
                    copy_.write_row(row)
        cur.execute("UPDATE log_head SET size = %s, frontier = %s WHERE region_id = %s",
                    (frontier.size, audit.head_blob(keys, region_id, frontier.size,
                                                    frontier.to_bytes()), region_id))
    conn.commit()


def head_size(url: str, region_id: int) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT size FROM log_head WHERE region_id = %s",
                            (region_id,)).fetchone()[0]


def fill_region(app: App, url: str, w: World, n_total: int, n_subjects: int, today: dt.date,
                seed: int) -> dict:
    """Bulk chunks and real actions in turn until the region's log holds n_total entries."""
    keys = app.keys
    templates = load_templates(app, w.region_id)
    with app.transaction() as s:
        origin = audit.origin(s, w.region_id)
    base = FAKE_YOUTH_BASE[w.code]
    subjects = [keys.subject(base + i) for i in range(n_subjects)]
    size = head_size(url, w.region_id)
    span = dt.timedelta(days=365)
    bulk = Bulk(w.region_id, origin, templates, subjects, now() - span,
                span / dt.timedelta(microseconds=1) / max(n_total, 1),
                random.Random(f"{seed} {w.code}"))
    real = 0
    with psycopg.connect(url) as conn, \
            tqdm(total=n_total, initial=size, desc=f"{w.code} (COPY)", unit="entry",
                 unit_scale=True, mininterval=2) as bar:
        conn.execute("SET session_replication_role = replica")  # FK triggers off: bulk only
        conn.commit()
        for r in range(ROUNDS):
            size = head_size(url, w.region_id)
            rounds_left = ROUNDS - r
            n = (n_total - size - rounds_left) // rounds_left
            if n > 0:
                bulk_chunk(conn, keys, bulk, n, bar)
            real_action(app, w, w.youths[0], REAL_ACTIONS[r % len(REAL_ACTIONS)], today)
            real += 1
            bar.update(1)
    final = head_size(url, w.region_id)
    if final != n_total:
        raise SystemExit(f"{w.code}: the log holds {final:,} entries, not {n_total:,}")
    return {"templates": sum(len(v) for v in templates.values()), "real_actions": real,
            "checked_bodies": bulk.checked}


def index_ddl(url: str) -> list[tuple[str, str, str]]:
    """(name, drop statement, create statement) of the log's indexes with random keys."""
    out = []
    with psycopg.connect(url) as conn:
        for name in RANDOM_KEYED:
            con = conn.execute("SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                               "WHERE conname = %s", (name,)).fetchone()
            if con:
                out.append((name, f"ALTER TABLE log_entry DROP CONSTRAINT {name}",
                            f"ALTER TABLE log_entry ADD CONSTRAINT {name} {con[0]}"))
                continue
            idx = conn.execute("SELECT pg_get_indexdef(to_regclass(%s))", (name,)).fetchone()
            if not idx or not idx[0]:
                raise SystemExit(f"index {name} is missing: run with --fresh")
            out.append((name, f"DROP INDEX {name}", idx[0]))
    return out


def index_defs(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        return dict(conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'log_entry'").fetchall())


def setup(args, today: dt.date) -> dict:
    timings = Timings()
    with timings.step("create database"):
        created = ensure_database(args.url, args.fresh)
    engine = db.make_engine(args.url)
    with timings.step("migrate"):
        db.upgrade(engine)
    engine.dispose()
    app = bench_app(args.url)
    wanted = {REGION_VERIFY: args.verify_entries, REGION_INZAGE: args.inzage_entries}
    have = {}
    with app.transaction() as s:
        for code in wanted:
            region = s.scalars(select(orm.Region).where(orm.Region.code == code)).first()
            if region is not None:
                head = s.get(orm.LogHead, region.id)
                have[code] = head.size if head else 0
    if have:
        ok = (have.get(REGION_VERIFY) == args.verify_entries
              and have.get(REGION_INZAGE, -1) >= args.inzage_entries
              and all(n in index_defs(args.url) for n in RANDOM_KEYED))
        if not ok:
            raise SystemExit(f"{args.url} holds logs of {have} entries (or lacks an index), "
                             f"not {wanted}: run with --fresh")
        app.engine.dispose()
        return {"reused": True, "created_db": created, "steps": timings.steps}
    before = index_defs(args.url)
    ddl = index_ddl(args.url)
    info: dict = {"reused": False, "created_db": created, "steps": timings.steps}
    with timings.step("registry, youths, consent, cases (services)"):
        worlds = {REGION_VERIFY: build_world(app, REGION_VERIFY, "Auditbench verify", 1, today),
                  REGION_INZAGE: build_world(app, REGION_INZAGE, "Auditbench inzage", 2, today)}
        for w in worlds.values():  # the first real processings: the templates of the bulk
            for kind in ("disclose", "deny", "read"):
                real_action(app, w, w.youths[0], kind, today)
    with timings.step("drop random-key indexes"), psycopg.connect(args.url) as conn:
        for _, drop, _ in ddl:
            conn.execute(drop)
    for code, w in worlds.items():
        with timings.step(f"log of {code} (build + COPY)"):
            info[code] = fill_region(app, args.url, w, wanted[code], args.subjects, today,
                                     args.seed)
    with timings.step("rebuild random-key indexes"), \
            psycopg.connect(args.url, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        for _, _, create in tqdm(ddl, desc="indexes", unit="index"):
            conn.execute(create)
    after = index_defs(args.url)
    if after != before:
        raise SystemExit(f"the rebuilt indexes differ: {before} != {after}")
    with timings.step("VACUUM ANALYZE"), psycopg.connect(args.url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    app.engine.dispose()
    return info


# --- phase B: verify ------------------------------------------------------------------------


def region_id_of(app: App, code: str) -> int:
    with app.transaction() as s:
        return s.scalar(select(orm.Region.id).where(orm.Region.code == code))


def leaf_bytes(url: str, region_id: int) -> list[bytes]:
    """b"\\x00" + audit.leaf_data(...) of every entry of the region, in position order."""
    out = []
    with psycopg.connect(url) as conn, conn.cursor(name="leafbytes", binary=True) as cur:
        cur.itersize = 20_000
        cur.execute("SELECT seq, actie_id, subject, activity_id, registered_at, body "
                    "FROM log_entry WHERE region_id = %s ORDER BY seq", (region_id,))
        leaf_data = audit.leaf_data
        for seq, actie_id, subject, activity, registered_at, body in tqdm(
                cur, desc="raw peer: leaf bytes", unit="entry", unit_scale=True, mininterval=2):
            out.append(b"\x00" + leaf_data(region_id, seq, actie_id, subject, activity,
                                           registered_at, body))
    return out


def raw_sha256(datas: list[bytes]) -> float:
    """Seconds for one hashlib.sha256 call per entry over the materialised bytes."""
    sha = hashlib.sha256
    t0 = time.perf_counter()
    for d in datas:
        sha(d).digest()
    return time.perf_counter() - t0


FLOOR_SQL = ("SELECT seq, actie_id, subject, activity_id, registered_at, body, leaf_hash, mac "
             "FROM log_entry WHERE region_id = %s AND seq >= %s AND seq < %s ORDER BY seq")


def _floor_part(task: tuple[str, int, int, int]) -> tuple[int, int]:
    """One connection's half of the read-out floor: the columns verify reads, streamed in
    binary (text read as its bytes), each entry's body hashed once (hashlib.sha256)."""
    from psycopg.types.string import ByteaBinaryLoader

    url, region_id, lo, hi = task
    n = nbytes = 0
    sha = hashlib.sha256
    with psycopg.connect(url) as conn:
        conn.adapters.register_loader("text", ByteaBinaryLoader)
        conn.adapters.register_loader("varchar", ByteaBinaryLoader)
        with conn.cursor(name="floor", binary=True) as cur:
            cur.itersize = 10_000
            cur.execute(FLOOR_SQL, (region_id, lo, hi))
            while rows := cur.fetchmany(10_000):
                for row in rows:
                    body = row[5]
                    sha(body).digest()
                    n += 1
                    nbytes += len(body)
    return n, nbytes


def read_out_floor(url: str, region_id: int, size: int, pool) -> tuple[float, int]:
    """The read-out floor of verify: the same columns streamed out of PostgreSQL over two
    connections (two processes, each half the positions), in binary, each entry hashed
    once; plain psycopg, no checks. Seconds, entries."""
    half = size // 2
    t0 = time.perf_counter()
    parts = pool.map(_floor_part, [(url, region_id, 0, half), (url, region_id, half, size)])
    sec = time.perf_counter() - t0
    return sec, sum(n for n, _ in parts)


SAME_WORK_SQL = ("SELECT region_id, seq, actie_id, subject, activity_id, registered_at, body, "
                 "leaf_hash, mac FROM log_entry WHERE region_id = %s AND seq >= %s AND seq < %s "
                 "ORDER BY seq")


def _mth(leaves: list[bytes]) -> bytes:
    """The RFC 6962 root of leaves, level by level (an odd last node goes up as it is),
    plain hashlib: the rawest way."""
    sha = hashlib.sha256
    level = leaves
    while len(level) > 1:
        up = [sha(b"\x01" + level[i] + level[i + 1]).digest()
              for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            up.append(level[-1])
        level = up
    return level[0]


def _same_work_part(task: tuple[str, bytes, int, int, int]) -> tuple[int, int, bytes]:
    """One connection's part of the same-work floor: the entries [lo, hi) streamed as the
    read-out floor streams them (binary, plain psycopg, default loaders), each entry's leaf
    built as audit.leaf_data gives it (an f-string of the columns), hashed, compared with
    the stored leaf hash, its MAC computed (hmac, as Keyring.entry_mac) and compared, and the
    Merkle root of the part. (entries, entries not in order, root)."""
    url, key, region_id, lo, hi = task
    sha, mac_of = hashlib.sha256, hmac.new
    leaves: list[bytes] = []
    add = leaves.append
    bad = 0
    with psycopg.connect(url) as conn, conn.cursor(name="same_work", binary=True) as cur:
        cur.itersize = 10_000
        cur.execute(SAME_WORK_SQL, (region_id, lo, hi))
        while rows := cur.fetchmany(10_000):
            for region, seq, actie, subject, activity, at, body, leaf_hash, mac in rows:
                data = (f"{region}\n{seq}\n{actie}\n{subject or ''}\n{activity}\n"
                        f"{at.isoformat()}\n{body}").encode()
                leaf = sha(b"\x00" + data).digest()
                if leaf != leaf_hash or mac_of(key, b"%d:" % seq + leaf,
                                                sha).digest()[:16] != mac:
                    bad += 1
                add(leaf)
    return len(leaves), bad, _mth(leaves)


def same_work_floor(url: str, key: bytes, region_id: int, size: int, pool
                    ) -> tuple[float, int, int, bytes]:
    """The same work as verify's bulk pass, done the rawest way: over two connections (two
    processes), every entry's leaf recomputed from its columns and compared, its MAC
    checked, and the Merkle root of the whole log (RFC 6962: the root of the first 2^k
    leaves, 2^k the largest power of two below the size, and of the rest, computed one per
    process, then joined). No checkpoints, no row reconciliation, no position check: less
    than verify does. Seconds, entries, entries not in order, root."""
    k = 1 << ((size - 1).bit_length() - 1) if size > 1 else size
    t0 = time.perf_counter()
    parts = pool.map(_same_work_part, [(url, key, region_id, 0, k),
                                       (url, key, region_id, k, size)])
    (n1, bad1, left), (n2, bad2, right) = parts
    root = hashlib.sha256(b"\x01" + left + right).digest() if n2 else left
    return time.perf_counter() - t0, n1 + n2, bad1 + bad2, root


def machine_cpu() -> float:
    """CPU seconds the machine has been busy (user, nice, system, irq, softirq, steal), as
    bench/disclosures.py measures it."""
    with open("/proc/stat") as fh:
        fields = [int(x) for x in fh.readline().split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def verify_end_to_end(app: App, code: str) -> tuple[float, verify.Report]:
    with app.transaction() as s:
        t0 = time.perf_counter()
        report = verify.verify(s, app.keys, code)
        return time.perf_counter() - t0, report


def verify_parts(app: App, code: str, region_id: int) -> dict[str, float]:
    """The parts of verify's bulk pass (services/log/verify_bulk) over one region, each timed on
    its own, all in this one process and one connection, block by block (so a part is never
    overlapped with another, unlike in verify itself, where the server builds the next chunks
    while worker processes hash)."""
    from deelwijs.services.log import verify_bulk as vf

    parts = dict.fromkeys(("server builds and sends the chunks (1 connection)",
                           "leaf hashes", "MACs + compare with the stored columns",
                           "Merkle levels of the blocks + roots", "checkpoint signatures"), 0.0)
    read, hashing, macs, merkle_part, sign_part = parts
    clock = time.perf_counter
    with app.transaction() as s:
        raw = s.connection().connection.dbapi_connection
        checker = vf.Checker.of(app.keys)
        checks = audit.checkpoints(s, region_id)
        name = audit.origin(s, region_id, app.keys)  # the key's name is the log's origin
        size = raw.execute(vf._BOUNDS, (region_id,)).fetchone()[1] + 1
        blocks = []
        for start, end, wanted in vf._tasks(size, [c.size for c in checks]):
            t0 = clock()
            rows = list(vf.chunk_rows(raw, region_id, start, end))
            parts[read] += clock() - t0
            t0 = clock()
            leaves = [vf.leaf_hashes(row[2].split(vf.SEPARATOR)) for row in rows]
            parts[hashing] += clock() - t0
            t0 = clock()
            for (a, n, _, fixed, ok), chunk in zip(rows, leaves, strict=True):
                if not ok or n != len(chunk) or checker.fixed(a, chunk) != fixed:
                    raise SystemExit(f"verify parts: chunk {a} of {code} is not in order")
            parts[macs] += clock() - t0
            del rows
            t0 = clock()
            tree = vf.levels([leaf for chunk in leaves for leaf in chunk])
            blocks.append(vf.Block(start, end, tree[vf.BLOCK_BITS][0]
                                   if end - start == vf.BLOCK else None,
                                   {n: vf.compact(tree, n - start) for n in wanted}))
            parts[merkle_part] += clock() - t0
        t0 = clock()
        roots = vf.roots(blocks, [c.size for c in checks] + [size], size)
        parts[merkle_part] += clock() - t0
        t0 = clock()
        for c in checks:
            _, n, root = cp.open_note(c.note, app.keys.verify_key, name)
            if roots.get(n) != root:
                raise SystemExit(f"verify parts: checkpoint {n} of {code} does not match")
        parts[sign_part] += clock() - t0
    return parts


# --- phase C: inzage ------------------------------------------------------------------------


def statements(app: App, fn) -> list[tuple[str, object]]:
    """The SQL statements (with parameters) fn sends through the app's engine."""
    seen: list[tuple[str, object]] = []

    def listen(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    event.listen(app.engine, "before_cursor_execute", listen)
    try:
        fn()
    finally:
        event.remove(app.engine, "before_cursor_execute", listen)
    return seen


def explain(app: App, stmt: str, params) -> list[str]:
    with app.engine.connect() as conn:
        rows = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {stmt}", params).all()
    return [r[0] for r in rows]


def log_inzage(app: App, youth_id: int) -> int:
    with app.transaction() as s:
        rows = audit.entries_for_youth(unit(app, s), youth_id)
        views = [audit.entry_view(r, for_subject=True) for r in rows]
    return len(views)


def rights_inzage(app: App, rights, youth_id: int, today: dt.date) -> int:
    with app.transaction() as s:
        out = rights.inzage(unit(app, s, today=today), youth_id, requester="youth")
        s.rollback()  # nothing kept: the next run sees the same data
    return len(out["verwerkingslog"])


def timed(fn, runs: int, warmup: int, desc: str) -> list[float]:
    for _ in range(warmup):
        fn()
    lat = []
    for _ in tqdm(range(runs), desc=desc, unit="run", mininterval=1):
        t = time.perf_counter()
        fn()
        lat.append(time.perf_counter() - t)
    return lat


# --- phase D: write overhead ----------------------------------------------------------------


def record_one(app: App, w: World, youth_id: int, contents: dict, today: dt.date) -> None:
    case_id = w.cases[youth_id]
    with audit.trace(), app.transaction() as s:
        disclosures.record(unit(app, s, alice(w), today),
                           to_org_id=w.orgs["jeugdhulp"], contents=dict(contents), day=today,
                           kind="minute", case_id=case_id, meeting_id=w.meetings[case_id])


def overhead(app: App, w: World, youth_id: int, n: int, block: int, today: dt.date
             ) -> dict[str, list[float]]:
    """n disclosures with the log on and n with the log off (audit.prepare returning None:
    record then writes no entry), in alternating blocks (on, off, off, on, ...); every 5th
    is a refused one, as in the setup's real actions."""
    work = [REFUSED if i % 5 == 3 else ALLOWED for i in range(n)]
    real_log = audit.prepare

    def noop(*args, **kwargs):
        return None

    for i in range(20):  # warm-up, both ways
        audit.prepare = noop if i % 2 else real_log
        record_one(app, w, youth_id, work[i % len(work)], today)
    audit.prepare = real_log
    lat: dict[str, list[float]] = {"on": [], "off": []}
    order = []
    for b in range(0, n, block):
        pair = ("on", "off") if (b // block) % 2 == 0 else ("off", "on")
        order.extend((arm, b) for arm in pair)
    try:
        with tqdm(total=2 * n, desc="D disclosures (log on/off)", unit="disclosure",
                  mininterval=1) as bar:
            for arm, b in order:
                audit.prepare = real_log if arm == "on" else noop
                gc.collect()
                for i in range(b, min(b + block, n)):
                    t = time.perf_counter()
                    record_one(app, w, youth_id, work[i], today)
                    lat[arm].append(time.perf_counter() - t)
                    bar.update(1)
    finally:
        audit.prepare = real_log
    return lat


def log_call_cost(app: App, w: World, youth_id: int, n: int, today: dt.date) -> list[float]:
    """audit.log alone, with the arguments disclosures.record passes for an allowed
    disclosure, timed inside its transaction (loading the rows it needs is not timed)."""
    case_id = w.cases[youth_id]
    with app.transaction() as s:
        _, decision, _ = disclosures.decide_stored(
            unit(app, s, alice(w), today), to_org_id=w.orgs["jeugdhulp"],
            categories=list(ALLOWED), day=today, case_id=case_id, meeting_id=w.meetings[case_id])
        version, _ = app.active_ruleset(s, w.region_id, today)
        digest, ruleset_id = version.digest, version.ruleset_id
    summary = audit.decision_summary(decision, digest)
    lat = []
    for i in tqdm(range(n + 20), desc="D audit.log alone", unit="call", mininterval=1):
        with audit.trace(), app.transaction() as s:
            pro = s.get(orm.Professional, w.pros["alice"])
            frm = s.get(orm.Organisation, w.orgs["school"])
            to = s.get(orm.Organisation, w.orgs["jeugdhulp"])
            t = time.perf_counter()
            audit.log(s, app.keys, region_id=w.region_id, actie="disclose",
                      activity=audit.activity(ruleset_id, "oza"), activity_version=digest,
                      youth_id=youth_id, categories=list(ALLOWED),
                      handeling="Verstrekking (minute)", verwerking="Casusoverleg oza",
                      verwerking_id=f"deelwijs:casus:{case_id}", professional=pro,
                      uitvoerder=frm, afnemer=to, tijdstip=audit.now(), decision=summary,
                      extra={"verstrekking": 0})
            if i >= 20:
                lat.append(time.perf_counter() - t)
    return lat


# --- report ---------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def plan_summary(lines: list[str]) -> list[str]:
    keep = [ln.strip() for ln in lines
            if any(k in ln for k in ("Scan", "Sort", "Index Cond", "Execution Time",
                                     "Planning Time", "Buffers"))]
    return keep or [ln.strip() for ln in lines[:3]]


def table(rows: list[tuple[str, ...]]) -> list[str]:
    head = ("figure", "value", "peer / limit", "ratio", "target", "")
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    out = [" | ".join(str(c).ljust(widths[i]) for i, c in enumerate(head)),
           "-+-".join("-" * w for w in widths)]
    out += [" | ".join(str(c).ljust(widths[i]) for i, c in enumerate(r)) for r in rows]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", default=DEFAULT_URL, help=f"PostgreSQL URL (default {DEFAULT_URL})")
    ap.add_argument("--fresh", action="store_true", help="drop and recreate the database")
    ap.add_argument("--verify-entries", type=int, default=1_000_000,
                    help="entries in the region verify runs over (phase B)")
    ap.add_argument("--inzage-entries", type=int, default=10_000_000,
                    help="entries in the region of the inzage youth (phases C and D)")
    ap.add_argument("--subjects", type=int, default=100_000,
                    help="synthetic youths the bulk entries are about (per region)")
    ap.add_argument("--verify-runs", type=int, default=3)
    ap.add_argument("--inzage-runs", type=int, default=200)
    ap.add_argument("--disclosures", type=int, default=2_000,
                    help="disclosures per arm in phase D (log on / log off)")
    ap.add_argument("--block", type=int, default=100, help="phase D block size")
    ap.add_argument("--verify-inzage-region", action="store_true",
                    help="also verify the large region once (a check; information only)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    if not args.url.startswith("postgresql://"):
        ap.error("--url must be a postgresql:// URL")
    if min(args.verify_entries, args.inzage_entries) < 1_000:
        ap.error("use at least 1,000 entries per region")
    today = dt.date.today()
    started = time.perf_counter()
    setup_info = setup(args, today)
    setup_s = sum(setup_info["steps"].values())
    app = bench_app(args.url)
    load_before = os.getloadavg()

    # phase B: verify
    region_a = region_id_of(app, REGION_VERIFY)
    datas = leaf_bytes(args.url, region_a)
    n_a = len(datas)
    n_bytes = sum(len(d) for d in datas)
    raw_runs, verify_runs, reports, floor_runs = [], [], [], []
    floor_cpu, verify_cpu = [], []  # CPU seconds of the whole machine during each run
    same_runs, same_cpu = [], []  # the same-work floor
    with app.transaction() as s:  # the root the same-work floor must find: the head's
        head_n, nodes = audit._head(s, app.keys, region_a)
        head_root = merkle.Frontier.from_bytes(head_n, nodes).root()
    import multiprocessing
    floor_pool = multiprocessing.get_context("fork").Pool(2)
    for _ in tqdm(range(args.verify_runs), desc="B verify + floor + raw SHA-256", unit="run"):
        gc.collect()
        busy = machine_cpu()
        sec, n_floor = read_out_floor(args.url, region_a, n_a, floor_pool)
        floor_cpu.append(machine_cpu() - busy)
        if n_floor != n_a:
            raise SystemExit(f"read-out floor read {n_floor:,} entries, not {n_a:,}")
        floor_runs.append(sec)
        gc.collect()
        busy = machine_cpu()
        sec, n_same, bad_same, root = same_work_floor(args.url, app.keys._mac_key, region_a,
                                                      n_a, floor_pool)
        same_cpu.append(machine_cpu() - busy)
        if (n_same, bad_same, root) != (n_a, 0, head_root) or head_n != n_a:
            raise SystemExit(f"the same-work floor read {n_same:,} entries ({bad_same:,} not "
                             f"in order), root {root.hex()[:16]}, not {n_a:,} and the head's "
                             f"root {head_root.hex()[:16]}")
        same_runs.append(sec)
        gc.collect()
        raw_runs.append(raw_sha256(datas))
        gc.collect()
        busy = machine_cpu()
        sec, report = verify_end_to_end(app, REGION_VERIFY)
        verify_cpu.append(machine_cpu() - busy)
        verify_runs.append(sec)
        reports.append(report)
    floor_pool.close()
    floor_pool.join()
    del datas
    gc.collect()
    parts = verify_parts(app, REGION_VERIFY, region_a)
    raw_s, verify_s = statistics.median(raw_runs), statistics.median(verify_runs)
    raw_rate, verify_rate = n_a / raw_s, n_a / verify_s
    floor_s = statistics.median(floor_runs)
    floor_ratio = floor_s / verify_s
    same_s = statistics.median(same_runs)
    same_ratio = same_s / verify_s
    bad = [p for r in reports for p in r.problems]

    # phase C: inzage
    w = load_world(app, REGION_INZAGE)
    youth_id, d_youth = w.youths[0], w.youths[1]
    n_b = head_size(args.url, w.region_id)
    n_youth = log_inzage(app, youth_id)
    with psycopg.connect(args.url) as conn:
        position = conn.execute(
            "SELECT min(seq), max(seq), count(*) FROM log_entry WHERE subject = %s",
            (app.keys.subject(youth_id),)).fetchone()
    lat_log = timed(lambda: log_inzage(app, youth_id), args.inzage_runs, 10, "C log inzage")
    log_sql = statements(app, lambda: log_inzage(app, youth_id))
    plan = []
    for stmt, params in log_sql:
        if "FROM log_entry" in stmt:
            plan = explain(app, stmt, params)
    uses_index = any("ix_log_entry_subject" in ln for ln in plan)
    try:
        from deelwijs.services.rights import requests as rights
        has_rights = hasattr(rights, "inzage")
    except ImportError:
        rights, has_rights = None, False
    lat_rights: list[float] = []
    rights_error = None
    if has_rights:
        try:
            lat_rights = timed(lambda: rights_inzage(app, rights, youth_id, today),
                               args.inzage_runs, 5, "C rights.inzage")
        except Exception as exc:  # reported, never hidden
            rights_error = f"{type(exc).__name__}: {exc}"

    # phase D: write overhead
    lat_d = overhead(app, w, d_youth, args.disclosures, args.block, today)
    lat_call = log_call_cost(app, w, d_youth, min(args.disclosures, 1000), today)

    extra_verify = None
    if args.verify_inzage_region:
        sec, report = verify_end_to_end(app, REGION_INZAGE)
        extra_verify = (sec, report, head_size(args.url, w.region_id))
    with app.engine.connect() as conn:
        server = conn.exec_driver_sql("SHOW server_version").scalar()
        sync = conn.exec_driver_sql("SHOW synchronous_commit").scalar()
        shared = conn.exec_driver_sql("SHOW shared_buffers").scalar()
        table_size = conn.exec_driver_sql(
            "SELECT pg_size_pretty(pg_total_relation_size('log_entry'))").scalar()
        # bytes per entry of the verified region: the stored row (pg_column_size of the
        # whole row), its body, and the share stored in format 2
        row_b, body_b, compact_share = conn.exec_driver_sql(
            "SELECT avg(pg_column_size(e.*)), avg(octet_length(e.body)), "
            "avg(CASE WHEN left(e.body, 1) = '[' THEN 1.0 ELSE 0.0 END) FROM log_entry e "
            "JOIN region r ON r.id = e.region_id WHERE r.code = %s",
            (REGION_VERIFY,)).one()
    app.engine.dispose()
    load_after = os.getloadavg()

    # report
    ms = [x * 1000 for x in lat_log]
    p50_log, p99_log = percentile(ms, 50), percentile(ms, 99)
    rms = [x * 1000 for x in lat_rights]
    on, off = (statistics.fmean(lat_d[a]) * 1000 for a in ("on", "off"))
    on50, off50 = (percentile(lat_d[a], 50) * 1000 for a in ("on", "off"))
    over, over50 = on / off - 1, on50 / off50 - 1
    call_ms = [x * 1000 for x in lat_call]
    ratio = verify_rate / raw_rate
    per_million = verify_s * 1_000_000 / n_a
    print()
    print(f"Deelwijs processing-log benchmark, {dt.datetime.now().isoformat(timespec='seconds')}")
    print(f"  PostgreSQL {server} (synchronous_commit={sync}, shared_buffers={shared}), "
          f"Python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.machine()}; "
          f"log_entry {table_size}; CHECKPOINT_EVERY={audit.CHECKPOINT_EVERY}")
    if setup_info["reused"]:
        print(f"  setup: reused the existing bench database ({setup_s:.1f}s to check/migrate)")
    else:
        print(f"  setup (not a headline figure): {setup_s:.1f}s")
        for name, sec in setup_info["steps"].items():
            print(f"    {name:<48} {sec:8.1f}s")
        for code in (REGION_VERIFY, REGION_INZAGE):
            i = setup_info[code]
            print(f"    {code}: {i['templates']} real entries as templates, "
                  f"{i['real_actions']} real actions interleaved, {i['checked_bodies']} bulk "
                  "bodies read back and compared with their full body")
    print(f"  load average before the timed phases {load_before[0]:.2f} (1 min), after "
          f"{load_after[0]:.2f}: other work on this machine competes for the 2 CPUs")
    print()
    print(f"  B verify.verify over {REGION_VERIFY}: {n_a:,} entries, {n_bytes / 1e6:,.0f} MB of "
          "leaf bytes")
    print(f"    per entry: {n_bytes / n_a:,.0f} bytes of leaf (what verify hashes), a stored "
          f"row of {float(row_b):,.0f} bytes (pg_column_size), a body of {float(body_b):,.0f} "
          f"bytes; {float(compact_share):.1%} of the bodies in format 2 (target: an entry "
          f"<= {TARGET_ENTRY_BYTES} bytes: {met(n_bytes / n_a <= TARGET_ENTRY_BYTES)})")
    print(f"    end to end: {', '.join(f'{x:.2f}' for x in verify_runs)} s (median "
          f"{verify_s:.2f} s = {verify_rate:,.0f} entries/s, "
          f"{n_bytes / verify_s / 1e6:,.0f} MB/s); problems found: {len(bad)}")
    print(f"    raw hashlib.sha256, one call per entry over the same bytes: "
          f"{', '.join(f'{x:.2f}' for x in raw_runs)} s (median {raw_s:.2f} s = "
          f"{raw_rate:,.0f} entries/s, {n_bytes / raw_s / 1e6:,.0f} MB/s)")
    print(f"    verify / raw = {ratio:.2f}  (target >= {TARGET_VERIFY_RATIO}: "
          f"{met(ratio >= TARGET_VERIFY_RATIO)}); {per_million:.2f} s per 1,000,000 entries "
          f"(target <= {TARGET_VERIFY_S:.0f} s: {met(per_million <= TARGET_VERIFY_S)})")
    print(f"    read-out floor (the same columns streamed over 2 connections in binary, each "
          f"entry hashed once, plain psycopg): {', '.join(f'{x:.2f}' for x in floor_runs)} s "
          f"(median {floor_s:.2f} s = {n_a / floor_s:,.0f} entries/s)")
    print(f"    verify / read-out floor = {floor_ratio:.2f}  (target >= {TARGET_FLOOR_RATIO}: "
          f"{met(floor_ratio >= TARGET_FLOOR_RATIO)}); verify includes the row reconciliation")
    cpus = os.cpu_count() or 1
    v_cpu, f_cpu = statistics.median(verify_cpu), statistics.median(floor_cpu)
    print(f"    CPU of the whole machine meanwhile (every process, PostgreSQL's included; "
          f"/proc/stat): verify {v_cpu:.2f} s ({v_cpu / verify_s / cpus:.0%} of {cpus} CPUs "
          f"busy), floor {f_cpu:.2f} s ({f_cpu / floor_s / cpus:.0%} busy)")
    print(f"    verify takes at least its CPU / {cpus} CPUs, so verify / floor <= "
          f"{floor_s * cpus / v_cpu:.2f} with this much CPU; {TARGET_FLOOR_RATIO} needs verify "
          f"within {floor_s * cpus / TARGET_FLOOR_RATIO:.2f} s of CPU in all; the parts "
          f"below, each measured on its own, add up to {sum(parts.values()):.2f} s before the "
          "row reconciliation")
    s_cpu = statistics.median(same_cpu)
    print(f"    same-work floor (the brief's floor: verify's own work done the rawest way; the "
          f"same columns streamed the same way, each leaf built from its columns, hashed and "
          f"compared, its MAC computed and compared, the Merkle root of the whole log; no "
          f"checkpoints, no reconciliation): {', '.join(f'{x:.2f}' for x in same_runs)} s "
          f"(median {same_s:.2f} s = {n_a / same_s:,.0f} entries/s, machine CPU {s_cpu:.2f} s)")
    print(f"    verify / same-work floor = {same_ratio:.2f}  (verify does more: checkpoint "
          f"roots and signatures, positions, the row reconciliation)")
    print("    parts (one more pass, in one process, each part on its own):")
    for name, sec in parts.items():
        print(f"      {name:<46} {sec:6.2f} s  ({n_a / sec:12,.0f} entries/s)")
    print()
    print(f"  C inzage, {REGION_INZAGE}: {n_b:,} entries; the youth has {n_youth} "
          f"(seq {position[0]:,} .. {position[1]:,})")
    print(f"    audit.entries_for_youth + entry_view, {len(ms)} runs: p50 {p50_log:.2f} ms, "
          f"p99 {p99_log:.2f} ms, max {max(ms):.2f} ms (target <= {TARGET_INZAGE_MS:.0f} ms: "
          f"{met(p99_log <= TARGET_INZAGE_MS)}, p99)")
    if has_rights and rms:
        print(f"    rights.inzage (whole overview, rolled back), {len(rms)} runs: p50 "
              f"{percentile(rms, 50):.2f} ms, p99 {percentile(rms, 99):.2f} ms")
    elif has_rights:
        print(f"    rights.inzage failed: {rights_error}")
    else:
        print("    rights.inzage: services/rights.py not importable; only the log part timed")
    print(f"    EXPLAIN of the log query (uses ix_log_entry_subject: {uses_index}):")
    for ln in plan_summary(plan):
        print(f"      {ln}")
    print()
    print(f"  D disclosures.record, one client, {len(lat_d['on'])} with the log and "
          f"{len(lat_d['off'])} with the log off (audit.prepare -> None), blocks of {args.block}:")
    print(f"    log on  mean {on:.2f} ms  p50 {on50:.2f} ms  p99 "
          f"{percentile(lat_d['on'], 99) * 1000:.2f} ms")
    print(f"    log off mean {off:.2f} ms  p50 {off50:.2f} ms  p99 "
          f"{percentile(lat_d['off'], 99) * 1000:.2f} ms")
    print(f"    overhead {over:+.1%} (means), {over50:+.1%} (p50s); target <= "
          f"{TARGET_OVERHEAD:.0%}: {met(over <= TARGET_OVERHEAD)}")
    print(f"    one audit.log call alone (inside the transaction): mean "
          f"{statistics.fmean(call_ms):.3f} ms, p50 {percentile(call_ms, 50):.3f} ms, p99 "
          f"{percentile(call_ms, 99):.3f} ms")
    if extra_verify:
        sec, report, size = extra_verify
        print(f"  verify.verify over {REGION_INZAGE} ({size:,} entries): {sec:.1f} s, "
              f"{size / sec:,.0f} entries/s, problems {len(report.problems)}")
    rows = [
        (f"B verify {n_a:,} entries (s)", f"{verify_s:.2f}", f"{TARGET_VERIFY_S:.0f} s limit",
         f"{verify_s / TARGET_VERIFY_S:.2f}", "<= 3 s per 1M", met(per_million <= TARGET_VERIFY_S)),
        ("B verify rate (entries/s)", f"{verify_rate:,.0f}", f"raw SHA-256 {raw_rate:,.0f}",
         f"{ratio:.2f}", f">= {TARGET_VERIFY_RATIO}", met(ratio >= TARGET_VERIFY_RATIO)),
        ("B verify rate vs read-out floor (entries/s)", f"{verify_rate:,.0f}",
         f"floor {n_a / floor_s:,.0f}", f"{floor_ratio:.2f}", f">= {TARGET_FLOOR_RATIO}",
         met(floor_ratio >= TARGET_FLOOR_RATIO)),
        ("B verify rate vs same-work floor (entries/s)", f"{verify_rate:,.0f}",
         f"floor {n_a / same_s:,.0f}", f"{same_ratio:.2f}", "", ""),
        ("B verify rate (MB/s)", f"{n_bytes / verify_s / 1e6:,.0f}",
         f"raw SHA-256 {n_bytes / raw_s / 1e6:,.0f}", f"{ratio:.2f}", "", ""),
        (f"C log inzage, {n_youth} of {n_b / 1e6:.0f}M entries (p99 ms)", f"{p99_log:.2f}",
         f"{TARGET_INZAGE_MS:.0f} ms limit", f"{p99_log / TARGET_INZAGE_MS:.2f}", "<= 50 ms",
         met(p99_log <= TARGET_INZAGE_MS)),
    ]
    if rms:
        rp99 = percentile(rms, 99)
        rows.append(("C rights.inzage, whole overview (p99 ms)", f"{rp99:.2f}",
                     f"{TARGET_INZAGE_MS:.0f} ms limit", f"{rp99 / TARGET_INZAGE_MS:.2f}",
                     "<= 50 ms", met(rp99 <= TARGET_INZAGE_MS)))
    rows += [
        ("D record with log (mean ms)", f"{on:.2f}", f"without log {off:.2f}", f"{on / off:.3f}",
         "<= 1.20", met(over <= TARGET_OVERHEAD)),
        ("D one audit.log call (mean ms)", f"{statistics.fmean(call_ms):.3f}",
         f"record without log {off:.2f}", f"{statistics.fmean(call_ms) / off:.3f}", "", ""),
    ]
    print()
    for ln in table(rows):
        print(f"  {ln}")
    print(f"  total wall time {time.perf_counter() - started:.0f}s")
    return 1 if bad or (extra_verify and extra_verify[1].problems) else 0


if __name__ == "__main__":
    sys.exit(main())
