"""`deelwijs decide` prints, byte for byte, what it printed before it wrote with orjson:
`print(json.dumps(answer, ensure_ascii=False, indent=2))`, UTF-8.

The answers are those of every shipped scenario request and every worked example of the
contract, with and without --explain, in one batch and alone; and of a ruleset whose names
and texts hold what JSON must escape (quotes, backslashes, tabs, newlines, control
characters) or may leave as it is (non-ASCII letters, U+2028, emoji). Each run is the real
console script, its stdout read as bytes.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from deelwijs.domain import engine, labels, render
from deelwijs.domain.contract import decide_payload
from deelwijs.domain.errors import RequestError
from deelwijs.domain.request import parse_request
from deelwijs.rules import loader
from deelwijs.rules import scenario as scenarios
from deelwijs.services.decisions import answer_json

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT.parent / "shared" / "spec" / "examples" / "decisions.json"


def _old_bytes(payload, ruleset: str, explain: bool = False, encoding: str = "utf-8") -> bytes:
    """What the command printed before orjson, for these requests."""
    answer = decide_payload(payload, loader.resolve(ruleset), explain)
    return (json.dumps(answer, ensure_ascii=False, indent=2) + "\n").encode(encoding)


@pytest.fixture
def decide(deelwijs_script, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEELWIJS_")}
    env.update(DEELWIJS_VAR=str(tmp_path / "var"), PYTHONIOENCODING="utf-8")

    def run(payload, *args: str, **extra_env: str) -> bytes:
        path = tmp_path / "verzoek.json"
        path.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
        proc = subprocess.run([str(deelwijs_script), "decide", "--file", str(path), *args],
                              capture_output=True, env={**env, **extra_env}, cwd=tmp_path,
                              timeout=300, check=False)
        assert proc.returncode == 0, proc.stderr.decode(errors="replace")
        assert proc.stderr == b""
        return proc.stdout

    return run


def _scenario_requests() -> dict[str, list]:
    """Per built-in ruleset: the requests of the shipped scenarios that are decided."""
    out: dict[str, list] = defaultdict(list)
    for path in scenarios.builtin_files():
        for sc in scenarios.load(path):
            if "error" not in sc.expect:
                out[Path(sc.ruleset).name if "/" in sc.ruleset else sc.ruleset].append(
                    sc.request)
    return dict(out)


def _examples() -> list:
    if not EXAMPLES.is_file():
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail(f"{EXAMPLES} ontbreekt; in CI moet die map er zijn")
        pytest.skip(f"{EXAMPLES} ontbreekt (de voorbeelden staan naast het project)")
    return [case["request"] for case in json.loads(EXAMPLES.read_text(encoding="utf-8"))]


@pytest.mark.parametrize("explain", [False, True], ids=["plain", "explain"])
@pytest.mark.parametrize("ruleset", sorted(_scenario_requests()))
def test_every_scenario_request_prints_the_old_bytes(decide, ruleset, explain):
    requests = _scenario_requests()[ruleset]
    args = ("--ruleset", ruleset, *(["--explain"] if explain else []))
    printed = decide(requests, *args)
    want = _old_bytes(requests, ruleset, explain)
    assert printed == want
    # Dutch letters and dashes are in it unescaped, and more than one kind of answer
    assert any(b >= 0x80 for b in want)
    assert {a["kind"] for a in json.loads(want)} >= {"disclosure"}
    # one object in, one object out
    assert decide(requests[0], *args) == _old_bytes(requests[0], ruleset, explain)


@pytest.mark.parametrize("explain", [False, True], ids=["plain", "explain"])
def test_the_worked_examples_print_the_old_bytes(decide, explain):
    requests = _examples()
    args = ["--explain"] if explain else []
    want = _old_bytes(requests, "model-convenant", explain)
    assert decide(requests, *args) == want
    assert {a["kind"] for a in json.loads(want)} == {
        "disclosure", "absence_report", "consent_required", "retention"}


ODD_OVERLEG = 'Overleg "Één" \\ met\ttab – ½ € 😀 \x7f </script> \u00a0eind'
ODD_TEXT = ("Voor {categorie} geldt {{letterlijk}}: \"aanhalingstekens\", \\ backslash, tab\t, "
            "nieuwe\nregel, \x01 \x1f \x7f \u2028 \u2029 – é ñ ü ß 中文 😀 </script>.")


def _odd_ruleset(tmp_path: Path) -> str:
    doc = {
        "format": 1, "id": "rare-tekens", "version": "2026.1", "extends": "model-convenant",
        "title": "Rare tekens – ‘test’ “regio” ✓", "source": "Tests: tekens voor JSON",
        "overleg_types": {ODD_OVERLEG: "oza", "Zorg\x01tafel": "signalering"},
        "conditions": [{
            "id": "rare-tekens.verzuim", "purposes": ["signalering", "oza"],
            "categories": ["verzuim"], "require": "consent",
            "title": 'Verzuim "alleen" met toestemming \\ ✓ \U0001F600',
            "citations": {"convenant": "art. 1 – lid ½ \u2028 regionaal \"x\""},
            "explanation": ODD_TEXT}],
    }
    path = tmp_path / "rare-tekens.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return str(path)


def test_text_that_json_escapes_prints_the_old_bytes(decide, tmp_path):
    ruleset = _odd_ruleset(tmp_path)
    base = {"discloser": {"party": "school"}, "recipient": {"party": "swv"},
            "subject": {"age": 9}, "data": ["verzuim", "gedrag"]}
    requests = [{**base, "purpose": ODD_OVERLEG, "consent": {"parents": consent}}
                for consent in ("none", "given")]
    requests.append({**base, "purpose": "Zorg\x01tafel"})
    for explain in (False, True):
        args = ("--ruleset", ruleset, *(["--explain"] if explain else []))
        want = _old_bytes(requests, ruleset, explain)
        assert decide(requests, *args) == want
    text = want.decode("utf-8")
    for escaped in ('\\"', "\\\\", "\\t", "\\n", "\\u0001", "\\u001f"):
        assert escaped in text, escaped  # escaped, as json escapes them
    for raw in ("Één", "\x7f", "\u2028", "\u2029", "😀", "中文", "\u00a0", "</script>"):
        assert raw in text, raw  # left as they are
    assert json.loads(want)[0]["overleg"] == ODD_OVERLEG


_PRINT_OLD = """
import json, sys
from deelwijs.domain import codes, engine, render
from deelwijs.domain.errors import RequestError
from deelwijs.domain.request import parse_request
from deelwijs.rules import loader
from deelwijs.services.decisions import decide_payload
with open(sys.argv[1], encoding="utf-8") as fh:
    payload = json.load(fh)
