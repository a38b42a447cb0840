"""Fixtures for the service-level tests: every test gets a database migrated by Alembic.

By default each test gets its own SQLite file under its tmp_path (a copy of one file migrated
once per session with `db.upgrade`, never `create_all`). When DEELWIJS_TEST_DATABASE_URL names
a PostgreSQL server (`postgresql://postgres@127.0.0.1:5432/postgres`), one fresh, uniquely
named database is created on that server for the session, migrated with Alembic, emptied
before every test and dropped at the end. If that server cannot be reached, every test FAILS
with the reason: CI must never pass by skipping the PostgreSQL run.

With DEELWIJS_TEST_APP_ROLE=1 as well, the session's database gets the two roles of
`deelwijs db roles` (storage/roles.py; an owner and an app role named after the session,
dropped at the end): it is migrated as the owner, and the tests get the app role's URL, so
that they run as production does. Emptying the tables between tests stays with the
server's superuser (`postgres_admin_url`). Tests that change rows behind the app's back on
purpose (the attack tests) do so through the `tamper` fixture (helpers.Tamper): as the owner
role past the triggers, or as the app role where it may make the change, and showing the app
role refused what needs the owner.

The `world` fixture builds a small region on top: the voorbeeldregio ruleset active, one
organisation of each party, and the personas

    alice  intern begeleider (IB'er) at a school board
    bob    wijkteamer at a youth-care provider, hats toeleiding + hulpverlening
    carol  leerplichtambtenaar
    dave   consulent sociaal domein at the municipality
    erin   jeugdverpleegkundige at the JGZ

`build` (a `Builder`) adds youths, cases, meetings, consent and disclosures in one call each,
every call in its own transaction, and hands back ids.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy.engine import Engine, make_url
from tests.fixtures.postgres import (
    APP_ROLE_ENV,
    TEST_DB_ENV,
    fresh_database,
    server_url,
    unique_name,
    with_role,
)

from deelwijs.services.app import App, open_app
from deelwijs.services.casus import cases, consent, disclosures, youths
from deelwijs.services.covenant import registry
from deelwijs.settings import Settings, env_bool
from deelwijs.storage import db, orm, roles

from .helpers import BIRTH, START, TODAY, TWO_PARENTS, Tamper, clean_tables, row_counts, unit_of


@pytest.fixture(scope="session")
def master_key() -> bytes:
    """One fixed master key for the whole session."""
    return Fernet.generate_key()


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str | None]:
    """The session's own PostgreSQL database (created, migrated, finally dropped) as the
    server's superuser, or None when DEELWIJS_TEST_DATABASE_URL is not set. With
    DEELWIJS_TEST_APP_ROLE=1 it was set up with two roles and migrated as the owner (see
    `postgres_url`). An unreachable server fails every test (tests/fixtures/postgres.py)."""
    server = server_url()
    if not server:
        yield None
        return
    if not server.startswith("postgresql"):
        pytest.fail(f"{TEST_DB_ENV}={server!r}: verwacht een PostgreSQL-URL, bijvoorbeeld "
                    "postgresql://postgres@127.0.0.1:5432/postgres", pytrace=False)
    name = unique_name("deelwijs_test")
    two_roles = env_bool(APP_ROLE_ENV, False)
    owner, app = f"{name}_owner", f"{name}_app"
    with fresh_database(name, server, roles=(app, owner) if two_roles else ()) as url:
        engine = db.make_engine(url)
        if two_roles:  # as production: roles first, then migrated by the owner
            roles.setup(engine, owner, app)
            engine.dispose()
            engine = db.make_engine(with_role(url, owner))
        db.upgrade(engine)
        engine.dispose()
        yield url


@pytest.fixture(scope="session")
def postgres_url(postgres_admin_url) -> str | None:
    """The URL the tests' app opens: the session's database as the superuser, or with
    DEELWIJS_TEST_APP_ROLE=1 as its app role (no owner, no TRIGGER, no superuser)."""
    if postgres_admin_url is None or not env_bool(APP_ROLE_ENV, False):
        return postgres_admin_url
    name = make_url(postgres_admin_url).database
    return with_role(postgres_admin_url, f"{name}_app")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A SQLite file migrated by Alembic once; every test gets a copy."""
    path = tmp_path_factory.mktemp("migrated") / "template.sqlite3"
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture
def database_url(request, postgres_url, tmp_path) -> str:
    """A migrated, empty database for this test (emptied by the superuser)."""
    if postgres_url:
        engine = db.make_engine(request.getfixturevalue("postgres_admin_url"))
        try:
            clean_tables(engine)
        finally:
            engine.dispose()
        return postgres_url
    template = request.getfixturevalue("sqlite_template")
    target = tmp_path / "deelwijs.sqlite3"
    for suffix in ("", "-wal"):
        if Path(f"{template}{suffix}").exists():
            shutil.copyfile(f"{template}{suffix}", f"{target}{suffix}")
    return f"sqlite:///{target}"


