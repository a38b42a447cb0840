"""The region's register of processing activities (AVG art. 30), as `deelwijs register export
--region R --format json` gives it: the activities of the region's active ruleset and the
region's controller. For the operator, and the FG or administrator of the region."""

from __future__ import annotations

import json

from deelwijs.domain import register
from deelwijs.services import access
from deelwijs.services.context import Unit
from deelwijs.services.covenant import registry
from deelwijs.storage import orm


def export(u: Unit, region: orm.Region) -> dict:
    """The register as JSON (domain.register.to_json), read back into a dict."""
    access.require_fg_or_admin(u, "Het verwerkingsregister", region.id)
    controller = registry.controller(u, region)
    _version, rs = u.app.active_ruleset(u.session, region.id, u.today)
    return json.loads(register.to_json(register.activities(rs), controller))
