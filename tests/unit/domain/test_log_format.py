"""The processing log's compact body (format 2, domain/log_format.py): whatever it is given,
`compact` stores text that `expand` turns back into exactly the canonical JSON of the body
(format 1), falling back to format 1 itself where format 2 cannot say it; the word list and
the constants are frozen; a worked example gives the bytes docs/audit.md shows."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from deelwijs.domain import log_format as lf

AT = dt.datetime(2026, 3, 2, 9, 30, 0, 123456)
SUBJECT = "e23a96f291d1c481af6bf123aa713c2e3b7dbfa62e7ec96fe9bff666348dc8ae"
DIGEST = "c530128309f68ee4bdd87639bb8705ccc61c0b36348a331cdbfe73e6d920cdfd"
ROW = "disclosure:3:c17205dbfddfcf4d36e9482299235cbaf029f26a09f994096be09ae7ecce86e5"

# sha256 over the words joined by "\n": the list may only grow at its end (append a word and
# update the figure together with the length; never change or reorder one)
WORDS_DIGEST = "7d1cafe02225a7a497afbf87d7f15f812c0aae36cc3aed1736bf781b67420be3"


def deny_body(**changes) -> dict:
    """A refused disclosure's body as audit.prepare builds it."""
    body = {
        "actieNaam": "Weigeren verstrekking", "actie": "deny",
        "handelingNaam": "Verstrekking (minute)", "verwerkingNaam": "Casusoverleg thuiszitters",
        "verwerkingId": "deelwijs:casus:2",
        "verwerkingsactiviteitId": "voorbeeldregio/thuiszitters",
        "verwerkingsactiviteitVersie": f"2026.2@sha256:{DIGEST}",
        "vertrouwelijkheid": "vertrouwelijk", "bewaartermijn": "P25Y",
        "uitvoerder": "deelwijs:org:12", "systeem": "Deelwijs 0.1.0",
        "gebruiker": "8e738df0079670f2f1b6f561bc292728", "gegevensbron": "deelwijs",
        "soortAfnemerId": "deelwijs", "afnemerId": "deelwijs:org:90",
        "tijdstip": (AT - dt.timedelta(microseconds=1829)).isoformat(),
        "verwerkteObjecten": [{
            "objecttype": "persoon", "soortObjectId": "deelwijs-pseudoniem",
            "objectId": SUBJECT, "betrokkenheid": "jeugdige",
            "verwerkteSoortenGegevens": [{"soortGegeven": "gezondheid"},
                                         {"soortGegeven": "leerresultaten"}]}],
        "trace_id": "55ac6093895be181d63489024a9fe350", "span_id": "db820cf949a93b52",
        "parent_span_id": None, "foreign_operation": None, "status_code": 1,
        "besluit": {"uitkomst": "deny", "ruleset_digest": f"sha256:{DIGEST}", "items": [
            {"gegeven": "gezondheid", "uitkomst": "deny", "redenen": ["SPECIAL_CATEGORY"],
             "regels": ["public.inside_information", "consent.age_12_15"]},
            {"gegeven": "leerresultaten", "uitkomst": "deny", "redenen": ["CONSENT_MISSING"],
             "regels": ["public.inside_information", "consent.age_12_15"]}]},
        "rij": ROW, "verstrekking": 3,
    }
    body.update(changes)
    return body


def roundtrip(body: dict, subject=SUBJECT, activity="voorbeeldregio/thuiszitters") -> str:
    text = lf.compact(body, subject, activity, AT)
    back = lf.expand(text, subject, activity, AT)
    assert lf.canonical(back) == lf.canonical(body)
    # and in the order of keys of format 1 as read (what the export walks), at every level
    assert json.dumps(back) == json.dumps(json.loads(lf.canonical(body)))
    return text


def test_the_word_list_only_grows():
    assert len(lf.WORDS) == 166
    assert len(set(lf.WORDS)) == len(lf.WORDS)
    digest = hashlib.sha256("\n".join(lf.WORDS).encode()).hexdigest()
    assert digest == WORDS_DIGEST, digest


def test_the_worked_example_of_the_docs():
    text = roundtrip(deny_body())
    assert text == (
        '[2,"' + ROW + '",3,133,"~jnON8AeWcPLxtvVhvCknKA","~Vaxgk4lb4YHWNIkCSp_jUA",'
        '"~24IM-UmpO1I","0.1.0","deelwijs:casus:2",146,'
        '"2026.2@~xTASgwn2juS92HY5u4cFzMYcCzY0ijMc2_5z5tkgzf0",12,90,[44,40],'
        '[3,[[44,3,[24],[91,93]],[40,3,[19],[91,93]]],0],1829]')
    assert (len(text.encode()), len(lf.canonical(deny_body()).encode())) == (308, 1550)
    assert lf.row_ref(text) == ROW


