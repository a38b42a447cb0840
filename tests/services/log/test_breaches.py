"""The breach register: the AP's 72-hour deadline, who must be informed, the overdue list, the
refusal not to notify a risky breach, optimistic locking, and bad input writing nothing."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from tests.services.helpers import row_counts, unit_of

from deelwijs.services.covenant import registry
from deelwijs.services.errors import Conflict, Invalid, NotFound, Refused, ServiceError
from deelwijs.services.log import audit, breaches
from deelwijs.storage import orm

FOUND = dt.datetime(2026, 3, 2, 13, 30)  # UTC
LATER = dt.date(2026, 3, 10)  # the day the register is kept: after every date below


def _u(app, s, by):
    """The unit of the professional `by` (None: the administrator), on LATER."""
    return unit_of(app, s, by=by, today=LATER)


def _record(app, build, youths=(), risk="hoog", discovered_at=FOUND, **kw) -> int:
    args = dict(region=build.w.region_id, organisation_id=build.org("school"),
                discovered_at=discovered_at, description="Een mail met een verslag ging naar "
                "de verkeerde ouder.", categories=["identificatie", "gedrag"], risk=risk,
                by=build.pro("alice"), youth_ids=list(youths), measures="Mail teruggeroepen.")
    args.update(kw)
    by = args.pop("by")
    with app.transaction() as s:
        return breaches.record_breach(_u(app, s, by), **args).id


def _view(app, breach_id: int, now=None) -> dict:
    with app.transaction() as s:
        return breaches.breach_view(s, breaches.get_breach(_u(app, s, None), breach_id), now)


def _breach_entries(app) -> list[dict]:
    with app.transaction() as s:
        return [{**audit.body_of(e), "subject": e.subject, "activity": e.activity_id}
                for e in s.scalars(select(orm.LogEntry).order_by(orm.LogEntry.seq))
                if audit.body_of(e)["actie"] == "breach"]


def test_the_ap_deadline_is_72_hours_after_discovery_and_high_risk_means_inform(app, build):
    one, two = build.youth(name="Sem de Vries"), build.youth(name="Noor Bakker")
    breach = _record(app, build, [one, two, one])

    view = _view(app, breach, FOUND)
    with app.transaction() as s:
        row = s.get(orm.Breach, breach)
        assert row.ap_deadline - row.discovered_at == dt.timedelta(hours=72)
        assert row.ap_deadline == dt.datetime(2026, 3, 5, 13, 30)
    assert view["discovered_at"] == "2026-03-02T14:30+01:00"  # shown in Dutch time
    assert view["ap_deadline"] == "2026-03-05T14:30+01:00"
    assert (view["risk"], view["version"], view["overdue"]) == ("hoog", 1, False)
    assert view["subjects"] == [{"youth_id": one, "must_inform": True, "informed_on": None},
                                {"youth_id": two, "must_inform": True, "informed_on": None}]
    assert view["still_to_inform"] == [one, two]
    assert view["ap_status"] == "nog melden bij de AP, uiterlijk 5 maart 2026 om 14:30"

    entries = _breach_entries(app)
    assert len(entries) == 2  # one per affected youth
    with app.transaction() as s:
        assert {e["subject"] for e in entries} == {app.keys.subject(one), app.keys.subject(two)}
    assert {e["activity"] for e in entries} == {"voorbeeldregio/datalekken"}
    assert entries[0]["handelingNaam"] == "Registreren datalek"
    assert entries[0]["datalek"]["id"] == breach
    assert entries[0]["betrokkenen_informeren"] is True


def test_lower_risks_do_not_oblige_informing_the_youths(app, build):
    youth = build.youth()
    for risk in ("risico", "onwaarschijnlijk"):
        view = _view(app, _record(app, build, [youth], risk=risk))
        assert view["subjects"] == [{"youth_id": youth, "must_inform": False,
                                     "informed_on": None}]
        assert view["still_to_inform"] == []


def test_an_aware_moment_is_stored_in_utc_and_a_breach_without_known_youths_is_logged_once(
        app, build):
    local = dt.datetime(2026, 7, 1, 9, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))  # summer
    breach = _record(app, build, [], risk="risico", discovered_at=local)
    with app.transaction() as s:
        assert s.get(orm.Breach, breach).discovered_at == dt.datetime(2026, 7, 1, 7, 0)
    assert _view(app, breach)["ap_deadline"] == "2026-07-04T09:00+02:00"
    [entry] = _breach_entries(app)
    assert entry["subject"] is None and entry["verwerkteObjecten"] == []


def test_overdue_lists_breaches_past_the_deadline_without_notification_or_reason(app, build):
    youth = build.youth()
    late = _record(app, build, [youth], discovered_at=dt.datetime(2026, 3, 1, 10, 0))
    notified = _record(app, build, [youth], discovered_at=dt.datetime(2026, 3, 1, 9, 0))
    reasoned = _record(app, build, [youth], risk="onwaarschijnlijk",
                       discovered_at=dt.datetime(2026, 3, 1, 8, 0))
    fresh = _record(app, build, [youth], discovered_at=dt.datetime(2026, 3, 3, 10, 0))
    with app.transaction() as s:
        alice = _u(app, s, build.pro("alice"))
        breaches.notify_ap(alice, notified, expected_version=1, reference="AP-2026-0001",
                           notified_at=dt.datetime(2026, 3, 2, 9, 0))
        breaches.no_notification(alice, reasoned, expected_version=1,
                                 reason="Versleutelde USB-stick; de sleutel is niet gelekt.")

    def overdue(now):
        with app.transaction() as s:
            return [b.id for b in breaches.overdue(_u(app, s, None), now)]

    assert overdue(dt.datetime(2026, 3, 4, 10, 0)) == []  # exactly at the deadline: not yet
    assert overdue(dt.datetime(2026, 3, 4, 10, 1)) == [late]
    assert overdue(dt.datetime(2026, 3, 7, 0, 0)) == [late, fresh]
    with app.transaction() as s:
        region = s.get(orm.Region, build.w.region_id)
        admin = _u(app, s, None)
        assert [b.id for b in breaches.overdue(admin, dt.datetime(2026, 3, 7), region)] == [
            late, fresh]
        other = registry.create_region(admin, "elders", "Elders")
        assert breaches.overdue(admin, dt.datetime(2026, 3, 7), other) == []
    view = _view(app, late, dt.datetime(2026, 3, 4, 10, 1))
    assert view["overdue"] is True
    assert view["ap_status"].startswith("te laat: de termijn om te melden bij de AP liep af "
                                        "op 4 maart 2026 om 11:00")
    assert _view(app, reasoned)["ap_status"].startswith("niet gemeld bij de AP: Versleutelde")
    assert _view(app, notified)["ap_status"] == (
        "gemeld bij de AP op 2 maart 2026 om 10:00 (kenmerk AP-2026-0001)")


def test_not_notifying_is_refused_unless_a_risk_is_unlikely(app, build):
    youth = build.youth()
    for risk in ("hoog", "risico"):
        breach = _record(app, build, [youth], risk=risk)
        before = row_counts(app.engine)
        with app.transaction() as s, pytest.raises(Refused) as exc:
            breaches.no_notification(_u(app, s, build.pro("alice")), breach,
                                     expected_version=1, reason="Valt wel mee.")
        assert (exc.value.code, exc.value.field) == ("notification_required", "risk")
        assert "binnen 72 uur gemeld worden bij de Autoriteit Persoonsgegevens" in \
            exc.value.message
        assert row_counts(app.engine) == before
        view = _view(app, breach)
        assert (view["no_notification_reason"], view["version"]) == (None, 1)


def test_a_late_notification_needs_the_reason_for_the_delay(app, build):
    breach = _record(app, build, [build.youth()])
    late = FOUND + dt.timedelta(hours=73)
    with app.transaction() as s, pytest.raises(Invalid) as exc:
        breaches.notify_ap(_u(app, s, build.pro("alice")), breach, expected_version=1,
                           reference="AP-1", notified_at=late)
    assert exc.value.field == "delay_reason" and "art. 33 lid 1 AVG" in exc.value.message
    with app.transaction() as s:
        breaches.notify_ap(_u(app, s, build.pro("alice")), breach, expected_version=1,
                           reference="AP-1", notified_at=late,
                           delay_reason="Pas na het weekend ontdekt wie geraakt waren.")
    view = _view(app, breach)
    assert view["ap_status"].endswith(", na de termijn van 72 uur")
    entry = _breach_entries(app)[-1]
    assert entry["ap_melding"]["te_laat"] is True
    assert entry["ap_melding"]["reden_vertraging"].startswith("Pas na het weekend")


def test_informing_a_subject_and_the_partners(app, build):
    one, two = build.youth(), build.youth(name="Noor Bakker")
    breach = _record(app, build, [one, two])
    with app.transaction() as s:
        breaches.inform_subject(_u(app, s, build.pro("alice")), breach, one,
                                expected_version=1, informed_on=dt.date(2026, 3, 3))
    view = _view(app, breach)
    assert (view["version"], view["still_to_inform"]) == (2, [two])
    assert view["subjects"][0]["informed_on"] == "2026-03-03"
    with app.transaction() as s:
        breaches.notify_partners(_u(app, s, build.pro("alice")), breach, expected_version=2,
                                 notified_at=dt.datetime(2026, 3, 3, 8, 0))
    assert _view(app, breach)["partners_notified_at"] == "2026-03-03T09:00+01:00"
    entries = _breach_entries(app)
    informed = [e for e in entries if e["handelingNaam"] == "Informeren betrokkene over datalek"]
    assert [e["subject"] for e in informed] == [app.keys.subject(one)]
    partners = [e for e in entries
                if e["handelingNaam"] == "Informeren convenantpartners over datalek"]
    assert len(partners) == 2

    bystander = build.youth(name="Ander")
    for call, exc_type, field in (
            (lambda s: breaches.inform_subject(_u(app, s, build.pro("alice")), breach, one,
                                               expected_version=3,
                                               informed_on=dt.date(2026, 3, 4)), Refused, "youth"),
            (lambda s: breaches.inform_subject(_u(app, s, build.pro("alice")), breach,
                                               bystander, expected_version=3,
                                               informed_on=dt.date(2026, 3, 4)), Invalid, "youth"),
            (lambda s: breaches.inform_subject(_u(app, s, build.pro("alice")), breach, two,
                                               expected_version=3,
                                               informed_on=dt.date(2026, 3, 1)), Invalid,
             "informed_on"),
            (lambda s: breaches.notify_partners(_u(app, s, build.pro("alice")), breach,
                                                expected_version=3,
                                                notified_at=dt.datetime(2026, 3, 4)), Refused,
             "breach")):
        before = row_counts(app.engine)
        with app.transaction() as s, pytest.raises(exc_type) as exc:
            call(s)
        assert exc.value.field == field
        assert row_counts(app.engine) == before
    assert _view(app, breach)["version"] == 3


def test_a_stale_version_is_a_conflict_and_saves_nothing(app, build):
    breach = _record(app, build, [build.youth()])
    with app.transaction() as s:
        breaches.notify_ap(_u(app, s, build.pro("alice")), breach, expected_version=1,
                           reference="AP-1", notified_at=FOUND + dt.timedelta(hours=2))
    with app.transaction() as s, pytest.raises(Conflict) as exc:
        breaches.notify_partners(_u(app, s, build.pro("alice")), breach, expected_version=1,
                                 notified_at=FOUND + dt.timedelta(hours=3))
    assert exc.value.field == "expected_version"
    assert "versie 2, u zag 1" in exc.value.message

    # two people at once: the one who saves second gets the conflict
    stale = app.sessions()
    try:
        stale.info["deelwijs_keys"] = app.keys
        seen = breaches.get_breach(_u(app, stale, None), breach)  # loaded at version 2 (and held)
        assert seen.version == 2
        with app.transaction() as s:
            breaches.notify_partners(_u(app, s, build.pro("alice")), breach, expected_version=2,
                                     notified_at=FOUND + dt.timedelta(hours=4))
        with pytest.raises(Conflict) as exc:
            breaches.notify_partners(_u(app, stale, build.pro("alice")), breach,
                                     expected_version=2,
                                     notified_at=FOUND + dt.timedelta(hours=5))
        assert "door iemand anders gewijzigd" in exc.value.message
    finally:
        stale.rollback()
        stale.close()
    view = _view(app, breach)
    assert (view["version"], view["partners_notified_at"]) == (3, "2026-03-02T18:30+01:00")


@pytest.mark.parametrize(("change", "exc_type", "field", "words"), [
    ({"categories": ["gedrg"]}, Invalid, "categories[0]", "bedoelt u 'gedrag'"),
    ({"categories": []}, Invalid, "categories", "ten minste één"),
    ({"risk": "middel"}, Invalid, "risk", "onwaarschijnlijk, risico, hoog"),
    ({"description": "  "}, Invalid, "description", "beschrijf"),
    ({"discovered_at": "2026-03-02"}, Invalid, "discovered_at", "datum met tijd"),
    ({"discovered_at": dt.datetime(2999, 1, 1)}, Invalid, "discovered_at", "toekomst"),
    ({"youth_ids": [999_999]}, NotFound, "youth_ids[0]", "onbekende jongere"),
    ({"organisation_id": 999_999}, NotFound, "organisation_id", "onbekende organisatie"),
    ({"by": None}, Invalid, "by", "professional"),
    ({"region": 999_999}, NotFound, "region", "onbekende regio"),
])
def test_bad_input_writes_nothing(app, build, change, exc_type, field, words):
    youth = build.youth()
    before = row_counts(app.engine)
    with pytest.raises(exc_type) as exc:
        _record(app, build, [youth], **change)
    assert exc.value.field == field
    assert words in exc.value.message
    assert row_counts(app.engine) == before


def test_bad_updates_write_nothing(app, build):
    breach = _record(app, build, [build.youth()], risk="onwaarschijnlijk")
    with app.transaction() as s:
        u = unit_of(app, s)
        elders = registry.create_region(u, "elders", "Elders")
        stranger = registry.create_professional(
            u, registry.create_organisation(u, elders, "school", "Elders school"), "Eve",
            "medewerker", []).id
    before = row_counts(app.engine)
    for call, field in (
            (lambda s: breaches.notify_ap(_u(app, s, build.pro("alice")), breach,
                                          expected_version=1, reference=" ",
                                          notified_at=FOUND),
             "reference"),
            (lambda s: breaches.notify_ap(_u(app, s, build.pro("alice")), breach,
                                          expected_version=1, reference="AP-1",
                                          notified_at=FOUND - dt.timedelta(hours=1)),
             "notified_at"),
            (lambda s: breaches.notify_ap(_u(app, s, stranger), breach, expected_version=1,
                                          reference="AP-1", notified_at=FOUND),
             "breach"),  # another region's breach: as an unknown one (404)
            (lambda s: breaches.no_notification(_u(app, s, build.pro("alice")), breach,
                                                expected_version=1, reason=""), "reason"),
            (lambda s: breaches.no_notification(_u(app, s, build.pro("alice")), breach,
                                                expected_version=None, reason="x"),
             "expected_version"),
            (lambda s: breaches.no_notification(_u(app, s, build.pro("alice")), 424242,
                                                expected_version=1, reason="x"), "breach")):
        with app.transaction() as s, pytest.raises(ServiceError) as exc:
            call(s)
        assert exc.value.field == field, exc.value
        assert row_counts(app.engine) == before
    assert _view(app, breach)["version"] == 1
    assert audit.ACTIONS["breach"] == "Registreren datalek"
