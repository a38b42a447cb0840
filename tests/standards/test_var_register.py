"""The register of processing activities against the VNG VAR API's own OpenAPI document
(vendored in tests/standards/vng): with the region's controller passed in, every entry of
`deelwijs register export --region R` validates as a `Verwerkingsactiviteit`, names the
controller's OIN as `verantwoordelijkeOrganisatie`, and holds one ground in `grondslag`, one
entry per ground of each activity. Before, the mapping gave `null` for the OIN and several
grounds joined in one field; without a controller's OIN the export now leaves the VAR part out
and says why."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from tests.cli.cli_checks import ok
from tests.services.helpers import unit_of
from tests.standards import schemas

from deelwijs.domain import register
from deelwijs.rules import loader
from deelwijs.services.covenant import registry
from deelwijs.storage import orm

VAR = "Verwerkingsactiviteit"
OIN = "00000001821002193000"
CONTROLLER = "Gemeente Westdorp"
ACTIVITY_NS = uuid.uuid5(uuid.NAMESPACE_URL, "https://deelwijs.nl/verwerkingsactiviteit")


def avg_grounds() -> set[str]:
    """The grounds the VAR schema's `grondslag` lists ("De AVG benoemt als grondslagen: …"),
    plus the one it leaves out: vital interest (art. 6 lid 1 sub d AVG), a ground of the
    raadsonderzoek route."""
    text = schemas.document(schemas.VAR)["components"]["schemas"][VAR]["properties"][
        "grondslag"]["description"]
    listed = {g.strip() for g in re.findall(r"\*\s*([^*]+?)(?=\s*\*|$)", text)}
    assert listed == {"Gerechtvaardigd belang", "Publieke taak", "Toestemming betrokkene",
                      "Uitvoering overeenkomst", "Wettelijke verplichting"}
    return listed | {"Vitaal belang"}


def check_entries(entries: list[dict], activities: list[dict], oin: str) -> None:
    grounds = avg_grounds()
    for v in entries:
        assert schemas.problems(schemas.VAR, VAR, v) == [], v
        assert v["verantwoordelijkeOrganisatie"] == oin
        assert v["grondslag"] in grounds, v["grondslag"]
    # one entry per ground of every activity, linked to the activity version the log names
    expected = []
    for a in activities:
        version = str(uuid.uuid5(ACTIVITY_NS, f"{a['id']}@{a['versie']}"))
        mine = [v for v in entries if v["gebaseerdOp"] == f"urn:uuid:{version}"]
        assert [v["grondslag"] for v in mine] == register._vng_grounds(a["grondslag"])
        for v in mine:
            assert v["id"] == str(uuid.uuid5(ACTIVITY_NS,
                                             f"{a['id']}@{a['versie']}#{v['grondslag']}"))
            assert v["naam"].startswith(a["naam"][:200])
        expected.extend(mine)
    assert expected == entries
    assert len({v["id"] for v in entries}) == len(entries)


@pytest.mark.parametrize("ruleset", ["model-convenant", "voorbeeldregio"])
def test_every_var_entry_validates_with_the_controllers_oin(ruleset):
    acts = register.activities(loader.resolve(ruleset))
    doc = json.loads(register.to_json(acts, {"naam": CONTROLLER, "oin": OIN}))
    assert "vng_toelichting" not in doc
    assert len(doc["vng"]) > len(acts)  # several activities have two grounds
    check_entries(doc["vng"], acts, OIN)


def test_the_old_mapping_did_not_validate():
    acts = register.activities(loader.model())
    # what the export gave: the OIN null, the grounds joined in one field
    old = [{**v, "verantwoordelijkeOrganisatie": None,
            "grondslag": "; ".join(register._vng_grounds(a["grondslag"]))}
           for a in acts for v in register.to_vng(a, OIN)[:1]]
    assert all(schemas.problems(schemas.VAR, VAR, v) for v in old)
    assert sum(v["grondslag"] not in avg_grounds() for v in old) > len(acts) // 2
    with pytest.raises(ValueError):
        register.to_vng(acts[0], None)
    with pytest.raises(ValueError):
        register.to_vng(acts[0], "deelwijs:org:1")


def test_without_the_controllers_oin_the_var_part_is_left_out():
    acts = register.activities(loader.model())
    for controller, says in ((None, "--region"), ({"naam": None, "oin": None}, "--controller"),
                             ({"naam": CONTROLLER, "oin": None}, "geen OIN")):
        doc = json.loads(register.to_json(acts, controller))
        assert doc["vng"] == [] and says in doc["vng_toelichting"], controller


def test_the_region_controller_is_found_on_both_databases(app):
    with app.transaction() as s:
        u = unit_of(app, s)
        region = registry.create_region(u, "west", "Regio West", controller_name=CONTROLLER,
                                        controller_address="Postbus 12\n0000 AB Westdorp",
                                        fg_email="fg@westdorp.example")
        registry.create_organisation(u, region, "gemeente", CONTROLLER.upper(), oin=OIN,
                                     domain="jeugd")
        registry.create_organisation(u, region, "school", "Stichting De Linde")
        controller = registry.controller(u, region)
    assert controller == {"naam": CONTROLLER, "oin": OIN, "organisatie": CONTROLLER.upper(),
                          "adres": "Postbus 12\n0000 AB Westdorp",
                          "fg": {"naam": None, "email": "fg@westdorp.example",
                                 "telefoon": None}}
    acts = register.activities(loader.resolve("voorbeeldregio"))
    check_entries(json.loads(register.to_json(acts, controller))["vng"], acts, OIN)
    with app.transaction() as s:
        u = unit_of(app, s)
        other = registry.create_region(u, "oost", "Regio Oost", controller_name="Onbekend")
        assert registry.controller(u, other)["oin"] is None
        assert registry.controller(u, s.get(orm.Region, other.id))["organisatie"] is None


# --- `deelwijs register export|show --region`, as a user runs it ---------------------------


def test_register_export_and_show_with_a_region(deelwijs):
    ok(deelwijs("region", "create", "west", "Regio West", "--controller", CONTROLLER,
                "--controller-address", "Postbus 12\n0000 AB Westdorp",
                "--fg-name", "F. de Voorbeeld", "--fg-email", "fg@westdorp.example"))
    ok(deelwijs("region", "ruleset", "activate", "voorbeeldregio", "--region", "west",
                "--on", "2026-01-01"))
    without_oin = deelwijs("register", "export", "--region", "west")
    assert without_oin.returncode == 0, without_oin.stderr
    assert json.loads(without_oin.stdout)["vng"] == []
    assert without_oin.stderr.startswith("Let op: ") and "geen OIN" in without_oin.stderr

    ok(deelwijs("org", "create", "--region", "west", "--party", "gemeente", "--name",
                CONTROLLER, "--oin", OIN, "--domain", "jeugd"))
    run = deelwijs("register", "export", "--region", "west")
    assert run.returncode == 0 and run.stderr == "", run.stderr
    doc = json.loads(run.stdout)
    rs = loader.resolve("voorbeeldregio")
    assert doc["register"]["ruleset"] == rs.ref()  # the region's active ruleset
    assert doc["register"]["verwerkingsverantwoordelijke"]["oin"] == OIN
    assert sorted(a["id"] for a in doc["activiteiten"]) == sorted(
        a["id"] for a in register.activities(rs))
    check_entries(doc["vng"], doc["activiteiten"], OIN)
    assert len(doc["vng"]) > len(doc["activiteiten"]) == 16

    shown = deelwijs("register", "show", "--region", "west")
    assert shown.returncode == 0, shown.stderr
    assert f"verwerkingsverantwoordelijke: {CONTROLLER} (OIN {OIN})" in shown.stdout
    assert "adres: Postbus 12, 0000 AB Westdorp" in shown.stdout
    assert "functionaris gegevensbescherming: F. de Voorbeeld, fg@westdorp.example" in (
        shown.stdout)

    unknown = deelwijs("register", "export", "--region", "noord")
    assert unknown.returncode == 2 and unknown.stdout == ""
    assert "noord" in unknown.stderr and len(unknown.stderr.splitlines()) == 1


def test_a_region_names_its_controllers_oin_itself(app):
    """Migration 0007: the controller need not be an organisation of the region; its own OIN
    wins over an organisation of the same name, and a malformed OIN is refused."""
    from deelwijs.services.errors import Invalid

    with app.transaction() as s:
        u = unit_of(app, s)
        region = registry.create_region(u, "zuid", "Regio Zuid", controller_name=CONTROLLER,
                                        controller_oin=OIN)
        registry.create_organisation(u, region, "gemeente", CONTROLLER,
                                     oin="00000001000000000000", domain="jeugd")
        controller = registry.controller(u, region)
        assert controller["oin"] == OIN
        with pytest.raises(Invalid) as bad:
            registry.update_region(u, region, controller_oin="1234")
        assert (bad.value.code, bad.value.field) == ("invalid_oin", "region.controller_oin")
        registry.update_region(u, region, controller_oin="")
        assert s.get(orm.Region, region.id).controller_oin is None
    acts = register.activities(loader.model())
    check_entries(json.loads(register.to_json(acts, controller))["vng"], acts, OIN)


def test_the_demo_region_exports_a_register_that_validates(deelwijs):
    demo = deelwijs("demo", "--youths", "3")
    assert demo.returncode == 0, demo.stderr
    run = deelwijs("register", "export", "--region", "demo")
    assert run.returncode == 0 and run.stderr == "", run.stderr
    doc = json.loads(run.stdout)
    oin = doc["register"]["verwerkingsverantwoordelijke"]["oin"]
    assert oin and len(oin) == 20
    check_entries(doc["vng"], doc["activiteiten"], oin)
