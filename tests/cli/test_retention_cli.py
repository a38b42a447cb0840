"""`deelwijs retention plan | run` and `deelwijs breach …`, run as the real console script on a
small region built in-process: a youth whose case closed long ago (due), one with an open
case (kept). Bad input: exit 2, nothing on stdout, one Dutch line on stderr, nothing written.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3

import pytest
from cryptography.fernet import Fernet
from tests.cli.cli_checks import ok, refused
from tests.services.helpers import unit_of

ON = "2026-03-02"




@pytest.fixture(scope="module")
def template(tmp_path_factory) -> dict:
    from deelwijs.services.app import open_app
    from deelwijs.services.casus import cases, youths
    from deelwijs.services.covenant import registry
    from deelwijs.settings import Settings

    folder = tmp_path_factory.mktemp("retention")
    key = Fernet.generate_key()
    (folder / "master.key").write_bytes(key)
    app = open_app(Settings(f"sqlite:///{folder / 'deelwijs.sqlite3'}", key))
    start = dt.date(2023, 1, 1)
    with app.transaction() as s:
        u = unit_of(app, s)
        west = registry.create_region(u, "west", "Regio West")
        version = registry.activate_ruleset(u, west, "voorbeeldregio", start)
        school = registry.create_organisation(u, west, "school", "Stichting De Linde")
        swv = registry.create_organisation(u, west, "swv", "SWV West")
        registry.sign_covenant(u, swv, version, start)
        registry.grant_mandate(u, school, swv, start, "M-1")
        registry.sign_covenant(u, swv, version, start, on_behalf_of=school)
        alice = registry.create_professional(u, school, "Alice Bakker", "intern begeleider")
        ruleset = app.active_ruleset(s, west.id)[1]
        ids = {"school": school.id, "alice": alice.id}
        for name, closed in (("gone", dt.date(2024, 1, 10)), ("kept", None)):
            youth = youths.create_youth(unit_of(app, s, today=dt.date(2026, 3, 2)), west,
                                        f"Jongere {name}", dt.date(2014, 6, 15),
                                        guardians=[{"name": "Ouder", "relation": "moeder",
                                                    "gezag": True}])
            case = cases.open_case(unit_of(app, s, by=alice), ruleset, west,
                                   f"Zorgen om jongere {name}", "oza",
                                   [swv.id], dt.date(2023, 9, 1), youth=youth)
            meeting = cases.schedule_meeting(unit_of(app, s), case, dt.date(2023, 10, 2),
                                             ["Opening", f"Thuissituatie van {name}"], [])
            cases.add_action(unit_of(app, s), meeting, alice, f"Moeder van {name} bellen",
                             dt.date(2023, 10, 16))
            case.closed_on = closed
            ids[name] = youth.id
    app.engine.dispose()
    return {"folder": folder, **ids}


@pytest.fixture
def region(template, tmp_path) -> dict:
    var = tmp_path / "var"
    var.mkdir()
    for name in ("deelwijs.sqlite3", "deelwijs.sqlite3-wal", "master.key"):
        if (template["folder"] / name).exists():
            shutil.copyfile(template["folder"] / name, var / name)
    return template


def test_plan_dry_run_run_and_a_second_run(deelwijs, region, tmp_path):
    plan = ok(deelwijs("retention", "plan", "--on", ON))
    assert (plan["due"], plan["kept"]) == (1, 1)
    [due] = plan["youths"]
    assert (due["youth_id"], due["keep_until"], due["rule"]) == (
        region["gone"], "2025-01-10", "retention.casusoverleg_verslag")
    everyone = ok(deelwijs("retention", "plan", "--on", ON, "--all", "--region", "west"))
    assert {y["youth_id"]: y["due"] for y in everyone["youths"]} == {
        region["gone"]: True, region["kept"]: False}

    dry = deelwijs("retention", "run", "--dry-run", "--on", ON)
    assert (ok(dry)["dry_run"], ok(dry)["shredded"]) == (True, 1)
    assert ok(deelwijs("retention", "plan", "--on", ON))["due"] == 1  # nothing changed

    done = deelwijs("retention", "run", "--on", ON)
    result = ok(done)
    assert (result["dry_run"], result["shredded"], result["kept"]) == (False, 1, 1)
    assert result["youths"][0]["wiped"]["guardian"] == 1
    assert "vernietigingsronde" in done.stderr  # the progress bar
    assert {k: result["youths"][0]["wiped"][k] for k in ("casus", "meeting", "agenda_item",
                                                          "action")} == {
        "casus": 1, "meeting": 1, "agenda_item": 2, "action": 1}
    shown = ok(deelwijs("youth", "show", region["gone"]))
    assert shown.get("shredded") is True
    # the free text about the shredded youth: neither ciphertext nor plaintext is left; the
    # kept youth's is still only there encrypted
    with sqlite3.connect(tmp_path / "var" / "deelwijs.sqlite3") as conn:
        stored = {r[0]: (r[1], r[2] is not None) for r in conn.execute(
            "SELECT youth_id, title, title_enc FROM casus")}
        texts = " ".join(str(v) for table in ("casus", "meeting", "agenda_item", "action")
                         for row in conn.execute(f"SELECT * FROM {table}") for v in row)
    assert stored == {region["gone"]: ("", False), region["kept"]: ("", True)}
    assert "jongere gone" not in texts and "Thuissituatie" not in texts
    again = ok(deelwijs("retention", "run", "--on", ON))
    assert (again["due"], again["shredded"], again["log_pruned"]) == (0, 0, 0)


def test_retention_bad_input(deelwijs, region):
    future = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    refused(deelwijs("retention", "run", "--on", future), "--on", "in de toekomst",
            "--dry-run")
    refused(deelwijs("retention", "plan", "--on", "2026-02-30"), "--on", "geen datum")
    refused(deelwijs("retention", "plan", "--region", "noord"), "region",
            "onbekende regio 'noord'")
    assert ok(deelwijs("retention", "plan", "--on", ON))["due"] == 1


def test_breach_round_trip(deelwijs, region):
    base = ("breach", "record", "--region", "west", "--org", region["school"], "--by",
            region["alice"], "--description", "Verslag naar de verkeerde ouder gemaild.")
    refused(deelwijs(*base, "--risk", "hoog", "--data", "gedrg", "--youth", region["kept"],
                     "--discovered", "2026-03-02T14:30"), "categories[0]", "bedoelt u 'gedrag'")
    refused(deelwijs(*base, "--risk", "hoog", "--data", "gedrag",
                     "--discovered", "2 maart"), "--discovered", "JJJJ-MM-DDTUU:MM")
    assert deelwijs("breach", "list").stdout == ""

    breach = ok(deelwijs(*base, "--risk", "hoog", "--data", "gedrag", "--youth",
                         region["kept"], "--discovered", "2026-03-02T14:30"))
    assert (breach["discovered_at"], breach["ap_deadline"]) == (
        "2026-03-02T14:30+01:00", "2026-03-05T14:30+01:00")
    assert breach["subjects"] == [{"youth_id": region["kept"], "must_inform": True,
                                   "informed_on": None}]
    bid = breach["id"]
    refused(deelwijs("breach", "no-notification", bid, "--version", 1, "--reason", "nee",
                     "--by", region["alice"]), "risk", "72 uur")
    overdue = ok(deelwijs("breach", "overdue", "--at", "2026-03-05T14:31"))
    assert [b["id"] for b in overdue] == [bid]
    assert ok(deelwijs("breach", "overdue", "--at", "2026-03-05T14:30")) == []

    refused(deelwijs("breach", "notify-ap", bid, "--version", 1, "--reference", "AP-1",
                     "--by", region["alice"], "--at", "2026-03-06T09:00"),
            "delay_reason", "art. 33 lid 1 AVG")
    notified = ok(deelwijs("breach", "notify-ap", bid, "--version", 1, "--reference",
                           "AP-1", "--by", region["alice"], "--at", "2026-03-04T09:00"))
    assert (notified["version"], notified["ap_reference"]) == (2, "AP-1")
    refused(deelwijs("breach", "inform", bid, "--youth", region["kept"], "--version", 1,
                     "--by", region["alice"], "--on", "2026-03-04"),
            "expected_version", "versie 2, u zag 1")
    informed = ok(deelwijs("breach", "inform", bid, "--youth", region["kept"], "--version", 2,
                           "--by", region["alice"], "--on", "2026-03-04"))
    assert (informed["version"], informed["still_to_inform"]) == (3, [])
    assert ok(deelwijs("breach", "overdue", "--at", "2026-03-09T00:00")) == []
    [line] = deelwijs("breach", "list", "--region", "west").stdout.splitlines()
    assert line.split()[0] == str(bid) and "gemeld bij de AP" in line
    assert ok(deelwijs("breach", "show", bid))["version"] == 3
    refused(deelwijs("breach", "show", 999), "breach", "onbekend datalek (999)")
