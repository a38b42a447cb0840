"""The processing log's export as Logboek Dataverwerkingen (Logius) log lines.

The standard has no machine-readable schema: its interface is two tables and a list in
`sections/03-specificaties/02-component-logboek.md`, vendored in tests/standards/logboek. The
fields are read from that file here (not typed over), and every exported entry of a demo region
must have each field the tables mark `verplicht`, in the table's type: 16 and 8 bytes as 32 and
16 hex digits, timestamps to the millisecond, `status_code` one of the listed values,
`attributes` key-value pairs in the `dpl.` namespace with the `dpl.core.*` keys. A trace that
came in from a caller gives a `foreign_operation` with its `entity`. The entries as stored (the
export before) lack `name`, `start_time`, `end_time` and the attributes."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from rfc3986_validator import validate_rfc3986
from sqlalchemy import select
from tests.services.helpers import unit_of

from deelwijs.services import demo
from deelwijs.services.casus import youths
from deelwijs.services.log import audit
from deelwijs.storage import orm

SPEC = (Path(__file__).resolve().parent / "logboek" / "sections" / "03-specificaties"
        / "02-component-logboek.md")
TODAY = dt.date(2026, 3, 2)
MILLIS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
CALLER_TRACE, CALLER_SPAN = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"


def _tables(text: str) -> list[dict[str, tuple[str, bool]]]:
    """Every field table of the spec: {field: (type, required)}."""
    tables, current = [], None
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| Veld"):
            current = {}
            tables.append(current)
        elif current is not None and line.startswith("|") and cells[0].startswith("`"):
            current[cells[0].strip("`")] = (cells[1], cells[2] == "verplicht")
        elif not line.startswith("|"):
            current = None
    return tables


@pytest.fixture(scope="module")
def spec() -> dict:
    text = SPEC.read_text(encoding="utf-8")
    line, foreign = _tables(text)
    core = re.findall(r"^\* `(dpl\.core\.[a-z_]+)`", text, re.MULTILINE)
    status = {int(n) for n in re.findall(r"^\* `(\d): STATUS_CODE_", text, re.MULTILINE)}
    return {"line": line, "foreign": foreign, "core": core, "status": status}


def test_the_field_list_is_read_from_the_vendored_spec(spec):
    assert [f for f, (_, required) in spec["line"].items() if required] == [
        "trace_id", "span_id", "status_code", "name", "start_time", "end_time", "attributes"]
    assert set(spec["line"]) >= {"parent_span_id", "foreign_operation", "resource"}
    assert spec["foreign"] == {"trace_id": ("16 byte", True), "span_id": ("8 byte", True),
                               "entity": ("URI", True)}
    assert spec["core"] == ["dpl.core.processing_activity_id", "dpl.core.data_subject_id",
                            "dpl.core.data_subject_id_type"]
    assert spec["status"] == {0, 1, 2}


def problems(line: dict, spec: dict) -> list[str]:
    """What a log line lacks or has wrong, against the spec's tables."""
    out = []

    def check(obj: dict, table: dict, where: str) -> None:
        for field, (kind, required) in table.items():
            if field not in obj:
                if required:
                    out.append(f"{where}{field}: ontbreekt")
                continue
            value = obj[field]
            size = re.fullmatch(r"(\d+) byte", kind)
            if size and not (isinstance(value, str)
                             and re.fullmatch(f"[0-9a-f]{{{2 * int(size[1])}}}", value)):
                out.append(f"{where}{field}: geen {kind} als hex: {value!r}")
            elif kind == "timestamp (ms)" and not (isinstance(value, str)
                                                   and MILLIS.fullmatch(value)):
                out.append(f"{where}{field}: geen tijdstip tot op de milliseconde: {value!r}")
            elif kind == "URI" and not (isinstance(value, str) and validate_rfc3986(value)):
                out.append(f"{where}{field}: geen URI: {value!r}")
            elif kind == "enum" and value not in spec["status"]:
                out.append(f"{where}{field}: {value!r} niet in {sorted(spec['status'])}")
            elif kind == "string" and not (isinstance(value, str) and value):
                out.append(f"{where}{field}: geen tekst")

    check(line, spec["line"], "")
    if isinstance(line.get("foreign_operation"), dict):
        check(line["foreign_operation"], spec["foreign"], "foreign_operation.")
    attributes = line.get("attributes")
    if not isinstance(attributes, list) or not all(
            isinstance(a, dict) and set(a) == {"key", "value"} and isinstance(a["value"], str)
            for a in attributes):
        return [*out, f"attributes: geen lijst van key-value pairs: {attributes!r}"]
    keys = [a["key"] for a in attributes]
    values = {a["key"]: a["value"] for a in attributes}
    if any(not k.startswith("dpl.") for k in keys) or len(set(keys)) != len(keys):
        out.append(f"attributes: sleutels buiten dpl. of dubbel: {keys}")
    activity = values.get(spec["core"][0])
    if activity is None or not validate_rfc3986(activity):
        out.append(f"attributes: {spec['core'][0]} ontbreekt of is geen URI")
    if line.get("verwerkteObjecten") and not set(spec["core"][1:]) <= set(keys):
        out.append("attributes: een regel over een betrokkene noemt die niet")
    if line.get("start_time", "") > line.get("end_time", "~"):
        out.append("start_time ligt na end_time")
    return out


