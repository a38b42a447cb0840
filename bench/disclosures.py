"""Benchmark: recording and listing disclosures on PostgreSQL.

    .venv/bin/python bench/disclosures.py [--url postgresql://postgres@127.0.0.1:5432/deelwijs_bench]
        [--fresh] [--youths 100000] [--disclosures 1000000] [--clients 8] [--measure 20000]
        [--listings 1000] [--seed 1] [--profile FILE]

Acceptance item: with 100,000 youths and 1,000,000 stored disclosures on PostgreSQL, report
disclosures recorded per second (engine decision + write, one transaction each, 8 concurrent
clients) and the time to list every disclosure about one youth. Targets: >= 1,000
disclosures/s; <= 20 ms per youth listing. Printed next to the raw PostgreSQL INSERT rate of the
same rows, measured in the same run, as the ratio to that limit.

Setup (timed, but not a headline figure; skipped when the database already holds the bench
region at the requested size; --fresh drops and recreates the database):
  * migrate with deelwijs.storage.db.upgrade;
  * region, 240 organisations, 480 professionals, signatures, mandates and the active ruleset
    ("voorbeeldregio") through the real services (registry.*), as services/demo.py does;
  * youths with their parents: every youth gets its own data key and encrypted name, date of
    birth, BSN and parents' names, exactly as services.youths.create_youth makes them (the
    same Keyring calls), bulk-inserted with COPY; one case per youth with participants, an
    accession form, a meeting, consent records in every state (as demo.py) and, for the
    municipal purposes, a workflow whose resident set the scope;
  * real engine decisions: services.disclosures.decide_stored on sample youths of every
    purpose x consent state x recipient; the preloaded disclosures (about 10 per youth,
    Poisson, interleaved over a year in the order they would have arrived) copy the decision
    JSON and items of a real decision for a youth of the same purpose, consent state and
    recipient. FK triggers are off for that COPY only (session_replication_role=replica);
    the rows are consistent by construction. The preloaded disclosures get no processing-log
    entries: the log of the bench region holds only the entries of disclosures recorded
    through the service (phase A and its warm-up, of this run and of earlier runs on the same
    database), so that it stays verifiable; the log_head rows of the bench region and of the
    raw-INSERT region (below) are created if missing.

Timed phases:
  A. --clients processes, each with its own App (engine, pool, ruleset cache), record
     --measure disclosures through services.disclosures.record, one app.transaction() each,
     for random youths/cases/recipients/categories (after a small untimed warm-up). A record
     reads its facts in one query (which on PostgreSQL also reserves the disclosure's id and
     reads the region's log head), then in one round trip writes the disclosure and its
     items (allowed content encrypted with the youth's key) and, in a second statement,
     takes the region's log head (SELECT ... FOR UPDATE: the row lock that orders the
     appends) and writes its processing-log entry and the head's new frontier; when another
     writer came first, it seals the entry again for the head as locked and writes it in one
     more statement (audit.append_locked); every audit.CHECKPOINT_EVERY entries a signed
     checkpoint.
  B. The same rows A wrote, inserted again by --clients processes with plain psycopg, one
     transaction each, in the leanest form: UPDATE log_head ... RETURNING size, frontier and
     nextval of the disclosure sequence (the same lock), then one statement (data-modifying
     CTEs) writing the disclosure, its items (content_enc bytes included), the log entry
     (A's entry: body, leaf hash, MAC, subject, ...; a new actie_id) and the head's frontier
     (advanced with merkle.Frontier), and at every multiple of audit.CHECKPOINT_EVERY one
     log_checkpoint row (A's note). This is the ceiling the database sets on this machine
     for these rows. B's log goes to a region of its own ("bench-raw", no organisations), so
     the bench region's log stays verifiable. B's rows are deleted afterwards with the
     append-only triggers bypassed (SET LOCAL session_replication_role = replica, as
     tests/services/helpers.clean_tables), and bench-raw's log_head is reset to the empty
     log.
  C. services.disclosures.list_for_youth for --listings random youths, one transaction each,
     one client; the plans of the statements it sends are checked with EXPLAIN ANALYZE.
  Then deelwijs.services.log.verify.verify(session, keys, "bench") checks the bench region's
  whole log (every leaf, MAC, checkpoint, the head) and reconciles its rows, and the report
  says whether it verifies. The preloaded rows have no entries, so verify names each of
  them ("rij zonder logregel"); those are counted apart, and any other problem (or one about
  a disclosure recorded in this run) fails the run.

Every figure is measured in this run; nothing is estimated or carried over.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import cProfile
import datetime as dt
import hashlib
import json
import multiprocessing as mp
import os
import platform
import pstats
import queue
import random
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import psycopg
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from tqdm import tqdm

from deelwijs import settings as settings_mod
from deelwijs.domain import codes, log_format, merkle
from deelwijs.domain import workflow as wf
from deelwijs.rules import loader
from deelwijs.services import demo
from deelwijs.services.app import App, open_app
from deelwijs.services.casus import disclosures
from deelwijs.services.context import PROFESSIONAL, Actor, actor_of, unit
from deelwijs.services.covenant import registry
from deelwijs.services.log import audit, verify
from deelwijs.storage import db, orm

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/deelwijs_bench"
REGION = "bench"
REGION_B = "bench-raw"  # phase B's log goes here, so that the bench region's log stays valid
RULESET = "voorbeeldregio"
TARGET_RATE = 1_000  # disclosures/s recorded, 8 clients (the acceptance item)
TARGET_LIST_MS = 20.0  # ms per youth listing (the acceptance item)
TARGET_FLOOR_RATIO = 0.6  # A's rate / B's (issue 11)
# Synthetic data only: a fixed master key so that a reused database stays readable.
MASTER_KEY = base64.urlsafe_b64encode(hashlib.sha256(b"deelwijs bench master key").digest())
PURPOSES = ("signalering", "thuiszitters", "een_plan", "oza", "toeleiding",
            "gecoordineerde_aanpak", "eigen_taak")  # as demo.py, cycled per youth
STATES = 6  # consent states of demo.py: n % 6
COMBOS = len(PURPOSES) * STATES  # coprime: youth n has combo n % 42
PARTNERS = ("jeugdhulp", "jgz", "gemeente", "leerplicht")
WARMUP = 25  # untimed records per client before phase A starts
FILLER = ("besproken in het overleg; afspraken over begeleiding, contact met ouders en de "
          "eerstvolgende evaluatie zijn vastgelegd in het dossier.")

DISCLOSURE_COLS = ("region_id", "youth_id", "case_id", "meeting_id", "from_org_id", "to_org_id",
                   "professional_id", "hat", "purpose", "kind", "outcome", "decision",
                   "ruleset_version_id", "ruleset_digest", "disclosed_on", "created_at")
ITEM_COLS = ("category", "outcome", "codes", "rules", "content")  # as preloaded
B_ITEM_COLS = (*ITEM_COLS, "content_enc")  # what phase B writes: what the service wrote
LOG_COLS = ("subject", "activity_id", "registered_at", "body", "leaf_hash", "mac")


def content_for(category: str) -> str:
    return f"Synthetische inhoud over {category}: {FILLER}"


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


# --- database and app -----------------------------------------------------------------------


def admin_url(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    return urlunsplit(parts._replace(path="/postgres")), name


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


def with_session_setting(url: str, sync_commit: str | None) -> str:
    """The URL with synchronous_commit set for its sessions (libpq `options`), or as is."""
    if sync_commit is None:
        return url
    parts = urlsplit(url)
    option = f"options=-c%20synchronous_commit%3D{sync_commit}"
    return urlunsplit(parts._replace(query=f"{parts.query}&{option}" if parts.query
                                     else option))


def bench_app(url: str) -> App:
    config = settings_mod.Settings(database_url=url, master_key=MASTER_KEY)
    return open_app(config)  # refuses an un-migrated database, like the real app


# --- setup ----------------------------------------------------------------------------------


@dataclass
class Registry:
    region_id: int
    version_id: int
    digest: str
    schools: list[int]
    partners: dict[str, list[int]]  # party -> organisation ids
    creator: dict[int, int]  # school id -> professional id
    gemeente_pro: dict[int, int]  # gemeente id -> professional id


@dataclass
class Youth:
    """What setup made for youth n (the bulk rows are derived from it)."""

    id: int
    case_id: int
    meeting_id: int
    school_id: int
    creator_id: int
    purpose: str
    combo: int
    partners: tuple[int, ...]  # organisation ids, one per PARTNERS party


@dataclass
class Timings:
    steps: dict[str, float] = field(default_factory=dict)

    @contextlib.contextmanager
    def step(self, name: str):
        t0 = time.perf_counter()
        yield
        self.steps[name] = time.perf_counter() - t0


def build_registry(app: App, today: dt.date, rnd: random.Random) -> Registry:
    """Region, organisations, professionals, signatures, mandates, ruleset: real services."""
    start = today - dt.timedelta(days=400)
    per_type = 20
    with app.transaction() as s:
        u = unit(app, s, today=today)  # the administrator
        region = registry.create_region(u, REGION, "Benchmarkregio (synthetisch)")
        version = registry.activate_ruleset(u, region, RULESET, start)
        orgs: dict[str, list[orm.Organisation]] = {}
        for party in codes.PARTIES:
            for i in range(per_type):
                place = f"{demo.PLACES[i % len(demo.PLACES)]} {i // len(demo.PLACES) + 1}"
                org = registry.create_organisation(
                    u, region, party, demo.PARTY_NAMES[party].format(p=place),
                    kvk=f"{rnd.randint(10000000, 99999999)}",
                    domain=demo.GEMEENTE_DOMAINS[i % len(demo.GEMEENTE_DOMAINS)]
                    if party == "gemeente" else None)
                orgs.setdefault(party, []).append(org)
        functions = {"school": ("intern begeleider", []), "swv": ("consulent", []),
                     "leerplicht": ("leerplichtambtenaar", []),
                     "gemeente": ("consulent sociaal domein", ["toeleiding", "coordinatie"]),
                     "jeugdhulp": ("wijkteamer", ["toeleiding", "hulpverlening"]),
                     "jgz": ("jeugdverpleegkundige", [])}
        pros: dict[int, list[int]] = {}
        for party, group in orgs.items():
            function, hats = functions.get(party, ("medewerker", []))
            for org in group:
                sig = registry.add_signatory(u, org, demo._name(rnd), "bestuurder")
                pros[org.id] = [registry.create_professional(
                    u, org, demo._name(rnd), function, hats).id for _ in range(2)]
                if party in ("swv", "gemeente", "leerplicht"):
                    registry.sign_covenant(u, org, version, start, sig)
        for i, school in enumerate(orgs["school"]):
            swv = orgs["swv"][i % len(orgs["swv"])]
            mandate = registry.grant_mandate(u, school, swv, start, f"MACHT-{school.id:04d}")
            if i % 10 == 9:  # a few boards revoked their mandate
                registry.revoke_mandate(u, mandate.id, start + dt.timedelta(days=200))
            else:
                registry.sign_covenant(u, swv, version, start + dt.timedelta(days=1),
                                       on_behalf_of=school)
        return Registry(
            region_id=region.id, version_id=version.id, digest=version.digest,
            schools=[o.id for o in orgs["school"]],
            partners={p: [o.id for o in orgs[p]] for p in PARTNERS},
            creator={o.id: pros[o.id][0] for o in orgs["school"]},
            gemeente_pro={o.id: pros[o.id][0] for o in orgs["gemeente"]})


def synthetic_bsns(rnd: random.Random, n: int) -> list[str]:
    """n distinct nine-digit numbers that pass the 11-proef, all starting with 99 (demo.py's
    9999 range holds too few for 100,000 youths)."""
    out = []
    for tail in rnd.sample(range(10**6), min(10**6, n * 12 // 10 + 100)):
        digits = [9, 9, *map(int, f"{tail:06d}")]
        last = sum(d * w for d, w in zip(digits, range(9, 1, -1), strict=True)) % 11
        if last < 10:
            out.append("".join(map(str, [*digits, last])))
            if len(out) == n:
                return out
    raise SystemExit(f"cannot make {n:,} distinct synthetic BSNs")


def reserve_ids(cur, table: str, n: int) -> int:
    """Take n ids from the table's sequence; return the first."""
    first = cur.execute(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id'))").fetchone()[0]
    if n > 1:
        cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s)",
                    (first + n - 1,))
    return first