def test_an_entry_without_a_row_subject_or_decision():
    body = deny_body(actie="create", actieNaam="Registreren persoonsgegevens",
                     handelingNaam="Registreren persoonsgegevens", besluit=None,
                     afnemerId=None, soortAfnemerId=None, uitvoerder=None,
                     gebruiker="beheer", verwerkteObjecten=[], tijdstip=AT.isoformat())
    del body["rij"], body["verstrekking"]
    text = roundtrip(body, subject=None)
    assert text.startswith(lf.NO_ROW_MARK)
    assert lf.row_ref(text) is None
    assert text.endswith("[]]")  # the empty positions after 13 are left out


def test_a_consent_version_is_compact():
    body = deny_body(actie="consent", actieNaam="Vastleggen toestemming",
                     handelingNaam="Vastleggen toestemming", besluit=None, afnemerId=None,
                     soortAfnemerId=None, rij="consent_record:1:" + "ab" * 32,
                     toestemming={"antwoord": "given", "doelen": ["signalering", "eigen_taak"],
                                  "reeks": "19d0a886-f3fd-4291-9ac3-11597a75b733",
                                  "rol": "parent", "versie": 1})
    del body["verstrekking"]
    text = roundtrip(body)
    assert '"~GdCohvP9QpGawxFZenW3Mw"' in text and "toestemming" not in text


def test_what_format_2_cannot_say_is_kept_in_full():
    # values the positions do not expect go to the last position under their full name
    for changes in ({"status_code": 2}, {"bewaartermijn": "P10Y"}, {"systeem": "Ander 1.0"},
                    {"actieNaam": "Iets anders"}, {"gebruiker": "~niet-hex"},
                    {"verstrekking": 4}, {"uitvoerder": "deelwijs:org:012"},
                    {"tijdstip": "2026-03-02T09:30:00+01:00"},
                    {"parent_span_id": "00f067aa0ba902b7",
                     "foreign_operation": {"trace_id": "4b" * 16, "span_id": "00" * 8}},
                    {"extra_sleutel": {"a": [1, 2]}}):
        text = roundtrip(deny_body(**changes))
        assert lf.is_compact(text), changes
    # a body that leaves out a key format 2 always gives back is stored as format 1
    body = deny_body()
    del body["gegevensbron"]
    assert roundtrip(body) == lf.canonical(body)
    # and one with a besluit of another shape keeps it as it is
    text = roundtrip(deny_body(besluit={"uitkomst": "allow", "iets": True}))
    assert lf.is_compact(text)


def test_values_json_writes_another_way_come_back_as_json_reads_them():
    # a date, a tuple or a key that is not text in a value of the body: the canonical JSON
    # writes them as text, a list and a text key, and the compact body holds them the same way
    for changes in ({"op": dt.date(2026, 3, 1)}, {"besluit": ("deny", None)},
                    {"extra_sleutel": {1: (dt.datetime(2026, 3, 1, 9, 0), "x")}},
                    {"rij": [dt.date(2026, 3, 1)]}):
        text = roundtrip(deny_body(**changes))
        assert lf.is_compact(text), changes


def test_a_format_1_body_is_read_as_it_is():
    body = lf.canonical(deny_body())
    assert lf.expand(body, SUBJECT, "voorbeeldregio/thuiszitters", AT) == json.loads(body)
    assert lf.row_ref(body) is None


_text = st.text(max_size=12)
_hexes = st.sampled_from(["", "ab", "8e738df0079670f2", "8e738df0079670f2f1b6f561bc292728",
                          "8E738DF0079670F2", "~x", "beheer", "deelwijs:org:7"])
_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-3, 10**6), st.floats(), _text, _hexes,
              st.sampled_from(lf.WORDS[:40]), st.just(dt.date(2026, 3, 1))),
    lambda inner: (st.lists(inner, max_size=3) | st.tuples(inner, inner)
                   | st.dictionaries(st.text(max_size=4), inner, max_size=3)), max_leaves=6)


@settings(max_examples=400, deadline=None)
@given(changes=st.dictionaries(st.sampled_from([*sorted(deny_body()), "x", "rij2"]), _values,
                               max_size=5),
       dropped=st.sets(st.sampled_from(sorted(deny_body())), max_size=3),
       subject=st.sampled_from([SUBJECT, None]))
def test_any_body_comes_back_exactly(changes, dropped, subject):
    body = deny_body(**changes)
    for key in dropped:
        body.pop(key, None)
    roundtrip(body, subject=subject)
