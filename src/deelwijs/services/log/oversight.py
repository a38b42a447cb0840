"""What the privacy officer (FG) reads of a region's processing log: the entries page by page
(newest first for the FG's page, in log order after a position for the API) and the result of
verifying the log against its signed checkpoints. The register of processing activities is
beside the register, in services/covenant/processing_register.py.

The use cases take a `Unit` first, as every use case does. They are for the FG of the region,
an administrator's account of the region and the installation's operator
(access.require_fg_or_admin); anyone else is refused (403, `fg_or_admin_only`). A region is
the actor's own unless one is named, and only an actor of every region may name another
(registry.region_in_reach). Reading the log writes no entry (as `deelwijs audit log`).
"""

from __future__ import annotations

from sqlalchemy import func, select

from deelwijs.services import access
from deelwijs.services.context import Unit
from deelwijs.services.covenant import registry
from deelwijs.services.errors import Invalid
from deelwijs.services.log import audit, verify
from deelwijs.storage import orm

PER_PAGE = 50
PER_PAGE_MAX = 500


def _count(value, low: int, high: int | None = None) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool) and value >= low
            and (high is None or value <= high))


def log_page(u: Unit, region_id: int | None = None, page: int = 1,
             per_page: int = PER_PAGE) -> dict:
    """One page of the region's processing log, the newest entry first: each entry as the
    VNG Verwerkingenlogging API exchanges it (audit.entry_view), with the page's position
    (`page` from 1, `pages`, `total`), and `organisations`: the names of the region's
    organisations by the reference an entry names them with (`deelwijs:org:<id>`)."""
    access.require_fg_or_admin(u, "Het verwerkingslog")
    if not _count(page, 1):
        raise Invalid("wrong_type", "de pagina is een geheel getal vanaf 1", "page")
    if not _count(per_page, 1, PER_PAGE_MAX):
        raise Invalid("too_many", f"per pagina 1 tot en met {PER_PAGE_MAX} regels",
                      "per_page")
    region = registry.region_in_reach(u, region_id)
    s = u.session
    total = s.scalar(select(func.count()).select_from(orm.LogEntry).where(
        orm.LogEntry.region_id == region.id)) or 0
    pages = max(1, -(-total // per_page))
    rows = s.scalars(select(orm.LogEntry).where(orm.LogEntry.region_id == region.id)
                     .order_by(orm.LogEntry.seq.desc())
                     .offset((page - 1) * per_page).limit(per_page)).all()
    names = {f"deelwijs:org:{i}": name for i, name in s.execute(
        select(orm.Organisation.id, orm.Organisation.name).where(
            orm.Organisation.region_id == region.id))}
    return {"region": registry.region_view(region), "total": total, "page": page,
            "pages": pages, "per_page": per_page,
            "entries": [audit.entry_view(r) for r in rows], "organisations": names}


def entries(u: Unit, region_id: int | None = None, after: int = 0,
            limit: int = 100) -> dict:
    """The region's entries in log order after position `after` (at most `limit`, 1 to
    PER_PAGE_MAX), as audit.entry_view gives them; `next` is the `after` of the next page, or
    None on the last (the API's /api/v1/log/entries)."""
    access.require_fg_or_admin(u, "Het verwerkingslog")
    if not _count(limit, 1, PER_PAGE_MAX):
        raise Invalid("too_many", f"limit is 1 t/m {PER_PAGE_MAX}", "limit")
    if not _count(after, 0):
        raise Invalid("wrong_type", "after is een volgnummer (0 of meer)", "after")
    region = registry.region_in_reach(u, region_id)
    rows = u.session.scalars(
        select(orm.LogEntry).where(orm.LogEntry.region_id == region.id,
                                   orm.LogEntry.seq > after)
        .order_by(orm.LogEntry.seq).limit(limit)).all()
    return {"region": region.code, "entries": [audit.entry_view(r) for r in rows],
            "next": rows[-1].seq if len(rows) == limit else None}


def verify_log(u: Unit, region_id: int | None = None) -> dict:
    """Verify the region's log against its signed checkpoints (services/log/verify.py):
    `ok`, the region's summary and every problem as a Dutch line."""
    access.require_fg_or_admin(u, "Het controleren van het verwerkingslog")
    region = registry.region_in_reach(u, region_id)
    report = verify.verify(u.session, u.keys, region.code)
    return {"region": registry.region_view(region), "ok": report.ok,
            "summary": report.regions.get(region.code, {}),
            "problems": [p.line() for p in report.problems]}