def copy_rows(cur, table: str, cols: tuple[str, ...], rows, bar: tqdm | None = None) -> int:
    n = 0
    with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as cp:
        for row in rows:
            cp.write_row(row)
            n += 1
            if bar is not None and n % 1000 == 0:
                bar.update(1000)
    if bar is not None:
        bar.update(n % 1000)
    return n


def build_youths(app: App, url: str, reg: Registry, n_youths: int, today: dt.date,
                 rnd: random.Random) -> list[Youth]:
    """Youths, parents, cases, participants, accession forms, meetings, consent and workflows,
    bulk-inserted with COPY. The identifying data is encrypted as youths.create_youth does."""
    keys = app.keys
    ruleset = loader.resolve(RULESET)
    bsns = synthetic_bsns(rnd, n_youths)
    state, steps = "new", []
    for step, details in [("intake", {}), ("assessment", {"problems": "multiple"}),
                          ("investigation", {"scope": ["jeugd", "onderwijs"],
                                             "with_resident": True})]:
        state, checked = wf.advance(state, step, details)
        steps.append((step, json.dumps(checked)))
    wf_state, wf_scope = state, json.dumps(["jeugd", "onderwijs"])

    youth_rows, guardian_rows, case_rows, part_rows = [], [], [], []
    form_rows, meeting_rows, consent_rows, flow_rows, step_rows = [], [], [], [], []
    out: list[Youth] = []
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        y0 = reserve_ids(cur, "youth", n_youths)
        c0 = reserve_ids(cur, "casus", n_youths)
        m0 = reserve_ids(cur, "meeting", n_youths)
        g_next = reserve_ids(cur, "guardian", 2 * n_youths)
        a_next = reserve_ids(cur, "accession_form", n_youths)
        r_next = reserve_ids(cur, "consent_record", 5 * n_youths)
        w_next = reserve_ids(cur, "workflow", n_youths)
        s_next = reserve_ids(cur, "workflow_step", 3 * n_youths)
        conn.commit()
        created = now()
        for n in tqdm(range(n_youths), desc="youths (encrypt)", unit="youth", mininterval=1):
            yid, cid, mid = y0 + n, c0 + n, m0 + n
            age = rnd.randint(3, 19)
            birth = today - dt.timedelta(days=age * 365 + rnd.randint(0, 364))
            family = rnd.choice(demo.LAST)
            school = rnd.choice(reg.schools)
            parents = [(f"{rnd.choice(demo.FIRST)} {family}", "moeder", True)]
            if rnd.random() < 0.8:
                parents.append((f"{rnd.choice(demo.FIRST)} {family}", "vader",
                                rnd.random() < 0.85))
            name, bsn = f"{rnd.choice(demo.FIRST)} {family}", bsns[n]
            # exactly as youths.create_youth: a new key per youth, wrapped by the master key
            key = keys.new_key()
            youth_rows.append((yid, reg.region_id, school, keys.wrap(key),
                               keys.encrypt(key, name), keys.encrypt(key, birth.isoformat()),
                               keys.encrypt(key, bsn), keys.bsn_hash(bsn), created))
            gezag = []
            for gname, relation, has_gezag in parents:
                guardian_rows.append((g_next, yid, keys.encrypt(key, gname), relation,
                                      has_gezag))
                if has_gezag:
                    gezag.append(g_next)
                g_next += 1
            purpose = PURPOSES[n % len(PURPOSES)]
            opened = today - dt.timedelta(days=rnd.randint(30, 300))
            partners = tuple(rnd.choice(reg.partners[p]) for p in PARTNERS)
            creator = reg.creator[school]
            model_purpose, overleg = ruleset.overleg_types.get(purpose, purpose), (
                purpose if purpose in ruleset.overleg_types else None)
            case_rows.append((cid, reg.region_id, yid, False, model_purpose, overleg,
                              f"Casus {n + 1}", opened, None, creator, 1))
            for org in dict.fromkeys((school, *partners)):
                part_rows.append((cid, org))
            form_rows.append((a_next, partners[0], cid, opened, opened + dt.timedelta(days=2)
                              if n % 4 else None, f"TOETR-{cid}"))
            a_next += 1
            meeting_day = opened + dt.timedelta(days=14)
            meeting_rows.append((mid, cid, meeting_day, "Opening\nBespreking\nAfspraken", 1))
            cstate = n % STATES  # consent in every state, as demo.py
            consent_day = opened + dt.timedelta(days=3 if cstate != 4 else 20)
            if cstate != 5:  # 5: no consent recorded at all
                for role, gid in [("parent", g) for g in gezag] + [("youth", None)]:
                    answer = "refused" if cstate == 1 and role == "youth" else "given"
                    written = cstate != 3
                    ref = f"TOEST-{yid}-{role}" if written else None
                    series = str(uuid.UUID(int=rnd.getrandbits(128), version=4))
                    base = (yid, series)
                    rest = (role, gid)
                    scope = (json.dumps([purpose, "eigen_taak"]),
                             json.dumps(list(codes.CATEGORIES[:11])), "[]", written, ref)
                    consent_rows.append((r_next, *base, 1, *rest, answer, *scope, consent_day,
                                         None, creator, created))
                    r_next += 1
                    if cstate == 2:
                        on = min(meeting_day + dt.timedelta(days=30), today)
                        consent_rows.append((r_next, *base, 2, *rest, "withdrawn", *scope, on,
                                             None, creator, created))
                        r_next += 1
            if purpose in codes.MUNICIPAL_PURPOSES:
                gpro = reg.gemeente_pro[partners[2]]
                flow_rows.append((w_next, reg.region_id, yid, wf_state, wf_scope, None, gpro, 4))
                for step, details in steps:
                    step_rows.append((s_next, w_next, step, details,
                                      opened + dt.timedelta(days=5), gpro, created))
                    s_next += 1
                w_next += 1
            out.append(Youth(yid, cid, mid, school, creator, model_purpose,
                             n % COMBOS, partners))
        tables = [
            ("youth", ("id", "region_id", "school_id", "key_wrapped", "name_enc", "birth_enc",
                       "bsn_enc", "bsn_hash", "created_at"), youth_rows),
            ("guardian", ("id", "youth_id", "name_enc", "relation", "has_gezag"),
             guardian_rows),
            ("casus", ("id", "region_id", "youth_id", "anonymous", "purpose", "overleg", "title",
                       "opened_on", "closed_on", "created_by_id", "version"), case_rows),
            ("case_participant", ("case_id", "organisation_id"), part_rows),
            ("accession_form", ("id", "organisation_id", "case_id", "signed_on", "notified_on",
                                "document_ref"), form_rows),
            ("meeting", ("id", "case_id", "held_on", "agenda", "version"), meeting_rows),
            ("consent_record", ("id", "youth_id", "series", "version", "role", "guardian_id",
                                "answer", "purposes", "categories", "recipient_ids", "written",
                                "document_ref", "given_on", "prior_to_meeting_id",
                                "recorded_by_id", "recorded_at"), consent_rows),
            ("workflow", ("id", "region_id", "youth_id", "state", "scope", "coordination",
                          "opened_by_id", "version"), flow_rows),
            ("workflow_step", ("id", "workflow_id", "step", "details", "taken_on",
                               "professional_id", "recorded_at"), step_rows),
        ]
        total = sum(len(rows) for _, _, rows in tables)
        with tqdm(total=total, desc="youths (COPY)", unit="row", mininterval=1) as bar:
            for table, cols, rows in tables:
                copy_rows(cur, table, cols, rows, bar)
        conn.commit()
    return out


