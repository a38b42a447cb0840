"""`deelwijs demo`: fills a fresh database idempotently with organisations of every type,
youths with parents, consent in every state, cases of every purpose, meetings, and
disclosures allowed and denied."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select
from stdnum.nl import bsn as stdnum_bsn

from deelwijs.domain import codes
from deelwijs.domain.consent import age_on
from deelwijs.services import demo
from deelwijs.services.casus import youths
from deelwijs.services.errors import Invalid
from deelwijs.storage import orm

from .helpers import TODAY, row_counts


def test_the_demo_builds_once_and_a_second_run_changes_nothing(app):
    first = demo.build(app, TODAY, youths_n=14, per_type=2)
    assert first["created"] is True
    assert (first["youths"], first["cases"], first["organisations"]) == (
        14, 14, 2 * len(codes.PARTIES))
    counts = row_counts(app.engine)
    assert demo.build(app, TODAY, youths_n=14, per_type=2) == {"created": False}
    assert row_counts(app.engine) == counts
    with app.transaction() as s:
        assert len(s.scalars(select(orm.Region)).all()) == 1


def test_the_demo_refuses_more_youths_than_it_has_synthetic_bsns_for(app):
    with pytest.raises(Invalid) as refused:
        demo.build(app, TODAY, youths_n=demo.SYNTHETIC_BSNS + 1, per_type=1)
    assert refused.value.code == "too_many"
    assert sum(row_counts(app.engine).values()) == 0


def test_the_demo_with_200_youths_has_every_kind_of_record(app):
    counts = demo.build(app, TODAY)  # the CLI's default: 200 youths
    assert (counts["youths"], counts["cases"]) == (200, 200)
    with app.transaction() as s:
        orgs = s.scalars(select(orm.Organisation)).all()
        youth_rows = s.scalars(select(orm.Youth)).all()
        guardians = s.scalars(select(orm.Guardian)).all()
        consents = s.scalars(select(orm.ConsentRecord)).all()
        case_rows = s.scalars(select(orm.Case)).all()
        items = s.scalars(select(orm.DisclosureItem)).all()
        disclosure_rows = s.scalars(select(orm.Disclosure)).all()
        mandates = s.scalars(select(orm.Mandate)).all()
        forms = s.scalars(select(orm.AccessionForm)).all()
        flows = s.scalars(select(orm.Workflow)).all()
        meetings = s.scalars(select(orm.Meeting)).all()
        bsns = [youths.youth_view(app.keys, y, TODAY)["bsn"] for y in youth_rows[:5]]
        plain = [app.keys.decrypt(app.keys.unwrap(y.key_wrapped), y.bsn_enc)
                 for y in youth_rows]
        diplomas = {(age_on(youths.birth_of(app.keys, y), TODAY), y.startkwalificatie)
                    for y in youth_rows}

    assert {o.party for o in orgs} == set(codes.PARTIES)
    assert {o.domain for o in orgs if o.party == "gemeente"} > {"jeugd", "schulden"}
    assert len(youth_rows) == 200
    per_youth = Counter(g.youth_id for g in guardians)
    assert set(per_youth) == {y.id for y in youth_rows}  # every youth has a parent
    assert {g.has_gezag for g in guardians} == {True, False}
    assert {c.answer for c in consents} == {"given", "refused", "withdrawn"}
    assert {c.written for c in consents} == {True, False}
    assert {c.role for c in consents} == {"parent", "youth"}
    assert len({c.youth_id for c in consents}) < 200  # and youths without any consent
    assert {c.purpose for c in case_rows} >= {*codes.COVENANT_PURPOSES,
                                             *codes.MUNICIPAL_PURPOSES, "eigen_taak"}
    assert any(c.anonymous and c.youth_id is None for c in case_rows)
    assert len(meetings) == 200
    assert {d.outcome for d in disclosure_rows} >= {"allow", "deny"}
    assert all(i.content is None for i in items if i.outcome == "deny")
    assert any(i.content for i in items if i.outcome == "allow")
    assert any(m.revoked_on for m in mandates) and any(not m.revoked_on for m in mandates)
    assert {f.notified_on is None for f in forms} == {True, False}
    assert {f.state for f in flows} == {"investigation"}
    assert all(b.startswith("*****") for b in bsns)
    assert len(set(plain)) == 200
    assert all(stdnum_bsn.is_valid(b) and b.startswith("9999") for b in plain)
    # 17-year-olds with and without a startkwalificatie; nobody younger holds one
    assert {(17, True), (17, False)} <= diplomas
    assert not any(has for age, has in diplomas if age < 17)