@pytest.fixture
def admin_url(database_url, postgres_admin_url) -> str:
    """This test's database as a role that may go past the app role's privileges, for tests
    that change rows behind the application's back on purpose: the superuser on PostgreSQL
    (also with DEELWIJS_TEST_APP_ROLE=1), the same file on SQLite."""
    return postgres_admin_url or database_url


@pytest.fixture
def owner_url(database_url, postgres_admin_url) -> str:
    """This test's database as the role that owns its tables: with DEELWIJS_TEST_APP_ROLE=1
    the owner role of `db roles` (it may switch triggers off, but it is no superuser), else
    on PostgreSQL the server's superuser (who owns them then); the same file on SQLite."""
    if postgres_admin_url is None or not env_bool(APP_ROLE_ENV, False):
        return postgres_admin_url or database_url
    name = make_url(postgres_admin_url).database
    return with_role(postgres_admin_url, f"{name}_owner")


@pytest.fixture
def owner_engine(owner_url) -> Iterator[Engine]:
    engine = db.make_engine(owner_url)
    yield engine
    engine.dispose()


@pytest.fixture
def tamper(app, owner_engine, postgres_admin_url) -> Tamper:
    """Changes rows behind the app's back: as the owner past the triggers, as the app role,
    and the app role's refusal of what needs the owner (helpers.Tamper). Every test that
    tampers with rows on purpose does it through this fixture, so that with
    DEELWIJS_TEST_APP_ROLE=1 the attack is made by the role that can make it while the code
    under test runs as the app role."""
    return Tamper(owner_engine, app.engine,
                  app_role=postgres_admin_url is not None and env_bool(APP_ROLE_ENV, False))


@pytest.fixture
def settings(database_url, master_key) -> Settings:
    return Settings(database_url=database_url, master_key=master_key)


@pytest.fixture
def app(settings) -> Iterator[App]:
    """The application on this test's database, opened as production code opens it."""
    application = open_app(settings)
    yield application
    application.engine.dispose()


# --- the region, its parties and the personas ----------------------------------------------


@dataclass
class World:
    region_id: int
    version_id: int
    digest: str
    orgs: dict[str, int] = field(default_factory=dict)
    pros: dict[str, int] = field(default_factory=dict)
    mandate_id: int | None = None


ORGS = {
    # key: (party, name, domain)
    "school": ("school", "Stichting Onderwijs De Linde", None),
    "swv": ("swv", "Samenwerkingsverband Passend Onderwijs Voorbeeldregio", None),
    "leerplicht": ("leerplicht", "Leerplicht Voorbeeldstad", None),
    "gemeente": ("gemeente", "Gemeente Voorbeeldstad, team Jeugd", "jeugd"),
    "gemeente_schulden": ("gemeente", "Gemeente Voorbeeldstad, Schuldhulpverlening",
                          "schulden"),
    "jeugdhulp": ("jeugdhulp", "Wijkteam Centrum", None),
    "jgz": ("jgz", "JGZ Voorbeeldregio", None),
    "huisarts": ("huisarts", "Huisartsenpraktijk Het Anker", None),
    "kinderopvang": ("kinderopvang", "Kinderopvang De Vlinder", None),
}
PERSONAS = {
    # key: (organisation, name, function, hats)
    "alice": ("school", "Alice Bakker", "intern begeleider", []),
    "bob": ("jeugdhulp", "Bob Jansen", "wijkteamer", ["toeleiding", "hulpverlening"]),
    "carol": ("leerplicht", "Carol Visser", "leerplichtambtenaar", []),
    "dave": ("gemeente", "Dave Mulder", "consulent sociaal domein", []),
    "erin": ("jgz", "Erin Smit", "jeugdverpleegkundige", []),
}


