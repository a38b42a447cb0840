"""The shapes of the dicts the services' `*_view` functions return (architecture.md §6.2 step
7): one `TypedDict` per view, the keys and value types each returns today, for the web layer
to use as response models. Types only, no logic: importing this module imports nothing of
the project. tests/services/test_views_typed.py checks every view's keys against its type.

Dates are ISO 8601 strings (`"2025-03-01"`), moments ISO 8601 with their offset; a JSON
column stays as it is stored (`list[Any]`, `dict[str, Any]`) where its shape is the rules'.
"""

# No `from __future__ import annotations`: on Python 3.11 a TypedDict reads NotRequired only
# from evaluated annotations (as strings every key would count as required).
from typing import Any, NotRequired, TypedDict

# --- registry ------------------------------------------------------------------------------


class RegionView(TypedDict):
    """registry.region_view; the controller and its FG as registry.CONTROLLER_FIELDS."""
    id: int
    code: str
    name: str
    wams_in_force: bool
    controller_name: str | None
    controller_address: str | None
    controller_oin: str | None
    fg_name: str | None
    fg_email: str | None
    fg_phone: str | None


class ActivationView(TypedDict):
    """registry.activation_view; `active` only when the caller names the active one."""
    id: int
    activated_on: str
    ruleset_id: str
    version: str
    digest: str
    active: NotRequired[bool]


class OrganisationSignature(TypedDict):
    signed_on: str
    on_behalf_of: int | None


class OrganisationMandate(TypedDict):
    id: int
    swv: int
    granted_on: str
    document_ref: str
    revoked_on: str | None


class OrganisationSignatory(TypedDict):
    name: str
    function: str


class OrganisationView(TypedDict):
    """registry.organisation_view; `mandates` for a school only."""
    id: int
    party: str
    name: str
    kvk: str | None
    oin: str | None
    domain: str | None
    signatures: list[OrganisationSignature]
    mandates: NotRequired[list[OrganisationMandate]]
    signatories: list[OrganisationSignatory]


class SignatureView(TypedDict):
    """registry.signature_view"""
    id: int
    organisation_id: int
    signed_on: str
    signatory_id: int | None
    on_behalf_of: int | None
    ruleset_id: str
    ruleset_version: str
    digest: str


class MandateView(TypedDict):
    """registry.mandate_view"""
    id: int
    school: int
    swv: int
    granted_on: str
    document_ref: str
    revoked_on: str | None


class SignatoryView(TypedDict):
    """registry.signatory_view"""
    id: int
    organisation_id: int
    name: str
    function: str


class ProfessionalView(TypedDict):
    """registry.professional_view"""
    id: int
    organisation_id: int
    name: str
    function: str
    hats: list[str]
    active: bool


class AccessionView(TypedDict):
    """registry.accession_view"""
    id: int
    organisation_id: int
    case_id: int
    signed_on: str
    notified_on: str | None
    document_ref: str


# --- youths --------------------------------------------------------------------------------


class GuardianView(TypedDict):
    id: int
    name: str
    relation: str
    gezag: bool


class YouthView(TypedDict):
    """youths.youth_view of a youth whose key is kept."""
    id: int
    name: str
    birth: str
    age: int
    bsn: str | None  # masked: '*****' and the last four digits
    school_id: int | None
    startkwalificatie: bool
    guardians: list[GuardianView]


class ShreddedYouthView(TypedDict):
    """youths.youth_view of a youth whose key was destroyed (`shredded` is always True)."""
    id: int
    shredded: bool


# --- cases ---------------------------------------------------------------------------------


class WorkflowStepView(TypedDict):
    step: str
    details: dict[str, Any]  # the step's details, its note decrypted
    on: str
    by: int


class WorkflowView(TypedDict):
    """cases.workflow_view"""
    id: int
    youth_id: int
    state: str
    state_nl: str
    scope: list[str]
    coordination: str | None
    version: int
    next: list[str]
    steps: list[WorkflowStepView]


