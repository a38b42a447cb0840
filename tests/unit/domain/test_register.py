"""The register of processing activities (AVG art. 30), derived from a ruleset.

Checks the shape the processing log relies on (one activity per purpose plus the system
activities, stable ids, a version that follows the ruleset's digest), every AVG art. 30(1)
item of the standards checklist (F1), the regional narrowing, and the JSON, CSV and VNG exports.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import uuid

import pytest

from deelwijs.domain import codes, register
from deelwijs.rules import loader

MODEL = loader.model()
REGION = loader.resolve("voorbeeldregio")
RULESETS = pytest.mark.parametrize("rs", [MODEL, REGION], ids=["model", "voorbeeldregio"])

MODEL_IDS = [
    "model-convenant/signalering", "model-convenant/thuiszitters", "model-convenant/een_plan",
    "model-convenant/oza", "model-convenant/toeleiding", "model-convenant/gecoordineerde_aanpak",
    "model-convenant/eigen_taak", "model-convenant/verzuimmelding", "model-convenant/overdracht",
    "model-convenant/meldcode", "model-convenant/ots", "model-convenant/raadsonderzoek",
    "model-convenant/registratie", "model-convenant/rechten", "model-convenant/verwerkingslog",
    "model-convenant/datalekken",
]
# AVG art. 30(1) as checklist item F1 lists it, by the key that holds it.
F1_KEYS = (
    "verwerkingsverantwoordelijke",  # (a) controller
    "gezamenlijke_verwerkingsverantwoordelijken",  # (a) joint controller
    "contactgegevens",  # (a) contact details
    "functionaris_gegevensbescherming",  # (a) DPO
    "doel",  # (b)
    "grondslag", "toelichting_grondslag",  # legal basis and its explanation
    "categorieen_betrokkenen", "categorieen_gegevens",  # (c)
    "ontvangers",  # (d)
    "doorgifte_derde_landen",  # (e)
    "bewaartermijn",  # (f)
    "beveiliging",  # (g)
)
KEYS = ("id", "versie", "naam", "doel", "grondslag", "toelichting_grondslag",
        "verwerkingsverantwoordelijke", "categorieen_betrokkenen", "categorieen_gegevens",
        "ontvangers", "doorgifte_derde_landen", "bewaartermijn", "beveiliging", "artikelen",
        "toelichting")


def by_code(rs) -> dict[str, dict]:
    return {a["code"]: a for a in register.activities(rs)}


def edited(rs_id: str, path: tuple, value):
    """Another version of a built-in ruleset, with one edit: compiled from its stored document
    as a version stored with older decisions is (a new digest). A file can't do this: it may
    not take a built-in id."""
    document = copy.deepcopy(loader.resolve(rs_id).document)
    *parents, last = path
    target = document
    for key in parents:
        target = target[key]
    assert last in target
    target[last] = value
    return loader.from_document(document)


OIN_FOR_TESTS = "00000001821002193000"  # a controller's OIN, passed in

# --- shape and ids ---------------------------------------------------------------------------


@RULESETS
def test_every_purpose_has_exactly_one_activity_and_the_system_activities_follow(rs):
    acts = register.activities(rs)
    purposes = [a["code"] for a in acts if a["soort"] == "doel"]
    assert sorted(purposes) == sorted(rs.purposes) == sorted(codes.PURPOSES)
    assert len(purposes) == len(set(purposes))
    system = [a["code"] for a in acts if a["soort"] == "systeem"]
    assert tuple(system) == register.SYSTEM_ACTIVITIES
    assert set(register.SYSTEM_ACTIVITIES) == {"registratie", "rechten", "verwerkingslog",
                                               "datalekken"}


def test_the_model_activity_ids_are_exactly_these():
    assert [a["id"] for a in register.activities(MODEL)] == MODEL_IDS


@RULESETS
def test_ids_are_unique_stable_and_made_by_activity_id(rs):
    acts = register.activities(rs)
    ids = [a["id"] for a in acts]
    assert len(ids) == len(set(ids))
    assert ids == [a["id"] for a in register.activities(rs)]  # deterministic
    assert register.activities(rs) == register.activities(rs)
    for a in acts:
        assert a["id"] == f"{rs.id}/{a['code']}" == register.activity_id(rs, a["code"])
        assert len(a["id"]) <= 120  # fits log_entry.activity_id
        assert a["versie"] == f"{rs.version}@{rs.digest}" == register.version(rs)
        assert a["ruleset"] == rs.ref()


def test_activity_for_accepts_a_purpose_a_system_name_an_overleg_name_and_an_id():
    assert register.activity_for(MODEL, "oza") == by_code(MODEL)["oza"]
    assert register.activity_for(MODEL, "verwerkingslog")["id"] == "model-convenant/verwerkingslog"
    assert register.activity_for(REGION, "TOM-tafel")["id"] == "voorbeeldregio/oza"
    assert register.activity_id(REGION, "Thuiszittertafel") == "voorbeeldregio/thuiszitters"
    assert register.activity_for(MODEL, "model-convenant/ots")["code"] == "ots"


@pytest.mark.parametrize("name", ["onbekend", "TOM-tafel", "voorbeeldregio/oza", ""])
def test_an_unknown_name_is_refused_in_dutch(name):
    with pytest.raises(register.UnknownActivity) as exc:
        register.activity_for(MODEL, name)
    assert "onbekende verwerkingsactiviteit" in str(exc.value)
    with pytest.raises(LookupError):
        register.activity_id(MODEL, name)


def test_an_edited_ruleset_changes_the_version_but_not_the_id():
    changed = edited("voorbeeldregio", ("retention", "casusoverleg_verslag", "years"), 2)
    assert changed.digest != REGION.digest and changed.version == REGION.version
    old, new = register.activities(REGION), register.activities(changed)
    assert [a["id"] for a in old] == [a["id"] for a in new]
    for a, b in zip(old, new, strict=True):
        assert a["versie"] != b["versie"]
        assert b["versie"].endswith(changed.digest)
        assert register.activity_uuid(a["id"], a["versie"]) != register.activity_uuid(
            b["id"], b["versie"])
        assert register.to_vng(a, OIN_FOR_TESTS)[0]["id"] != register.to_vng(
            b, OIN_FOR_TESTS)[0]["id"]
    # The old version keeps its own text: the edit shows only in the new one.
    assert by_code(REGION)["oza"]["bewaartermijn"]["iso8601"] == "P1Y"
    assert by_code(changed)["oza"]["bewaartermijn"]["iso8601"] == "P2Y"


def test_a_new_model_version_changes_the_version_too():
    changed = edited("model-convenant", ("version",), "9.9.9")
    a, b = by_code(MODEL)["signalering"], by_code(changed)["signalering"]
    assert a["id"] == b["id"]
    assert b["versie"].startswith("9.9.9@sha256:") and a["versie"] != b["versie"]


# --- the art. 30 content ---------------------------------------------------------------------


def _empty(value) -> bool:
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | dict):
        return not value
    return value is None


@RULESETS
def test_every_f1_item_and_every_key_is_present_and_not_empty(rs):
    for a in register.activities(rs):
        for key in (*KEYS, *F1_KEYS):
            assert key in a, (a["id"], key)
            assert not _empty(a[key]), (a["id"], key)
        assert a["doorgifte_derde_landen"] == "n.v.t."
        assert a["bewaartermijn"]["tekst"].strip(), a["id"]
        for g in a["grondslag"]:
            assert g["code"] in codes.GROUNDS and g["avg"].strip() and g["naam"].strip()
            assert "AVG" in g["avg"], (a["id"], g)
        for c in a["verwerkingsverantwoordelijke"]:
            assert c["naam"] and c["rol"]
        for r in a["ontvangers"]:
            assert r["naam"]
        for c in a["categorieen_gegevens"]:
            assert c["naam"] and c["betrokkenen"]
        kinds = {m["soort"] for m in a["beveiliging"]}
        assert kinds == {"technisch", "organisatorisch"}
        assert all(x.startswith("art. ") for x in a["artikelen"])
        assert "art. 15 convenant (verwerkingsregister en FG)" in a["artikelen"]
        for rid in a["regels"]:
            assert rid in rs.rules, (a["id"], rid)


def test_the_security_measures_name_the_keys_the_bsn_hash_and_the_log():
    text = " ".join(m["maatregel"] for m in by_code(MODEL)["oza"]["beveiliging"])
    for phrase in ("eigen sleutel per jongere", "crypto-shredding", "keyed hash",
                   "append-only", "Merkle-boom", "ondertekende controlepunten",
                   "Need-to-know", "art. 10 convenant"):
        assert phrase in text, phrase


def test_grounds_follow_the_routes():
    acts = by_code(MODEL)
    grounds = {code: [g["code"] for g in a["grondslag"]] for code, a in acts.items()}
    for purpose in codes.COVENANT_PURPOSES:
        assert grounds[purpose] == ["PUBLIC_TASK", "CONSENT"]
    # Consent is no ground for a task of the college (AP 2016): it lifts the discloser's
    # secrecy or is a private discloser's own ground, listed apart; the college receives on
    # its public task (contract 1.1, rule 8).
    for purpose in codes.MUNICIPAL_PURPOSES:
        assert grounds[purpose] == ["PUBLIC_TASK"]
        extra = acts[purpose]["aanvullende_grondslagen"]
        consent = next(g for g in extra if g["code"] == "CONSENT")
        assert "beroepsgeheim" in consent["voorwaarde"]
        assert "niet op toestemming" in consent["voorwaarde"]
        assert "scope.college_public_task" in consent["regels"]
    assert any(g["code"] == "LEGAL_OBLIGATION" and "exception.wams_request" in g["regels"]
               for g in acts["gecoordineerde_aanpak"]["aanvullende_grondslagen"])
    assert grounds["ots"] == ["LEGAL_OBLIGATION"]
    assert "art. 7.3.11 lid 4 Jeugdwet" in acts["ots"]["grondslag"][0]["wet"]
    # 1.1: a duty under leerplicht and kwalificatieplicht, the RMC task from 18 to 23.
    assert grounds["verzuimmelding"] == ["LEGAL_OBLIGATION", "PUBLIC_TASK"]
    assert acts["verzuimmelding"]["grondslag"][0]["wet"] == ["art. 21 en 21a Leerplichtwet 1969"]
    assert grounds["meldcode"] == ["MELDRECHT"]
    assert grounds["overdracht"] == ["LEGAL_OBLIGATION", "CONSENT"]
    # 1.1: art. 1:240 BW is a power used after a documented weighing; consent carries too.
    assert grounds["raadsonderzoek"] == ["LEGAL_POWER", "CONSENT", "VITAL_INTEREST"]
    consent = acts["oza"]["grondslag"][1]
    assert consent["avg"].startswith("art. 6 lid 1 sub a AVG")
    assert "art. 9 lid 2 sub a AVG" in consent["avg"]  # oza holds gezondheid
    assert "art. 7.3.4 Jeugdwet" in consent["wet"]
    for name, article in (("rechten", "art. 12 t/m 22 AVG"), ("verwerkingslog", "art. 5 lid 2"),
                          ("datalekken", "art. 33 lid 5 AVG")):
        assert grounds[name] == ["LEGAL_OBLIGATION"]
        assert "art. 6 lid 1 sub c AVG" in acts[name]["grondslag"][0]["avg"]
        assert article in acts[name]["grondslag"][0]["avg"]


def test_categories_recipients_and_controllers_follow_the_ruleset():
    acts = by_code(MODEL)
    for purpose in (*codes.COVENANT_PURPOSES, *codes.MUNICIPAL_PURPOSES, "eigen_taak"):
        cats = [c["code"] for c in acts[purpose]["categorieen_gegevens"]]
        assert cats == [c for c in MODEL.categories if c in MODEL.purposes[purpose].categories]
        assert "justitie" not in cats
    gezondheid = next(c for c in acts["oza"]["categorieen_gegevens"] if c["code"] == "gezondheid")
    assert gezondheid["bijzonder"] is True and gezondheid["naam"] == "gezondheidsgegevens"
    justitie = next(c for c in acts["ots"]["categorieen_gegevens"] if c["code"] == "justitie")
    assert justitie["strafrechtelijk"] is True
    bsn = [c for c in acts["registratie"]["categorieen_gegevens"] if c["bsn"]]
    assert [c["code"] for c in bsn] == ["bsn"]
    verzuim = [c["code"] for c in acts["verzuimmelding"]["categorieen_gegevens"]]
    assert verzuim == ["identificatie", "onderwijspositie", "verzuim"]
    members = [p.code for p in MODEL.parties.values() if p.covenant != "never"]
    assert [c["code"] for c in acts["oza"]["verwerkingsverantwoordelijke"]] == members
    assert [r["code"] for r in acts["oza"]["ontvangers"]] == members
    assert [r["code"] for r in acts["ots"]["ontvangers"]] == ["gi"]
    assert [r["code"] for r in acts["meldcode"]["ontvangers"]] == ["veilig_thuis"]
    assert [r["code"] for r in acts["verzuimmelding"]["ontvangers"]] == ["leerplicht"]
    assert [c["code"] for c in acts["verzuimmelding"]["verwerkingsverantwoordelijke"]] == [
        "school"]
    raad = [c["code"] for c in acts["raadsonderzoek"]["verwerkingsverantwoordelijke"]]
    assert "raad" not in raad  # not to itself
    # 1.1: a private party informs the Raad only with consent (or a vital interest).
    notes = [c["voorwaarde"] for c in acts["raadsonderzoek"]["categorieen_gegevens"]]
    assert all("van iedere private partij aan de Raad voor de Kinderbescherming: met geldige "
               "toestemming" in n for n in notes)
    assert "gi" not in [c["code"] for c in acts["ots"]["verwerkingsverantwoordelijke"]]
    assert acts["oza"]["bewaartermijn"]["iso8601"] == "P2Y"
    assert acts["verzuimmelding"]["bewaartermijn"]["iso8601"] == "P5Y"
    assert acts["eigen_taak"]["bewaartermijn"]["iso8601"] is None  # several terms
    terms = {t["dossier"]: t for t in acts["eigen_taak"]["bewaartermijn"]["termijnen"]}
    assert terms["jeugdhulpdossier"]["soort"] == "ten minste"
    assert terms["jeugdhulpdossier"]["eerder"]["iso8601"] == "P15Y"
    assert "1 januari 2020" in terms["jeugdhulpdossier"]["tekst"]


@RULESETS
def test_the_log_is_kept_for_the_longest_term_plus_a_margin(rs):
    longest = max(r.years for r in rs.retention.values())
    assert register.log_retention(rs) == f"P{longest + register.LOG_RETENTION_MARGIN_YEARS}Y"
    assert register.log_retention(rs) == "P25Y"  # jeugdhulpdossier 20 years + 5
    term = register.activity_for(rs, "verwerkingslog")["bewaartermijn"]
    assert term["iso8601"] == "P25Y" and "afgeleid" in term["tekst"]


def test_what_the_ruleset_lacks_is_derived_and_said_so():
    acts = by_code(MODEL)
    assert "Niet in de ruleset" in acts["toeleiding"]["bewaartermijn"]["tekst"]
    assert any("niet in de ruleset" in t.lower() for t in acts["toeleiding"]["toelichting"])
    for name in register.SYSTEM_ACTIVITIES:
        assert any("Afgeleid" in t for t in acts[name]["toelichting"]), name
    assert "staan niet in de ruleset" in acts["oza"]["contactgegevens"][-1]
    # Special categories under a ground other than consent: no invented exception.
    assert "stelt de FG vast" in acts["toeleiding"]["toelichting_grondslag"]


# --- regional narrowing ----------------------------------------------------------------------


def test_the_regional_register_shows_the_narrowing():
    model, region = by_code(MODEL), by_code(REGION)
    cats = lambda a: [c["code"] for c in a["categorieen_gegevens"]]  # noqa: E731
    assert set(cats(region["signalering"])) < set(cats(model["signalering"]))
    assert "leerresultaten" not in cats(region["signalering"])
    assert "gezondheid" in cats(model["een_plan"]) and "gezondheid" not in cats(region["een_plan"])
    assert "art. 9 lid 2 sub a AVG" not in region["een_plan"]["grondslag"][1]["avg"]
    controllers = lambda a: [c["code"] for c in a["verwerkingsverantwoordelijke"]]  # noqa: E731
    for purpose in codes.COVENANT_PURPOSES:
        assert "huisarts" in controllers(model[purpose])
        assert "huisarts" not in controllers(region[purpose])
        assert "huisarts" not in [r["code"] for r in region[purpose]["ontvangers"]]
        assert region[purpose]["bewaartermijn"]["iso8601"] == "P1Y"
        assert model[purpose]["bewaartermijn"]["iso8601"] == "P2Y"
    verzuim = next(c for c in region["signalering"]["categorieen_gegevens"]
                   if c["code"] == "verzuim")
    assert "voorbeeldregio.verzuim_met_toestemming" in verzuim["voorwaarde"]
    assert "voorbeeldregio.verzuim_met_toestemming" in region["signalering"]["regels"]
    assert "art. 5 lid 4 regionaal convenant Voorbeeldregio" in region["signalering"]["artikelen"]
    assert "TOM-tafel" in region["oza"]["naam"] and "MDO" in region["oza"]["naam"]
    assert any("Gemeente Voorbeeldstad" in c for c in region["oza"]["contactgegevens"])
    # Legal routes do not depend on the covenant: the same in the region.
    for purpose in ("ots", "meldcode", "verzuimmelding", "overdracht", "raadsonderzoek"):
        assert cats(region[purpose]) == cats(model[purpose])
        assert region[purpose]["grondslag"] == model[purpose]["grondslag"]


# --- exports ---------------------------------------------------------------------------------


@RULESETS
def test_json_round_trips_with_a_header_and_the_vng_mapping(rs):
    acts = register.activities(rs)
    text = register.to_json(acts, {"naam": "Gemeente", "oin": OIN_FOR_TESTS})
    doc = json.loads(text)
    assert doc["activiteiten"] == acts
    assert doc["register"]["ruleset"] == {"id": rs.id, "version": rs.version,
                                          "digest": rs.digest}
    assert doc["register"]["aantal"] == len(acts)
    assert len(doc["vng"]) == sum(len(register.to_vng(a, OIN_FOR_TESTS)) for a in acts)
    assert "verwerkingsactiviteiten" in text  # ensure_ascii=False keeps the Dutch readable
    assert "ë" in text and "\\u00eb" not in text
    assert text.startswith('{\n  "register"')  # indent 2


def test_json_of_no_activities_still_has_a_header():
    doc = json.loads(register.to_json([]))
    assert doc == {"register": {"naam": doc["register"]["naam"], "formaat": register.FORMAT,
                                "ruleset": {"id": None, "version": None, "digest": None},
                                "aantal": 0},
                   "activiteiten": [], "vng": [],
                   "vng_toelichting": register.vng_missing(None)}


@RULESETS
def test_csv_parses_back_with_one_row_per_activity(rs):
    acts = register.activities(rs)
    text = register.to_csv(acts)
    assert text.count("\r\n") >= len(acts) + 1  # RFC 4180 line ends
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert len(rows) == len(acts)
    assert list(rows[0]) == [h for h, _ in register.COLUMNS]
    assert "categorieën persoonsgegevens" in rows[0] and "bewaartermijn (ISO 8601)" in rows[0]
    for row, a in zip(rows, acts, strict=True):
        assert row["id"] == a["id"] and row["versie"] == a["versie"]
        assert row["naam"] == a["naam"]
        assert row["doorgifte naar derde landen"] == "n.v.t."
        assert row["bewaartermijn (ISO 8601)"] == (a["bewaartermijn"]["iso8601"] or "")
        # One item per list entry, joined with "; " (no item holds "; " itself).
        assert len(row["categorieën persoonsgegevens"].split("; ")) == len(
            a["categorieen_gegevens"])
        assert len(row["ontvangers"].split("; ")) == len(a["ontvangers"])
        assert len(row["beveiligingsmaatregelen"].split("; ")) == len(a["beveiliging"])
        for col in ("doel", "grondslag", "verwerkingsverantwoordelijken", "bewaartermijn"):
            assert row[col].strip(), (a["id"], col)


def test_csv_marks_special_categories_and_the_bsn():
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(
        register.to_csv(register.activities(MODEL)), newline=""))}
    assert "gezondheidsgegevens [bijzonder persoonsgegeven, art. 9 AVG]" in rows[
        "model-convenant/oza"]["categorieën persoonsgegevens"]
    assert "[BSN]" in rows["model-convenant/registratie"]["categorieën persoonsgegevens"]
    assert "strafrechtelijk persoonsgegeven, art. 10 AVG" in rows[
        "model-convenant/ots"]["categorieën persoonsgegevens"]


def test_csv_quotes_commas_quotes_and_line_breaks():
    a = dict(register.activity_for(MODEL, "oza"))
    a["naam"] = 'Een "naam", met\nregelovergang'
    rows = list(csv.DictReader(io.StringIO(register.to_csv([a]), newline="")))
    assert len(rows) == 1
    assert rows[0]["naam"] == 'Een "naam", met regelovergang'  # white space folded


def test_vng_mapping_has_the_var_fields():
    # (validated against the VAR OpenAPI document in tests/standards/test_var_register.py)
    acts = by_code(MODEL)
    for a in acts.values():
        for v in register.to_vng(a, OIN_FOR_TESTS):
            assert str(uuid.UUID(v["id"])) == v["id"]
            for key in ("naam", "doel", "grondslag", "toelichtingGrondslag", "bewaartermijn",
                        "afnemendeCategorieOntvangers", "verwerktePersoonsgegevens"):
                assert v[key], (a["id"], key)
            assert len(v["naam"]) <= 242 and len(v["doel"]) <= 2042
            assert v["verantwoordelijkeOrganisatie"] == OIN_FOR_TESTS  # passed in, not ruled
            assert v["afnemendeInternationaleDerden"] == []
            for item in v["verwerktePersoonsgegevens"]:
                assert set(item) == {"rolBetrokkene", "naam"}

    def grounds(code):
        return [v["grondslag"] for v in register.to_vng(acts[code], OIN_FOR_TESTS)]

    assert grounds("ots") == ["Wettelijke verplichting"]
    assert grounds("oza") == ["Publieke taak", "Toestemming betrokkene"]  # one entry each
    assert grounds("toeleiding") == ["Publieke taak"]
    [toeleiding] = register.to_vng(acts["toeleiding"], OIN_FOR_TESTS)
    assert toeleiding["verantwoordelijkeBestuursorgaan"] == "College van B&W"
    assert "Veilig Thuis" in register.to_vng(acts["meldcode"], OIN_FOR_TESTS)[0][
        "afnemendeCategorieOntvangers"]
    roles = {i["rolBetrokkene"] for i in register.to_vng(acts["oza"], OIN_FOR_TESTS)[0][
        "verwerktePersoonsgegevens"]}
    assert roles == {"jeugdige", "ouder of verzorger met gezag"}


def test_the_readable_listing_names_every_activity():
    text = register.render(register.activities(REGION))
    assert text.startswith("Register van verwerkingsactiviteiten")
    assert REGION.digest in text
    for a in register.activities(REGION):
        assert a["id"] in text and a["naam"] in text