def make_templates(app: App, youths: list[Youth], today: dt.date, rnd: random.Random,
                   per_combo: int = 8) -> dict[tuple[int, int], list[tuple]]:
    """Real engine decisions (decide_stored on the stored facts) for sample youths of every
    purpose x consent state, for every recipient slot: (combo, slot) -> [(decision JSON text,
    outcome, purpose, items)]."""
    ruleset = loader.resolve(RULESET)
    samples = youths[: COMBOS * per_combo]
    out: dict[tuple[int, int], list[tuple]] = {}
    with app.transaction() as s:
        for y in tqdm(samples, desc="real decisions", unit="youth", mininterval=1):
            offered = disclosures.offered_categories(ruleset, y.purpose)
            for slot, to_org in enumerate(y.partners):
                cats = rnd.sample(offered, rnd.randint(1, min(3, len(offered))))
                day = today - dt.timedelta(days=rnd.randint(0, 30))
                _, decision, _ = disclosures.decide_stored(
                    unit(app, s, actor_of(s, y.creator_id), day), to_org_id=to_org,
                    categories=cats, day=day, case_id=y.case_id, meeting_id=y.meeting_id)
                items = []
                for item in decision["items"]:
                    allowed = item["outcome"] == "allow"
                    items.append((item["data"], item["outcome"],
                                  json.dumps(item["grounds"] if allowed else item["reasons"]),
                                  json.dumps(item["rules"]),
                                  content_for(item["data"]) if allowed else None))
                out.setdefault((y.combo, slot), []).append(
                    (json.dumps(decision), decision["outcome"], decision["purpose"], items))
        s.rollback()  # nothing to keep; decide_stored writes nothing anyway
    return out


