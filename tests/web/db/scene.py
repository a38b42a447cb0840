"""A small region with something on every page, on top of the personas (conftest.py): the
`scene` fixture. Import it into a test module (`from tests.web.db.scene import scene`).

- `sem_case`: a case about Sem (youth `sem`) opened by alice (school) with leerplicht and the
  SWV, one meeting and one disclosure from the school to leerplicht;
- `bob_case`: a case of the wijkteam (bob's organisation) alone: alice, carol and the sports
  club do not take part (another organisation's record);
- `breach`: a breach of the school, recorded by alice;
- `other_account`: an FG account of another region (another region's record for the admin).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

__all__ = ["DAY", "Scene", "scene"]
from tests.services.helpers import unit_of

from deelwijs.services import accounts
from deelwijs.services.covenant import registry
from deelwijs.services.log import breaches
from deelwijs.storage import orm

DAY = dt.date(2023, 10, 2)


@dataclass
class Scene:
    sem_case: int
    bob_case: int
    meeting: int
    disclosure: int
    breach: int
    other_region: int
    other_account: int


@pytest.fixture
def scene(app, world, builder, personas) -> Scene:
    sem = personas.youths["sem"]
    sem_case = builder.case("oza", participants=("leerplicht", "swv"), youth_id=sem,
                            title="Zorgen over aanwezigheid van Sem")
    meeting = builder.meeting(sem_case, dt.date(2023, 9, 1), agenda=("Opening", "Verzuim"),
                              participants=("alice", "carol"))
    disclosure = builder.disclose("alice", "leerplicht", {"verzuim": "12 uur ongeoorloofd"},
                                  DAY, case_id=sem_case)
    bob_case = builder.case("oza", participants=(), creator="bob",
                            title="Casus van het wijkteam")
    with app.transaction() as s:
        breach = breaches.record_breach(
            unit_of(app, s, by=world.pros["alice"], today=DAY + dt.timedelta(days=2)),
            region=world.region_id, organisation_id=world.orgs["school"],
            discovered_at=dt.datetime(2023, 10, 3, 9, 0), description="Een mail met een "
            "verslag ging naar de verkeerde ouder.", categories=["identificatie", "gedrag"],
            risk="hoog", youth_ids=[sem], measures="Mail teruggeroepen.").id
    with app.transaction() as s:
        u = unit_of(app, s)
        other = registry.create_region(u, "elders", "Andere regio")
        account = accounts.create(u, username="fg.elders", display_name="FG elders",
                                  kind="fg", region_id=other.id)
        other_id, account_id = other.id, account.id
    with app.transaction() as s:
        assert s.get(orm.Case, bob_case) is not None
    return Scene(sem_case, bob_case, meeting, disclosure, breach, other_id, account_id)
