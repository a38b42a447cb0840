"""A processing-log entry as the standards exchange it: the VNG Verwerkingenlogging API 0.9
`Verwerkingsactie` (as the log returns it: `VerwerkingsactieUitgebreid`; for the data subject
`VerwerkingsactieBeperkt` of the Inzage API) and a Logboek Dataverwerkingen log line, in one
JSON object.

What is stored keeps Deelwijs's own references (`deelwijs:casus:5`, `model-convenant/oza`,
`deelwijs:org:3`, the full 64-hex pseudonym, times in UTC without an offset); this module maps
them on export, the same way every time:

- keys without a value are left out (the schemas have no `null`);
- `tijdstip` and `tijdstipRegistratie` get their time zone (`+00:00`: the log's clock is UTC);
- `verwerkingsactiviteitId` is the register's uuid of the activity version
  (`register.activity_uuid`, the `id` the VAR export gives it), `verwerkingId` a uuid5 of the
  stored reference in LOG_NAMESPACE; the stored references stay readable under `deelwijs`;
- `uitvoerder` and `afnemerId` only as an OIN (20 digits); an organisation that had none when
  the entry was written is named under `deelwijs` (`deelwijs:org:<id>`) instead;
- `objectId` is the first 40 hex digits (160 bits) of the pseudonym (the schema allows 40);
- `url` and, per object, `url` and `verwerktObjectId` (which the log assigns) are derived:
  there is no VNG endpoint yet, so `url` is the uuid as a URN;
- the Logboek Dataverwerkingen fields `name`, `start_time`, `end_time`, `attributes`
  (`dpl.core.*`) and `foreign_operation.entity` are added.

Pure: no I/O. See docs/audit.md, "Export".
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
import uuid

from deelwijs.domain.register import OIN, activity_uuid

# uuid5 namespace of the ids the log derives (verwerkingId, verwerktObjectId)
LOG_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://deelwijs.nl/verwerkingenlogging")
OBJECT_ID_LENGTH = 40  # VerwerktObjectBasis.objectId maxLength
SUBJECT_ID_TYPE = "deelwijs-pseudoniem"
# foreign_operation.entity when the caller did not say who it is (nothing records it yet)
UNKNOWN_CALLER = "urn:deelwijs:aanroeper:onbekend"
# a stored time as Python writes it for a datetime without an offset (seconds, then '.' and six
# digits unless the microseconds are zero)
_STORED_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{6})?")


def _time(stored: str) -> dt.datetime:
    t = dt.datetime.fromisoformat(stored)
    return t.astimezone(dt.UTC) if t.tzinfo else t.replace(tzinfo=dt.UTC)


def utc(stored: str) -> str:
    """A stored time (ISO 8601, UTC, no offset) with its offset: '…+00:00'."""
    if _STORED_TIME.fullmatch(stored):  # the usual case, without parsing
        return stored + "+00:00"
    return _time(stored).isoformat()


def millis(stored: str) -> str:
    """A stored time as a Logboek Dataverwerkingen timestamp: UTC to the millisecond
    ('2026-03-01T09:30:00.123Z'; microseconds are cut, not rounded, so order is kept)."""
    if _STORED_TIME.fullmatch(stored):
        return f"{stored[:19]}.{stored[20:23] or '000'}Z"
    t = _time(stored)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _uuid5(namespace: uuid.UUID, name: str) -> str:
    """uuid.uuid5(namespace, name) as text (RFC 9562 §5.5), without building UUID objects."""
    h = bytearray(hashlib.sha1(namespace.bytes + name.encode()).digest()[:16])
    h[6] = (h[6] & 0x0F) | 0x50
    h[8] = (h[8] & 0x3F) | 0x80
    x = h.hex()
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"


@functools.lru_cache(maxsize=4096)
def verwerking_uuid(ref: str) -> str:
    """The uuid of a verwerking from its stored reference ('deelwijs:casus:5'): uuid5 in
    LOG_NAMESPACE. Unique within a deployment (ids are the database's)."""
    return _uuid5(LOG_NAMESPACE, ref)


def object_uuid(actie_id: str, index: int) -> str:
    """The `verwerktObjectId` of the index-th object of an entry: uuid5 in LOG_NAMESPACE of
    '<actieId>/<index>'."""
    return _uuid5(LOG_NAMESPACE, f"{actie_id}/{index}")


_activity_uuid = functools.lru_cache(maxsize=1024)(activity_uuid)


def object_id(pseudonym: str) -> str:
    """The `objectId` of a youth: the first 40 hex digits of the stored pseudonym."""
    return pseudonym[:OBJECT_ID_LENGTH]


def export_pruned(view: dict) -> dict:
    """The exported form of an entry whose body was removed after its term: no longer a
    processing action (what was done is gone), only when it was registered and that it was
    pruned. `view`: actieId, seq, verwerkingsactiviteitId, tijdstipRegistratie, opgeschoond."""
    out = {k: v for k, v in view.items() if k != "verwerkingsactiviteitId"}
    out["tijdstipRegistratie"] = utc(view["tijdstipRegistratie"])
    if view.get("verwerkingsactiviteitId"):
        out["deelwijs"] = {"verwerkingsactiviteit": view["verwerkingsactiviteitId"]}
    return out


def export(view: dict) -> dict:
    """The exported form of an entry: `view` is the stored entry's columns and body merged
    (actieId, seq, verwerkingsactiviteitId, tijdstipRegistratie, then the body's keys)."""
    own: dict = {}
    actie_id = view["actieId"]
    out = {"url": f"urn:uuid:{actie_id}"}
    for key, value in view.items():
        if value is None:
            continue
        if key in ("tijdstip", "tijdstipRegistratie"):
            value = utc(value)
        elif key == "verwerkingsactiviteitId":
            own["verwerkingsactiviteit"] = value
            version = view.get("verwerkingsactiviteitVersie")
            if not version:
                continue
            value = _activity_uuid(value, version)
        elif key == "verwerkingId":
            own["verwerking"] = value
            value = verwerking_uuid(value)
        elif key == "uitvoerder" and not OIN.fullmatch(value):
            own["uitvoerder"] = value
            continue
        elif key in ("afnemerId", "soortAfnemerId") and view.get("soortAfnemerId") != "OIN":
            if key == "afnemerId":
                own["afnemer"] = value
            continue
        elif key == "verwerkteObjecten":
            value = [_object(actie_id, i, o) for i, o in enumerate(value)]
        elif key == "foreign_operation":
            value = {**value, "entity": value.get("entity") or UNKNOWN_CALLER}
        out[key] = value
    subject = next(iter(out.get("verwerkteObjecten") or []), None)
    attributes = []
    if "verwerkingsactiviteitId" in out:
        attributes.append(_attr("dpl.core.processing_activity_id",
                                f"urn:uuid:{out['verwerkingsactiviteitId']}"))
    if subject is not None:
        attributes += [_attr("dpl.core.data_subject_id", subject["objectId"]),
                       _attr("dpl.core.data_subject_id_type", subject["soortObjectId"])]
    out["name"] = view.get("handelingNaam") or view.get("actieNaam")
    out["start_time"] = millis(view.get("tijdstip") or view["tijdstipRegistratie"])
    out["end_time"] = millis(view["tijdstipRegistratie"])
    out["attributes"] = attributes
    if own:
        out["deelwijs"] = own
    return out


def _attr(key: str, value: str) -> dict:
    return {"key": key, "value": value}


def _object(actie_id: str, index: int, obj: dict) -> dict:
    object_uuid_ = object_uuid(actie_id, index)
    out = {"url": f"urn:uuid:{object_uuid_}", "verwerktObjectId": object_uuid_, **obj}
    if isinstance(obj.get("objectId"), str):
        out["objectId"] = object_id(obj["objectId"])
    return out