def preload(url: str, reg: Registry, youths: list[Youth], templates, n_disclosures: int,
            today: dt.date, rnd: random.Random, chunk: int = 100_000) -> int:
    """~n/youths disclosures per youth (Poisson), interleaved over the last year, with items,
    copied from real decisions. Two connections stream disclosures and items side by side."""
    owners = [rnd.randrange(len(youths)) for _ in range(n_disclosures)]
    days = sorted(rnd.randrange(365) for _ in range(n_disclosures))
    n_items = 0
    with psycopg.connect(url) as c1, psycopg.connect(url) as c2, \
            c1.cursor() as cur1, c2.cursor() as cur2:
        for cur in (cur1, cur2):
            try:  # FK checks off for this bulk load only; rows are consistent by construction
                cur.execute("SET session_replication_role = replica")
            except psycopg.Error:
                cur.connection.rollback()
        d_next = reserve_ids(cur1, "disclosure", n_disclosures)
        i_next = reserve_ids(cur1, "disclosure_item", 4 * n_disclosures)
        c1.commit()
        created = now()
        with tqdm(total=n_disclosures, desc="disclosures (COPY)", unit="row",
                  mininterval=1) as bar:
            for lo in range(0, n_disclosures, chunk):
                hi = min(lo + chunk, n_disclosures)
                with cur1.copy(f"COPY disclosure (id, {', '.join(DISCLOSURE_COLS)}) "
                               "FROM STDIN") as cp1, \
                        cur2.copy(f"COPY disclosure_item (id, disclosure_id, "
                                  f"{', '.join(ITEM_COLS)}) FROM STDIN") as cp2:
                    for k in range(lo, hi):
                        y = youths[owners[k]]
                        slot = rnd.randrange(len(PARTNERS))
                        decision, outcome, purpose, items = rnd.choice(templates[y.combo, slot])
                        cp1.write_row((d_next, reg.region_id, y.id, y.case_id, y.meeting_id,
                                       y.school_id, y.partners[slot], y.creator_id, None,
                                       purpose, "minute", outcome, decision, reg.version_id,
                                       reg.digest, today - dt.timedelta(days=365 - days[k]),
                                       created))
                        for item in items:
                            cp2.write_row((i_next, d_next, *item))
                            i_next += 1
                            n_items += 1
                        d_next += 1
                        if k % 1000 == 999:
                            bar.update(1000)
                c1.commit()
                c2.commit()
            bar.update(n_disclosures - bar.n)
    return n_items


def ensure_log_regions(app: App) -> dict[str, int]:
    """The raw-INSERT region (phase B) and the log_head rows of both regions, if missing (the
    migration makes none; audit.log would make the bench region's lazily). {code: id}."""
    with app.transaction() as s:
        if s.scalars(select(orm.Region).where(orm.Region.code == REGION_B)).first() is None:
            registry.create_region(unit(app, s), REGION_B,
                                   "Benchmark, ruwe INSERTs (synthetisch)")
        ids = dict(s.execute(select(orm.Region.code, orm.Region.id)
                             .where(orm.Region.code.in_((REGION, REGION_B)))).all())
        for region_id in ids.values():
            s.execute(pg_insert(orm.LogHead).values(region_id=region_id, size=0, frontier=b"")
                      .on_conflict_do_nothing(index_elements=["region_id"]))
    return ids


