"""The one context of every use case: `Unit` (app, session, actor, today) and `Actor`.

Every public use case takes a `Unit` as its first argument, whoever calls it: the CLI, the
web app and the API build one per command or request, the tests build one per call. It
replaces the shapes in which the person acting used to be passed (`by`, `professional_id`,
`by=None` for "the administrator"): the installation's operator is an explicit actor,
`Actor.admin()`, and a use case that needs a professional says so (`Unit.professional_or`),
with one Dutch message.

The kinds of actor (issue 13; an account has one kind, services/accounts.py):

- `operator`, `Actor.admin()`: whoever holds the installation (the database and its keys):
  the CLI without a personal access token, `deelwijs demo`, the retention run. It passes every
  check, case content included: with the database and the keys it could read everything
  anyway, and the processing log says "beheer".
- `admin`: an administrator's account (beheerder): manages organisations and accounts in its
  region (every region with none), never case content.
- `professional`: a professional of an organisation, with the `hat` a wijkteam professional
  works under; need to know decides what they see.
- `fg`: a privacy officer (functionaris gegevensbescherming) of a region: the processing log,
  the register and the breaches, never case content.
- `parent` and `youth`: a parent or a youth with an account, who sees only their own (a parent
  only with gezag, and from the age the active ruleset names the youth decides).

`acted_by` says who really acts when an administrator acts for a professional (the CLI's
`--by`): "beheer" for the operator, or the administrator's account name. Both identities are
recorded.

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

from deelwijs.services.errors import Invalid, NotFound, Refused
from deelwijs.storage import orm

if TYPE_CHECKING:
    from deelwijs.crypto import Keyring
    from deelwijs.services.app import App

OPERATOR = "operator"
ADMIN = "admin"
PROFESSIONAL = "professional"
FG = "fg"
PARENT = "parent"
YOUTH = "youth"
KINDS = (OPERATOR, ADMIN, PROFESSIONAL, FG, PARENT, YOUTH)


@dataclass(frozen=True)
class Actor:
    """Who acts (the kinds: the module's docstring). `region_id` None means every region
    (the operator, an installation-wide administrator). `account_id` is the account logged in
    (None for the operator and in tests that write an actor down). `roles` are extra roles of
    the account (none yet)."""

    kind: Literal["operator", "admin", "professional", "fg", "parent", "youth"]
    professional_id: int | None = None
    organisation_id: int | None = None
    region_id: int | None = None
    roles: frozenset[str] = frozenset()
    hat: str | None = None
    account_id: int | None = None
    acted_by: str | None = None

    @classmethod
    def admin(cls, region_id: int | None = None) -> Actor:
        """The installation's operator (see the module's docstring)."""
        return cls(OPERATOR, region_id=region_id)

    @classmethod
    def of(cls, pro: orm.Professional, region_id: int, hat: str | None = None,
           account_id: int | None = None, acted_by: str | None = None) -> Actor:
        return cls(PROFESSIONAL, professional_id=pro.id, organisation_id=pro.organisation_id,
                   region_id=region_id, hat=hat, account_id=account_id, acted_by=acted_by)

    @property
    def is_operator(self) -> bool:
        return self.kind == OPERATOR

    @property
    def is_admin(self) -> bool:
        """The operator or an administrator's account: may manage the installation (within
        its region)."""
        return self.kind in (OPERATOR, ADMIN)

    @property
    def is_professional(self) -> bool:
        return self.kind == PROFESSIONAL


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
        recorded or logged in their name): the operator is told so with `field` (422); an FG,
        an administrator's account, a parent or a youth is refused (403, `professional_only`)."""
        if self.actor.kind not in (OPERATOR, PROFESSIONAL):  # an account that never may
            raise Refused("professional_only", f"{what} doet een professional", "by")
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
