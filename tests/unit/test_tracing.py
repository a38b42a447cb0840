"""W3C Trace Context (level 1) `traceparent`, as deelwijs.tracing reads it: a valid header
continues the caller's trace; anything the spec calls invalid starts a new one."""

from __future__ import annotations

import pytest

from deelwijs.tracing import parse_traceparent, trace

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
VALID = f"00-{TRACE_ID}-{PARENT_ID}-01"  # the example of the W3C recommendation


def test_a_valid_header_continues_the_callers_trace():
    found = parse_traceparent(VALID)
    assert (found.trace_id, found.parent_span_id, found.foreign) == (TRACE_ID, PARENT_ID, True)
    assert parse_traceparent(f" {VALID}\t") is not None  # optional whitespace around a value
    assert parse_traceparent(f"00-{TRACE_ID}-{PARENT_ID}-00") is not None  # not sampled
    with trace(VALID) as current:
        assert current.trace_id == TRACE_ID


def test_a_higher_version_is_read_by_its_first_four_fields():
    assert parse_traceparent(f"cc-{TRACE_ID}-{PARENT_ID}-01").trace_id == TRACE_ID
    assert parse_traceparent(f"cc-{TRACE_ID}-{PARENT_ID}-01-what-the-future-holds").trace_id \
        == TRACE_ID
    assert parse_traceparent(f"cc-{TRACE_ID}-{PARENT_ID}-01.x") is None


@pytest.mark.parametrize("header", [
    VALID.upper(),  # "vendors MUST ignore" upper-case hex: a new trace
    f"00-{TRACE_ID.upper()}-{PARENT_ID}-01",
    f"00-{TRACE_ID}-{PARENT_ID.upper()}-01",
    f"00-{TRACE_ID}-{PARENT_ID}-0A",
    f"0A-{TRACE_ID}-{PARENT_ID}-01",
    f"ff-{TRACE_ID}-{PARENT_ID}-01",
    f"00-{'0' * 32}-{PARENT_ID}-01",
    f"00-{TRACE_ID}-{'0' * 16}-01",
    f"00-{TRACE_ID}-{PARENT_ID}-01-extra",  # version 00 has exactly four fields
    f"00-{TRACE_ID}-{PARENT_ID}-1",
    f"00-{TRACE_ID[:-1]}g-{PARENT_ID}-01",
    f"00_{TRACE_ID}_{PARENT_ID}_01",
    "garbage", "", None,
], ids=lambda h: repr(h)[:20])
def test_an_invalid_header_starts_a_new_trace(header):
    assert parse_traceparent(header) is None
    with trace(header) as current:
        assert current.trace_id != TRACE_ID and not current.foreign
