"""The ruleset as the engine reads it: plain, frozen tables compiled from the rule data."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Citations:
    avg: str | None = None
    sector: str | None = None
    convenant: str | None = None

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in (("avg", self.avg), ("sector", self.sector),
                                  ("convenant", self.convenant)) if v}

    def text(self) -> str:
        return "; ".join(self.as_dict().values())


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    title: str
    citations: Citations
    explanation: str
    fg_judgement: bool = False
    origin: str = "model-convenant"


@dataclass(frozen=True, slots=True)
class Party:
    code: str
    label: str
    kind: str  # public_body | secrecy | private
    covenant: str  # always | mandate | acceded | never
    default_domain: str | None
    article: str = "de"

    @property
    def named(self) -> str:
        """The label with its article: 'het schoolbestuur', 'Veilig Thuis'."""
        return f"{self.article} {self.label}".strip()


@dataclass(frozen=True, slots=True)
class Category:
    code: str
    label: str
    outside: bool
    special: bool


@dataclass(frozen=True, slots=True)
class Purpose:
    code: str
    label: str
    route: str  # covenant | municipal | own_task | legal
    categories: frozenset[str]
    default_help_request_domains: tuple[str, ...] = ()
    article: str = "het"
    college_domain: str | None = None  # the domain a `gemeente` recipient without one acts in

    @property
    def named(self) -> str:
        return f"{self.article} {self.label}".strip()


@dataclass(frozen=True, slots=True)
class Route:
    """One entry of a legal route: who may give what to whom, on which ground."""

    rule: str
    from_: frozenset[str] | None  # None = any discloser
    to: frozenset[str] | None  # None = any recipient
    categories: frozenset[str] | None  # None = every category
    grant: str | None  # a ground code, or "consent"
    otherwise: str | None  # a reason code, or "consent"
    otherwise_rule: str | None
    deny: str | None  # a reason code: the route refuses outright
    obligations: tuple[str, ...] = ()
    from_kind: frozenset[str] | None = None  # the discloser's party kind (None = any)
    status: frozenset[str] | None = None  # the youth's education status (None = any)
    needs: str | None = None  # a request fact the grant needs: "weighing_documented"
    alternatives: tuple[str, ...] = ()  # other grounds that carry an item: consent, vital_interest
    lacking: str | None = None  # the reason when no ground holds (default CONSENT_MISSING)


@dataclass(frozen=True, slots=True)
class ConsentRule:
    youth_and_parents_from: int
    youth_alone_from: int
    written: bool = True
    prior: bool = True


@dataclass(frozen=True, slots=True)
class AbsenceRule:
    leerplicht_from: int
    leerplicht_until: int
    kwalificatieplicht_until: int
    threshold_hours: float
    threshold_weeks: int
    deadline_working_days: int
    rmc_until: int = 23  # the RMC task (WEB art. 8.3.2) ends at this age


@dataclass(frozen=True, slots=True)
class Retention:
    record: str
    years: int
    term: str  # minimum | maximum
    rule: str
    before_date: str | None = None  # ISO date; help ended before it → before_years
    before_years: int | None = None
    before_rule: str | None = None


@dataclass(frozen=True, slots=True)
class Condition:
    """A regional extra condition: narrows, never widens."""

    id: str
    purposes: frozenset[str]
    categories: frozenset[str] | None
    require: str  # "consent"


@dataclass(frozen=True, slots=True)
class Ruleset:
    id: str
    version: str
    title: str
    digest: str
    parties: dict[str, Party]
    hats: dict[str, str]
    domains: dict[str, str]
    categories: dict[str, Category]
    purposes: dict[str, Purpose]
    routes: dict[str, tuple[Route, ...]]
    consent: ConsentRule
    absence: AbsenceRule
    retention: dict[str, Retention]
    rules: dict[str, Rule]
    conditions: tuple[Condition, ...] = ()
    overleg_types: dict[str, str] = field(default_factory=dict)
    extends: str | None = None
    signatories: tuple[dict, ...] = ()
    # The effective ruleset document (a region merged onto the model) the digest is of.
    document: dict = field(default_factory=dict, compare=False, repr=False, hash=False)
    # Per-ruleset memo of item decisions (a pure function of its key; see engine).
    memo: dict = field(default_factory=dict, compare=False, repr=False, hash=False)

    def ref(self) -> dict[str, str]:
        return {"id": self.id, "version": self.version, "digest": self.digest}
