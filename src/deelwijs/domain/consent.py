"""Consent facts for one disclosure, derived from stored consent records (pure).

A consent record is one version of one person's answer (given, refused, withdrawn) about a
scope: purposes, data categories and recipient organisations. The engine needs, for the
disclosure at hand, the contract's `consent` block: did the parents (every parent with
gezag) and the youth give it, in writing, beforehand, and was it withdrawn? Only the people
whose consent the youth's age requires count.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ConsentVersion:
    series: str
    version: int
    role: str  # parent | youth
    guardian_id: int | None
    answer: str  # given | refused | withdrawn
    purposes: frozenset[str]
    categories: frozenset[str]
    recipient_ids: frozenset[int]  # empty: every covenant party in the case
    written: bool
    given_on: dt.date

    def covers(self, purpose: str, category: str, recipient_id: int) -> bool:
        return (purpose in self.purposes and category in self.categories
                and (not self.recipient_ids or recipient_id in self.recipient_ids))


def current_versions(records: list[ConsentVersion], day: dt.date) -> list[ConsentVersion]:
    """The newest version of every series as it stood on `day`."""
    newest: dict[str, ConsentVersion] = {}
    for r in records:
        if r.given_on > day:
            continue
        seen = newest.get(r.series)
        if seen is None or r.version > seen.version:
            newest[r.series] = r
    return list(newest.values())


def consent_facts(records: list[ConsentVersion], gezag_ids: list[int], required: tuple[str, ...],
                  purpose: str, category: str, recipient_id: int, day: dt.date,
                  meeting_on: dt.date | None = None) -> dict:
    """The contract's consent block for one category of one disclosure.

    `prior` means given before the meeting (or, outside a meeting, before the disclosure day
    itself); `withdrawn` means a person whose consent counts withdrew it.
    """
    relevant = [r for r in current_versions(records, day)
                if r.covers(purpose, category, recipient_id)]
    withdrawn = False
    limit = meeting_on or day
    # Per person whose consent the age requires: was there a written one, and one in time?
    # (A person may have several records; one written, timely "given" is enough.)
    written_ok: list[bool] = []
    prior_ok: list[bool] = []

    def in_time(v: ConsentVersion) -> bool:
        return v.given_on < limit if meeting_on else v.given_on <= limit

    def answer_of(versions: list[ConsentVersion], role: str) -> str:
        nonlocal withdrawn
        if any(v.answer == "refused" for v in versions):
            return "refused"
        given = [v for v in versions if v.answer == "given"]
        if any(v.answer == "withdrawn" for v in versions) and not given:
            if role in required:
                withdrawn = True
            return "none"
        if given:
            if role in required:
                written_ok.append(any(v.written for v in given))
                prior_ok.append(any(in_time(v) for v in given))
            return "given"
        return "none"

    if gezag_ids:
        answers = [answer_of([r for r in relevant if r.role == "parent"
                              and r.guardian_id == g], "parents") for g in gezag_ids]
        if "refused" in answers:
            parents = "refused"
        elif all(a == "given" for a in answers):
            parents = "given"
        else:
            parents = "none"
    else:
        parents = "none"  # gezag unknown: consent stays pending until it is verified
    youth = answer_of([r for r in relevant if r.role == "youth"], "youth")
    return {
        "parents": parents,
        "youth": youth,
        "written": all(written_ok),
        "prior": all(prior_ok),
        "withdrawn": withdrawn,
    }


def age_on(birth: dt.date, day: dt.date) -> int:
    """Age in whole years on `day` (someone born on 29 February turns a year older on 1 March
    in a non-leap year)."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
