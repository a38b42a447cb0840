"""The processing log read by the FG and the administrator (the API's /api/v1/log): a page
of a region's entries, and the verification of a region's log. Reading the log writes no
entry of its own (as `deelwijs audit log`).

Who: the operator, or an FG or administrator's account of the region (an FG or an
administrator reads the log, never case content: services/access.py). Others are refused.
"""

from __future__ import annotations

from sqlalchemy import select

from deelwijs.services import access
from deelwijs.services.context import Unit
from deelwijs.services.errors import Invalid
from deelwijs.services.log import audit, verify
from deelwijs.storage import orm

MAX_PAGE = 500


def require_log_reader(u: Unit, region: orm.Region, what: str = "Het verwerkingslog") -> None:
    """The operator, or an FG or administrator of the region (403 for everyone else)."""
    access.require_fg_or_admin(u, what, region.id)


def entries(u: Unit, region: orm.Region, after: int = 0, limit: int = 100) -> dict:
    """A page of the region's log in log order: the entries after position `after` (at most
    `limit`, 1 to MAX_PAGE), as audit.entry_view gives them; `next` is the `after` of the
    next page, or None on the last."""
    require_log_reader(u, region)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_PAGE:
        raise Invalid("too_many", f"limit is 1 t/m {MAX_PAGE}", "limit")
    if not isinstance(after, int) or isinstance(after, bool) or after < 0:
        raise Invalid("wrong_type", "after is een volgnummer (0 of meer)", "after")
    rows = u.session.scalars(
        select(orm.LogEntry).where(orm.LogEntry.region_id == region.id,
                                   orm.LogEntry.seq > after)
        .order_by(orm.LogEntry.seq).limit(limit)).all()
    return {"region": region.code,
            "entries": [audit.entry_view(r) for r in rows],
            "next": rows[-1].seq if len(rows) == limit else None}


def verify_region(u: Unit, region: orm.Region) -> dict:
    """Verify the region's log against its signed checkpoints (services/log/verify.py, as
    `deelwijs audit verify --region --json` without checkpoints from outside): the report."""
    require_log_reader(u, region, "Het controleren van het verwerkingslog")
    return verify.verify(u.session, u.keys, region.code).as_json()