def setup(args, today: dt.date) -> dict:
    timings = Timings()
    with timings.step("create database"):
        created = ensure_database(args.url, args.fresh)
    engine = db.make_engine(args.url)
    with timings.step("migrate"):
        db.upgrade(engine)
    engine.dispose()
    app = bench_app(args.url)
    with app.transaction() as s:
        region = s.scalars(select(orm.Region).where(orm.Region.code == REGION)).first()
        if region is not None:
            have_youths = s.scalar(select(func.count()).select_from(orm.Youth)
                                   .where(orm.Youth.region_id == region.id))
            have = disclosures.count(s)
    if region is not None:
        if have_youths != args.youths or have < args.disclosures:
            raise SystemExit(f"{args.url} holds {have_youths:,} youths and {have:,} "
                             f"disclosures, not {args.youths:,} / >= {args.disclosures:,}: "
                             "run with --fresh")
        ensure_log_regions(app)
        app.engine.dispose()
        return {"reused": True, "created_db": created, "steps": timings.steps}
    rnd = random.Random(args.seed)
    with timings.step("registry (services)"):
        reg = build_registry(app, today, rnd)
        ensure_log_regions(app)
    with timings.step("youths, cases, consent (encrypt + COPY)"):
        youths = build_youths(app, args.url, reg, args.youths, today, rnd)
    with timings.step("real decisions (decide_stored)"):
        templates = make_templates(app, youths, today, rnd)
    with timings.step("preload disclosures + items (COPY)"):
        n_items = preload(args.url, reg, youths, templates, args.disclosures, today, rnd)
    with timings.step("VACUUM ANALYZE"), psycopg.connect(args.url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    app.engine.dispose()
    return {"reused": False, "created_db": created, "steps": timings.steps,
            "templates": sum(len(v) for v in templates.values()), "preload_items": n_items}


# --- work -----------------------------------------------------------------------------------


def load_cases(url: str, region_code: str) -> list[tuple]:
    """(case id, meeting id, creator id, model purpose, recipients, the creator's
    organisation id, region id) per case about a youth."""
    sql = """
        SELECT c.id, min(m.id), c.created_by_id, c.purpose,
               array_agg(DISTINCT p.organisation_id) FILTER (WHERE p.organisation_id <> pr.organisation_id),
               pr.organisation_id, r.id
        FROM casus c
        JOIN region r ON r.id = c.region_id AND r.code = %s
        JOIN professional pr ON pr.id = c.created_by_id
        JOIN meeting m ON m.case_id = c.id
        JOIN case_participant p ON p.case_id = c.id
        WHERE c.youth_id IS NOT NULL
        GROUP BY c.id, pr.organisation_id, r.id
        ORDER BY c.id"""  # noqa: E501
    with psycopg.connect(url) as conn:
        return conn.execute(sql, (region_code,)).fetchall()


def make_work(cases: list[tuple], n: int, rnd: random.Random, today: dt.date) -> list[dict]:
    ruleset = loader.resolve(RULESET)
    offered = {}
    work = []
    for _ in range(n):
        case_id, meeting_id, creator, purpose, recipients, org_id, region_id = rnd.choice(cases)
        if purpose not in offered:
            offered[purpose] = disclosures.offered_categories(ruleset, purpose)
        cats = rnd.sample(offered[purpose], rnd.randint(1, min(3, len(offered[purpose]))))
        # the actor as the web app keeps it (ids, no row): record() loads no professional
        actor = Actor(PROFESSIONAL, professional_id=creator, organisation_id=org_id,
                      region_id=region_id)
        work.append({"actor": actor, "to_org_id": rnd.choice(recipients),
                     "contents": {c: content_for(c) for c in cats}, "day": today,
                     "kind": "minute", "case_id": case_id, "meeting_id": meeting_id})
    return work


def record(app: App, s, w: dict):
    """disclosures.record of one work item (make_work), by its actor, on its day."""
    args = dict(w)
    return disclosures.record(unit(app, s, args.pop("actor"), w["day"]), **args)


# --- phase A: the service -------------------------------------------------------------------


LOG_FORMAT_ENV = "BENCH_LOG_FORMAT"


def service_client(url: str, warmup: list[dict], work: list[dict], profile: str | None,
                   barrier, results) -> None:
    # --log-format 1: bodies as before format 2 (an A/B of the record path; see main)
    audit.COMPACT = os.environ.get(LOG_FORMAT_ENV, "2") != "1"
    try:
        app = bench_app(url)  # its own engine, pool and ruleset cache
        for w in warmup:
            with app.transaction() as s:
                record(app, s, w)
    except BaseException as exc:
        barrier.abort()
        results.put({"fatal": f"{type(exc).__name__}: {exc}"})
        raise
    barrier.wait()
    errors: list[str] = []
    prof = cProfile.Profile() if profile else None
    lat, ids = [], []
    if prof:
        prof.enable()
    t0, c0 = time.monotonic(), time.process_time()
    for w in work:
        t = time.perf_counter()
        try:
            with app.transaction() as s:
                row = record(app, s, w)
            ids.append(row.id)
        except Exception as exc:  # counted and reported, never hidden
            errors.append(f"{type(exc).__name__}: {exc}")
        lat.append(time.perf_counter() - t)
    t1, c1 = time.monotonic(), time.process_time()
    if prof:
        prof.disable()
        prof.dump_stats(profile)
    app.engine.dispose()
    results.put({"t0": t0, "t1": t1, "cpu": c1 - c0, "lat": lat, "ids": ids,
                 "errors": errors})


# --- phase B: plain INSERTs -----------------------------------------------------------------


# The leanest way to write the same rows in one transaction each, with the log's ordering
# lock: two statements. The first takes the region's log head (locked until the commit) and
# reserves the disclosure's id; the second writes the disclosure, its items, the log entry
# and the head's new frontier (data-modifying CTEs).
BUMP_HEAD = ("UPDATE log_head SET size = size + 1 WHERE region_id = %s "
             "RETURNING size, frontier, nextval(pg_get_serial_sequence('disclosure', 'id'))")


def write_all(n_items: int) -> str:
    items = ", ".join(["(%s" + ", %s" * len(B_ITEM_COLS) + ")"] * n_items)
    return (f"WITH d AS (INSERT INTO disclosure (id, {', '.join(DISCLOSURE_COLS)}) VALUES "
            f"(%s, {', '.join(['%s'] * len(DISCLOSURE_COLS))})), "
            f"i AS (INSERT INTO disclosure_item (disclosure_id, {', '.join(B_ITEM_COLS)}) "
            f"VALUES {items}), "
            f"e AS (INSERT INTO log_entry (region_id, seq, actie_id, {', '.join(LOG_COLS)}, "
            f"pruned_at) VALUES (%s, %s, %s, {', '.join(['%s'] * len(LOG_COLS))}, NULL)) "
            "UPDATE log_head SET frontier = %s WHERE region_id = %s")


WRITE_ALL = {n: write_all(n) for n in range(1, len(codes.CATEGORIES) + 1)}
INSERT_CHECKPOINT = ("INSERT INTO log_checkpoint (region_id, size, root, note, created_at) "
                     "VALUES (%s, %s, %s, %s, %s)")


def raw_client(url: str, region_b: int, rows: list[tuple], checkpoint: tuple | None,
               barrier, results) -> None:
    """rows: (disclosure values, [item values], log entry values, actie_id), one transaction
    per disclosure: BUMP_HEAD, then WRITE_ALL (and at every multiple of CHECKPOINT_EVERY a
    checkpoint row), then COMMIT."""
    errors: list[str] = []
    lat, ids = [], []
    try:
        conn = psycopg.connect(url)
    except BaseException as exc:
        barrier.abort()
        results.put({"fatal": f"{type(exc).__name__}: {exc}"})
        raise
    every = audit.CHECKPOINT_EVERY
    with conn, conn.cursor() as cur:
        barrier.wait()
        t0, c0 = time.monotonic(), time.process_time()
        for values, items, entry, actie_id in rows:
            t = time.perf_counter()
            try:
                size, blob, did = cur.execute(BUMP_HEAD, (region_b,)).fetchone()
                seq = size - 1
                frontier = merkle.Frontier.from_bytes(seq, blob)
                frontier.append(entry[4])  # the leaf hash
                cur.execute(WRITE_ALL[len(items)], [
                    did, *values, *(v for item in items for v in (did, *item)),
                    region_b, seq, actie_id, *entry, frontier.to_bytes(), region_b])
                if checkpoint is not None and size % every == 0:
                    cur.execute(INSERT_CHECKPOINT, (region_b, size, *checkpoint, now()))
                conn.commit()
                ids.append(did)
            except psycopg.Error as exc:
                conn.rollback()
                errors.append(f"{type(exc).__name__}: {exc}")
            lat.append(time.perf_counter() - t)
        t1, c1 = time.monotonic(), time.process_time()
    results.put({"t0": t0, "t1": t1, "cpu": c1 - c0, "lat": lat, "ids": ids,
                 "errors": errors})


def head_size(url: str, region_id: int) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT size FROM log_head WHERE region_id = %s",
                           (region_id,)).fetchone()
    return row[0] if row else 0


