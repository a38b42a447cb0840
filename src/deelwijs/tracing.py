"""Trace context (W3C traceparent; the Logboek Dataverwerkingen trace_id and span_id).

A unit of work (a CLI command, later an HTTP request) runs under one trace: the caller's, when
a valid `traceparent` came in (the CLI reads the TRACEPARENT environment variable, the API
will read the header), else a new one. Every processing-log entry gets its own span in it.
Kept free of heavy imports: the CLI enters a trace before it knows what it will run.
"""

from __future__ import annotations

import contextvars
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


def parse_traceparent(header: str | None) -> Trace | None:
    """A W3C traceparent ('00-<32 hex>-<16 hex>-<2 hex>'), or None when absent or invalid
    (an invalid header starts a new trace, as the W3C spec says)."""
    if not header:
        return None
    parts = header.strip().lower().split("-")
    if len(parts) != 4 or len(parts[1]) != 32 or len(parts[2]) != 16 or parts[0] == "ff":
        return None
    try:
        int(parts[1], 16), int(parts[2], 16)
    except ValueError:
        return None
    if set(parts[1]) == {"0"} or set(parts[2]) == {"0"}:
        return None
    return Trace(parts[1], parts[2], foreign=True)


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