def _rows(app) -> list[orm.LogEntry]:
    with app.transaction() as s:
        rows = list(s.scalars(select(orm.LogEntry).order_by(orm.LogEntry.region_id,
                                                             orm.LogEntry.seq)))
        s.expunge_all()
    return rows


def test_every_exported_entry_is_a_log_line_and_the_stored_shape_was_not(app, spec):
    demo.build(app, TODAY, youths_n=6, per_type=2)
    rows = _rows(app)
    assert {"create", "consent", "disclose", "deny"} <= {audit.body_of(r)["actie"]
                                                         for r in rows}
    for row in rows:
        line = audit.entry_view(row)
        assert problems(line, spec) == [], (row.seq, line)
        assert line["name"] == line["handelingNaam"]
        attributes = {a["key"]: a["value"] for a in line["attributes"]}
        assert attributes["dpl.core.processing_activity_id"] == (
            f"urn:uuid:{line['verwerkingsactiviteitId']}")
        if row.subject is None:  # an entry naming no youth names no data subject
            assert set(attributes) == {"dpl.core.processing_activity_id"}
        else:
            assert attributes["dpl.core.data_subject_id"] == row.subject[:40]
            assert attributes["dpl.core.data_subject_id_type"] == "deelwijs-pseudoniem"
        body = audit.body_of(row)
        assert line["start_time"][:23] == body["tijdstip"][:23]
        assert line["end_time"][:23] == row.registered_at.isoformat()[:23]
        # the subject's own view is a log line too
        assert problems(audit.entry_view(row, for_subject=True), spec) == []
    stored = {"actieId": rows[0].actie_id, **audit.body_of(rows[0])}
    found = problems(stored, spec)
    for missing in ("name: ontbreekt", "start_time: ontbreekt", "end_time: ontbreekt",
                    "attributes: geen lijst"):
        assert any(p.startswith(missing) for p in found), (missing, found)


def test_a_trace_from_a_caller_gives_a_foreign_operation_with_its_entity(app, world, build,
                                                                        spec):
    youth = build.youth()
    with audit.trace(f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"), app.transaction() as s:
        youths.read_youth(unit_of(app, s), youth)
    with app.transaction() as s:
        [read] = [audit.entry_view(r) for r in audit.entries_for_youth(unit_of(app, s), youth)
                  if audit.body_of(r)["actie"] == "read"]
    assert problems(read, spec) == []
    assert read["trace_id"] == CALLER_TRACE and read["parent_span_id"] == CALLER_SPAN
    # who called is not recorded with the trace yet: a documented URN says so
    assert read["foreign_operation"] == {"trace_id": CALLER_TRACE, "span_id": CALLER_SPAN,
                                         "entity": "urn:deelwijs:aanroeper:onbekend"}
    # without a caller's trace: no foreign_operation, no parent span
    with app.transaction() as s:
        youths.read_youth(unit_of(app, s), youth)
    with app.transaction() as s:
        own = [audit.entry_view(r) for r in audit.entries_for_youth(unit_of(app, s), youth)][-1]
    assert "foreign_operation" not in own and "parent_span_id" not in own
    assert problems(own, spec) == []
