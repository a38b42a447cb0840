"""The typed views (services/views.py): every `*_view` function's return annotation is a
TypedDict of services.views, and what it returns for real rows of the demo region has exactly
that TypedDict's keys (every required key, optional ones only where declared, nothing else)
with values of the declared types, nested dicts too. So the types cannot drift from the code.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from typing import Any

import pytest
from sqlalchemy import select

from deelwijs.domain.exceptions import QUESTIONS
from deelwijs.services import demo, views
from deelwijs.services.casus import cases, disclosures, youths
from deelwijs.services.covenant import registry
from deelwijs.services.log import breaches
from deelwijs.services.rights import requests as rights
from deelwijs.storage import orm

from .helpers import TODAY, unit_of

# every *_view function annotated, with the type(s) it returns (audit.entry_view is not:
# audit.py's log format is being changed under issue 11, and its keys are the log's)
ANNOTATED = {
    breaches.breach_view: views.BreachView,
    cases.workflow_view: views.WorkflowView,
    cases.case_view: views.CaseView,
    cases.meeting_view: views.MeetingView,
    cases.minute_view: views.MinuteView,
    cases.action_view: views.ActionView,
    cases.weighing_view: views.WeighingView,
    disclosures.view: views.DisclosureView,
    disclosures._view: views.DisclosureView,
    disclosures.read: views.DisclosureReadView,
    registry.activation_view: views.ActivationView,
    registry.organisation_view: views.OrganisationView,
    registry.region_view: views.RegionView,
    registry.signature_view: views.SignatureView,
    registry.mandate_view: views.MandateView,
    registry.signatory_view: views.SignatoryView,
    registry.professional_view: views.ProfessionalView,
    registry.accession_view: views.AccessionView,
    rights.request_view: views.RequestView,
    rights._Inzage.org_view: views.InzageOrganisationView,
    rights._correction_view: views.CorrectionView,
    rights._correction_fields: views.CorrectionView,
    rights.correction_views: list[views.CorrectionView],
    youths.youth_view: views.YouthView | views.ShreddedYouthView,
}


def _is_typeddict(tp) -> bool:
    return isinstance(tp, type) and typing.is_typeddict(tp)


def check(value, tp, where: str = "view") -> None:
    """Assert that `value` is of type `tp` (a TypedDict, list[...], a union, a plain type or
    Any), TypedDicts exactly: required keys present, no key the type does not declare."""
    if tp is Any:
        return
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        problems = []
        for option in typing.get_args(tp):
            try:
                check(value, option, where)
                return
            except AssertionError as e:
                problems.append(str(e))
        raise AssertionError(f"{where}: {value!r} is none of {tp}: {problems}")
    if _is_typeddict(tp):
        assert isinstance(value, dict), f"{where}: {value!r} is not a dict"
        keys = set(value)
        missing = tp.__required_keys__ - keys
        unknown = keys - tp.__required_keys__ - tp.__optional_keys__
        assert not missing, f"{where}: {tp.__name__} misses {sorted(missing)}"
        assert not unknown, f"{where}: {tp.__name__} does not declare {sorted(unknown)}"
        hints = typing.get_type_hints(tp)
        for key, item in value.items():
            check(item, hints[key], f"{where}[{key!r}]")
        return
    if origin is list:
        assert isinstance(value, list), f"{where}: {value!r} is not a list"
        (item_tp,) = typing.get_args(tp)
        for i, item in enumerate(value):
            check(item, item_tp, f"{where}[{i}]")
        return
    if origin is dict:
        assert isinstance(value, dict), f"{where}: {value!r} is not a dict"
        return
    if tp is type(None):
        assert value is None, f"{where}: {value!r} is not None"
        return
    assert isinstance(value, tp), f"{where}: {value!r} is not a {tp.__name__}"
    if tp is int:
        assert not isinstance(value, bool), f"{where}: {value!r} is a bool, not an int"


def test_every_view_function_returns_its_typed_view():
    for fn, tp in ANNOTATED.items():
        assert typing.get_type_hints(fn)["return"] == tp, fn.__qualname__


def test_the_typed_views_are_types_only():
    declared = [v for v in vars(views).values() if _is_typeddict(v)]
    assert len(declared) >= 30
    assert not [name for name, v in vars(views).items()
                if getattr(v, "__module__", None) == views.__name__ and not _is_typeddict(v)]


@pytest.fixture
def region(app) -> int:
    demo.build(app, TODAY, youths_n=8, per_type=2)
    with app.transaction() as s:
        return s.scalars(select(orm.Region.id)).one()


def _all(s, model):
    rows = s.scalars(select(model).order_by(model.id)).all()
    assert rows, f"the demo has no {model.__name__}"
    return rows


def test_the_registry_views_match_their_types(app, region):
    with app.transaction() as s:
        u = unit_of(app, s)
        reg = s.get(orm.Region, region)
        check(registry.region_view(reg), views.RegionView)
        for view in registry.list_regions(u):
            check(view, views.RegionView)
        for view in registry.activations(u, reg):  # with `active`
            assert "active" in view
            check(view, views.ActivationView)
        for row in _all(s, orm.RulesetActivation):  # without
            view = registry.activation_view(s, row)
            assert "active" not in view
            check(view, views.ActivationView)
        orgs = _all(s, orm.Organisation)
        assert {"school"} < {o.party for o in orgs}  # with and without `mandates`
        for org in orgs:
            check(registry.organisation_view(s, org), views.OrganisationView)
        for row in _all(s, orm.CovenantSignature):
            check(registry.signature_view(s, row), views.SignatureView)
        for row in _all(s, orm.Mandate):
            check(registry.mandate_view(row), views.MandateView)
        for row in _all(s, orm.Signatory):
            check(registry.signatory_view(row), views.SignatoryView)
        for row in _all(s, orm.Professional):
            check(registry.professional_view(row), views.ProfessionalView)
        for row in _all(s, orm.AccessionForm):
            check(registry.accession_view(row), views.AccessionView)


def test_the_case_views_match_their_types(app, region):
    with app.transaction() as s:
        for row in _all(s, orm.Case):
            check(cases.case_view(s, row), views.CaseView)
        for row in _all(s, orm.Workflow):
            check(cases.workflow_view(s, row), views.WorkflowView)
        meetings = _all(s, orm.Meeting)
        for row in meetings:
            check(cases.meeting_view(s, row), views.MeetingView)
        for row in _all(s, orm.Action):
            check(cases.action_view(s, row), views.ActionView)
        meeting = next(m for m in meetings
                       if s.get(orm.Case, m.case_id).youth_id is not None)
        item = s.scalars(select(orm.AgendaItem).where(
            orm.AgendaItem.meeting_id == meeting.id)).first()
        author = s.get(orm.Professional, s.scalars(select(
            orm.MeetingParticipant.professional_id).where(
            orm.MeetingParticipant.meeting_id == meeting.id)).first())
        minute = cases.write_minute(unit_of(app, s, by=author), item.id, "Besproken: het verzuim.")
        check(cases.minute_view(s, minute), views.MinuteView)
        case = s.get(orm.Case, meeting.case_id)
        keys = [k for k, _q, _f in QUESTIONS["conflict_of_duties"]]
        for answers in ({k: "ja" for k in keys}, {keys[0]: "ja"}):  # complete and not
            row = cases.record_exception(
                unit_of(app, s, by=author), case, "conflict_of_duties", answers,
                dt.datetime(2026, 3, 1, 10), categories=["veiligheid"],
                to_org_ids=[o.id for o in cases.participants(s, case)][:1])
            check(cases.weighing_view(s, row, answers), views.WeighingView)


def test_the_disclosure_views_match_their_types(app, region):
    with app.transaction() as s:
        rows = _all(s, orm.Disclosure)
        for row in rows:
            check(disclosures.view(s, row), views.DisclosureView)
            view = disclosures.view(s, row, with_content=True, app=app)
            assert all("content" in i for i in view["items"])
            check(view, views.DisclosureView)
            check(disclosures.read(unit_of(app, s), row), views.DisclosureReadView)
        for youth_id in {r.youth_id for r in rows if r.youth_id is not None}:
            check(disclosures.list_for_youth(unit_of(app, s), youth_id),
                  list[views.DisclosureView])


def test_the_youth_breach_and_rights_views_match_their_types(app, region):
    with app.transaction() as s:
        youth_rows = _all(s, orm.Youth)
        for row in youth_rows:
            check(youths.youth_view(app.keys, row, TODAY), views.YouthView)
        pro = _all(s, orm.Professional)[0]
        youth = next(y for y in youth_rows if y.school_id is not None
                     and any(g.has_gezag for g in y.guardians))
        parent = next(g for g in youth.guardians if g.has_gezag)
        breach = breaches.record_breach(
            unit_of(app, s, by=pro), region=region, organisation_id=pro.organisation_id,
            discovered_at=dt.datetime(2026, 3, 1, 9, 30), description="Een verslag ging naar "
            "de verkeerde ouder.", categories=["identificatie"], risk="hoog",
            youth_ids=[youth.id])
        check(breaches.breach_view(s, breach), views.BreachView)
        rights.rectify(unit_of(app, s, by=pro.id), youth.id, "name", "Sem de Vries",
                       requester="parent", guardian_id=parent.id, youth_agrees=True)
        overview = rights.inzage(unit_of(app, s), youth.id, requester="parent",
                                 guardian_id=parent.id, youth_agrees=True)
        schools = [v["school"] for v in overview.values()
                   if isinstance(v, dict) and v.get("school")]
        assert schools
        for school in schools:  # _Inzage.org_view
            check(school, views.InzageOrganisationView)
        requests = rights.list_requests(unit_of(app, s), youth.id)
        assert {r["kind"] for r in requests} >= {"inzage"}
        for row in s.scalars(select(orm.RightsRequest)):
            check(rights.request_view(row), views.RequestView)
        corrections = rights.correction_views(s, app, youth)
        assert corrections
        check(corrections, list[views.CorrectionView])
        shredded = youth_rows[-1]
        rights.shred_youth(s, shredded, "bewaartermijn verstreken")
        view = youths.youth_view(app.keys, shredded, TODAY)
        check(view, views.ShreddedYouthView)
        with pytest.raises(AssertionError):
            check(view, views.YouthView)
