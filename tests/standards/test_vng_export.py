"""The processing log's export against the VNG Verwerkingenlogging API 0.9's own OpenAPI
documents (vendored in tests/standards/vng): every entry of a demo region, as `deelwijs audit
log` and the service's `entry_view` give it, validates as `VerwerkingsactieUitgebreid` (what the
log's GET returns); the data subject's view as `VerwerkingsactieBeperkt` of the Inzage API.
The entries as stored (what the export gave before) do not, for the reasons the issue found.
The derived ids are recomputed here from the namespaces docs/audit.md names."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import uuid

import pytest
from sqlalchemy import select, text
from tests.services.helpers import unit_of
from tests.standards import schemas

from deelwijs.services import demo
from deelwijs.services.log import audit
from deelwijs.services.rights import requests as rights
from deelwijs.storage import orm

TODAY = dt.date(2026, 3, 2)
ACTION = "VerwerkingsactieUitgebreid"
LIMITED = "VerwerkingsactieBeperkt"
# the namespaces as docs/audit.md states them (not imported from the project)
ACTIVITY_NS = uuid.uuid5(uuid.NAMESPACE_URL, "https://deelwijs.nl/verwerkingsactiviteit")
LOG_NS = uuid.uuid5(uuid.NAMESPACE_URL, "https://deelwijs.nl/verwerkingenlogging")
OIN_SCHOOL = "00000001234567890000"
OIN_LEERPLICHT = "00000003123456780000"


def _rows(app) -> list[orm.LogEntry]:
    with app.transaction() as s:
        rows = list(s.scalars(select(orm.LogEntry).order_by(orm.LogEntry.region_id,
                                                             orm.LogEntry.seq)))
        s.expunge_all()
    return rows


def _stored_shape(row: orm.LogEntry) -> dict:
    """The entry as the export gave it before: the columns and the stored body, unchanged."""
    return {"actieId": row.actie_id, "seq": row.seq, "verwerkingsactiviteitId": row.activity_id,
            "tijdstipRegistratie": row.registered_at.isoformat(), **audit.body_of(row)}


@pytest.fixture
def demo_rows(app):
    demo.build(app, TODAY, youths_n=8, per_type=2)
    rows = _rows(app)
    assert all(r.body is not None for r in rows)
    actions = {audit.body_of(r)["actie"] for r in rows}
    assert {"create", "consent", "disclose", "deny"} <= actions, actions
    return rows


def test_the_validator_checks_every_format_the_documents_use():
    assert {"date-time", "uri", "uuid", "duration"} <= schemas.format_checks()
    for path in (schemas.BEWERKING, schemas.INZAGE, schemas.VAR):
        assert schemas.document(path)["openapi"].startswith("3.0")
    assert schemas.document(schemas.BEWERKING)["info"]["version"] == "0.9.0"


def test_every_exported_entry_validates_and_the_stored_shape_did_not(app, demo_rows):
    views = [audit.entry_view(r) for r in demo_rows]
    invalid = {v["actieId"]: schemas.problems(schemas.BEWERKING, ACTION, v) for v in views}
    assert {k: p for k, p in invalid.items() if p} == {}, "every entry validates"

    # what the export was before: not one entry validated, for the reasons the issue names
    before = [schemas.problems(schemas.BEWERKING, ACTION, _stored_shape(r)) for r in demo_rows]
    assert all(before), "the stored shape fails the schema"
    found = "\n".join(p for ps in before for p in ps)
    for reason in ("None is not of type 'string'",  # null where the key must be left out
                   "tijdstip: '",  # a time without a time zone
                   "verwerkingsactiviteitId: '",  # not a uuid
                   "is too long",  # objectId: 64 hex digits, the schema allows 40
                   "does not match '[0-9]{20}'"):  # uitvoerder deelwijs:org:N
        assert reason in found, reason
    assert "'url' is a required property" in found


def test_the_data_subjects_view_validates_against_the_inzage_api(app, demo_rows):
    subjects = {r.subject for r in demo_rows if r.subject}
    with app.transaction() as s:
        youth_ids = list(s.scalars(select(orm.Youth.id)))
    by_subject = {app.keys.subject(y): y for y in youth_ids}
    assert subjects <= set(by_subject)
    for row in demo_rows:
        view = audit.entry_view(row, for_subject=True)
        assert not {"gebruiker", "systeem", "gegevensbron"} & set(view)
        assert schemas.problems(schemas.INZAGE, LIMITED, view) == []
    # and as the inzage hands them to a parent (rights.inzage: the same views, plus a sentence)
    youth = by_subject[next(iter(subjects))]
    with app.transaction() as s:
        parent = s.scalars(select(orm.Guardian.id).where(
            orm.Guardian.youth_id == youth, orm.Guardian.has_gezag)).first()
        shown = rights.inzage(unit_of(app, s), youth, requester="parent", guardian_id=parent,
                              youth_agrees=True)
    assert shown["verwerkingslog"]
    for view in shown["verwerkingslog"]:
        assert schemas.problems(schemas.INZAGE, LIMITED, view) == [], view


def test_the_derived_ids_and_times_are_as_documented(app, demo_rows):
    for row in demo_rows:
        body, view = audit.body_of(row), audit.entry_view(row)
        assert view["url"] == f"urn:uuid:{row.actie_id}" and view["actieId"] == row.actie_id
        assert view["verwerkingsactiviteitId"] == str(uuid.uuid5(
            ACTIVITY_NS, f"{row.activity_id}@{body['verwerkingsactiviteitVersie']}"))
        assert view["deelwijs"]["verwerkingsactiviteit"] == row.activity_id
        if body.get("verwerkingId"):
            assert view["verwerkingId"] == str(uuid.uuid5(LOG_NS, body["verwerkingId"]))
            assert view["deelwijs"]["verwerking"] == body["verwerkingId"]
        else:
            assert "verwerkingId" not in view
        assert view["tijdstipRegistratie"] == row.registered_at.isoformat() + "+00:00"
        assert view["tijdstip"] == body["tijdstip"] + "+00:00"
        assert dt.datetime.fromisoformat(view["tijdstip"]).utcoffset() == dt.timedelta(0)
        for i, obj in enumerate(view["verwerkteObjecten"]):
            assert obj["objectId"] == row.subject[:40] and len(row.subject) == 64
            assert obj["verwerktObjectId"] == str(uuid.uuid5(LOG_NS, f"{row.actie_id}/{i}"))
            assert obj["url"] == f"urn:uuid:{obj['verwerktObjectId']}"
        assert None not in view.values()
        # nothing else changed: every other stored key is exported as it was stored
        mapped = {"verwerkingsactiviteitId", "verwerkingId", "tijdstip", "uitvoerder",
                  "afnemerId", "soortAfnemerId", "verwerkteObjecten", "foreign_operation"}
        for key, value in body.items():
            if key not in mapped and value is not None:
                assert view[key] == value, key


def test_organisations_are_named_by_their_oin_or_under_deelwijs(app, world, build):
    with app.transaction() as s:
        s.get(orm.Organisation, world.orgs["school"]).oin = OIN_SCHOOL
        s.get(orm.Organisation, world.orgs["leerplicht"]).oin = OIN_LEERPLICHT
    youth = build.youth()
    case = build.case("thuiszitters", participants=("leerplicht", "gemeente"), youth_id=youth)
    build.disclose("alice", "leerplicht", {"verzuim": "12 uur"}, TODAY, case_id=case)
    build.disclose("alice", "gemeente", {"verzuim": "12 uur"}, TODAY, case_id=case)
    with app.transaction() as s:
        views = [audit.entry_view(r) for r in audit.entries_for_youth(unit_of(app, s), youth)]
    to_leerplicht, to_gemeente = [v for v in views if v["actie"] in ("disclose", "deny")]
    assert (to_leerplicht["uitvoerder"], to_leerplicht["soortAfnemerId"],
            to_leerplicht["afnemerId"]) == (OIN_SCHOOL, "OIN", OIN_LEERPLICHT)
    assert "afnemer" not in to_leerplicht.get("deelwijs", {})
    # the municipality has no OIN: left out of the VNG fields, named under `deelwijs`
    assert "afnemerId" not in to_gemeente and "soortAfnemerId" not in to_gemeente
    assert to_gemeente["deelwijs"]["afnemer"] == f"deelwijs:org:{world.orgs['gemeente']}"
    for v in views:
        assert schemas.problems(schemas.BEWERKING, ACTION, v) == []
    # the inzage still names the recipient without an OIN
    with app.transaction() as s:
        shown = rights.inzage(unit_of(app, s), youth, requester="parent",
                              guardian_id=build.guardians(youth)[0])
    sentences = [v["omschrijving"] for v in shown["verwerkingslog"]]
    assert any("Gemeente Voorbeeldstad, team Jeugd" in t for t in sentences), sentences


def test_an_entry_naming_no_youth_validates(app, world):
    # `keys rewrap` and similar administrative entries name no youth: verwerkteObjecten is
    # empty (the schema allows it) and there is no data subject attribute
    with app.transaction() as s:
        audit.log_system(s, region_id=world.region_id, name="registratie", actie="rekey",
                         extra={"sleutelrotatie": {"opnieuw_verpakt": 0}})
    [row] = [r for r in _rows(app) if r.subject is None]
    view = audit.entry_view(row)
    assert view["verwerkteObjecten"] == []
    assert schemas.problems(schemas.BEWERKING, ACTION, view) == []


# --- `deelwijs audit log`, as a user runs it -----------------------------------------------


def test_audit_log_output_validates(deelwijs_script, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEELWIJS_")}
    env["DEELWIJS_VAR"] = str(tmp_path / "var")

    def run(*args):
        proc = subprocess.run([str(deelwijs_script), *args], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=300, check=False)
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
        return proc.stdout

    run("demo", "--youths", "3")
    exported = [e for youth in ("1", "2", "3")
                for e in json.loads(run("audit", "log", "--youth", youth))]
    assert len(exported) > 10
    for entry in exported:
        assert schemas.problems(schemas.BEWERKING, ACTION, entry) == [], entry
        assert re.fullmatch(r"[0-9a-f]{40}", entry["verwerkteObjecten"][0]["objectId"])


def test_a_pruned_entry_is_exported_as_a_marker_not_as_an_action(app, world, build,
                                                                  monkeypatch):
    with monkeypatch.context() as m:  # an entry registered long ago: past the log's term
        m.setattr(audit, "_now", lambda: dt.datetime(1999, 5, 4, 12, 0))
        youth = build.youth(name="Oud")
    with app.engine.begin() as conn:  # the one UPDATE the triggers allow
        conn.execute(text("UPDATE log_entry SET body = NULL, pruned_at = :t "
                          "WHERE registered_at < :old"),
                     {"t": dt.datetime(2026, 3, 2, 8, 0), "old": dt.datetime(2000, 1, 1)})
    with app.transaction() as s:
        [row] = audit.entries_for_youth(unit_of(app, s), youth)
        view = audit.entry_view(row)
    assert view == {"actieId": row.actie_id, "seq": row.seq,
                    "tijdstipRegistratie": "1999-05-04T12:00:00+00:00",
                    "opgeschoond": "2026-03-02T08:00:00",
                    "deelwijs": {"verwerkingsactiviteit": row.activity_id}}
    # what was done is gone: it is no longer a Verwerkingsactie, and does not claim to be one
    assert schemas.problems(schemas.BEWERKING, ACTION, view)