def read_rows(url: str, ids: list[int], region_id: int, seq_from: int
              ) -> tuple[list[tuple], tuple | None]:
    """The rows phase A wrote: every column of the disclosure but the id, its items in their
    order, its log entry (the columns LOG_COLS) and a new actie_id; and (root, note) of one of
    the checkpoints A signed, or None."""
    cols = ", ".join("decision::text" if c == "decision" else c for c in DISCLOSURE_COLS)
    icols = ", ".join(f"{c}::text" if c in ("codes", "rules") else c for c in B_ITEM_COLS)
    with psycopg.connect(url) as conn:
        rows = {r[0]: r[1:] for r in conn.execute(
            f"SELECT id, {cols} FROM disclosure WHERE id = ANY(%s)", (ids,))}
        items: dict[int, list[tuple]] = {}
        for r in conn.execute(f"SELECT disclosure_id, {icols} FROM disclosure_item "
                              "WHERE disclosure_id = ANY(%s) ORDER BY id", (ids,)):
            items.setdefault(r[0], []).append(r[1:])
        entries: dict[int, tuple] = {}
        for r in conn.execute(f"SELECT {', '.join(LOG_COLS)} FROM log_entry "
                              "WHERE region_id = %s AND seq >= %s ORDER BY seq",
                              (region_id, seq_from)):
            # LOG_COLS: subject, activity_id, registered_at, body (format 2: log_format)
            entries[log_format.expand(r[3], r[0], r[1], r[2])["verstrekking"]] = r
        cp = conn.execute("SELECT root, note FROM log_checkpoint WHERE region_id = %s "
                          "ORDER BY size DESC LIMIT 1", (region_id,)).fetchone()
    missing = [i for i in ids if i not in entries]
    if missing:
        raise SystemExit(f"{len(missing)} disclosures of phase A have no log entry "
                         f"(first: {missing[0]})")
    return [(rows[i], items.get(i, []), entries[i], str(uuid.uuid4())) for i in ids], cp


def delete_rows(url: str, ids: list[int], region_b: int) -> None:
    """Remove phase B's rows: its disclosures and items, and the log of the bench-raw region
    (the append-only triggers bypassed for this transaction only, as a superuser can), whose
    head goes back to the empty log."""
    with psycopg.connect(url) as conn:
        conn.execute("SET LOCAL session_replication_role = replica")
        conn.execute("DELETE FROM disclosure_item WHERE disclosure_id = ANY(%s)", (ids,))
        conn.execute("DELETE FROM disclosure WHERE id = ANY(%s)", (ids,))
        conn.execute("DELETE FROM log_checkpoint WHERE region_id = %s", (region_b,))
        conn.execute("DELETE FROM log_entry WHERE region_id = %s", (region_b,))
        conn.execute("UPDATE log_head SET size = 0, frontier = ''::bytea WHERE region_id = %s",
                     (region_b,))


# --- running clients ------------------------------------------------------------------------


@dataclass
class Run:
    label: str
    n: int
    seconds: float
    lat: list[float]
    ids: list[int]
    errors: list[str]
    cpu: float  # seconds of CPU the client processes used in the timed loop
    machine: float  # seconds of CPU the whole machine used meanwhile (/proc/stat; all users)

    @property
    def rate(self) -> float:
        return self.n / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        return percentile(self.lat, q) * 1000


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def run_clients(label: str, target, per_client: list[tuple]) -> Run:
    ctx = mp.get_context("spawn")  # a fresh interpreter per client: nothing shared
    barrier = ctx.Barrier(len(per_client) + 1)
    results = ctx.Queue()
    procs = [ctx.Process(target=target, args=(*args, barrier, results), daemon=True)
             for args in per_client]
    for p in procs:
        p.start()
    try:
        barrier.wait(timeout=900)
        busy0 = machine_cpu()
    except Exception:
        fatal = []
        with contextlib.suppress(queue.Empty):
            while True:
                fatal.append(results.get(timeout=5).get("fatal"))
        fatal = [f for f in fatal if f]
        for p in procs:
            p.kill()
        raise SystemExit(f"{label}: a client failed before the start: "
                         f"{fatal[0] if fatal else 'see above'}") from None
    got = []
    with tqdm(total=len(procs), desc=label, unit="client", mininterval=1) as bar:
        for _ in procs:
            got.append(results.get(timeout=3600))
            bar.update(1)
    busy = machine_cpu() - busy0
    for p in procs:
        p.join()
    t0, t1 = min(r["t0"] for r in got), max(r["t1"] for r in got)
    lat = [x for r in got for x in r["lat"]]
    ids = [x for r in got for x in r["ids"]]
    errors = [x for r in got for x in r["errors"]]
    return Run(label, len(ids), t1 - t0, lat, ids, errors, sum(r["cpu"] for r in got), busy)


