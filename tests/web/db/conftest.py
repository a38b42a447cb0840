"""Fixtures of the web tests that need the database: the app of the service tests
(tests/services/conftest.py, SQLite or PostgreSQL), the web app on it, and one account per
persona.

`personas` makes the accounts (password PASSWORD; the FG and the administrator with a TOTP
secret already confirmed, TOTP_SECRET, so a test logs in with `log_in(..., totp=True)`):

| key | kind | who |
|---|---|---|
| alice | professional | intern begeleider of the school (a party through its mandate) |
| bob | professional | wijkteamer (jeugdhulp), with hats toeleiding and hulpverlening |
| carol | professional | leerplichtambtenaar |
| sport | professional | trainer of a sports club: not a covenant party |
| fg | fg | the region's privacy officer |
| admin | admin | the region's administrator |
| ouder | parent | Fatima de Vries, with gezag over Sem (youth `sem`) |
| ouder2 | parent | Daan de Vries, without gezag over Sem |
| ouder_ander | parent | a parent with gezag over another child (`lina`) |
| jongere | youth | Sem himself (11: the ruleset lets his parents decide) |
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import pyotp
import pytest
from fastapi.testclient import TestClient
from tests.services.conftest import *  # noqa: F403 (database_url, settings, app, world, ...)
from tests.services.conftest import Builder
from tests.services.helpers import unit_of

from deelwijs.services import accounts
from deelwijs.services.covenant import registry
from deelwijs.storage import orm
from deelwijs.web import create_app

PASSWORD = "Deelwijs-test-2026!"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
KINDS = {"alice": "professional", "bob": "professional", "carol": "professional",
         "sport": "professional", "fg": "fg", "admin": "admin", "ouder": "parent",
         "ouder2": "parent", "ouder_ander": "parent", "jongere": "youth"}


@functools.cache
def password_hash() -> str:
    """PASSWORD's argon2id hash, made once per process: ten hashes per test cost about a
    second (accounts.create hashes; tests/services/test_accounts.py tests that)."""
    return accounts.hash_password(PASSWORD)


@dataclass
class Personas:
    """The accounts' ids and usernames by persona key, and the ids of what they relate to."""

    accounts: dict[str, int] = field(default_factory=dict)
    usernames: dict[str, str] = field(default_factory=dict)
    youths: dict[str, int] = field(default_factory=dict)
    orgs: dict[str, int] = field(default_factory=dict)
    pros: dict[str, int] = field(default_factory=dict)


@pytest.fixture
def builder(app, world) -> Builder:
    return Builder(app, world)


@pytest.fixture
def personas(app, world, builder) -> Personas:
    p = Personas(orgs=dict(world.orgs), pros=dict(world.pros))
    p.youths["sem"] = builder.youth()
    p.youths["lina"] = builder.youth(name="Lina Yilmaz", guardians=(
        {"name": "Ayse Yilmaz", "relation": "moeder", "gezag": True},))
    sem_guardians = builder.guardians(p.youths["sem"])
    lina_guardians = builder.guardians(p.youths["lina"])
    with app.transaction() as s:
        u = unit_of(app, s)
        region = s.get(orm.Region, world.region_id)
        club = registry.create_organisation(u, region, "derde", "Voetbalvereniging VV Voorwaarts")
        p.orgs["club"] = club.id
        p.pros["sport"] = registry.create_professional(u, club, "Kees Trainer", "trainer", []).id
        # Daan (Sem's second parent) has no gezag in these tests
        s.get(orm.Guardian, sem_guardians[1]).has_gezag = False
        made = {
            "alice": dict(kind="professional", professional_id=world.pros["alice"]),
            "bob": dict(kind="professional", professional_id=world.pros["bob"]),
            "carol": dict(kind="professional", professional_id=world.pros["carol"]),
            "sport": dict(kind="professional", professional_id=p.pros["sport"]),
            "fg": dict(kind="fg", region_id=world.region_id),
            "admin": dict(kind="admin", region_id=world.region_id),
            "ouder": dict(kind="parent", guardian_id=sem_guardians[0]),
            "ouder2": dict(kind="parent", guardian_id=sem_guardians[1]),
            "ouder_ander": dict(kind="parent", guardian_id=lina_guardians[0]),
            "jongere": dict(kind="youth", youth_id=p.youths["sem"]),
        }
        now = accounts.utcnow()
        for key, kw in made.items():
            account = accounts.create(u, username=key.replace("_", "."),
                                      display_name=key.capitalize(), **kw)
            account.password_hash = password_hash()
            if kw["kind"] in accounts.SECOND_FACTOR_REQUIRED:
                account.totp_sealed = app.keys.seal(TOTP_SECRET)
                account.totp_confirmed_at = now
            p.accounts[key] = account.id
            p.usernames[key] = account.username
    return p


@pytest.fixture
def web(app):
    """The web app on this test's database."""
    return create_app(services=app)


@pytest.fixture
def browser(web) -> Iterator[TestClient]:
    """A client as a browser: cookies kept, over https (the cookies are Secure)."""
    with TestClient(web, base_url="https://testserver", raise_server_exceptions=False,
                    follow_redirects=False) as c:
        yield c


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no csrf field on the page"
    return found.group(1)


def totp_now(secret: str = TOTP_SECRET, offset: int = 0) -> str:
    at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30 * offset)
    return pyotp.TOTP(secret).at(at)


def log_in(client: TestClient, username: str, password: str = PASSWORD, *,
           totp: bool = False, code: str | None = None):
    """Log in through the pages (with the second factor when `totp`); returns the last
    response (a 303 to where the user lands, or the refusing page)."""
    page = client.get("/inloggen")
    response = client.post("/inloggen", data={"csrf": csrf_of(page.text),
                                              "username": username, "password": password})
    if response.status_code != 303 or not totp:
        return response
    assert response.headers["location"].startswith("/inloggen/tweede-factor")
    form = client.get("/inloggen/tweede-factor")
    return client.post("/inloggen/tweede-factor", data={
        "csrf": csrf_of(form.text), "code": code or totp_now()})
