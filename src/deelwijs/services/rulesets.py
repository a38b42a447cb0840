"""One way to find a ruleset: by built-in id, by file, or stored in the database by id or
digest; and one way to compile a stored version.

`find` is the lookup every entry point uses: `decide --ruleset`, `register export
--ruleset`, `rules show|diff` (through `find_configured`, outside a running application) and
activating a region's ruleset (registry.activate_ruleset). A built-in id or a file goes
through rules.loader (its checks, its problems); only a name that is neither is looked up
among the stored versions.

`compiled` turns a stored version (its id and digest, as a query that joined it returns them)
into a Ruleset, reading the version's source text only when the compiled ruleset is not
cached yet: App keeps a cache of its own (services/app.py); without one, a module cache by
digest is used (a stored document is pure: the same digest compiles to the same ruleset).
`active_version` and `in_force` find the version a region has in force on a day.

Whether a stored version may decide anything new today is App's question
(`App.ruleset_problems`, `App.ruleset_to_decide`, `app.version_problems`): this module only
finds and compiles.
"""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session, defer

from deelwijs.domain.ruleset import Ruleset
from deelwijs.rules import loader
from deelwijs.services.errors import NotFound
from deelwijs.storage import orm

# The newest activation's version, without the source text; built once, with bound
# parameters (this runs for every decision, and building a statement costs more Python than
# running the cached one).
_ACTIVE_VERSION = (
    select(orm.RulesetVersion)
    .join(orm.RulesetActivation,
          orm.RulesetActivation.ruleset_version_id == orm.RulesetVersion.id)
    .where(orm.RulesetActivation.region_id == bindparam("region_id"))
    .order_by(orm.RulesetActivation.activated_on.desc(), orm.RulesetActivation.id.desc())
    .options(defer(orm.RulesetVersion.source))
    .limit(1))
# ... in force on a day: the newest activation on or before it
_ACTIVE_VERSION_ON = _ACTIVE_VERSION.where(orm.RulesetActivation.activated_on <= bindparam("on"))
# the same, as id and digest only (no ORM object)
_IN_FORCE = (select(orm.RulesetVersion.id, orm.RulesetVersion.digest)
             .join(orm.RulesetActivation,
                   orm.RulesetActivation.ruleset_version_id == orm.RulesetVersion.id)
             .where(orm.RulesetActivation.region_id == bindparam("region_id"),
                    orm.RulesetActivation.activated_on <= bindparam("on"))
             .order_by(orm.RulesetActivation.activated_on.desc(),
                       orm.RulesetActivation.id.desc())
             .limit(1))
_SOURCE = select(orm.RulesetVersion.source).where(orm.RulesetVersion.id == bindparam("id"))
# the newest stored version with this digest or ruleset id
_STORED = (select(orm.RulesetVersion)
           .where(or_(orm.RulesetVersion.digest == bindparam("name"),
                      orm.RulesetVersion.ruleset_id == bindparam("name")))
           .order_by(orm.RulesetVersion.id.desc()).limit(1))

_CACHE_MAX = 64
_COMPILED: dict[str, Ruleset] = {}  # compiled stored versions, by digest (pure)


def find(name: str | None, session: Session | None = None) -> Ruleset | orm.RulesetVersion:
    """The ruleset `name` names: a built-in id (`model-convenant`, `voorbeeldregio`; none:
    the model) or a ruleset file, compiled and checked by rules.loader (a file's problems
    raise its RulesetError); else, with a session, the newest version stored in the database
    whose digest (sha256:…) or ruleset id is `name`: that row, not compiled (the caller
    decides whether it must pass today's checks first). Neither: the loader's RulesetError
    (`not_found`)."""
    try:
        return loader.resolve(name)
    except loader.RulesetError as exc:
        if exc.problems[0].code != "not_found" or session is None or not name:
            raise
        stored = session.scalars(_STORED, {"name": name}).first()
        if stored is None:
            raise
        return stored


