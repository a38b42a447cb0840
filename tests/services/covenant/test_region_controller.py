"""A region's controller (verwerkingsverantwoordelijke) and its FG: recorded at creation or
later, checked before anything is written, shown by the region's view (and named in a
parent's inzage, see test_inzage_pdf). On SQLite or PostgreSQL (DEELWIJS_TEST_DATABASE_URL)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from tests.fixtures.postgres import fresh_database, skip_without_postgres, unique_name
from tests.services.helpers import unit_of

from deelwijs.services import demo
from deelwijs.services.covenant import registry
from deelwijs.services.errors import Invalid
from deelwijs.storage import orm

CONTROLLER = {"controller_name": "Gemeente Voorbeeldstad",
              "controller_address": "Postbus 1\n0000 AA  Voorbeeldstad ",
              "fg_name": "Ş. Yılmaz", "fg_email": "fg@voorbeeldstad.example",
              "fg_phone": "+31 (0)30 123 4567"}


def _region(app, code: str) -> dict:
    with app.transaction() as s:
        return registry.region_view(registry.region_by_code(s, code))


def test_a_region_records_its_controller_and_fg_and_changes_them(app):
    with app.transaction() as s:
        u = unit_of(app, s)
        registry.create_region(u, "west", "Regio West", **CONTROLLER)
        registry.create_region(u, "oost", "Regio Oost")
    west = _region(app, "west")
    assert west["controller_name"] == "Gemeente Voorbeeldstad"
    assert west["controller_address"] == "Postbus 1\n0000 AA  Voorbeeldstad"
    assert (west["fg_name"], west["fg_email"], west["fg_phone"]) == (
        "Ş. Yılmaz", "fg@voorbeeldstad.example", "+31 (0)30 123 4567")
    assert {k: v for k, v in _region(app, "oost").items()
            if k.startswith(("controller", "fg"))} == dict.fromkeys(
                [*CONTROLLER, "controller_oin"])
    with app.transaction() as s:  # only what is given changes; an empty text clears
        registry.update_region(unit_of(app, s), registry.region_by_code(s, "west"), fg_phone="",
                               fg_email="privacy@voorbeeldstad.example", name="Regio West 2")
    west = _region(app, "west")
    assert (west["name"], west["fg_email"], west["fg_phone"], west["fg_name"]) == (
        "Regio West 2", "privacy@voorbeeldstad.example", None, "Ş. Yılmaz")


@pytest.mark.parametrize(("field", "value", "words"), [
    ("fg_email", "geen-adres", "e-mailadres"),
    ("fg_email", "a@b", "e-mailadres"),
    ("fg_phone", "bel maar", "telefoonnummer"),
    ("controller_name", "x" * 201, "te lang"),
    ("controller_name", "Gemeente\nWest", "regeleinde"),
    ("fg_name", "F\x00G", "U+0000"),
    ("controller_address", "a" * 501, "te lang"),
    ("fg_email", 42, "tekst"),
])
def test_bad_controller_details_are_refused_and_nothing_is_written(app, field, value, words):
    with app.transaction() as s:
        registry.create_region(unit_of(app, s), "west", "Regio West")
    for call in (lambda s: registry.create_region(unit_of(app, s), "oost", "Regio Oost",
                                                  **{field: value}),
                 lambda s: registry.update_region(unit_of(app, s),
                                                  registry.region_by_code(s, "west"),
                                                  **{field: value})):
        with pytest.raises(Invalid) as err, app.transaction() as s:
            call(s)
        assert err.value.field == f"region.{field}" and words in err.value.message
    with app.transaction() as s:
        assert s.scalars(select(orm.Region.code)).all() == ["west"]
        assert s.scalars(select(orm.Region.fg_email)).all() == [None]


def test_an_unknown_region_field_is_refused(app):
    with pytest.raises(Invalid, match="onbekend"), app.transaction() as s:
        registry.create_region(unit_of(app, s), "west", "Regio West", controller_fax="123")


def test_the_demo_region_has_a_synthetic_controller_and_fg(app):
    demo.build(app, demo.dt.date(2026, 3, 2), youths_n=1, per_type=1)
    view = _region(app, demo.REGION)
    assert view["controller_name"] and view["controller_address"] and view["fg_name"]
    assert view["fg_email"].endswith(".example") and view["fg_phone"]


# --- migration 0005 ----------------------------------------------------------------------


def _walk_0005(url: str) -> None:
    """From 0004 with a region that organisations, youths and cases refer to, to 0005 (no
    controller recorded), and back (the region and what refers to it stay), and up again."""
    from alembic import command
    from sqlalchemy import inspect, text
    from tests.storage.test_migrations import _ROWS_0003

    from deelwijs.storage import db

    engine = db.make_engine(url)
    try:
        cfg = db.alembic_config(engine)
        command.upgrade(cfg, "0003")
        with engine.begin() as conn:
            for sql in _ROWS_0003:
                conn.execute(text(sql), {"blob": b"x"})
        command.upgrade(cfg, "0005")
        with engine.begin() as conn:
            assert conn.execute(text(
                "SELECT controller_name, controller_address, fg_name, fg_email, fg_phone "
                "FROM region")).one() == (None,) * 5
            conn.execute(text("UPDATE region SET controller_name = 'Gemeente', "
                              "fg_email = 'fg@gemeente.example'"))
        command.downgrade(cfg, "0004")
        assert not {"controller_name", "fg_email"} & {
            c["name"] for c in inspect(engine).get_columns("region")}
        with engine.connect() as conn:
            assert conn.execute(text("SELECT code FROM region")).scalars().all() == ["r"]
            assert conn.execute(text("SELECT count(*) FROM youth")).scalar_one() == 1
        command.upgrade(cfg, "head")
        assert db.current_revision(engine) == db.head_revision()
    finally:
        engine.dispose()


def test_0005_upgrades_and_downgrades_with_rows_on_sqlite(tmp_path):
    _walk_0005(f"sqlite:///{tmp_path / 'walk.sqlite3'}")


@pytest.mark.postgres
def test_0005_upgrades_and_downgrades_with_rows_on_postgresql(postgres_url):
    skip_without_postgres()
    with fresh_database(unique_name("deelwijs_leeg")) as url:
        _walk_0005(url)
