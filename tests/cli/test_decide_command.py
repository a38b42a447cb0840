"""`deelwijs decide`, the one stable interface (shared/spec/decisions.md), as a user runs it.

Every test runs the real console script in a subprocess, so "exit 2, nothing on stdout, one
line per problem on stderr, never a traceback" is checked on the process itself. The
`deelwijs` fixture (tests/cli/conftest.py) fails any test whose output holds a traceback.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from deelwijs.domain.contract import decide_payload
from deelwijs.domain.errors import RequestError
from deelwijs.rules import loader

BAD_RULESETS = Path(__file__).resolve().parents[1] / "unit" / "rules" / "bad_rulesets"
VOORBEELDREGIO = Path(str(loader.builtin_path("voorbeeldregio")))

OZA = {
    "kind": "disclosure",
    "discloser": {"party": "jeugdhulp", "hat": "hulpverlening"},
    "recipient": {"party": "school", "acceded": True, "domain": "onderwijs"},
    "subject": {"age": 14},
    "purpose": "oza",
    "task": "both",
    "data": ["hulpverlening", "gezondheid"],
    "consent": {"parents": "given", "youth": "refused", "written": True, "prior": True},
    "exceptions": {},
    "context": {},
}
SCHOOL_TO_SWV = {
    "discloser": {"party": "school"}, "recipient": {"party": "swv"}, "subject": {"age": 9},
    "purpose": "oza", "data": ["verzuim", "gedrag", "identificatie"],
    "consent": {"parents": "given"},
}
# A path as the contract writes it: request, request[3], request.data[1], request[0].consent.
_PATH = re.compile(r"^request(\[\d+\])?(\.[^.\[:\s]+|\[\d+\])*: \S")


def _json(text: str):
    return json.loads(text)


def _problem_lines(payload, ruleset=None) -> list[str]:
    """The lines the contract asks for: one per problem the checker finds, in its order."""
    with pytest.raises(RequestError) as exc:
        decide_payload(payload, loader.resolve(ruleset))
    return [str(p) for p in exc.value.problems]


def _assert_refused(run, *paths: str) -> list[str]:
    assert run.returncode == 2, (run.stdout, run.stderr)
    assert run.stdout == ""
    lines = run.stderr.splitlines()
    assert lines, "no problem named"
    for line in lines:
        assert _PATH.match(line), f"does not begin with a JSON path: {line!r}"
    for path in paths:
        assert any(line.startswith(f"{path}: ") for line in lines), (path, lines)
    return lines


# --- answers ---------------------------------------------------------------------------------


def test_it_answers_one_object_with_one_object(deelwijs):
    run = deelwijs("decide", stdin=json.dumps(OZA))
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    answer = _json(run.stdout)
    assert isinstance(answer, dict)
    assert answer["kind"] == "disclosure"
    assert [i["data"] for i in answer["items"]] == OZA["data"]
    assert answer["outcome"] in ("allow", "deny", "partial")
    assert answer["ruleset"] == loader.model().ref()
    assert answer == decide_payload(OZA, loader.model())  # the same JSON as the API's


def test_it_answers_an_array_with_an_array_in_the_same_order(deelwijs):
    payload = [
        SCHOOL_TO_SWV,
        {"kind": "consent_required", "subject": {"age": 12}},
        OZA,
        {"kind": "retention", "record": "jeugdhulpdossier", "ended_on": "2021-03-01"},
        {"kind": "absence_report", "subject": {"age": 13, "startkwalificatie": False},
         "absence": {"unauthorised_hours": 17, "school_weeks": 3, "type": "ongeoorloofd"}},
        {**SCHOOL_TO_SWV, "data": list(reversed(SCHOOL_TO_SWV["data"]))},
    ]
    run = deelwijs("decide", stdin=json.dumps(payload))
    assert run.returncode == 0, run.stderr
    answers = _json(run.stdout)
    assert isinstance(answers, list)
    assert [a["kind"] for a in answers] == [p.get("kind", "disclosure") for p in payload]
    assert [i["data"] for i in answers[0]["items"]] == SCHOOL_TO_SWV["data"]
    assert [i["data"] for i in answers[5]["items"]] == payload[5]["data"]
    assert answers[1]["required"] == ["parents", "youth"]
    assert answers[3]["keep_until"] == "2041-03-01"
    assert (answers[4]["duty"], answers[4]["deadline_working_days"]) == ("mandatory", 5)
    assert answers == decide_payload(payload, loader.model())


def test_it_answers_an_empty_array_with_an_empty_array(deelwijs):
    run = deelwijs("decide", stdin="[]")
    assert (run.returncode, _json(run.stdout)) == (0, [])


@pytest.mark.parametrize("option", ["--file", "-f"])
def test_it_reads_the_request_from_a_file(deelwijs, tmp_path, option):
    path = tmp_path / "verzoek.json"
    path.write_text(json.dumps([OZA, SCHOOL_TO_SWV], ensure_ascii=False), encoding="utf-8")
    from_file = deelwijs("decide", option, path)
    from_stdin = deelwijs("decide", stdin=path.read_text(encoding="utf-8"))
    assert from_file.returncode == 0, from_file.stderr
    assert from_file.stdout == from_stdin.stdout


def test_it_says_so_when_the_file_cannot_be_read(deelwijs, tmp_path):
    run = deelwijs("decide", "--file", tmp_path / "nergens.json")
    _assert_refused(run, "request")
    latin = tmp_path / "latin1.json"
    latin.write_bytes('{"purpose": "één"}'.encode("latin-1"))
    _assert_refused(deelwijs("decide", "--file", latin), "request")


def test_it_decides_a_regional_overleg_name_under_voorbeeldregio(deelwijs):
    request = {**SCHOOL_TO_SWV, "purpose": "TOM-tafel"}
    run = deelwijs("decide", "--ruleset", "voorbeeldregio", stdin=json.dumps(request))
    assert run.returncode == 0, run.stderr
    answer = _json(run.stdout)
    assert (answer["purpose"], answer["overleg"]) == ("oza", "TOM-tafel")
    assert answer["ruleset"]["id"] == "voorbeeldregio"
    assert answer["ruleset"]["digest"] == loader.resolve("voorbeeldregio").digest
    assert "TOM-tafel" in answer["explanation"]
    # The same file named by its path is the same ruleset.
    by_path = deelwijs("decide", "-r", VOORBEELDREGIO, stdin=json.dumps(request))
    assert _json(by_path.stdout) == answer
    # The model covenant knows no TOM-tafel.
    _assert_refused(deelwijs("decide", stdin=json.dumps(request)), "request.purpose")


def test_voorbeeldregio_applies_its_extra_condition_where_the_model_allows(deelwijs):
    request = {**SCHOOL_TO_SWV, "purpose": "signalering", "data": ["verzuim"],
               "consent": {"parents": "none"}}
    model = _json(deelwijs("decide", stdin=json.dumps(request)).stdout)
    region = _json(deelwijs("decide", "-r", "voorbeeldregio", stdin=json.dumps(request)).stdout)
    assert model["outcome"] == "allow"
    assert region["outcome"] == "deny"
    assert region["items"][0]["rules"][0] == "voorbeeldregio.verzuim_met_toestemming"


def test_explain_adds_a_trace_per_item_whose_steps_name_rules_that_exist(deelwijs):
    for ruleset, request in (("model-convenant", [OZA, SCHOOL_TO_SWV]),
                             ("voorbeeldregio", [{**SCHOOL_TO_SWV, "purpose": "Zorgplatform"}])):
        rules = loader.resolve(ruleset).rules
        run = deelwijs("decide", "--explain", "--ruleset", ruleset, stdin=json.dumps(request))
        assert run.returncode == 0, run.stderr
        for answer in _json(run.stdout):
            for item in answer["items"]:
                assert item["trace"], item
                for step in item["trace"]:
                    assert step["rule"] in rules, step
                    assert step["verdict"] in ("not_applicable", "pass", "allow", "deny")
                assert set(item["rules"]) <= {s["rule"] for s in item["trace"]} | {
                    r for r in item["rules"] if r.startswith("consent.")}
    plain = _json(deelwijs("decide", stdin=json.dumps(OZA)).stdout)
    assert all("trace" not in item for item in plain["items"])


def test_explain_changes_no_answer(deelwijs):
    payload = [OZA, SCHOOL_TO_SWV, {**OZA, "context": {"bulk": True}}]
    plain = _json(deelwijs("decide", stdin=json.dumps(payload)).stdout)
    explained = _json(deelwijs("decide", "--explain", stdin=json.dumps(payload)).stdout)
    for p, e in zip(plain, explained, strict=True):
        for item in e["items"]:
            del item["trace"]
        assert p == e


# --- bad input: exit 2, nothing on stdout, one line per problem ------------------------------


def test_it_names_each_problem_of_each_request_by_its_json_path(deelwijs):
    payload = [SCHOOL_TO_SWV,
               {**SCHOOL_TO_SWV, "data": ["gezondhied", "verzuim"], "purpse": "oza"}]
    run = deelwijs("decide", stdin=json.dumps(payload))
    lines = _assert_refused(run, "request[1].data[0]", "request[1].purpse")
    assert lines == _problem_lines(payload)
    [typo] = [line for line in lines if line.startswith("request[1].data[0]: ")]
    assert "'gezondhied'" in typo
    assert "'gezondheid'" in typo  # did you mean


BAD = {
    "age_31": ({**SCHOOL_TO_SWV, "subject": {"age": 31}}, ["request.subject.age"]),
    "age_minus_1": ({**SCHOOL_TO_SWV, "subject": {"age": -1}}, ["request.subject.age"]),
    "age_as_text": ({**SCHOOL_TO_SWV, "subject": {"age": "14"}}, ["request.subject.age"]),
    "boolean_as_yes": ({**SCHOOL_TO_SWV, "recipient": {"party": "swv", "acceded": "yes"}},
                       ["request.recipient.acceded"]),
    "unknown_field": ({**SCHOOL_TO_SWV, "urgent": True}, ["request.urgent"]),
    "unknown_nested_field": ({**SCHOOL_TO_SWV, "consent": {"parent": "given"}},
                             ["request.consent.parent"]),
    "wrong_kind": ({**SCHOOL_TO_SWV, "kind": "disclosur"}, ["request.kind"]),
    "missing_fields": ({"kind": "disclosure"},
                       ["request.discloser", "request.recipient", "request.subject",
                        "request.purpose", "request.data"]),
    "empty_data": ({**SCHOOL_TO_SWV, "data": []}, ["request.data"]),
    "duplicate_category": ({**SCHOOL_TO_SWV, "data": ["verzuim", "verzuim"]},
                           ["request.data[1]"]),
    "unknown_party": ({**SCHOOL_TO_SWV, "recipient": {"party": "schol"}},
                      ["request.recipient.party"]),
    "hat_on_a_school": ({**SCHOOL_TO_SWV, "discloser": {"party": "school",
                                                        "hat": "toeleiding"}},
                        ["request.discloser.hat"]),
    "hat_on_a_gp": ({**SCHOOL_TO_SWV, "discloser": {"party": "huisarts", "hat": "coordinatie"}},
                    ["request.discloser.hat"]),
    "discloser_acceded_as_text": ({**SCHOOL_TO_SWV, "discloser": {"party": "jgz",
                                                                  "acceded": "ja"}},
                                  ["request.discloser.acceded"]),
    "startkwalificatie_as_number": ({**SCHOOL_TO_SWV, "subject": {"age": 17,
                                                                  "startkwalificatie": 1}},
                                    ["request.subject.startkwalificatie"]),
    "weighing_as_text": ({**SCHOOL_TO_SWV, "exceptions": {"weighing_documented": "true"}},
                         ["request.exceptions.weighing_documented"]),
    "not_an_object": (["verzuim"], ["request[0]"]),
    "a_number": (42, ["request"]),
}


@pytest.mark.parametrize(("payload", "paths"), BAD.values(), ids=BAD.keys())
def test_it_refuses_bad_input_with_exit_2_and_one_line_per_problem(deelwijs, payload, paths):
    lines = _assert_refused(deelwijs("decide", stdin=json.dumps(payload)), *paths)
    assert lines == _problem_lines(payload)


def test_a_hat_is_refused_on_anyone_but_a_wijkteam_professional(deelwijs):
    """Rule 4 (1.1): no GP or school escapes its own rules by naming a hat."""
    for party in ("school", "swv", "leerplicht", "jgz", "huisarts", "veilig_thuis", "gi",
                  "raad", "kinderopvang", "derde"):
        payload = {**SCHOOL_TO_SWV, "discloser": {"party": party, "hat": "toeleiding"}}
        [line] = _assert_refused(deelwijs("decide", stdin=json.dumps(payload)),
                                 "request.discloser.hat")
        assert "wijkteamprofessional" in line and f"'{party}'" in line
    for party in ("jeugdhulp", "gemeente"):
        payload = {**SCHOOL_TO_SWV, "discloser": {"party": party, "hat": "toeleiding"}}
        assert deelwijs("decide", stdin=json.dumps(payload)).returncode == 0


def test_it_suggests_the_field_or_kind_that_was_meant(deelwijs):
    run = deelwijs("decide", stdin=json.dumps({**SCHOOL_TO_SWV, "kind": "disclosur"}))
    [line] = _assert_refused(run, "request.kind")
    assert "'disclosure'" in line
    run = deelwijs("decide", stdin=json.dumps({**SCHOOL_TO_SWV, "contxt": {}}))
    [line] = _assert_refused(run, "request.contxt")
    assert "'context'" in line


def test_it_decides_nothing_when_one_request_of_an_array_is_bad(deelwijs):
    payload = [SCHOOL_TO_SWV, OZA, {**OZA, "subject": {"age": 31}}]
    lines = _assert_refused(deelwijs("decide", stdin=json.dumps(payload)),
                            "request[2].subject.age")
    assert len(lines) == 1


@pytest.mark.parametrize("text", ["{", "", "{'purpose': 'oza'}", '{"data": [1,]}',
                                  '{"a": 1} {"b": 2}', "\x00"],
                         ids=["unclosed", "empty", "single_quotes", "trailing_comma",
                              "two_objects", "nul"])
def test_it_refuses_malformed_json_with_one_line(deelwijs, text):
    run = deelwijs("decide", stdin=text)
    [line] = _assert_refused(run, "request")
    assert "JSON" in line


def test_it_refuses_deeply_nested_json_as_bad_input(deelwijs):
    run = deelwijs("decide", stdin="[" * 100_000 + "]" * 100_000)
    _assert_refused(run, "request")


def test_it_refuses_an_age_with_thousands_of_digits_as_bad_input(deelwijs):
    payload = json.dumps({**SCHOOL_TO_SWV, "subject": {"age": 0}}).replace(
        '"age": 0', '"age": ' + "9" * 5000)
    run = deelwijs("decide", stdin=payload)
    _assert_refused(run, "request")


@pytest.mark.parametrize("token", ["NaN", "Infinity"])
def test_it_refuses_nan_and_infinity_which_are_not_json(deelwijs, token):
    text = ('{"kind": "absence_report", "subject": {"age": 13}, "absence": '
            '{"type": "ongeoorloofd", "unauthorised_hours": HOURS, "school_weeks": 2}}'
            ).replace("HOURS", token)
    _assert_refused(deelwijs("decide", stdin=text), "request")


def test_it_refuses_a_retention_day_whose_term_ends_after_9999(deelwijs):
    text = json.dumps({"kind": "retention", "record": "jeugdhulpdossier",
                       "ended_on": "9990-01-01"})
    _assert_refused(deelwijs("decide", stdin=text), "request.ended_on")


def test_it_refuses_an_unknown_ruleset_with_exit_2(deelwijs):
    run = deelwijs("decide", "--ruleset", "nonexistent", stdin=json.dumps(OZA))
    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr.startswith("nonexistent: [not_found]")
    assert len(run.stderr.splitlines()) == 1


def test_it_refuses_a_broken_ruleset_file_naming_file_and_line(deelwijs):
    path = BAD_RULESETS / "widens_purpose.yaml"
    run = deelwijs("decide", "--ruleset", path, stdin=json.dumps(OZA))
    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr.startswith(f"{path}:13: [widens_purpose]")


ODD = ["null", "true", '"oza"', "[[]]", "[null]", '{"kind": null}', '{"kind": ["disclosure"]}',
       '{"discloser": {"party": ["school"]}}', '{"data": {"verzuim": true}}',
       '{"subject": {"age": NaN}}', '{"subject": {"age": 1e400}}', '{"\\ud800": 1}',
       '{"kind": "retention", "record": "leerlingdossier", "ended_on": 20210301}']


@pytest.mark.parametrize("text", ODD)
def test_it_never_prints_a_traceback_whatever_it_is_given(deelwijs, text):
    """The fixture asserts "no traceback" for every run; these are the oddest inputs."""
    run = deelwijs("decide", stdin=text)
    assert run.returncode == 2, (run.stdout, run.stderr)
    assert run.stdout == ""
    assert run.stderr.strip()


# --- the garbage collector is off for the batch, and as it was afterwards ---------------------


def _in_process(capsys, *args: str, before=None) -> tuple[int, str, str]:
    """The command in this process (the collector is process-wide state); `before` is called
    once the command tree is built, just before it runs."""
    from deelwijs.cli import app, nl

    command = nl.command_of(app)
    if before is not None:
        before()
    code = nl.run(command, ["decide", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def collections():
    """Every collection the garbage collector starts while the test runs, each as the names of
    the functions on the stack it interrupted."""
    import gc
    import sys

    started: list[set[str]] = []

    def note(phase: str, info: dict) -> None:
        if phase == "start":
            names, frame = set(), sys._getframe(1)
            while frame is not None:
                names.add(frame.f_code.co_name)
                frame = frame.f_back
            started.append(names)

    gc.callbacks.append(note)
    yield started
    gc.callbacks.remove(note)


def test_no_collection_runs_during_a_batch_and_the_collector_is_back_after(
        capsys, tmp_path, collections):
    import gc

    batch = [OZA, SCHOOL_TO_SWV] * 500
    path = tmp_path / "verzoeken.json"
    path.write_text(json.dumps(batch), encoding="utf-8")
    assert gc.isenabled()
    # the same batch with the collector on: it collects (so the check below can fail)
    decide_payload(batch, loader.model())
    assert sum("decide_payload" in names for names in collections) > 10
    code, out, err = _in_process(capsys, "--file", str(path), before=collections.clear)
    assert (code, err) == (0, "")
    # click may collect while it reads the command line (imports); the batch never does
    assert [names for names in collections if "_decide" in names] == []
    assert gc.isenabled()
    assert json.loads(out) == decide_payload(batch, loader.model())


@pytest.mark.parametrize("stdin", ["[{", json.dumps([SCHOOL_TO_SWV, {**OZA, "subject": {}}])],
                         ids=["malformed", "bad_request"])
def test_the_collector_is_back_after_a_refused_batch(capsys, monkeypatch, stdin):
    import gc
    import io

    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin.encode())))
    code, out, err = _in_process(capsys)
    assert (code, out) == (2, "")
    assert err.startswith("request")
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off(capsys, tmp_path):
    import gc

    path = tmp_path / "verzoek.json"
    path.write_text(json.dumps(OZA), encoding="utf-8")
    gc.disable()
    try:
        code, out, _err = _in_process(capsys, "--file", str(path))
        assert code == 0 and json.loads(out)["kind"] == "disclosure"
        assert not gc.isenabled()
    finally:
        gc.enable()