def resolve(name: str | None, session: Session | None = None) -> Ruleset:
    """find, with a stored version compiled."""
    return of_version(find(name, session))


def find_configured(name: str | None) -> Ruleset | orm.RulesetVersion:
    """find outside a running application (the CLI's `--ruleset`): the database is looked
    in only when one is configured (DEELWIJS_DATABASE_URL) or the embedded one exists, and
    one that cannot be reached or read counts as not having it (the loader's `not_found`
    then). A stored version comes back as a row of a closed session (compile it with
    of_version)."""
    try:
        return loader.resolve(name)
    except loader.RulesetError as exc:
        if exc.problems[0].code != "not_found":
            raise
        stored = _configured_stored(name)
        if stored is None:
            raise
    return stored


def _configured_stored(name: str | None) -> orm.RulesetVersion | None:
    """The newest stored version with this digest or ruleset id in the configured database,
    or None (no name, no database configured and no embedded one, none stored, or the
    database unusable)."""
    import os

    from sqlalchemy.exc import SQLAlchemyError

    from deelwijs.settings import DEFAULT_URL, VAR, load
    from deelwijs.storage import db

    if not name or (not os.environ.get("DEELWIJS_DATABASE_URL")
                    and not (VAR / "deelwijs.sqlite3").exists()):
        return None
    try:
        engine = db.make_engine(load().database_url or DEFAULT_URL)
        with Session(engine) as session:
            return session.scalars(_STORED, {"name": name}).first()
    except SQLAlchemyError:
        return None


def compiled(session: Session, version_id: int, digest: str,
             cache: dict[str, Ruleset] | None = None, label: str | None = None) -> Ruleset:
    """The compiled ruleset of a stored version known by id and digest: its source text is
    read only when `cache` (default: this module's, by digest) does not hold it yet."""
    own = cache is None
    cache = _COMPILED if own else cache
    hit = cache.get(digest)
    if hit is None:
        source = session.scalar(_SOURCE, {"id": version_id})
        hit = loader.from_document(json.loads(source), label or f"ruleset {digest}")
        if own and len(cache) >= _CACHE_MAX:
            cache.clear()
        cache[digest] = hit
    return hit


def of_version(found: Ruleset | orm.RulesetVersion, cache: dict[str, Ruleset] | None = None,
               label: str | None = None) -> Ruleset:
    """What find returned, compiled: a stored version row (loaded with its source) compiled
    from its document, through `cache` when given (`label` names it in a problem; default
    'ruleset DIGEST'); a Ruleset as it is."""
    if isinstance(found, Ruleset):
        return found
    hit = cache.get(found.digest) if cache is not None else None
    if hit is None:
        hit = loader.from_document(json.loads(found.source), label or f"ruleset {found.digest}")
        if cache is not None:
            cache[found.digest] = hit
    return hit


def active_version(session: Session, region_id: int, on: dt.date | None = None,
                   field: str | None = None) -> orm.RulesetVersion:
    """The region's version in force on a day (today: None), without its source text: the
    newest activation on or before it. None there: NotFound `no_ruleset` (on `field`)."""
    if on is None:
        version = session.scalars(_ACTIVE_VERSION, {"region_id": region_id}).first()
    else:
        version = session.scalars(_ACTIVE_VERSION_ON, {"region_id": region_id, "on": on}
                                  ).first()
    if version is None:
        raise NotFound("no_ruleset", "deze regio heeft (op die datum) geen actieve ruleset",
                       field)
    return version


def in_force(session: Session, region_id: int, on: dt.date) -> Ruleset:
    """The region's ruleset in force on `on`; before its first activation the built-in model
    (the consent ages are legal limits a region cannot change)."""
    row = session.execute(_IN_FORCE, {"region_id": region_id, "on": on}).first()
    if row is None:
        return loader.model()
    return compiled(session, row.id, row.digest)
