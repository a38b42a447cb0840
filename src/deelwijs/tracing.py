"""Trace context (W3C traceparent; the Logboek Dataverwerkingen trace_id and span_id).

A unit of work (a CLI command, later an HTTP request) runs under one trace: the caller's, when
a valid `traceparent` came in (the CLI reads the TRACEPARENT environment variable, the API
will read the header), else a new one. Every processing-log entry gets its own span in it.
Kept free of heavy imports: the CLI enters a trace before it knows what it will run.
"""

from __future__ import annotations

import contextvars
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Trace:
    trace_id: str  # 32 hex
    parent_span_id: str | None  # 16 hex, the caller's span
    foreign: bool = False  # came in from another system (traceparent header)

    def traceparent(self, span_id: str) -> str:
        """The header to pass on to the next system."""
        return f"00-{self.trace_id}-{span_id}-01"


_TRACE: contextvars.ContextVar[Trace | None] = contextvars.ContextVar("deelwijs_trace",
                                                                     default=None)


_LOWER_HEX = re.compile(r"[0-9a-f]+")


def _lower_hex(text: str, length: int) -> bool:
    return len(text) == length and _LOWER_HEX.fullmatch(text) is not None


def parse_traceparent(header: str | None) -> Trace | None:
    """A W3C traceparent (Trace Context, level 1: '00-<32 hex>-<16 hex>-<2 hex>', lower-case
    hex only), or None when absent or invalid: then a new trace starts, as the spec says. A
    trace id or parent id of all zeros, upper-case hex, version ff, or a version-00 header
    with anything after the flags is invalid; a higher version is read by its first four
    fields when what follows them starts with '-'."""
    if not header:
        return None
    value = header.strip(" \t")  # the optional whitespace around an HTTP header's value
    if len(value) < 55 or value[2] != "-" or value[35] != "-" or value[52] != "-":
        return None
    version, trace_id, parent_id, flags = value[:2], value[3:35], value[36:52], value[53:55]
    if not _lower_hex(version, 2) or version == "ff":
        return None
    if len(value) > 55 and (version == "00" or value[55] != "-"):
        return None
    if not (_lower_hex(trace_id, 32) and _lower_hex(parent_id, 16) and _lower_hex(flags, 2)):
        return None
    if set(trace_id) == {"0"} or set(parent_id) == {"0"}:
        return None
    return Trace(trace_id, parent_id, foreign=True)


@contextmanager
def trace(traceparent: str | None = None) -> Iterator[Trace]:
    """Run a unit of work (a CLI command, later an HTTP request) under one trace: continue the
    caller's trace when a valid traceparent came in, else start a new one."""
    current = parse_traceparent(traceparent) or Trace(secrets.token_hex(16), None)
    token = _TRACE.set(current)
    try:
        yield current
    finally:
        _TRACE.reset(token)


def current_trace() -> Trace:
    found = _TRACE.get()
    if found is None:
        found = Trace(secrets.token_hex(16), None)
        _TRACE.set(found)
    return found


