"""What the privacy officer (FG) reads of a region: the processing log page by page, the
result of verifying it, and the register of processing activities (AVG art. 30).

The use cases take a `Unit` first, as every use case does. They are for the FG of the region,
an administrator's account of the region and the installation's operator (`_require`, the
same rule as h-access's `access.require_fg_or_admin`: to be replaced by it when that lands);
anyone else is refused (403, `fg_or_admin_only`). A region is the actor's own unless one is
named, and only an actor of every region may name another (access.require_region). Reading
the log writes no entry (as `audit.entries_for_youth`); the register holds no personal data.
"""

from __future__ import annotations

from sqlalchemy import func, select

from deelwijs.domain import register as register_mod
from deelwijs.services import access
from deelwijs.services.context import Unit
from deelwijs.services.errors import Invalid, NotFound
from deelwijs.services.log import audit, verify
from deelwijs.storage import orm

PER_PAGE = 50
PER_PAGE_MAX = 500


def _require(u: Unit, what: str) -> None:
    access.require_fg_or_admin(u, what)


def _region(u: Unit, region_id: int | None) -> orm.Region:
    region_id = region_id if region_id is not None else u.actor.region_id
    if region_id is None:
        raise Invalid("missing_field", "noem de regio", "region")
    region = u.session.get(orm.Region, region_id) if isinstance(region_id, int) else None
    if region is None:
        raise NotFound("not_found", f"onbekende regio ({region_id})", "region")
    access.require_region(u, region.id, "region")
    return region


def _region_view(region: orm.Region) -> dict:
    return {"id": region.id, "code": region.code, "name": region.name}


def log_page(u: Unit, region_id: int | None = None, page: int = 1,
             per_page: int = PER_PAGE) -> dict:
    """One page of the region's processing log, the newest entry first: each entry as the
    VNG Verwerkingenlogging API exchanges it (audit.entry_view), with the page's position
    (`page` from 1, `pages`, `total`), and `organisations`: the names of the region's
    organisations by the reference an entry names them with (`deelwijs:org:<id>`)."""
    _require(u, "Het verwerkingslog")
    if not isinstance(page, int) or isinstance(page, bool) or page < 1:
        raise Invalid("wrong_type", "de pagina is een geheel getal vanaf 1", "page")
    if not isinstance(per_page, int) or not 1 <= per_page <= PER_PAGE_MAX:
        raise Invalid("too_many", f"per pagina 1 tot en met {PER_PAGE_MAX} regels",
                      "per_page")
    region = _region(u, region_id)
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
    return {"region": _region_view(region), "total": total, "page": page, "pages": pages,
            "per_page": per_page, "entries": [audit.entry_view(r) for r in rows],
            "organisations": names}


def verify_log(u: Unit, region_id: int | None = None) -> dict:
    """Verify the region's log against its signed checkpoints (services/log/verify.py):
    `ok`, the region's summary and every problem as a Dutch line."""
    _require(u, "Het controleren van het verwerkingslog")
    region = _region(u, region_id)
    report = verify.verify(u.session, u.keys, region.code)
    return {"region": _region_view(region), "ok": report.ok,
            "summary": report.regions.get(region.code, {}),
            "problems": [p.line() for p in report.problems]}


def register_of(u: Unit, region_id: int | None = None) -> dict:
    """The register of processing activities of the region's ruleset in force on the unit's
    day, with the region's controller (registry.controller)."""
    from deelwijs.services.covenant import registry

    _require(u, "Het register van verwerkingen")
    region = _region(u, region_id)
    version, ruleset = u.app.active_ruleset(u.session, region.id, u.today)
    return {"region": _region_view(region),
            "controller": registry.controller(u, region),
            "ruleset": {"id": ruleset.id, "title": ruleset.title, "version": ruleset.version,
                        "digest": version.digest},
            "activities": register_mod.activities(ruleset)}
