"""Running a region's covenant from the command line (src/deelwijs/cli_manage.py): the region
and its ruleset, organisations, signatures and mandates, professionals, youths, cases with
meetings, minutes, actions and accession forms, weighings, the municipal workflow; and the
database gaps of cli_store (a master key that does not fit, a database that cannot be reached,
`db upgrade` without a master key).

Every command runs as the real console script in a subprocess (1–2 s each on a 2-core
machine, nearly all of it imports), so each test groups its assertions, and commands that do
not depend on each other run side by side (`together`): each is its own process and its own
transaction, and SQLite serialises their writes. One test builds a region on a fresh database
through the command line alone; the error-path tests start from a small region built
in-process (`template`) and check, for each command family, exit 2, one Dutch line on stderr,
nothing on stdout, and that a list or show command run afterwards finds nothing written.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest
from cryptography.fernet import Fernet
from tests.cli.cli_checks import ok, refused
from tests.services.helpers import unit_of

from deelwijs.domain.exceptions import QUESTIONS

HAS_PG = bool(os.environ.get("DEELWIJS_TEST_DATABASE_URL", "").strip())


def together(run, *commands) -> list[subprocess.CompletedProcess]:
    """Run independent commands at the same time; the results in the order given."""
    with ThreadPoolExecutor(max_workers=3) as pool:
        return list(pool.map(lambda args: run(*args), commands))




# --- a fresh region, built through the command line alone -----------------------------------


def test_a_region_runs_its_covenant_from_the_command_line(deelwijs):
    ok(deelwijs("region", "create", "west", "Regio West"))  # alone: it migrates the database
    org = ("org", "create", "--region", "west")
    act, school, swv, youthcare, town = map(ok, together(
        deelwijs,
        ("region", "ruleset", "activate", "voorbeeldregio", "--region", "west",
         "--on", "2025-01-01"),
        (*org, "--party", "school", "--name", "Stichting De Linde"),
        (*org, "--party", "swv", "--name", "SWV West"),
        (*org, "--party", "jeugdhulp", "--name", "Wijkteam Centrum", "--kvk", "12345678"),
        (*org, "--party", "gemeente", "--name", "Gemeente West", "--domain", "jeugd")))
    assert act["ruleset_id"] == "voorbeeldregio" and act["digest"].startswith("sha256:")
    assert [o["party"] for o in (school, swv, youthcare, town)] == [
        "school", "swv", "jeugdhulp", "gemeente"]
    school, swv, youthcare, town = (o["id"] for o in (school, swv, youthcare, town))

    signer, mandate, alice, dave = map(ok, together(
        deelwijs,
        ("org", "signatory", "add", swv, "--name", "W. Bestuurder", "--function", "bestuurder"),
        ("org", "mandate", "grant", school, "--swv", swv, "--on", "2025-01-02",
         "--document", "MACHT-1"),
        ("professional", "create", "--org", school, "--name", "Alice Bakker",
         "--function", "intern begeleider"),
        ("professional", "create", "--org", town, "--name", "Dave Mulder",
         "--function", "consulent sociaal domein", "--hat", "toeleiding", "--hat", "coordinatie")))
    assert (mandate["school"], mandate["swv"], mandate["revoked_on"]) == (school, swv, None)
    assert dave["hats"] == ["toeleiding", "coordinatie"]
    alice, dave = alice["id"], dave["id"]

    sig, behalf, youth = map(ok, together(
        deelwijs,
        ("org", "sign", swv, "--on", "2025-01-02", "--signatory", signer["id"]),
        ("org", "sign", swv, "--on", "2025-01-03", "--on-behalf-of", school),
        ("youth", "create", "--region", "west", "--name", "Sem de Vries", "--birth", "2015-03-01",
         "--bsn", "999990019", "--school", school, "--by", alice,
         "--guardian", "Fatima de Vries:moeder:gezag", "--guardian", "Daan de Vries:vader:gezag")))
    assert (sig["signatory_id"], sig["on_behalf_of"], sig["digest"]) == (
        signer["id"], None, act["digest"])
    assert behalf["on_behalf_of"] == school
    assert youth["bsn"] == "*****0019" and youth["school_id"] == school
    assert [(g["name"], g["gezag"]) for g in youth["guardians"]] == [
        ("Fatima de Vries", True), ("Daan de Vries", True)]

    consent = ("consent", "record", "--youth", youth["id"], "--role", "parent", "--answer",
               "given", "--purpose", "oza", "--data", "gedrag", "--on", "2025-09-01")
    *given, case, flow = map(ok, together(
        deelwijs,
        *((*consent, "--guardian", g["id"], "--document", f"TOEST-{g['id']}")
          for g in youth["guardians"]),
        ("case", "open", "--region", "west", "--purpose", "TOM-tafel", "--title",
         "Zorgen over Sem", "--by", alice, "--youth", youth["id"], "--participant", youthcare,
         "--participant", town, "--on", "2025-09-02"),
        ("workflow", "open", "--youth", youth["id"], "--by", dave)))
    assert [(c["version"], c["answer"]) for c in given] == [(1, "given"), (1, "given")]
    assert (case["purpose"], case["overleg"], case["version"]) == ("oza", "TOM-tafel", 1)
    assert case["title"] == "Zorgen over Sem"
    assert sorted(p["id"] for p in case["participants"]) == sorted([school, youthcare, town])
    assert (flow["state"], flow["version"], flow["next"]) == ("new", 1, ["intake"])

    # the municipal workflow, one step at a time, beside the casusoverleg
    steps = iter([("intake", "--note", "eerste gesprek"), ("assessment", "--problems", "multiple"),
                  ("investigation", "--domain", "jeugd", "--domain", "onderwijs",
                   "--with-resident"),
                  ("proposal",), ("decision", "--outcome", "accepted"),
                  ("coordinator", "--coordinator", str(dave), "--coordination", "licht")])
    taken = []

    def step(*more):
        nonlocal flow
        name, *details = next(steps)
        taken.append(name)
        flow, *others = map(ok, together(
            deelwijs, ("workflow", "step", flow["id"], "--version", flow["version"], "--step",
                       name, "--by", dave, "--on", f"2025-09-{4 + len(taken):02d}", *details),
            *more))
        assert (flow["state"], flow["version"]) == (name, len(taken) + 1)
        return others

    meeting, form = step(
        ("case", "meeting", "schedule", case["id"], "--on", "2025-09-15", "--agenda", "Opening",
         "--agenda", "Bespreking", "--participant", alice),
        ("case", "accession", "record", case["id"], "--org", youthcare, "--signed", "2025-09-02",
         "--document", "TOETR-1"))
    assert [a["title"] for a in meeting["agenda"]] == ["Opening", "Bespreking"]
    assert form["notified_on"] is None
    minute, action, form = step(
        ("case", "minute", "write", meeting["agenda"][1]["id"], "--by", alice,
         "--text", "Gedrag in de klas besproken."),
        ("case", "action", "add", meeting["id"], "--owner", alice, "--description",
         "Gesprek met ouders", "--due", "2025-09-30", "--evaluate", "2025-10-30"),
        ("case", "accession", "notify", form["id"], "--on", "2025-09-03"))
    assert (minute["version"], minute["agenda_item_id"], minute["text"]) == (
        1, meeting["agenda"][1]["id"], "Gedrag in de klas besproken.")
    assert (action["owner"], action["due_on"]) == (alice, "2025-09-30")
    assert form["notified_on"] == "2025-09-03"
    disclose = ("disclosure", "record", "--professional", alice, "--to", youthcare,
                "--case", case["id"], "--on", "2025-09-20")
    allowed, denied = step((*disclose, "--data", "gedrag=Trekt zich terug"),
                           (*disclose, "--data", "gezondheid=Astma"))
    assert (allowed["outcome"], allowed["items"][0]["codes"]) == ("allow", ["CONSENT"])
    assert denied["outcome"] == "deny"
    assert allowed["ruleset_digest"] == denied["ruleset_digest"] == act["digest"]
    step()
    step()
    [shown] = step(("case", "show", case["id"]))
    assert (flow["scope"], flow["coordination"], flow["next"]) == (
        ["jeugd", "onderwijs"], "licht", [])
    assert [s["step"] for s in flow["steps"]] == taken == [
        "intake", "assessment", "investigation", "proposal", "decision", "coordinator"]
    # the free text about the youth is stored encrypted and shown decrypted
    assert shown["title"] == "Zorgen over Sem"
    assert flow["steps"][0]["details"] == {"note": "eerste gesprek"}
    assert [m["agenda"] for m in shown["meetings"]] == [["Opening", "Bespreking"]]
    assert shown["meetings"][0]["actions"][0]["description"] == "Gesprek met ouders"
    listed = deelwijs("case", "list", "--region", "west")
    assert listed.returncode == 0, listed.stderr
    assert [line.split()[0] for line in listed.stdout.splitlines()] == [str(case["id"])]
    assert listed.stdout.rstrip().endswith("Zorgen over Sem")
    assert sorted(d["outcome"] for d in shown["disclosures"]) == ["allow", "deny"]


# --- error paths, on a small region built in-process ----------------------------------------

START = dt.date(2025, 1, 1)


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> dict:
    """A migrated SQLite file and its master key, holding region `west` (voorbeeldregio),
    five organisations, a signatory, a mandate, three professionals, a youth with two parents,
    a case with one meeting (two agenda items, a minute), an accession form and a new
    workflow; and region `oost` with a youth, an SWV and a professional of its own. Returns the
    folder and the ids."""
    from sqlalchemy import select

    from deelwijs.services.app import open_app
    from deelwijs.services.casus import cases, youths
    from deelwijs.services.covenant import registry
    from deelwijs.settings import Settings
    from deelwijs.storage import orm

    folder = tmp_path_factory.mktemp("template")
    key = Fernet.generate_key()
    (folder / "master.key").write_bytes(key)
    app = open_app(Settings(f"sqlite:///{folder / 'deelwijs.sqlite3'}", key))
    ids: dict = {}
    today = dt.date.today()
    with app.transaction() as s:
        u = unit_of(app, s)
        west = registry.create_region(u, "west", "Regio West")
        version = registry.activate_ruleset(u, west, "voorbeeldregio", START)
        orgs = {k: registry.create_organisation(u, west, k, name) for k, name in (
            ("school", "Stichting De Linde"), ("swv", "SWV West"),
            ("jeugdhulp", "Wijkteam Centrum"), ("gemeente", "Gemeente West"),
            ("jgz", "JGZ West"))}
        ids.update({k: o.id for k, o in orgs.items()})
        ids["signatory"] = registry.add_signatory(u, orgs["swv"], "W. Bestuurder",
                                                  "bestuurder").id
        registry.sign_covenant(u, orgs["swv"], version, START)
        ids["mandate"] = registry.grant_mandate(u, orgs["school"], orgs["swv"], START, "M-1").id
        pros = {k: registry.create_professional(u, orgs[org], name, "medewerker", hats)
                for k, org, name, hats in (
                    ("alice", "school", "Alice Bakker", []),
                    ("bob", "jeugdhulp", "Bob Jansen", ["hulpverlening"]),
                    ("dave", "gemeente", "Dave Mulder", []))}
        ids.update({k: p.id for k, p in pros.items()})
        youth = youths.create_youth(unit_of(app, s, today=today), west, "Sem de Vries",
                                    dt.date(2015, 3, 1), guardians=[
                                        {"name": "Fatima de Vries", "relation": "moeder",
                                         "gezag": True},
                                        {"name": "Daan de Vries", "relation": "vader",
                                         "gezag": True}])
        ids["youth"] = youth.id
        case = cases.open_case(unit_of(app, s, by=pros["alice"]), app.active_ruleset(s, west.id)[1],
                               west, "Zorgen", "oza",
                               [orgs["jeugdhulp"].id], dt.date(2025, 9, 2),
                               youth=youth)
        ids["case"] = case.id
        meeting = cases.schedule_meeting(unit_of(app, s), case, dt.date(2025, 9, 15),
                                         ["Opening", "Bespreking"],
                                         [pros["alice"].id])
        ids["meeting"] = meeting.id
        items = s.scalars(select(orm.AgendaItem).where(orm.AgendaItem.meeting_id == meeting.id)
                          .order_by(orm.AgendaItem.position)).all()
        ids["items"] = [i.id for i in items]
        ids["minute"] = cases.write_minute(unit_of(app, s, by=pros["alice"]), items[0].id,
                                           "Welkom.").id
        ids["form"] = registry.record_accession(u, orgs["jeugdhulp"], case, dt.date(2025, 9, 2),
                                                "TOETR-1").id
        ids["workflow"] = cases.open_workflow(unit_of(app, s, by=pros["dave"]), west, youth).id
        oost = registry.create_region(u, "oost", "Regio Oost")
        ids["other_youth"] = youths.create_youth(unit_of(app, s, today=today), oost,
                                                 "Noor Jansen", dt.date(2014, 1, 1)).id
        other_swv = registry.create_organisation(u, oost, "swv", "SWV Oost")
        ids["other_swv"] = other_swv.id
        ids["other_pro"] = registry.create_professional(u, other_swv, "Olga Oost", "consulent").id
    app.engine.dispose()
    return {"folder": folder, "key": key, **ids}


@pytest.fixture
def region(template, tmp_path) -> dict:
    """The template copied to where the `deelwijs` fixture looks (DEELWIJS_VAR)."""
    var = tmp_path / "var"
    var.mkdir()
    for name in ("deelwijs.sqlite3", "deelwijs.sqlite3-wal", "master.key"):
        if (template["folder"] / name).exists():
            shutil.copyfile(template["folder"] / name, var / name)
    return template


def test_region_and_organisation_errors_write_nothing(deelwijs, region):
    unknown, bad_day, party, signatory = together(
        deelwijs,
        ("region", "ruleset", "activate", "modelconvenant", "--region", "west"),
        ("region", "ruleset", "activate", "voorbeeldregio", "--region", "west",
         "--on", "2025-02-30"),
        ("org", "create", "--region", "west", "--party", "skool", "--name", "X"),
        ("org", "sign", region["jeugdhulp"], "--signatory", region["signatory"]))
    refused(unknown, "ruleset", "onbekende ruleset 'modelconvenant'", "model-convenant")
    refused(bad_day, "--on", "geen datum")
    refused(party, "party", "onbekende partijcode 'skool'")
    refused(signatory, "signatory", "W. Bestuurder tekent niet voor Wijkteam Centrum")
    activations, orgs, youthcare = together(
        deelwijs, ("region", "ruleset", "list", "--region", "west", "--json"),
        ("org", "list", "--region", "west"), ("org", "show", region["jeugdhulp"]))
    assert [(a["ruleset_id"], a["activated_on"], a["active"]) for a in ok(activations)] == [
        ("voorbeeldregio", "2025-01-01", True)]
    assert orgs.returncode == 0 and len(orgs.stdout.splitlines()) == 5, orgs.stdout
    assert ok(youthcare)["signatures"] == []


def test_professional_and_youth_errors_write_nothing(deelwijs, region):
    youth = ("youth", "create", "--region", "west", "--name", "Lina Bos", "--birth")
    future = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    hat, bsn, born, gezag = together(
        deelwijs,
        ("professional", "create", "--org", region["school"], "--name", "Eva",
         "--function", "mentor", "--hat", "pet"),
        (*youth, "2015-01-01", "--bsn", "123456789"),
        (*youth, future),
        (*youth, "2015-01-01", "--guardian", "Piet Bos:vader:ja"))
    refused(hat, "hats", "onbekende pet 'pet'")
    refused(bsn, "bsn", "geen geldig BSN")
    refused(born, "birth", "ligt in de toekomst")
    refused(gezag, "--guardian[0]", "gezag of geen-gezag")
    pros, youths = together(
        deelwijs, ("professional", "list", "--org", region["school"], "--json"),
        ("youth", "list", "--region", "west"))
    assert [p["name"] for p in ok(pros)] == ["Alice Bakker"]
    assert youths.returncode == 0, youths.stderr
    assert [line.split()[0] for line in youths.stdout.splitlines()] == [str(region["youth"])]


def test_case_errors_and_conflicts_write_nothing(deelwijs, region):
    runs = together(
        deelwijs,
        ("case", "open", "--region", "west", "--purpose", "oza", "--title", "T",
         "--by", region["alice"], "--youth", region["other_youth"]),
        # the meeting is flushed before its participants are checked: all of it rolls back
        ("case", "meeting", "schedule", region["case"], "--agenda", "Opening",
         "--participant", region["dave"]),
        # the version is raised before the agenda is checked: that rolls back as well
        ("case", "meeting", "update", region["meeting"], "--version", 1,
         "--agenda", "Bespreking"),
        ("case", "meeting", "update", region["meeting"], "--version", 7, "--on", "2025-09-16"),
        ("case", "minute", "write", region["items"][0], "--by", region["alice"],
         "--text", "Anders.", "--version", 3),
        ("case", "weighing", "record", region["case"], "--kind", "vital_interest",
         "--by", region["bob"], "--answer", "acute_gevaar=ja"))
    expected = [
        ("youth", "niet bij deze regio"),
        ("participants[0]", "Dave Mulder werkt niet bij een deelnemende organisatie"),
        ("agenda", "'Opening' heeft een verslag"),
        ("expected_version", "het overleg is intussen gewijzigd", "u zag 7"),
        ("expected_version", "het verslag is intussen gewijzigd"),
        ("answers", "onbekende vraag: acute_gevaar")]
    for run, (field, *words) in zip(runs, expected, strict=True):
        refused(run, field, *words)
    shown = ok(deelwijs("case", "show", region["case"]))
    assert [(m["version"], m["held_on"], m["agenda"], m["actions"])
            for m in shown["meetings"]] == [(1, "2025-09-15", ["Opening", "Bespreking"], [])]


def test_workflow_errors_write_nothing_and_a_weighing_names_what_is_open(deelwijs, region):
    flow, dave = region["workflow"], region["dave"]
    skipped, stray, stale, future, weighing = together(
        deelwijs,
        ("workflow", "step", flow, "--version", 1, "--step", "investigation", "--by", dave,
         "--domain", "jeugd", "--with-resident"),
        ("workflow", "step", flow, "--version", 1, "--step", "intake", "--by", dave,
         "--domain", "jeugd"),
        ("workflow", "step", flow, "--version", 2, "--step", "intake", "--by", dave),
        ("workflow", "step", flow, "--version", 1, "--step", "intake", "--by", dave,
         "--on", "2999-01-01"),
        ("case", "weighing", "record", region["case"], "--kind", "vital_interest",
         "--by", region["bob"], "--to", region["school"], "--data", "gezondheid",
         "--answer", "acute_danger=ja", "--answer", "minimum=nee"))
    refused(skipped, "step", "kan nu niet", "eerst: intake")
    refused(stray, "--domain", "hoort niet bij stap 'intake'")
    refused(stale, "expected_version", "het werkproces is intussen gewijzigd")
    refused(future, "on", "ligt in de toekomst")
    shown, by_dave, by_alice, by_bob = together(
        deelwijs, ("workflow", "show", flow), ("workflow", "show", flow, "--by", dave),
        ("workflow", "show", flow, "--by", region["alice"]),
        ("workflow", "show", flow, "--by", region["bob"]))
    shown = ok(shown)  # through cases.read_workflow, as the API and the pages read it
    assert (shown["state"], shown["version"], shown["steps"]) == ("new", 1, [])
    assert ok(by_dave) == shown
    refused(by_alice, "by", "werkt niet voor de gemeente")  # a school never may
    refused(by_bob, "workflow", "onbekend")  # youth care that never worked in it: unknown
    weighed = ok(weighing)  # recorded, but not complete: it says what is missing
    assert (weighed["complete"], weighed["to_org_ids"], weighed["categories"]) == (
        False, [region["school"]], ["gezondheid"])
    assert [q["key"] for q in weighed["unanswered"]] == ["no_consent_possible"]
    assert any("'nee' op" in p for p in weighed["problems"])


def test_a_youths_startkwalificatie_and_a_weighing_about_a_youth_from_the_command_line(
        deelwijs, region):
    youth = ("youth", "create", "--region", "west", "--name", "Lina Bos")
    with_diploma, default, without, raad = map(ok, together(
        deelwijs, (*youth, "--birth", "2008-01-01", "--startkwalificatie"),
        (*youth, "--birth", "2008-02-02"),
        (*youth, "--birth", "2008-03-03", "--geen-startkwalificatie"),
        ("org", "create", "--region", "west", "--party", "raad",
         "--name", "Raad voor de Kinderbescherming West")))
    assert [y["startkwalificatie"] for y in (with_diploma, default, without)] == [
        True, False, False]
    assert ok(deelwijs("youth", "show", with_diploma["id"]))["startkwalificatie"] is True

    weigh = ("youth", "weighing", "record", region["youth"], "--by", region["bob"],
             "--to", raad["id"], "--data", "thuissituatie")
    answers = [a for key, _, form in QUESTIONS["statutory_power"]
               for a in ("--answer", f"{key}={'ja' if form == 'yes' else 'art. 1:240 BW'}")]
    case_kind, in_case, weighed = together(
        deelwijs, (*weigh, "--kind", "conflict_of_duties", *answers),
        ("case", "weighing", "record", region["case"], "--kind", "statutory_power",
         "--by", region["bob"], "--to", region["jeugdhulp"], "--data", "thuissituatie"),
        (*weigh, *answers))
    refused(case_kind, "kind", "hoort bij een casus")
    refused(in_case, "kind", "deelwijs youth weighing record")
    weighed = ok(weighed)
    assert (weighed["kind"], weighed["complete"], weighed["youth_id"], weighed["case_id"],
            weighed["to_org_ids"], weighed["categories"]) == (
        "statutory_power", True, region["youth"], None, [raad["id"]], ["thuissituatie"])
    disclosed = ok(deelwijs("disclosure", "record", "--professional", region["bob"],
                            "--to", raad["id"], "--youth", region["youth"],
                            "--purpose", "raadsonderzoek",
                            "--data", "thuissituatie=Zorgen thuis"))
    assert (disclosed["outcome"], disclosed["items"][0]["codes"]) == ("allow", ["LEGAL_POWER"])


def test_no_caller_passes_the_stored_facts_to_disclosure_record(deelwijs, region):
    """acceded, mandate, startkwalificatie and weighing_documented come from what is stored:
    `disclosure record` has no option for any of them."""
    shown = deelwijs("disclosure", "record", "--help")
    assert shown.returncode == 0, shown.stderr
    for word in ("acceded", "mandate", "mandaat", "toegetreden", "startkwalificatie",
                 "weighing", "afweging"):
        assert word not in shown.stdout.lower(), word
    record = ("disclosure", "record", "--professional", region["bob"], "--to", region["school"],
              "--case", region["case"], "--data", "gedrag=Trekt zich terug")
    runs = together(deelwijs, *((*record, flag) for flag in (
        "--acceded", "--discloser-acceded", "--mandate", "--startkwalificatie",
        "--weighing-documented")))
    for run in runs:
        assert run.returncode == 2 and run.stdout == "", (run.args, run.stdout, run.stderr)
        assert "onbekende optie" in run.stderr, run.stderr
    assert ok(deelwijs("case", "show", region["case"]))["disclosures"] == []


# --- the checks of the use cases the commands call, in-process (no subprocess needed) -------


@pytest.fixture
def app(region, tmp_path):
    from deelwijs.services.app import open_app
    from deelwijs.settings import Settings

    application = open_app(Settings(f"sqlite:///{tmp_path / 'var' / 'deelwijs.sqlite3'}",
                                    region["key"]))
    yield application
    application.engine.dispose()


def _refused(app, field: str, call) -> str:
    """Run call(session) in a transaction; it must raise a ServiceError on `field`."""
    from deelwijs.services.errors import ServiceError

    with pytest.raises(ServiceError) as exc, app.transaction() as s:
        call(s)
    assert exc.value.field == field, str(exc.value)
    return exc.value.message


def test_the_use_cases_keep_ids_from_other_organisations_regions_and_cases_out(app, region):
    from deelwijs.services.casus import cases, youths
    from deelwijs.services.covenant import registry
    from deelwijs.storage import orm

    day = dt.date(2025, 9, 20)
    pro = registry.professional
    assert "niet bij deze regio" in _refused(app, "swv", lambda s: registry.grant_mandate(
        unit_of(app, s), registry.organisation(s, region["school"]),
        registry.organisation(s, region["other_swv"]), day, "M-9"))
    assert "niet bij deze regio" in _refused(app, "school", lambda s: youths.create_youth(
        unit_of(app, s, today=day), registry.region_by_code(s, "oost"), "Kim",
        dt.date(2015, 1, 1), None, region["school"], []))
    assert "niet bij deze regio" in _refused(app, "on_behalf_of", lambda s: registry.sign_covenant(
        unit_of(app, s), registry.organisation(s, region["swv"]), None, day, None,
        region["other_swv"]))
    # an agenda item of a case the professional's organisation is not in: as an unknown one
    assert "onbekend agendapunt" in _refused(app, "agenda_item", lambda s: (
        cases.write_minute(unit_of(app, s, by=pro(s, region["dave"])), region["items"][1],
                           "Notitie")))
    assert "werkt niet bij een deelnemende" in _refused(app, "owner", lambda s: (
        cases.add_action(unit_of(app, s), region["meeting"], pro(s, region["dave"]), "Bellen", day,
                         None)))
    assert "neemt geen deel" in _refused(app, "organisation", lambda s: (
        registry.record_accession(unit_of(app, s), registry.organisation(s, region["jgz"]),
                                  cases.get_case(s, region["case"]), day, "T", None)))
    assert "werkt niet in de regio" in _refused(app, "by", lambda s: cases.open_workflow(
        unit_of(app, s, by=pro(s, region["dave"])), None, region["other_youth"]))
    assert "werkt niet in de regio" in _refused(app, "by", lambda s: cases.take_step(
        unit_of(app, s, by=pro(s, region["other_pro"])), region["workflow"], 1, "intake", {},
        day))
    assert "geen actieve ruleset" in _refused(app, "on", lambda s: cases.open_case(
        unit_of(app, s, by=pro(s, region["other_pro"])), None,
        registry.region_by_code(s, "oost"), "T", "oza", [], day, None))
    with app.transaction() as s:  # nothing of the above was written
        assert s.get(orm.Workflow, region["workflow"]).version == 1
        assert s.query(orm.Mandate).count() == 1 and s.query(orm.Action).count() == 0


def test_a_new_agenda_keeps_the_items_that_stay_and_refuses_to_drop_a_minute(app, region):
    from deelwijs.services.casus import cases

    opening, talk = region["items"]
    with app.transaction() as s:
        meeting = cases.update_meeting(unit_of(app, s), region["meeting"], 1, None,
                                        ["Opening", "Rondvraag", "Bespreking"])
        view = cases.meeting_view(s, meeting)
    assert view["version"] == 2
    assert [(a["id"] in (opening, talk), a["title"]) for a in view["agenda"]] == [
        (True, "Opening"), (False, "Rondvraag"), (True, "Bespreking")]
    assert [a["id"] for a in view["agenda"] if a["title"] != "Rondvraag"] == [opening, talk]
    with app.transaction() as s:  # Bespreking has no minute and goes; Opening has one
        view = cases.meeting_view(s,
                                  cases.update_meeting(unit_of(app, s), region["meeting"], 2, None,
                                                            ["Opening"]))
    assert [a["title"] for a in view["agenda"]] == ["Opening"]
    assert "heeft een verslag" in _refused(app, "agenda", lambda s: cases.update_meeting(
        unit_of(app, s), region["meeting"], 3, None, ["Bespreking"]))


def test_a_stored_ruleset_is_activated_by_digest_and_today_s_activation_is_active(app, region):
    from deelwijs.services.covenant import registry

    today = dt.date.today()
    with app.transaction() as s:
        u = unit_of(app, s, today=today)
        west = registry.region_by_code(s, "west")
        registry.activate_ruleset(u, west, "model-convenant", today + dt.timedelta(days=9))
        model = registry.latest_activation(s, west)
        digest = registry.activation_view(s, model)["digest"]
        oost = registry.region_by_code(s, "oost")
        registry.activate_ruleset(u, oost, digest, START)
        again = registry.latest_activation(s, oost)
        assert registry.activation_view(s, again)["ruleset_id"] == "model-convenant"
        listed = registry.activations(u, west)
    assert [(a["ruleset_id"], a["active"]) for a in listed] == [
        ("model-convenant", False), ("voorbeeldregio", True)]
    assert "onbekende ruleset" in _refused(app, "ruleset", lambda s: registry.activate_ruleset(
        unit_of(app, s), registry.region_by_code(s, "west"), "sha256:0", START))


# --- the database itself: the master key, reaching it, migrating it ------------------------


@pytest.fixture
def run_with(deelwijs):
    """The `deelwijs` fixture with extra environment variables: run_with(env, *args)."""
    def run(env: dict, *args) -> subprocess.CompletedProcess:
        return deelwijs(*args, env=env)

    return run


def test_a_master_key_that_does_not_fit_is_named_and_writes_nothing(run_with, deelwijs, region):
    other = {"DEELWIJS_MASTER_KEY": Fernet.generate_key().decode()}
    show, record, malformed = together(
        run_with,
        (other, "youth", "show", region["youth"]),
        (other, "disclosure", "record", "--professional", region["alice"],
         "--to", region["jeugdhulp"], "--case", region["case"], "--data", "verzuim=2 dagen",
         "--on", "2025-09-20"),
        ({"DEELWIJS_MASTER_KEY": "kapot"}, "youth", "show", region["youth"]))
    refused(show, "DEELWIJS_MASTER_KEY", "past niet bij de gegevens")
    refused(record, "DEELWIJS_MASTER_KEY", "past niet bij de gegevens")
    assert malformed.returncode == 2 and malformed.stdout == ""
    assert malformed.stderr.startswith("DEELWIJS_MASTER_KEY moet 32 bytes"), malformed.stderr
    listed = deelwijs("disclosure", "list", "--youth", region["youth"])  # the right key
    assert (listed.returncode, listed.stdout) == (0, ""), listed.stderr


def test_an_unreachable_database_is_named_with_exit_1(run_with):
    closed = {"DEELWIJS_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/x",
              "DEELWIJS_MASTER_KEY": Fernet.generate_key().decode()}
    commands = (("region", "list"), ("db", "upgrade"), ("db", "check"))
    for args, run in zip(commands, together(run_with, *((closed, *c) for c in commands)),
                         strict=True):
        assert (run.returncode, run.stdout) == (1, ""), (args, run.stderr)
        [line] = run.stderr.splitlines()
        assert line.startswith("database niet bereikbaar: ") and "port 1" in line, line


@pytest.mark.postgres
@pytest.mark.skipif(not HAS_PG, reason="DEELWIJS_TEST_DATABASE_URL is niet gezet")
def test_db_upgrade_needs_no_master_key_on_postgresql(run_with):
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from deelwijs.storage import db

    server = os.environ["DEELWIJS_TEST_DATABASE_URL"].strip()
    admin = db.make_engine(server).execution_options(isolation_level="AUTOCOMMIT")
    name = f"deelwijs_cli_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = {"DEELWIJS_DATABASE_URL": make_url(server).set(database=name)
               .render_as_string(hide_password=False)}
        head = db.head_revision()
        upgraded = run_with(url, "db", "upgrade")
        assert upgraded.returncode == 0, upgraded.stderr
        assert upgraded.stdout.strip() == f"database op schema {head} (nieuwste: {head})"
        checked = run_with(url, "db", "check")
        assert (checked.returncode, checked.stdout.strip()) == (0, f"schema {head}; nieuwste "
                                                                   f"{head}"), checked.stderr
        keyless = run_with(url, "region", "list")  # everything else does need the key
        assert keyless.returncode == 2 and "DEELWIJS_MASTER_KEY" in keyless.stderr
    finally:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :name AND pid <> pg_backend_pid()"),
                         {"name": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
