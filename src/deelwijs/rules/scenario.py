"""Scenario files: worked examples that are also tests.

A scenario file is YAML: either a list of scenarios, or a mapping with an optional `ruleset`
(built-in id or path, relative to the file) and `scenarios`. Each scenario:

    - name: Een jongere van 16 beslist zelf ...      # a sentence
      ruleset: voorbeeldregio                          # optional, overrides the file's
      request: {...}                                   # as for `deelwijs decide`
      expect:
        outcome: allow                                 # optional
        items:
          gedrag: [allow, CONSENT]                     # outcome, then codes (one must be named)
          verzuim: deny                                # outcome only
          thuissituatie: {outcome: deny, reasons: [OUT_OF_SCOPE], rules: [scope.help_request]}
        obligations: [LOG_PROCESSING]                  # optional, must all be present
        duty: mandatory                                # other kinds: any top-level field
        error: ["request.data[0]"]                     # bad input: these paths must be named

`deelwijs rules test` and the pytest plugin both run scenarios through `check()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from deelwijs.domain.contract import decide_payload
from deelwijs.domain.errors import RequestError
from deelwijs.rules import loader


@dataclass(frozen=True)
class Scenario:
    name: str
    file: str
    ruleset: str
    request: object
    expect: dict
    line: int


# The most a scenario file may hold (the built-in ones are under 20 KiB): /dev/zero or an
# endless stream is refused at once instead of filling memory.
SCENARIO_MAX = 4 * 1024 * 1024


def load(path: str | Path) -> list[Scenario]:
    path = Path(path)
    with open(path, "rb") as fh:
        data = fh.read(SCENARIO_MAX + 1)
    if len(data) > SCENARIO_MAX:
        raise ValueError(f"groter dan {SCENARIO_MAX // (1024 * 1024)} MiB")
    text = data.decode("utf-8")
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    data = yaml.safe_load(text)
    default = loader.MODEL_ID
    items_node = node
    if isinstance(data, dict):
        default = data.get("ruleset", default)
        items = data.get("scenarios", [])
        for k, v in node.value:
            if k.value == "scenarios":
                items_node = v
    else:
        items = data or []
    out = []
    for i, sc in enumerate(items):
        line = items_node.value[i].start_mark.line + 1 if items_node is not None else 0
        ruleset = sc.get("ruleset", default)
        if loader.builtin_path(ruleset) is None:
            ruleset = str((path.parent / ruleset).resolve())
        out.append(Scenario(str(sc["name"]), str(path), ruleset, sc.get("request"),
                            sc.get("expect") or {}, line))
    return out


def _codes(item: dict) -> set[str]:
    return set(item.get("grounds", [])) | set(item.get("reasons", []))


def check(sc: Scenario, explain: bool = False) -> tuple[list[str], object]:
    """Run one scenario; return (problems, answer). No problems means it passed."""
    ruleset = loader.resolve(sc.ruleset)
    exp = sc.expect
    try:
        got = decide_payload(sc.request, ruleset, explain)
    except RequestError as exc:
        if "error" in exp:
            paths = {p.path for p in exc.problems}
            missing = [p for p in exp["error"] if p not in paths]
            return ([f"fout op {p} verwacht, kreeg {sorted(paths)}" for p in missing],
                    [str(p) for p in exc.problems])
        return [f"onverwachte invoerfout: {exc}"], None
    if "error" in exp:
        return ["invoerfout verwacht, maar het verzoek werd beslist"], got
    problems: list[str] = []
    if isinstance(got, list):
        return ["een scenario bevat één verzoek, geen lijst"], got
    for key, want in exp.items():
        if key == "items":
            problems += _check_items(got, want)
        elif key == "obligations":
            missing = [o for o in want if o not in got.get("obligations", [])]
            if missing:
                problems.append(f"verplichtingen {missing} ontbreken")
        elif got.get(key) != want:
            problems.append(f"{key}: {got.get(key)!r}, verwacht {want!r}")
    return problems, got


def _check_items(got: dict, want: dict) -> list[str]:
    problems = []
    items = {i["data"]: i for i in got.get("items", [])}
    for data, spec in want.items():
        item = items.get(data)
        if item is None:
            problems.append(f"{data}: ontbreekt in items")
            continue
        if isinstance(spec, str):
            spec = {"outcome": spec}
        elif isinstance(spec, list):
            spec = {"outcome": spec[0], "any": spec[1:]}
        if item["outcome"] != spec["outcome"]:
            problems.append(f"{data}: {item['outcome']}, verwacht {spec['outcome']} "
                            f"({_codes(item) or '-'})")
            continue
        if spec.get("any") and not _codes(item) & set(spec["any"]):
            problems.append(f"{data}: codes {sorted(_codes(item))}, verwacht een van "
                            f"{spec['any']}")
        for key in ("grounds", "reasons"):
            if key in spec and item[key] != spec[key]:
                problems.append(f"{data}: {key} {item[key]}, verwacht {spec[key]}")
        for rule in spec.get("rules", []):
            if rule not in item["rules"]:
                problems.append(f"{data}: regel {rule} niet genoemd ({item['rules']})")
        if item["outcome"] == "allow" and not item["grounds"]:
            problems.append(f"{data}: toegestaan zonder grond")
        if item["outcome"] == "deny" and not item["reasons"]:
            problems.append(f"{data}: geweigerd zonder reden")
    return problems


def builtin_files() -> list[Path]:
    folder = Path(str(loader.DATA)).parent / "scenarios"
    return sorted(folder.glob("*.yaml"))
