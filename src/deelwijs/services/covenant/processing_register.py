"""The region's register of processing activities (AVG art. 30): the activities of the
region's ruleset in force on the unit's day and the region's controller, for the FG's page
(`register_of`) and as `deelwijs register export --region R --format json` gives it
(`export`, the API's /api/v1/register). The register holds no personal data.

For the operator, and the FG or an administrator's account of the region
(access.require_fg_or_admin; anyone else: 403 `fg_or_admin_only`). A region is the actor's own
unless one is named (registry.region_in_reach)."""

from __future__ import annotations

import json

from deelwijs.domain import register
from deelwijs.services import access
from deelwijs.services.context import Unit
from deelwijs.services.covenant import registry


def _in_force(u: Unit, region_id: int | None):
    access.require_fg_or_admin(u, "Het register van verwerkingen")
    region = registry.region_in_reach(u, region_id)
    version, ruleset = u.app.active_ruleset(u.session, region.id, u.today)
    return region, version, ruleset, registry.controller(u, region)


def register_of(u: Unit, region_id: int | None = None) -> dict:
    """The register for the FG's page: the region, its controller, the ruleset in force
    (with its version's digest) and its activities."""
    region, version, ruleset, controller = _in_force(u, region_id)
    return {"region": registry.region_view(region), "controller": controller,
            "ruleset": {"id": ruleset.id, "title": ruleset.title, "version": ruleset.version,
                        "digest": version.digest},
            "activities": register.activities(ruleset)}


def export(u: Unit, region_id: int | None = None) -> dict:
    """The register as JSON (domain.register.to_json), read back into a dict."""
    _region, _version, ruleset, controller = _in_force(u, region_id)
    return json.loads(register.to_json(register.activities(ruleset), controller))


__all__ = ["export", "register_of"]