@pytest.fixture
def world(app) -> World:
    """A region on the voorbeeldregio ruleset with every party the tests need.

    The SWV, leerplicht and the municipality signed the covenant; the school board is a party
    through its written mandate to the SWV, which signed on its behalf. Youth-care providers,
    the JGZ and the GP join a case by accession form (see `Builder.accede`)."""
    with app.transaction() as s:
        u = unit_of(app, s)
        region = registry.create_region(u, "testregio", "Testregio")
        version = registry.activate_ruleset(u, region, "voorbeeldregio", START)
        w = World(region.id, version.id, version.digest)
        orgs = {}
        for key, (party, name, domain) in ORGS.items():
            orgs[key] = registry.create_organisation(u, region, party, name, domain=domain)
            w.orgs[key] = orgs[key].id
        for key in ("swv", "leerplicht", "gemeente", "gemeente_schulden"):
            sig = registry.add_signatory(u, orgs[key], "W. Bestuurder", "bestuurder")
            registry.sign_covenant(u, orgs[key], version, START, sig)
        mandate = registry.grant_mandate(u, orgs["school"], orgs["swv"], START, "MACHT-001")
        registry.sign_covenant(u, orgs["swv"], version, START, on_behalf_of=orgs["school"])
        w.mandate_id = mandate.id
        for key, (org, name, function, hats) in PERSONAS.items():
            w.pros[key] = registry.create_professional(u, orgs[org], name, function, hats).id
    return w


