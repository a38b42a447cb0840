"""The application context the CLI, the web app and the API share.

It holds no state another instance would need: everything lives in the database; what is
cached here (compiled rulesets by digest, and whether each passes today's checks) is derived
from it and the same everywhere.

A stored ruleset version is the effective document a region activated, possibly under an
older Deelwijs whose loader let more through (contract 1.1, "Ruleset files"), or written into
the database by someone who bypassed the loader. Old decisions keep reading the version they
were made under (`ruleset_of`), but a new disclosure is decided only under a version that
passes today's checks (`ruleset_to_decide`, `stored_ruleset_problems`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, defer, sessionmaker

from deelwijs import settings as settings_mod
from deelwijs.crypto import Keyring, keyring_for
from deelwijs.domain.ruleset import Ruleset
from deelwijs.rules import loader, show
from deelwijs.services import rulesets
from deelwijs.services.errors import Refused
from deelwijs.storage import db, orm

# The parts of the model a region may not change: a stored document that has them otherwise
# hands them to the loader, which names the problem.
_MODEL_SECTIONS = loader.LEGAL_SECTIONS


def _region_part(doc: dict, model: Ruleset) -> dict:
    """The regional file a stored effective document would have come from: the keys a region
    may hand in (identity, overleg names, categories per purpose, covenant membership,
    conditions, the regional retention term, the region's own rules, signatories), and every
    other part of the model the document has otherwise (so that the loader refuses it by
    name). What cannot be expressed as a regional file shows in the comparison after."""
    base = model.document
    region = {k: doc[k] for k in ("format", "id", "version", "title", "source", "extends")
              if k in doc}
    for section in _MODEL_SECTIONS:
        if section in doc and loader.digest_of({"v": doc[section]}) != loader.digest_of(
                {"v": base.get(section)}):
            region[section] = doc[section]
    purposes = {}
    for code, body in (doc.get("purposes") or {}).items():
        known = base["purposes"].get(code)
        if known is None:
            purposes[code] = body
            continue
        given = {k: body[k] for k in ("label", "article") if k in body and body[k] != known.get(k)}
        if (known["route"] != "legal" and "categories" in body
                and sorted(body["categories"]) != sorted(known.get("categories", []))):
            given["categories"] = body["categories"]
        if given:
            purposes[code] = given
    parties = {}
    for code, body in (doc.get("parties") or {}).items():
        known = base["parties"].get(code, {})
        given = {k: v for k, v in body.items() if known.get(k, "de" if k == "article" else None)
                 != v}
        if given:
            parties[code] = given
    retention = {}
    for record, body in (doc.get("retention") or {}).items():
        known = base["retention"].get(record)
        if body == known:
            continue
        if (known and known.get("regional") and isinstance(body, dict)
                and {k: v for k, v in body.items() if k != "years"}
                == {k: v for k, v in known.items() if k != "years"}):
            retention[record] = {"years": body.get("years")}
        else:
            retention[record] = body
    rules = doc.get("rules") or {}
    conditions = []
    for cond in doc.get("conditions") or []:
        entry = {k: cond[k] for k in ("id", "purposes", "require") if k in cond}
        if cond.get("categories") is not None:
            entry["categories"] = cond["categories"]
        entry.update({k: v for k, v in (rules.get(cond.get("id")) or {}).items()
                      if k in ("title", "citations", "explanation")})
        conditions.append(entry)
    condition_ids = {c.get("id") for c in conditions}
    own = {rid: rules[rid] for rid, origin in (doc.get("rule_origins") or {}).items()
           if origin == doc.get("id") and rid in rules and rid not in condition_ids}
    for key, value in (("purposes", purposes), ("parties", parties), ("retention", retention),
                       ("overleg_types", doc.get("overleg_types")), ("conditions", conditions),
                       ("rules", own)):
        if value:
            region[key] = value
    if "signatories" in doc:
        region["signatories"] = doc["signatories"]
    return region


def stored_ruleset_problems(stored: Ruleset) -> list[str]:
    """Why a stored ruleset version (compiled by loader.from_document) may not decide anything
    new today, in Dutch, one line each; [] when it may.

    Only the built-in model of this Deelwijs stands alone: a document without `extends` must
    be it, digest for digest (an older model version was legally wrong: contract 1.1). A
    regional document is rebuilt into the file it came from and checked by the loader as any
    file is, and it must compile to exactly what the loader makes of that file today (else it
    was merged onto an older model, or changed after the loader). Every widening of today's
    model is named too. A pure function of the document and this Deelwijs."""
    model = loader.model()
    doc = stored.document
    changes = show.diff(model, stored)
    widenings = [f"verruimt het model: {c['text']}" for c in changes
                 if c["effect"] == show.VERRUIMING]
    label = f"opgeslagen ruleset {stored.id} {stored.version}"
    if not doc.get("extends"):
        if stored.digest == model.digest:
            return []
        older = (" Het is een oudere of gewijzigde versie van het model; die regels zijn "
                 "juridisch onjuist gebleken (beslissingscontract 1.1)."
                 if stored.id == loader.MODEL_ID else "")
        others = len(changes) - len(widenings)
        return [f"{label}: [not_a_region] staat op zichzelf (zonder extends) maar is niet het "
                f"ingebouwde model van deze Deelwijs ({model.id} {model.version}, "
                f"{model.digest}).{older}", *widenings,
                *([f"en {others} andere verschil(len) met het model"] if others else [])]
    try:
        region = _region_part(doc, model)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        return [f"{label}: [unreadable] het opgeslagen document heeft niet de vorm van een "
                f"ruleset ({type(exc).__name__}: {exc})", *widenings]
    try:
        rebuilt = loader.load_document(region, label)
    except loader.RulesetError as exc:
        return [*(str(p) for p in exc.problems), *widenings]
    drift = [f"{label}: wijkt af van wat Deelwijs nu van dezelfde regionale keuzes maakt "
             f"(samengevoegd met een ouder model, of na het laden gewijzigd): {c['text']}"
             for c in show.diff(rebuilt, stored)]
    return [*drift, *widenings]


def version_problems(compiled: Callable[[], Ruleset], digest: str) -> list[str]:
    """stored_ruleset_problems of a stored version whose digest column says `digest`, also
    when its document no longer compiles (`compiled()` raises RulesetError) or its digest is
    not that of its document."""
    try:
        ruleset = compiled()
    except loader.RulesetError as exc:
        return [str(p) for p in exc.problems]
    problems = stored_ruleset_problems(ruleset)
    if ruleset.digest != digest:
        problems.insert(0, f"de digest in de database ({digest}) is niet die van het "
                        f"opgeslagen document ({ruleset.digest})")
    return problems


@dataclass
class App:
    settings: settings_mod.Settings
    engine: Engine
    sessions: sessionmaker[Session]
    keys: Keyring
    _rulesets: dict[str, Ruleset] = field(default_factory=dict)
    # stored_ruleset_problems of a version, by its digest (pure: computed once per process)
    _verdicts: dict[str, list[str]] = field(default_factory=dict)

    def transaction(self):
        """One unit of work. Its session carries the keyring (as every session of this app
        does), so that every service writes the processing log entry of what it does in this
        same transaction."""
        return db.transaction(self.sessions)

    def ruleset(self, version: orm.RulesetVersion) -> Ruleset:
        """The compiled ruleset of a stored version row (rulesets.of_version, this app's
        cache)."""
        return rulesets.of_version(version, self._rulesets)

    def ruleset_of(self, session: Session, version_id: int, digest: str) -> Ruleset:
        """The compiled ruleset of a stored version known by id and digest (as a query that
        already joined the version returns them): its source text is read only when the
        compiled ruleset is not cached yet (rulesets.compiled, this app's cache)."""
        return rulesets.compiled(session, version_id, digest, self._rulesets)

    def ruleset_problems(self, session: Session, version_id: int, digest: str) -> list[str]:
        """stored_ruleset_problems of a stored version, also when it no longer compiles or
        its digest is not that of its document; cached by digest."""
        hit = self._verdicts.get(digest)
        if hit is None:
            hit = version_problems(lambda: self.ruleset_of(session, version_id, digest), digest)
            self._verdicts[digest] = hit
        return hit

    def ruleset_to_decide(self, session: Session, version_id: int, digest: str,
                          region_id: int) -> Ruleset:
        """ruleset_of, to decide something new under (a disclosure): refused with
        `ruleset_invalid` when the stored version fails today's checks. Reading decisions
        already made uses ruleset_of and is never refused."""
        problems = self.ruleset_problems(session, version_id, digest)
        if problems:
            raise self._invalid(session, region_id, version_id, problems)
        return self.ruleset_of(session, version_id, digest)

    @staticmethod
    def _invalid(session: Session, region_id: int, version_id: int, problems: list[str]
                 ) -> Refused:
        region = session.get(orm.Region, region_id)
        version = session.get(orm.RulesetVersion, version_id, options=[defer(
            orm.RulesetVersion.source)])
        code = region.code if region is not None else "REGIO"
        more = f" (en nog {len(problems) - 1})" if len(problems) > 1 else ""
        return Refused(
            "ruleset_invalid",
            f"de actieve ruleset van regio {code} ({version.ruleset_id} {version.version}, "
            f"{version.digest}) voldoet niet aan de controles van deze Deelwijs, dus wordt er "
            f"niets nieuws onder beslist: {problems[0]}{more}. Waarom: deelwijs region ruleset "
            f"check {code}. Vervangen: deelwijs region ruleset activate model-convenant "
            f"--region {code} (of een regionaal bestand dat deelwijs rules check goedkeurt). "
            "Eerdere besluiten blijven leesbaar onder hun eigen versie.", "ruleset")

    def check_active(self, session: Session, region_id: int, on: dt.date | None = None
                     ) -> tuple[orm.RulesetVersion, list[str]]:
        """The region's version in force on a day, with its problems ([]: it may decide)."""
        version = rulesets.active_version(session, region_id, on)
        return version, self.ruleset_problems(session, version.id, version.digest)

    def active_ruleset(self, session: Session, region_id: int,
                       on: dt.date | None = None) -> tuple[orm.RulesetVersion, Ruleset]:
        """The region's ruleset in force on a day (the newest activation on or before it:
        rulesets.active_version).

        One query; the version's source text (the whole ruleset document) is loaded only when
        the compiled ruleset is not cached yet."""
        version = rulesets.active_version(session, region_id, on)
        return version, self.ruleset(version)


def keyed_tables() -> list[str]:
    """The tables whose rows were written under the master key: the processing log (entry
    MACs, signed checkpoints), every table with a MAC column, and every table with a youth's
    wrapped key, a keyed BSN hash or data encrypted under a youth's key (which the master key
    wraps)."""
    out = []
    for table in orm.Base.metadata.sorted_tables:
        names = {c.name for c in table.columns}
        if (table.name in ("log_entry", "log_checkpoint") or names & {"key_wrapped", "bsn_hash"}
                or any(n.endswith(("_enc", "mac")) for n in names)):
            out.append(table.name)
    return out


def keyed_table(engine: Engine) -> str | None:
    """The first table holding a row written under a key (keyed_tables), or None: a new
    database, or one with only regions, organisations, professionals and rulesets. Reads
    only; a database without the schema yet holds nothing."""
    from sqlalchemy import func, inspect, table

    with engine.connect() as conn:
        present = set(inspect(conn).get_table_names())
        for name in keyed_tables():
            if name in present and conn.execute(
                    select(func.count()).select_from(select(1).select_from(table(name))
                                                     .limit(1).subquery())).scalar():
                return name
    return None


def open_app(config: settings_mod.Settings | None = None, migrate: bool | None = None) -> App:
    """Connect; migrate the embedded database, refuse an un-migrated production one.

    The keys come first: on the embedded database a master key is generated only for a
    database that holds nothing written under a key (crypto.keyring_for); one that does and
    has no key is refused before it is migrated or written to."""
    config = config or settings_mod.load()
    engine = db.make_engine(config.database_url)
    try:
        keys = keyring_for(config, holds_data=lambda: keyed_table(engine))
        if migrate is None:
            db.ensure_ready(engine, config.embedded)
        elif migrate:
            db.upgrade(engine)
    except BaseException:
        engine.dispose()
        raise
    return App(config, engine, db.session_factory(
        engine, {"deelwijs_keys": keys, "deelwijs_settings": config}), keys)
