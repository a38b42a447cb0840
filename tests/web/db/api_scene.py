"""A scene for the API's tests: on top of the personas (conftest.py), a personal access token
per persona, and records of two organisations, so that every endpoint has something to find
and something that is not the caller's (IDOR).

| record | what | whose |
|---|---|---|
| `sem` | youth, school = the school board (alice) | case A, disclosure A |
| `noor` | youth without a school | only case B (bob's jeugdhulp, the municipality) |
| `case_a` | case about Sem: school (alice, opened it), leerplicht (carol), SWV | |
| `case_b` | case about Noor: jeugdhulp (bob, opened it), gemeente | not alice's, carol's |
| `meeting_a`, `meeting_b` | a meeting in each case, with a minute | |
| `disclosure_a` | alice → leerplicht in case A about Sem | |
| `disclosure_b` | bob → gemeente in case B about Noor | |

Import the fixture into a test module: `from tests.web.db.api_scene import *`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest
from sqlalchemy import select
from tests.services.helpers import START, unit_of

from deelwijs.services import accounts
from deelwijs.services.casus import cases, youths
from deelwijs.storage import orm

__all__ = ["scene"]

REGION = "testregio"
DAY = dt.date(2026, 3, 2)


@dataclass
class Scene:
    tokens: dict[str, str] = field(default_factory=dict)
    youths: dict[str, int] = field(default_factory=dict)
    orgs: dict[str, int] = field(default_factory=dict)
    pros: dict[str, int] = field(default_factory=dict)
    guardians: dict[str, int] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)

    def auth(self, persona: str | None) -> dict[str, str]:
        return {} if persona is None else {"authorization": f"Bearer {self.tokens[persona]}"}


@pytest.fixture
def scene(app, world, builder, personas) -> Scene:
    sc = Scene(youths=dict(personas.youths), orgs=dict(personas.orgs), pros=dict(personas.pros))
    with app.transaction() as s:
        u = unit_of(app, s)
        for key, account_id in personas.accounts.items():
            sc.tokens[key] = accounts.new_token(u, s.get(orm.Account, account_id), "tests")[0]
        region = s.get(orm.Region, world.region_id)
        sc.youths["noor"] = youths.create_youth(
            unit_of(app, s, today=DAY), region, "Noor Bakker", dt.date(2012, 2, 1), None,
            None, [{"name": "Ilse Bakker", "relation": "moeder", "gezag": True}]).id
    sem_guardians = builder.guardians(sc.youths["sem"])
    sc.guardians["fatima"], sc.guardians["daan"] = sem_guardians[0], sem_guardians[1]
    sc.ids["case_a"] = builder.case("oza", participants=("leerplicht", "swv"), creator="alice",
                                    youth_id=sc.youths["sem"], title="Zorgen over Sem")
    sc.ids["case_b"] = builder.case("oza", participants=("gemeente",), creator="bob",
                                    youth_id=sc.youths["noor"], title="Zorgen over Noor")
    sc.ids["meeting_a"] = builder.meeting(sc.ids["case_a"], START + dt.timedelta(days=30),
                                          participants=("alice", "carol"))
    sc.ids["meeting_b"] = builder.meeting(sc.ids["case_b"], START + dt.timedelta(days=30),
                                          participants=("bob",))
    with app.transaction() as s:
        for key, pro in (("meeting_a", "alice"), ("meeting_b", "bob")):
            item = s.scalars(select(orm.AgendaItem.id).where(
                orm.AgendaItem.meeting_id == sc.ids[key]).order_by(orm.AgendaItem.id)).first()
            cases.write_minute(unit_of(app, s, by=world.pros[pro]), item,
                               f"Verslag van {key}: afspraken gemaakt.")
    sc.ids["disclosure_a"] = builder.disclose(
        "alice", "leerplicht", {"verzuim": "Sem was 3 dagen afwezig."},
        START + dt.timedelta(days=30), case_id=sc.ids["case_a"])
    sc.ids["disclosure_b"] = builder.disclose(
        "bob", "gemeente", {"hulpverlening": "Noor krijgt hulp."},
        START + dt.timedelta(days=30), case_id=sc.ids["case_b"], hat="hulpverlening")
    return sc