class Builder:
    """Short calls for the tests' set-up; each runs in its own transaction and returns ids."""

    def __init__(self, app: App, world: World):
        self.app = app
        self.w = world

    def org(self, key: str) -> int:
        return self.w.orgs[key]

    def pro(self, key: str) -> int:
        return self.w.pros[key]

    def youth(self, birth: dt.date = BIRTH, today: dt.date = TODAY, bsn: str | None = None,
              guardians=TWO_PARENTS, name: str = "Sem de Vries") -> int:
        with self.app.transaction() as s:
            region = s.get(orm.Region, self.w.region_id)
            school = s.get(orm.Organisation, self.w.orgs["school"])
            return youths.create_youth(unit_of(self.app, s, today=today), region, name, birth,
                                       bsn=bsn, school=school, guardians=list(guardians)).id

    def guardians(self, youth_id: int) -> list[int]:
        """The ids of the youth's parents/guardians, in the order they were given."""
        with self.app.transaction() as s:
            return [g.id for g in youths.get_youth(s, youth_id).guardians]

    def case(self, purpose: str, participants=("leerplicht", "swv"), creator: str = "alice",
             opened_on: dt.date | None = None, youth_id: int | None = None,
             title: str = "Zorgen over aanwezigheid") -> int:
        """A case opened on `opened_on`; by default START, or the youth's birth when that is
        later (a case about a youth opens on or after their birth)."""
        with self.app.transaction() as s:
            region = s.get(orm.Region, self.w.region_id)
            youth = youths.get_youth(s, youth_id) if youth_id is not None else None
            if opened_on is None:
                opened_on = START
                if youth is not None and youth.key_wrapped is not None:
                    opened_on = max(START, youths.birth_of(self.app.keys, youth))
            _, ruleset = self.app.active_ruleset(s, region.id, opened_on)
            return cases.open_case(unit_of(self.app, s, by=self.w.pros[creator]), ruleset,
                                   region, title, purpose,
                                   [self.w.orgs[p] for p in participants], opened_on,
                                   youth=youth).id

    def meeting(self, case_id: int, held_on: dt.date, agenda=("Opening", "Bespreking"),
                participants=("alice",)) -> int:
        with self.app.transaction() as s:
            return cases.schedule_meeting(unit_of(self.app, s), cases.get_case(s, case_id),
                                          held_on, list(agenda),
                                          [self.w.pros[p] for p in participants]).id

    def accede(self, org: str, case_id: int, signed_on: dt.date = START,
               notified_on: dt.date | None = START) -> int:
        with self.app.transaction() as s:
            return registry.record_accession(unit_of(self.app, s),
                                             s.get(orm.Organisation, self.w.orgs[org]),
                                             cases.get_case(s, case_id), signed_on,
                                             f"TOETR-{org}-{case_id}", notified_on).id

    def consent(self, youth_id: int, role: str, answer: str = "given", *,
                purposes=("oza",), categories=("gedrag",), given_on: dt.date,
                today: dt.date | None = None, guardian_id: int | None = None,
                written: bool = True, recipients=(), prior_to_meeting_id: int | None = None
                ) -> str:
        """Record a consent (or refusal); returns its series."""
        with self.app.transaction() as s:
            return consent.record(
                unit_of(self.app, s, by=self.w.pros["alice"], today=today or given_on),
                youths.get_youth(s, youth_id), role, answer, list(purposes),
                list(categories), given_on, written=written,
                recipient_ids=[self.w.orgs[r] for r in recipients], guardian_id=guardian_id,
                document_ref=f"TOEST-{role}-{guardian_id}" if written else None,
                prior_to_meeting_id=prior_to_meeting_id).series

    def parents_consent(self, youth_id: int, answer: str = "given", **kwargs) -> list[str]:
        """Every parent with gezag gives (or refuses) the same consent."""
        with self.app.transaction() as s:
            ids = [g.id for g in youths.get_youth(s, youth_id).guardians if g.has_gezag]
        return [self.consent(youth_id, "parent", answer, guardian_id=g, **kwargs) for g in ids]

    def change_consent(self, series: str, expected_version: int, answer: str, on: dt.date,
                       today: dt.date | None = None) -> int:
        with self.app.transaction() as s:
            return consent.change(unit_of(self.app, s, today=today or on), series,
                                  expected_version, answer, on).version

    def decide(self, who: str, to: str, categories, day: dt.date, **kwargs) -> dict:
        """The engine's decision from the stored facts (nothing is recorded)."""
        with self.app.transaction() as s:
            _, decision, _ = disclosures.decide_stored(
                unit_of(self.app, s, by=self.w.pros[who]), to_org_id=self.w.orgs[to],
                categories=list(categories), day=day, **kwargs)
        return decision

    def facts(self, who: str, to: str, categories, day: dt.date, **kwargs) -> list[dict]:
        """The engine requests the service built from the stored facts."""
        with self.app.transaction() as s:
            _, _, facts = disclosures.decide_stored(
                unit_of(self.app, s, by=self.w.pros[who]), to_org_id=self.w.orgs[to],
                categories=list(categories), day=day, **kwargs)
        return facts["requests"]

    def disclose(self, who: str, to: str, contents: dict[str, str], day: dt.date,
                 **kwargs) -> int:
        """Record a disclosure; returns its id."""
        with self.app.transaction() as s:
            return disclosures.record(unit_of(self.app, s, by=self.w.pros[who]),
                                      to_org_id=self.w.orgs[to], contents=dict(contents),
                                      day=day, **kwargs).id

    def disclosure_view(self, disclosure_id: int, with_content: bool = True) -> dict:
        with self.app.transaction() as s:
            row = s.get(orm.Disclosure, disclosure_id)
            out = disclosures.view(s, row, with_content=with_content, app=self.app)
            out["decision"] = row.decision
            out["ruleset_version_id"] = row.ruleset_version_id
        return out

    def counts(self) -> dict[str, int]:
        return row_counts(self.app.engine)


@pytest.fixture
def build(app, world) -> Builder:
    return Builder(app, world)