print(json.dumps(decide_payload(payload, loader.model()), ensure_ascii=False, indent=2))
"""


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig", "UTF8"])
def test_a_stdout_of_another_encoding_gets_what_print_wrote(decide, tmp_path, encoding):
    """The bytes go straight out only on a UTF-8 stdout; otherwise through the text stream,
    as print wrote them: compared with print itself, in a process with the same stdout."""
    requests = _scenario_requests()["model-convenant"][:5]
    printed = decide(requests, PYTHONIOENCODING=encoding)
    env = {**os.environ, "PYTHONIOENCODING": encoding}
    old = subprocess.run([sys.executable, "-c", _PRINT_OLD, str(tmp_path / "verzoek.json")],
                         capture_output=True, env=env, timeout=120, check=True)
    assert printed == old.stdout
    if encoding == "UTF8":
        assert printed == _old_bytes(requests, "model-convenant")
    else:
        assert printed != _old_bytes(requests, "model-convenant")


def test_disclosure_answers_hold_no_numbers():
    """answer_json leaves a disclosure answer to orjson without looking for floats (orjson
    writes some floats differently from json): that is only right while it has no numbers."""
    def numbers(value) -> list:
        if isinstance(value, bool) or value is None or isinstance(value, str):
            return []
        if isinstance(value, int | float):
            return [value]
        items = value.values() if isinstance(value, dict) else value
        return [n for v in items for n in numbers(v)]

    for ruleset, requests in _scenario_requests().items():
        for explain in (False, True):
            answers = decide_payload(requests, loader.resolve(ruleset), explain)
            disclosures = [a for a in answers if a["kind"] == "disclosure"]
            assert disclosures
            assert numbers(disclosures) == []


@pytest.mark.parametrize("value", [
    {"kind": "retention", "years": 1e-05, "keep_until": "2030-01-01"},  # orjson: 0.00001
    [{"kind": "disclosure"}, {"kind": "retention", "years": 7.5e-8}],
    {"kind": "disclosure", "big": 2 ** 70},  # beyond 64 bits
    {"kind": "disclosure", "text": "los \ud800 surrogaat"},
    {"kind": "disclosure", 1: "a key that is no string"},
    {"kind": "retention", "years": 7, "nested": {"a": [1, 2.5, None, True, {}, []]}},
    {"kind": "absence_report", "deadline_working_days": None, "grounds": []},
    [],
    {},
])
def test_answer_json_gives_jsons_text_where_orjson_would_differ(value):
    got = answer_json(value)
    want = json.dumps(value, ensure_ascii=False, indent=2) + "\n"
    if isinstance(got, bytes):
        assert got == want.encode("utf-8")
    else:
        assert got == want


def test_answer_json_escapes_every_character_as_json_does():
    chars = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    value = {"kind": "disclosure", "text": chars, "list": [chars[:500], {"k" + chars[:200]: ""}]}
    assert answer_json(value) == (
        json.dumps(value, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


# --- the texts memoised per ruleset (domain.render) are the texts made afresh ----------------


def _fresh_item_explanation(d, item) -> str:
    """An item's explanation as render made it before the memo: every rule formatted anew."""
    params = render._params(d, item.data)
    seen: list[str] = []
    for rule_id in item.rules:
        if rule_id not in seen:
            seen.append(rule_id)
    return " ".join(render.rule_text(d.ruleset, r, params) for r in seen)


