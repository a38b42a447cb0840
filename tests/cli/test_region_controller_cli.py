"""`deelwijs region create/update` with the controller (verwerkingsverantwoordelijke) and the
FG, as the real console script: shown as JSON, bad input exits 2 with one Dutch line and
writes nothing."""

from __future__ import annotations

from tests.cli.cli_checks import ok, refused


def test_region_create_and_update_record_the_controller_and_the_fg(deelwijs):
    made = ok(deelwijs("region", "create", "west", "Regio West", "--controller",
                       "Gemeente Westdorp", "--controller-address", "Postbus 12\n0000 AB Westdorp",
                       "--fg-name", "Łukasz Wąsik", "--fg-email", "fg@westdorp.example"))
    assert (made["controller_name"], made["controller_address"], made["fg_name"],
            made["fg_email"], made["fg_phone"]) == (
        "Gemeente Westdorp", "Postbus 12\n0000 AB Westdorp", "Łukasz Wąsik",
        "fg@westdorp.example", None)
    changed = ok(deelwijs("region", "update", "west", "--fg-phone", "030-1234567",
                          "--fg-email", ""))
    assert (changed["fg_phone"], changed["fg_email"], changed["controller_name"]) == (
        "030-1234567", None, "Gemeente Westdorp")
    refused(deelwijs("region", "update", "west", "--fg-email", "fg@westdorp"),
            "region.fg_email", "e-mailadres")
    refused(deelwijs("region", "update", "west"), "region", "--fg-email")
    refused(deelwijs("region", "update", "noord", "--fg-name", "X"), "region", "noord")
    refused(deelwijs("region", "create", "oost", "Regio Oost", "--fg-phone", "geen"),
            "region.fg_phone", "telefoonnummer")
    listed = ok(deelwijs("region", "list", "--json"))
    assert [(r["code"], r["fg_email"], r["fg_phone"]) for r in listed] == [
        ("west", None, "030-1234567")]