def machine_cpu() -> float:
    """CPU seconds the machine has been busy (user, nice, system, irq, softirq, steal)."""
    with open("/proc/stat") as fh:
        fields = [int(x) for x in fh.readline().split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def service_args(url, warmup, work, clients, profile) -> list[tuple]:
    return [(url, warmup[i::clients], work[i::clients],
             profile if (profile and i == 0) else None) for i in range(clients)]


# --- phase C: listing -----------------------------------------------------------------------


def statements(app: App, fn) -> list[tuple[str, object]]:
    """The SQL statements (with parameters) fn sends to the database, as psycopg executes them
    (through SQLAlchemy or straight on the driver, storage/fast.py; BEGIN and COMMIT not,
    psycopg sends those as commands of its own; the pool sends nothing when it hands out a
    connection, storage.db.idle_connection_alive)."""
    seen: list[tuple[str, object]] = []
    original = psycopg.Cursor.execute

    def execute(self, query, params=None, **kwargs):
        text_ = query.decode() if isinstance(query, bytes) else str(query)
        seen.append((text_, params))
        return original(self, query, params, **kwargs)

    psycopg.Cursor.execute = execute
    try:
        fn()
    finally:
        psycopg.Cursor.execute = original
    return seen


def explain(app: App, stmt: str, params) -> list[str]:
    with app.engine.connect() as conn:
        rows = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {stmt}", params).all()
    return [r[0] for r in rows]


def listing(url: str, youth_ids: list[int]) -> tuple[list[float], list[int]]:
    app = bench_app(url)
    for yid in youth_ids[:10]:  # warm the pool and the compiled-statement cache
        with app.transaction() as s:
            disclosures.list_for_youth(unit(app, s), yid)
    lat, counts = [], []
    for yid in youth_ids:
        t = time.perf_counter()
        with app.transaction() as s:
            rows = disclosures.list_for_youth(unit(app, s), yid)
        lat.append(time.perf_counter() - t)
        counts.append(len(rows))
    app.engine.dispose()
    return lat, counts


# --- report ---------------------------------------------------------------------------------


def met(ok: bool) -> str:
    return "MET" if ok else "NOT MET"


def plan_summary(lines: list[str]) -> list[str]:
    keep = [ln.strip() for ln in lines
            if any(k in ln for k in ("Scan", "Sort", "Limit", "Execution Time"))]
    return keep or [ln.strip() for ln in lines[:3]]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", default=DEFAULT_URL, help=f"PostgreSQL URL (default {DEFAULT_URL})")
    ap.add_argument("--fresh", action="store_true", help="drop and recreate the database")
    ap.add_argument("--youths", type=int, default=100_000)
    ap.add_argument("--disclosures", type=int, default=1_000_000,
                    help="disclosures preloaded before the timed phases")
    ap.add_argument("--clients", type=int, default=8, help="concurrent client processes")
    ap.add_argument("--measure", type=int, default=20_000,
                    help="disclosures recorded through the service in phase A")
    ap.add_argument("--listings", type=int, default=1_000, help="youth listings in phase C")
    ap.add_argument("--rounds", type=int, default=1,
                    help="phases A and B as this many pairs, A then at once B of the same "
                         "rows, each with --measure disclosures; the ratio is the median of "
                         "the rounds' ratios (every round is printed): on a shared machine "
                         "both arms of a round see the same conditions")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--session-sync-commit", choices=("on", "off"), default=None,
                    help="information only: run the clients of A and B with this "
                         "synchronous_commit (a per-session setting sent when they connect; "
                         "the server's setting is not changed)")
    ap.add_argument("--profile", metavar="FILE",
                    help="cProfile client 0 of phase A into FILE and print its top functions")
    ap.add_argument("--log-format", choices=("1", "2"), default="2",
                    help="information only: the log bodies A writes (2: compact, as the "
                         "service writes them; 1: the full canonical JSON of before)")
    args = ap.parse_args(argv)
    os.environ[LOG_FORMAT_ENV] = args.log_format  # the spawned clients of A read it
    if not args.url.startswith("postgresql://"):
        ap.error("--url must be a postgresql:// URL")
    if args.rounds < 1:
        ap.error("--rounds must be 1 or more")
    today = dt.date.today()
    started = time.perf_counter()

    setup_info = setup(args, today)
    setup_s = sum(setup_info["steps"].values())
    app = bench_app(args.url)
    region_ids = ensure_log_regions(app)
    delete_rows(args.url, [], region_ids[REGION_B])  # what an interrupted run left behind

    rnd = random.Random(f"work {args.seed}")  # --seed picks other youths and categories
    cases = load_cases(args.url, REGION)
    if not cases:
        raise SystemExit("no cases about youths in the bench region")
    warmup = make_work(cases, WARMUP * args.clients, rnd, today)
    works = [make_work(cases, args.measure, rnd, today) for _ in range(args.rounds)]

    # SQL statements one record sends (not timed): a diagnostic for the report
    probe = make_work(cases, 1, rnd, today)[0]

    def one_record():
        with app.transaction() as s:
            record(app, s, probe)

    one_record()  # warm caches so the count is that of a steady-state record
    record_sql = statements(app, one_record)

    client_url = with_session_setting(args.url, args.session_sync_commit)
    load_before = os.getloadavg()
    rounds: list[tuple[Run, Run, int, float]] = []
    for k, work in enumerate(works):
        seq_from = head_size(args.url, region_ids[REGION])
        # phase A (every round's clients are new processes: each warms up first, untimed)
        run_a = run_clients(f"A service ({k + 1}/{args.rounds})", service_client,
                            service_args(client_url, warmup, work,
                                         args.clients, args.profile if k == 0 else None))
        # phase B: the same rows, plain INSERTs, at once after A
        rows, cp_template = read_rows(args.url, run_a.ids, region_ids[REGION], seq_from)
        run_b = run_clients(f"B raw INSERT ({k + 1}/{args.rounds})", raw_client,
                            [(client_url, region_ids[REGION_B], rows[i::args.clients],
                              cp_template) for i in range(args.clients)])
        delete_rows(args.url, run_b.ids, region_ids[REGION_B])
        rounds.append((run_a, run_b, sum(len(r[1]) for r in rows), os.getloadavg()[0]))
    ratios = [a.rate / b.rate if b.rate else float("nan") for a, b, _, _ in rounds]
    # the round whose ratio is the median (the lower middle one for an even count) is the
    # one printed in full; every round's figures are listed below it
    middle = sorted(range(len(rounds)), key=ratios.__getitem__)[(len(rounds) - 1) // 2]
    run_a, run_b, n_items_a, _ = rounds[middle]
    all_a_ids = [i for a, _, _, _ in rounds for i in a.ids]
    all_errors = [e for a, b, _, _ in rounds for e in a.errors + b.errors]

    # phase C
    with app.transaction() as s:
        region_id = s.scalar(select(orm.Region.id).where(orm.Region.code == REGION))
        youth_ids = s.scalars(select(orm.Youth.id).where(orm.Youth.region_id == region_id)).all()
        n_disc = disclosures.count(s)
        n_items = s.scalar(select(func.count()).select_from(orm.DisclosureItem))
    sample = [rnd.choice(youth_ids) for _ in range(args.listings)]
    list_lat, list_counts = listing(args.url, sample)
    probe_youth = sample[0]

    def one_listing():
        with app.transaction() as s:
            disclosures.list_for_youth(unit(app, s), probe_youth)

    list_sql = statements(app, one_listing)
    plans = []
    distinct = {}
    for stmt, params in list_sql:
        distinct.setdefault(stmt, params)
    for stmt, params in distinct.items():
        if stmt.lstrip().upper().startswith("SELECT") and "FROM disclosure" in stmt:
            plans.append((stmt, explain(app, stmt, params)))
    load_after = os.getloadavg()
    with app.engine.connect() as conn:
        server = conn.exec_driver_sql("SHOW server_version").scalar()
        sync = conn.exec_driver_sql("SHOW synchronous_commit").scalar()
    # the bench region's log: every leaf, MAC and checkpoint, and the head (not timed)
    t_verify = time.perf_counter()
    with app.transaction() as s:
        report = verify.verify(s, app.keys, REGION)
    t_verify = time.perf_counter() - t_verify
    app.engine.dispose()

    # report
    list_ms = [x * 1000 for x in list_lat]
    p50_list, p99_list = percentile(list_ms, 50), percentile(list_ms, 99)
    ratio = statistics.median(ratios)
    print()
    print(f"Deelwijs disclosures benchmark, {dt.datetime.now().isoformat(timespec='seconds')}")
    if args.session_sync_commit:
        sync += (f"; clients of A and B: synchronous_commit={args.session_sync_commit} per "
                 "session (information only)")
    print(f"  PostgreSQL {server} (synchronous_commit={sync}), Python "
          f"{platform.python_version()}, {os.cpu_count()} CPUs, {platform.machine()}")
    print(f"  data: {args.youths:,} youths, {n_disc:,} disclosures ({n_items:,} items) stored "
          f"after the run; size asked: --youths {args.youths:,} --disclosures "
          f"{args.disclosures:,}")
    if setup_info["reused"]:
        print(f"  setup: reused the existing bench database ({setup_s:.1f}s to check/migrate)")
    else:
        print(f"  setup (not a headline figure): {setup_s:.1f}s; "
              f"{setup_info['templates']:,} real decisions as templates, "
              f"{setup_info['preload_items']:,} preloaded items")
        for name, sec in setup_info["steps"].items():
            print(f"    {name:<44} {sec:8.1f}s")
    print(f"  load average before the timed phases {load_before[0]:.2f} (1 min), after "
          f"{load_after[0]:.2f}: other work on this machine competes for the CPUs if it is "
          "well above what this run itself adds")
    print(f"  one record sends {len(record_sql)} SQL statements "
          "(BEGIN and COMMIT not; the pool sends none of its own)")
    print()
    if len(rounds) > 1:
        print(f"  {len(rounds)} rounds of A then B (the same rows); round {middle + 1}, the "
              "median one, in full:")
    print(f"  A record via services.disclosures.record, {args.clients} processes, one "
          f"transaction each ({run_a.n:,} disclosures, {n_items_a:,} items; log bodies in "
          f"format {args.log_format}):")
    print(f"    {run_a.rate:10,.0f} disclosures/s   p50 {run_a.pct(50):6.1f} ms   "
          f"p99 {run_a.pct(99):6.1f} ms   target >= {TARGET_RATE:,}/s: "
          f"{met(run_a.rate >= TARGET_RATE)}")
    print(f"    client CPU {run_a.cpu / max(run_a.n, 1) * 1000:.2f} ms per disclosure (Python, "
          "summed over the client processes; PostgreSQL's own CPU not included)")
    print(f"    machine CPU {run_a.machine / max(run_a.n, 1) * 1000:.2f} ms per disclosure, "
          f"{run_a.machine / run_a.seconds / (os.cpu_count() or 1):.0%} of "
          f"{os.cpu_count()} CPUs busy (clients + PostgreSQL + anything else running)")
    print(f"  B raw PostgreSQL INSERT of the same rows (disclosure, items, log entry + log_head "
          f"lock and update), {args.clients} processes, plain psycopg, one transaction each:")
    print(f"    {run_b.rate:10,.0f} disclosures/s   p50 {run_b.pct(50):6.1f} ms   "
          f"p99 {run_b.pct(99):6.1f} ms   client CPU "
          f"{run_b.cpu / max(run_b.n, 1) * 1000:.2f} ms per disclosure")
    print(f"    machine CPU {run_b.machine / max(run_b.n, 1) * 1000:.2f} ms per disclosure, "
          f"{run_b.machine / run_b.seconds / (os.cpu_count() or 1):.0%} of "
          f"{os.cpu_count()} CPUs busy")
    cpus = os.cpu_count() or 1
    a_cpu = run_a.machine / max(run_a.n, 1)
    print(f"    A takes at least its machine CPU per disclosure / {cpus} CPUs, so A / B <= "
          f"{cpus / a_cpu / run_b.rate:.3f} with this much CPU; {TARGET_FLOOR_RATIO} needs A "
          f"within {cpus / (TARGET_FLOOR_RATIO * run_b.rate) * 1000:.2f} ms of machine CPU "
          "per disclosure")
    if len(rounds) > 1:
        for k, (a, b, _, load) in enumerate(rounds):
            print(f"    round {k + 1}: A {a.rate:,.0f}/s (client CPU "
                  f"{a.cpu / max(a.n, 1) * 1000:.2f} ms), B {b.rate:,.0f}/s (client CPU "
                  f"{b.cpu / max(b.n, 1) * 1000:.2f} ms), A / B = {ratios[k]:.3f}; load "
                  f"after {load:.2f}")
        print(f"    service / raw INSERT, median of {len(rounds)} rounds = {ratio:.3f} "
              f"(target >= {TARGET_FLOOR_RATIO}: {met(ratio >= TARGET_FLOOR_RATIO)})")
    else:
        print(f"    service / raw INSERT = {ratio:.3f} ({ratio:.1%} of the limit the "
              f"database sets here; target >= {TARGET_FLOOR_RATIO}: "
              f"{met(ratio >= TARGET_FLOOR_RATIO)})")
    print(f"  C list_for_youth, one client, {len(list_ms):,} random youths "
          f"(mean {statistics.fmean(list_counts):.1f} disclosures, max {max(list_counts)}):")
    print(f"    p50 {p50_list:6.2f} ms   p99 {p99_list:6.2f} ms   max {max(list_ms):6.2f} ms   "
          f"target <= {TARGET_LIST_MS:.0f} ms: {met(p99_list <= TARGET_LIST_MS)} (p99)")
    print(f"    one listing sends {len(list_sql)} SQL statements "
          f"({len(distinct)} distinct) for a youth with {list_counts[0]} disclosures")
    for stmt, lines in plans:
        head = " ".join(stmt.split())[:90]
        print(f"    EXPLAIN {head}...")
        for ln in plan_summary(lines):
            print(f"      {ln}")
    summary = report.regions.get(REGION, {})
    # the preloaded consent versions and disclosures were written with COPY, without log
    # entries (see setup), so verify's row reconciliation names each of them: expected, and
    # counted apart; any other problem, or one about a row recorded in this run, fails
    recorded = {f"disclosure {i}" for i in all_a_ids}
    preloaded = [p for p in report.problems
                 if p.kind == "row_unlogged" and p.row not in recorded]
    problems = [p for p in report.problems if p not in preloaded]
    verified = not problems and bool(summary)
    print(f"  processing log of region {REGION!r}: "
          f"{'VERIFIES' if verified else 'DOES NOT VERIFY'} "
          f"({summary.get('regels', 0):,} entries, {summary.get('checkpoints', 0)} "
          f"checkpoints, rows bound {summary.get('gebonden')}, "
          f"deelwijs.services.log.verify.verify in {t_verify:.1f}s); {len(preloaded):,} rows "
          "preloaded without entries named as such (rij zonder logregel, by design)")
    for problem in problems[:5]:
        print(f"    {problem.line()}")
    errors = all_errors
    if errors:
        print(f"  ERRORS: {len(errors)} in A and B; first: {errors[0]}")
    if args.profile:
        print()
        print(f"  cProfile of phase A client 0 ({args.profile}), top 25 by cumulative time:")
        pstats.Stats(args.profile, stream=sys.stdout).sort_stats("cumulative").print_stats(25)
    print(f"  total wall time {time.perf_counter() - started:.0f}s")
    return 1 if errors or not verified else 0


if __name__ == "__main__":
    sys.exit(main())