def _fresh_summary(d) -> str:
    """The answer's explanation as render made it before the memo."""
    rs, req = d.ruleset, d.request
    allowed = [i for i in d.items if i.outcome == "allow"]
    denied = [i for i in d.items if i.outcome == "deny"]
    overleg = f" (regionaal overleg '{req.overleg}')" if req.overleg else ""
    parts = [f"Vraag: mag {rs.parties[req.discloser].named} gegevens over een jongere van "
             f"{req.age} jaar delen met {rs.parties[req.recipient].named} voor "
             f"{rs.purposes[req.purpose].named}{overleg}?"]
    if allowed:
        grounds = list(dict.fromkeys(g for i in allowed for g in i.grounds))
        what = "Ja" if not denied else "Deels. U mag delen"
        parts.append(f"{what}: {render._label_list(rs, [i.data for i in allowed])}, "
                     f"op grond van {render._and([labels.GROUND_CITED[g] for g in grounds])}.")
    if denied:
        reasons = list(dict.fromkeys(r for i in denied for r in i.reasons))
        lead = "Nee, u mag niet delen" if not allowed else "U mag niet delen"
        parts.append(f"{lead}: {render._label_list(rs, [i.data for i in denied])} "
                     f"({'; '.join(labels.REASON_PHRASE[r] for r in reasons)}).")
    explained: list[str] = []
    for i in d.items:
        params = render._params(d, i.data)
        for rule_id in i.rules:
            text = render.rule_text(rs, rule_id, params)
            if text not in explained:
                explained.append(text)
    parts.extend(explained)
    if d.obligations:
        todo = "; ".join(render.obligation_text(d, o) for o in d.obligations)
        parts.append(f"Wat u nu moet doen: {todo}.")
    return " ".join(parts)


def _random_requests(rs, n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    purposes = [*rs.purposes, *rs.overleg_types]
    out = []
    for _ in range(n):
        discloser = rng.choice(list(rs.parties))
        obj = {"discloser": {"party": discloser}, "recipient": {"party": rng.choice(
            list(rs.parties))}, "subject": {"age": rng.randint(0, 30)},
            "purpose": rng.choice(purposes),
            "data": rng.sample(list(rs.categories), rng.randint(1, 4)),
            "consent": {"parents": rng.choice(["given", "refused", "none"]),
                        "youth": rng.choice(["given", "none"])}}
        if discloser in ("jeugdhulp", "gemeente") and rng.random() < 0.5:
            obj["discloser"]["hat"] = rng.choice(list(rs.hats))
        if rng.random() < 0.5:
            obj["recipient"]["domain"] = rng.choice(list(rs.domains))
        if rng.random() < 0.3:
            obj["task"] = rng.choice(["both", "discloser", "recipient"])
        if rng.random() < 0.3:
            obj["exceptions"] = {"vital_interest": rng.random() < 0.5,
                                 "weighing_documented": rng.random() < 0.5}
        out.append(obj)
    return out


def test_memoised_texts_are_the_texts_made_afresh(tmp_path):
    """Every disclosure's item explanations and explanation, from a cold memo and again from
    a warm one, equal the texts formatted anew for each answer, under the model covenant, the
    example region and a ruleset whose rule text has placeholders, braces and odd text."""
    compared = 0
    for name in ("model-convenant", "voorbeeldregio", _odd_ruleset(tmp_path)):
        rs = loader.resolve(name)
        objs = [*_scenario_requests().get(Path(name).name, []),
                *_random_requests(rs, 1500, seed=len(name))]
        requests = []
        for obj in objs:
            try:
                requests.append(parse_request(obj, rs))
            except RequestError:
                continue
        rs.memo.clear()
        for explain in (False, True, False):  # cold, then warm
            for req in requests:
                d = engine.decide(req, rs, explain)
                if d.kind != "disclosure":
                    continue
                answer = render.to_json(d, explain)
                assert answer["explanation"] == _fresh_summary(d)
                for item, entry in zip(d.items, answer["items"], strict=True):
                    assert entry["explanation"] == _fresh_item_explanation(d, item)
                    assert render.item_explanation(d, item) == entry["explanation"]
                assert render.disclosure_summary(d) == answer["explanation"]
                compared += 1
    assert compared > 5000