class ParticipantView(TypedDict):
    id: int
    party: str
    name: str


class CaseView(TypedDict):
    """cases.case_view"""
    id: int
    region_id: int
    title: str
    purpose: str
    overleg: str | None
    anonymous: bool
    youth_id: int | None
    opened_on: str
    created_by: int
    version: int
    participants: list[ParticipantView]


class AgendaItemView(TypedDict):
    id: int
    position: int
    title: str


class MeetingView(TypedDict):
    """cases.meeting_view"""
    id: int
    case_id: int
    held_on: str
    version: int
    agenda: list[AgendaItemView]
    participants: list[int]  # professional ids, ascending


class MinuteView(TypedDict):
    """cases.minute_view"""
    id: int
    agenda_item_id: int
    version: int
    text: str
    updated_by: int


class ActionView(TypedDict):
    """cases.action_view"""
    id: int
    meeting_id: int
    owner: int
    description: str
    due_on: str
    evaluate_on: str | None
    done_on: str | None


class WeighingQuestion(TypedDict):
    key: str
    question: str


class WeighingAnswer(TypedDict):
    key: str
    question: str
    answer: str


class WeighingView(TypedDict):
    """cases.weighing_view"""
    id: int
    case_id: int | None
    youth_id: int | None
    kind: str
    label: str
    complete: bool
    recorded_by: int
    recorded_at: str
    to_org_ids: list[int]
    categories: list[str]
    valid_until: str | None
    answers: list[WeighingAnswer]
    unanswered: list[WeighingQuestion]
    problems: list[str]


# --- disclosures ---------------------------------------------------------------------------


class DisclosureItemView(TypedDict):
    data: str  # the category
    outcome: str
    codes: list[Any]
    rules: list[Any]
    content: NotRequired[str | None]  # only when the content was asked for


class DisclosureView(TypedDict):
    """disclosures.view (and _view, list_for_youth)"""
    id: int
    youth_id: int | None
    case_id: int | None
    from_org: int
    to_org: int
    professional: int
    hat: str | None
    purpose: str
    kind: str
    outcome: str
    on: str
    ruleset_digest: str
    items: list[DisclosureItemView]
    explanation: str


class DisclosureReadView(DisclosureView):
    """disclosures.read: the view with its content and the full decision."""
    decision: dict[str, Any]


# --- breaches ------------------------------------------------------------------------------


class BreachOrganisation(TypedDict):
    id: int
    name: str


class BreachSubjectView(TypedDict):
    youth_id: int
    must_inform: bool
    informed_on: str | None


class BreachView(TypedDict):
    """breaches.breach_view"""
    id: int
    region: str  # the region's code
    organisation: BreachOrganisation
    discovered_at: str
    ap_deadline: str
    description: str
    categories: list[str]
    risk: str
    risk_nl: str
    measures: str
    ap_notified_at: str | None
    ap_reference: str | None
    no_notification_reason: str | None
    partners_notified_at: str | None
    recorded_by: int
    version: int
    overdue: bool
    ap_status: str
    subjects: list[BreachSubjectView]
    still_to_inform: list[int]


# --- rights --------------------------------------------------------------------------------


class RequestView(TypedDict):
    """rights.request_view"""
    id: int
    youth_id: int
    kind: str
    requester: str
    guardian_id: int | None
    received_on: str
    due_on: str
    scope: dict[str, Any]
    status: str
    motivation: str
    decided_on: str | None
    ends_on: str | None
    handled_by: int | None


class InzageOrganisationView(TypedDict):
    """An organisation as the inzage names it (rights' reader, org_view)."""
    id: int
    naam: str
    soort: str


class CorrectionView(TypedDict):
    """rights._correction_view (and correction_views)"""
    id: int
    field: str
    label: str
    guardian_id: int | None
    old: str | None
    new: str | None
    corrected_on: str
    by: int | None
    request_id: int | None
