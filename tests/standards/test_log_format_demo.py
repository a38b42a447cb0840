"""The processing log's compact entries (format 2, domain/log_format.py) on a demo region:
every entry the demo writes is stored in format 2 and is at most 600 bytes of leaf (the
header columns and the body, what verify hashes); each exports (VNG Verwerkingenlogging and
Logboek Dataverwerkingen, `audit.entry_view`) byte for byte as the full body of format 1
would; and a log whose older entries are in format 1 still verifies, binds its rows and
exports them as before."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

from sqlalchemy import select

from deelwijs.domain import log_format
from deelwijs.services import demo
from deelwijs.services.log import audit, verify
from deelwijs.storage import orm

TODAY = dt.date(2026, 3, 2)
MAX_ENTRY = 600  # bytes of leaf (issue 11)


@dataclasses.dataclass
class Row:
    """A stored entry's columns, as entry_view reads them."""
    actie_id: str
    seq: int
    region_id: int
    subject: str | None
    activity_id: str
    registered_at: dt.datetime
    body: str | None
    pruned_at: dt.datetime | None


def _rows(app) -> list[Row]:
    with app.transaction() as s:
        return [Row(e.actie_id, e.seq, e.region_id, e.subject, e.activity_id, e.registered_at,
                    e.body, e.pruned_at)
                for e in s.scalars(select(orm.LogEntry).order_by(orm.LogEntry.region_id,
                                                                 orm.LogEntry.seq))]


def _leaf_bytes(r: Row) -> int:
    return len(audit.leaf_data(r.region_id, r.seq, r.actie_id, r.subject, r.activity_id,
                               r.registered_at, r.body))


def test_every_demo_entry_is_compact_small_and_exports_as_its_full_body(app):
    demo.build(app, TODAY, youths_n=12, per_type=2)
    rows = _rows(app)
    kinds = {audit.body_of(r)["actie"] for r in rows}
    assert {"create", "consent", "disclose", "deny"} <= kinds, kinds
    sizes = []
    for r in rows:
        assert log_format.is_compact(r.body), r.body[:80]
        sizes.append(_leaf_bytes(r))
        full = dataclasses.replace(r, body=audit.canonical(audit.body_of(r)))
        assert len(full.body) > 2 * len(r.body)
        for for_subject in (False, True):
            assert (json.dumps(audit.entry_view(r, for_subject=for_subject))
                    == json.dumps(audit.entry_view(full, for_subject=for_subject)))
    assert max(sizes) <= MAX_ENTRY, max(sizes)


def test_a_log_that_began_in_format_1_still_verifies_binds_and_exports(app, build,
                                                                        monkeypatch):
    monkeypatch.setattr(audit, "COMPACT", False)  # as written before format 2
    youth = build.youth(name="Oud Formaat")
    [mother, _] = build.guardians(youth)
    build.consent(youth, "parent", guardian_id=mother, given_on=TODAY)
    monkeypatch.setattr(audit, "COMPACT", True)
    build.consent(youth, "parent", guardian_id=mother, given_on=TODAY)
    rows = _rows(app)
    formats = [log_format.is_compact(r.body) for r in rows]
    assert False in formats and True in formats
    with app.transaction() as s:
        rep = verify.verify(s, app.keys)
    assert rep.ok, [p.message for p in rep.problems]
    region = next(iter(rep.regions.values()))
    assert region["gebonden"]["toestemmingsversies"] == 2
    for r in rows:
        view = audit.entry_view(r)
        assert view["actieId"] == r.actie_id and view["actie"] in {"create", "consent"}
