"""The application context the CLI, the web app and the API share.

It holds no state another instance would need: everything lives in the database; what is
cached here (compiled rulesets by digest) is derived from it and the same everywhere.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, defer, sessionmaker

from deelwijs import settings as settings_mod
from deelwijs.crypto import Keyring, keyring_for
from deelwijs.domain.ruleset import Ruleset
from deelwijs.rules import loader
from deelwijs.services.errors import NotFound
from deelwijs.storage import db, orm

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
_SOURCE = select(orm.RulesetVersion.source).where(orm.RulesetVersion.id == bindparam("id"))


@dataclass
class App:
    settings: settings_mod.Settings
    engine: Engine
    sessions: sessionmaker[Session]
    keys: Keyring
    _rulesets: dict[str, Ruleset] = field(default_factory=dict)

    def transaction(self):
        """One unit of work. Its session carries the keyring (as every session of this app
        does), so that every service writes the processing log entry of what it does in this
        same transaction."""
        return db.transaction(self.sessions)

    def ruleset(self, version: orm.RulesetVersion) -> Ruleset:
        hit = self._rulesets.get(version.digest)
        if hit is None:
            hit = loader.from_document(json.loads(version.source), f"ruleset {version.digest}")
            self._rulesets[version.digest] = hit
        return hit

    def ruleset_of(self, session: Session, version_id: int, digest: str) -> Ruleset:
        """The compiled ruleset of a stored version known by id and digest (as a query that
        already joined the version returns them): its source text is read only when the
        compiled ruleset is not cached yet."""
        hit = self._rulesets.get(digest)
        if hit is None:
            source = session.scalar(_SOURCE, {"id": version_id})
            hit = loader.from_document(json.loads(source), f"ruleset {digest}")
            self._rulesets[digest] = hit
        return hit

    def active_ruleset(self, session: Session, region_id: int,
                       on: dt.date | None = None) -> tuple[orm.RulesetVersion, Ruleset]:
        """The region's ruleset in force on a day (the newest activation on or before it).

        One query; the version's source text (the whole ruleset document) is loaded only when
        the compiled ruleset is not cached yet."""
        if on is None:
            version = session.scalars(_ACTIVE_VERSION, {"region_id": region_id}).first()
        else:
            version = session.scalars(_ACTIVE_VERSION_ON, {"region_id": region_id, "on": on}
                                      ).first()
        if version is None:
            raise NotFound("no_ruleset", "deze regio heeft (op die datum) geen actieve ruleset")
        return version, self.ruleset(version)


def open_app(config: settings_mod.Settings | None = None, migrate: bool | None = None) -> App:
    """Connect; migrate the embedded database, refuse an un-migrated production one."""
    config = config or settings_mod.load()
    engine = db.make_engine(config.database_url)
    if migrate is None:
        db.ensure_ready(engine, config.embedded)
    elif migrate:
        db.upgrade(engine)
    keys = keyring_for(config)
    return App(config, engine, db.session_factory(engine, {"deelwijs_keys": keys}), keys)
