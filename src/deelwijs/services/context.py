"""The one context of every use case: `Unit` (app, session, actor, today) and `Actor`.

Every public use case takes a `Unit` as its first argument, whoever calls it: the CLI, the
web app and the API build one per command or request, the tests build one per call. It
replaces the shapes in which the person acting used to be passed (`by`, `professional_id`,
`by=None` for "the administrator"): the administrator is an explicit actor,
`Actor.admin()`, and a use case that needs a professional says so (`Unit.professional_or`),
with one Dutch message.

`Actor` is a plain value (ids, no database rows), so the web app can keep it in a session and
a test can write one down; `Unit.professional` loads the row once when a use case needs the
name or organisation for the processing log. Need to know ("may this actor read this case?")
is decided in `services/access.py`, called inside the use cases, so the CLI, the API and the
pages get the same answer.

`today` is the day the unit works on: the date of "now" for checks such as "not in the
future", and the default of a use case's own date parameters. The CLI and the web take it from
the clock; tests write it down.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from sqlalchemy.orm import Session

from deelwijs.services.errors import Invalid, NotFound
from deelwijs.storage import orm

if TYPE_CHECKING:
    from deelwijs.crypto import Keyring
    from deelwijs.services.app import App

ADMIN = "admin"
PROFESSIONAL = "professional"


@dataclass(frozen=True)
class Actor:
    """Who acts. `kind` "admin": the administrator of the installation (the CLI without
    `--by`, `deelwijs demo`, retention runs); `region_id` None means every region.
    `kind` "professional": a professional of an organisation in a region, with the `hat` a
    wijkteam professional works under (toeleiding, hulpverlening), if any. `roles` are the
    account's roles once there are accounts (issue 13); empty for now."""

    kind: Literal["admin", "professional"]
    professional_id: int | None = None
    organisation_id: int | None = None
    region_id: int | None = None
    roles: frozenset[str] = frozenset()
    hat: str | None = None

    @classmethod
    def admin(cls, region_id: int | None = None) -> Actor:
        return cls(ADMIN, region_id=region_id, roles=frozenset({ADMIN}))

    @classmethod
    def of(cls, pro: orm.Professional, region_id: int, hat: str | None = None) -> Actor:
        return cls(PROFESSIONAL, professional_id=pro.id, organisation_id=pro.organisation_id,
                   region_id=region_id, hat=hat)

    @property
    def is_admin(self) -> bool:
        return self.kind == ADMIN


def actor_of(session: Session, professional_id: int | None, field: str = "by",
             hat: str | None = None) -> Actor:
    """The actor for a professional's id (as a user types it), or the administrator for
    None. An unknown id is refused with `field`."""
    if professional_id is None:
        return Actor.admin()
    pro = session.get(orm.Professional, professional_id) if isinstance(
        professional_id, int) else None
    if pro is None:
        raise NotFound("not_found", f"onbekende professional ({professional_id})", field)
    org = session.get(orm.Organisation, pro.organisation_id)
    return Actor.of(pro, org.region_id, hat)


@dataclass
class Unit:
    """One unit of work: the app, the open session (one transaction), who acts, and today."""

    app: App
    session: Session
    actor: Actor
    today: dt.date
    _pro: orm.Professional | None = field(default=None, repr=False, compare=False)

    @property
    def keys(self) -> Keyring:
        return self.app.keys

    @property
    def professional(self) -> orm.Professional | None:
        """The acting professional's row (None for the administrator)."""
        if self.actor.professional_id is None:
            return None
        if self._pro is None:
            self._pro = self.session.get(orm.Professional, self.actor.professional_id)
        return self._pro

    @property
    def organisation(self) -> orm.Organisation | None:
        """The acting professional's organisation (None for the administrator)."""
        pro = self.professional
        return None if pro is None else self.session.get(orm.Organisation, pro.organisation_id)

    def professional_or(self, field: str = "by", what: str = "dit") -> orm.Professional:
        """The acting professional, for a use case only a professional may do (it is
        recorded or logged in their name): the administrator is refused with `field`."""
        pro = self.professional
        if pro is None:
            raise Invalid("professional_required", f"{what} doet een professional (met --by), "
                          "niet het beheer", field)
        return pro


def unit(app: App, session: Session, actor: Actor | None = None,
         today: dt.date | None = None) -> Unit:
    """A unit of work on an open session; the administrator and the clock's date unless
    given."""
    return Unit(app, session, actor or Actor.admin(), today or dt.date.today())
