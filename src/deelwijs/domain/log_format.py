"""The processing log's body in its compact form (format 2), and back.

An entry's body was the canonical JSON of the full VNG Verwerkingenlogging / Logboek
Dataverwerkingen fields (format 1: a JSON object, about 1,200 bytes). Most of those bytes are
key names, values that never change within a deployment, and values the entry's indexed
columns already hold. Format 2 stores only what varies, as a JSON array that starts with the
number 2; `expand` puts the full body back, exactly as format 1 held it, before anything reads
or exports it. The leaf (audit.leaf_data) hashes the stored body's bytes, whichever format.

`compact` only returns the format-2 text when `expand` of it gives back, byte for byte, the
canonical JSON of the body it was given; otherwise it returns that canonical JSON (format 1).
So nothing is ever stored that does not expand to what was meant, and an entry written in
format 1 (before this format, or one that does not fit it) is read as it always was.

Format 2, position by position (docs/audit.md, "Format 2: the compact body"):

    0  2
    1  rij: the row the entry binds (services.binding), verbatim, or null
    2  actie                                   (a word)
    3  handelingNaam: 0 when it equals actieNaam (a word)
    4  gebruiker                               (hex, a word)
    5  trace_id                                (hex)
    6  span_id                                 (hex)
    7  systeem without its leading "Deelwijs "
    8  verwerkingId, or null
    9  verwerkingNaam, or null                 (a word)
    10 verwerkingsactiviteitVersie             (a label: below)
    11 uitvoerder: an integer n for "deelwijs:org:n", else the OIN, or null
    12 afnemerId the same way; soortAfnemerId follows from it ("deelwijs", "OIN", null)
    13 the categories of the one processed object, in order (words); the object itself
       (persoon, deelwijs-pseudoniem, the entry's `subject` column, jeugdige) only when the
       entry has a subject
    14 besluit: [uitkomst, [[gegeven, uitkomst, codes, regels], ...], digest, pet?] (words),
       the codes under "gronden" when the item's outcome is allow, else "redenen"; digest 0
       when it is the digest in position 10's label; or null
    15 tijdstip: 0 when it equals tijdstipRegistratie, an integer of microseconds before it,
       or the text
    16 toestemming: [antwoord, doelen, reeks, rol, versie] (words; reeks a uuid), or null
    17 the other keys of the body whose value differs from what positions 0-16 and the
       constants give: verbatim, under their full names

Trailing positions 14 to 17 at their empty value (14: null, 15: 0, 16: null, 17: {}) are left
out (position 13 is always there; a reader pads what is missing). Encodings within a position:

- a word: an integer i stands for WORDS[i]; any other value is itself;
- hex: lowercase hexadecimal of even length >= 16 as "~" and its bytes in base64url without
  padding; any other text is itself;
- a label "<version>@sha256:<64 hex>" as "<version>@~<base64url>";
- a uuid (toestemming's reeks) as "~" and its 16 bytes in base64url.

The constants (CONSTANTS) are those of format 2 and never change; nor does WORDS, which may
only grow at its end. The word list holds the vocabulary of the contract 1.1 and the model
covenant 1.2.0 (actions, outcomes, reason codes and grounds, categories, purposes, rule ids)
and the action and processing names Deelwijs writes.

Pure: no I/O.
"""

from __future__ import annotations

import binascii
import datetime as dt
import json
import re

FORMAT = 2

# Format 2's vocabulary: position i is written as the integer i. Frozen: append only
# (tests/unit/test_log_format.py holds its digest).
WORDS: tuple[str, ...] = (
    'create',  # 0
    'read',  # 1
    'disclose',  # 2
    'deny',  # 3
    'export',  # 4
    'correct',  # 5
    'erase',  # 6
    'restrict',  # 7
    'object',  # 8
    'consent',  # 9
    'inzage',  # 10
    'minute',  # 11
    'identify',  # 12
    'breach',  # 13
    'rekey',  # 14
    'allow',  # 15
    'partial',  # 16
    'NOT_A_PARTY',  # 17
    'PURPOSE_MISMATCH',  # 18
    'CONSENT_MISSING',  # 19
    'CONSENT_NOT_A_GROUND',  # 20
    'PROFESSIONAL_SECRECY',  # 21
    'SITUATION_C',  # 22
    'OUT_OF_SCOPE',  # 23
    'SPECIAL_CATEGORY',  # 24
    'BULK_REQUEST',  # 25
    'PUBLIC_TASK',  # 26
    'LEGAL_OBLIGATION',  # 27
    'LEGAL_POWER',  # 28
    'CONSENT',  # 29
    'VITAL_INTEREST',  # 30
    'CONFLICT_OF_DUTIES',  # 31
    'MELDRECHT',  # 32
    'COMPATIBLE_PURPOSE',  # 33
    'ANONYMOUS',  # 34
    'identificatie',  # 35
    'onderwijspositie',  # 36
    'verzuim',  # 37
    'betrokkenheid',  # 38
    'ondersteuningsbehoefte',  # 39
    'leerresultaten',  # 40
    'gedrag',  # 41
    'thuissituatie',  # 42
    'hulpverlening',  # 43
    'gezondheid',  # 44
    'veiligheid',  # 45
    'justitie',  # 46
    'bsn',  # 47
    'signalering',  # 48
    'thuiszitters',  # 49
    'een_plan',  # 50
    'oza',  # 51
    'toeleiding',  # 52
    'gecoordineerde_aanpak',  # 53
    'eigen_taak',  # 54
    'verzuimmelding',  # 55
    'overdracht',  # 56
    'meldcode',  # 57
    'ots',  # 58
    'raadsonderzoek',  # 59
    'bulk.no_bulk',  # 60
    'anonymous.no_personal_data',  # 61
    'route.ots',  # 62
    'route.ots.other_recipient',  # 63
    'route.meldcode',  # 64
    'route.meldcode.other_recipient',  # 65
    'route.verzuimmelding',  # 66
    'route.verzuimmelding.rmc',  # 67
    'route.verzuimmelding.no_duty',  # 68
    'route.verzuimmelding.category',  # 69
    'route.verzuimmelding.other_parties',  # 70
    'route.overdracht.onderwijskundig_rapport',  # 71
    'route.overdracht.consent',  # 72
    'route.overdracht.kinderopvang',  # 73
    'route.overdracht.other_parties',  # 74
    'route.raadsonderzoek',  # 75
    'route.raadsonderzoek.public_body',  # 76
    'route.raadsonderzoek.private',  # 77
    'route.raadsonderzoek.other_recipient',  # 78
    'party.private_recipient',  # 79
    'hat.effective_discloser',  # 80
    'party.covenant_parties',  # 81
    'purpose.matrix',  # 82
    'task.situation_c',  # 83
    'scope.help_request',  # 84
    'scope.domain_unknown',  # 85
    'scope.consent_not_a_ground',  # 86
    'scope.college_public_task',  # 87
    'secrecy.professional',  # 88
    'private.other_disclosers',  # 89
    'public.outside_information',  # 90
    'public.inside_information',  # 91
    'consent.under_12',  # 92
    'consent.age_12_15',  # 93
    'consent.from_16',  # 94
    'exception.vital_interest',  # 95
    'exception.conflict_of_duties',  # 96
    'exception.legal_duty',  # 97
    'exception.wams_request',  # 98
    'exception.vital_interest_direct_route',  # 99
    'exception.compatible_purpose',  # 100
    'absence.threshold',  # 101
    'absence.luxe',  # 102
    'absence.langdurig_relatief',  # 103
    'absence.below_threshold',  # 104
    'absence.suspected',  # 105
    'absence.illness',  # 106
    'absence.adult_rmc',  # 107
    'absence.rmc_prolonged',  # 108
    'absence.no_duty',  # 109
    'absence.from_rmc_age',  # 110
    'consent_required.who',  # 111
    'retention.leerlingdossier',  # 112
    'retention.verzuimregistratie',  # 113
    'retention.verwijzing_so',  # 114
    'retention.jeugdhulpdossier',  # 115
    'retention.jeugdhulpdossier_voor_2020',  # 116
    'retention.casusoverleg_verslag',  # 117
    'Registreren persoonsgegevens',  # 118
    'Raadplegen persoonsgegevens',  # 119
    'Verstrekken persoonsgegevens',  # 120
    'Weigeren verstrekking',  # 121
    'Exporteren persoonsgegevens',  # 122
    'Corrigeren persoonsgegevens',  # 123
    'Vernietigen persoonsgegevens',  # 124
    'Beperken verwerking',  # 125
    'Vastleggen bezwaar',  # 126
    'Vastleggen toestemming',  # 127
    'Verstrekken inzage',  # 128
    'Vastleggen verslag',  # 129
    'Identificeren casus',  # 130
    'Registreren datalek',  # 131
    'Herverpakken sleutels',  # 132
    'Verstrekking (minute)',  # 133
    'Verstrekking (document)',  # 134
    'Verstrekking (answer)',  # 135
    'Registreren jongere en ouders',  # 136
    'Inzien gegevens jongere',  # 137
    'Raadplegen lijst jongeren',  # 138
    'Inzien verstrekking',  # 139
    'Wijzigen toestemming',  # 140
    'Vernietigen na afloop van de bewaartermijn',  # 141
    'Opschonen versleutelde gegevens na vernietiging',  # 142
    'Opschonen verwerkingslog na afloop van de bewaartermijn',  # 143
    'Opnieuw verpakken van de sleutels van jongeren (sleutelrotatie)',  # 144
    'Casusoverleg signalering',  # 145
    'Casusoverleg thuiszitters',  # 146
    'Casusoverleg een_plan',  # 147
    'Casusoverleg oza',  # 148
    'Casusoverleg toeleiding',  # 149
    'Casusoverleg gecoordineerde_aanpak',  # 150
    'Casusoverleg eigen_taak',  # 151
    'Casusoverleg verzuimmelding',  # 152
    'Casusoverleg overdracht',  # 153
    'Casusoverleg meldcode',  # 154
    'Casusoverleg ots',  # 155
    'Casusoverleg raadsonderzoek',  # 156
    'Verzoek van betrokkene',  # 157
    'Datalek',  # 158
    'given',  # 159
    'refused',  # 160
    'none',  # 161
    'withdrawn',  # 162
    'parent',  # 163
    'youth',  # 164
    'beheer',  # 165
)
_INDEX = {w: i for i, w in enumerate(WORDS)}

# what actieNaam is for each actie (the VNG actieNaam), as format 2 was defined
ACTION_NAMES = {
    "create": "Registreren persoonsgegevens",
    "read": "Raadplegen persoonsgegevens",
    "disclose": "Verstrekken persoonsgegevens",
    "deny": "Weigeren verstrekking",
    "export": "Exporteren persoonsgegevens",
    "correct": "Corrigeren persoonsgegevens",
    "erase": "Vernietigen persoonsgegevens",
    "restrict": "Beperken verwerking",
    "object": "Vastleggen bezwaar",
    "consent": "Vastleggen toestemming",
    "inzage": "Verstrekken inzage",
    "minute": "Vastleggen verslag",
    "identify": "Identificeren casus",
    "breach": "Registreren datalek",
    "rekey": "Herverpakken sleutels",
}
# the values every format-2 body has unless position 17 says otherwise
CONSTANTS = {"bewaartermijn": "P25Y", "vertrouwelijkheid": "vertrouwelijk",
             "gegevensbron": "deelwijs", "status_code": 1, "parent_span_id": None,
             "foreign_operation": None}
SYSTEM_PREFIX = "Deelwijs "
ORG_PREFIX = "deelwijs:org:"
_SLOTS = 18
_EMPTY = {13: [], 14: None, 15: 0, 16: None, 17: {}}
_HEX = re.compile(r"(?:[0-9a-f]{2}){8,}")
_LABEL = re.compile(r"(.*)@sha256:([0-9a-f]{64})", re.DOTALL)
_ORG = re.compile(r"deelwijs:org:([1-9][0-9]*)")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                              default=str).encode


def canonical(obj) -> str:
    """The canonical JSON of an entry body (format 1): sorted keys, no whitespace, UTF-8
    text; json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    default=str), from an encoder made once."""
    return _CANONICAL(obj)


# the text of format 2's array: as canonical (`default=str` for a value of position 17 as the
# body gave it)
_COMPACT = _CANONICAL


# --- the encodings of one value ---------------------------------------------------------------

def _word(value):
    return _INDEX.get(value, value) if isinstance(value, str) else value


def _unword(value):
    if type(value) is int and 0 <= value < len(WORDS):
        return WORDS[value]
    return value


# base64.urlsafe_b64encode / urlsafe_b64decode, without their layers of calls (the same
# binascii functions and translation tables underneath; the same ValueError on bad input)
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")


def _b64(raw: bytes) -> str:
    return binascii.b2a_base64(raw, newline=False).translate(_TO_URLSAFE).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    padded = (text + "=" * (-len(text) % 4)).encode("ascii")
    return binascii.a2b_base64(padded.translate(_FROM_URLSAFE))


def _hex(value):
    if isinstance(value, str) and _HEX.fullmatch(value):
        return "~" + _b64(bytes.fromhex(value))
    return value


def _unhex(value):
    if isinstance(value, str) and value.startswith("~"):
        try:
            return _unb64(value[1:]).hex()
        except ValueError:
            return value
    return value


def _label(value):
    m = _LABEL.fullmatch(value) if isinstance(value, str) else None
    return f"{m[1]}@~{_b64(bytes.fromhex(m[2]))}" if m else value


def _unlabel(value):
    if isinstance(value, str) and "@~" in value:
        version, raw = value.rsplit("@~", 1)
        try:
            return f"{version}@sha256:{_unb64(raw).hex()}"
        except ValueError:
            return value
    return value


def _label_digest(label) -> str | None:
    if isinstance(label, str) and "@" in label:
        return label.rsplit("@", 1)[1]
    return None


def _org(value):
    m = _ORG.fullmatch(value) if isinstance(value, str) else None
    return int(m[1]) if m else value


def _unorg(value):
    return f"{ORG_PREFIX}{value}" if type(value) is int else value


def _org_kind(value):
    if value is None:
        return None
    return "deelwijs" if type(value) is int else "OIN"


def _uuid(value):
    if isinstance(value, str) and _UUID.fullmatch(value):
        return "~" + _b64(bytes.fromhex(value.replace("-", "")))
    return value


def _unuuid(value):
    if isinstance(value, str) and value.startswith("~"):
        try:
            x = _unb64(value[1:]).hex()
        except ValueError:
            return value
        return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}" if len(x) == 32 else value
    return value


def _row_id(rij, table: str):
    """The id in a `rij` value of this table ('disclosure:12:…' -> 12), else None."""
    if isinstance(rij, str):
        parts = rij.split(":")
        if len(parts) == 3 and parts[0] == table and parts[1].isdigit():
            return int(parts[1])
    return None


# --- the body: to format 2 and back ----------------------------------------------------------

def _besluit(value, label):
    if value is None:
        return None
    try:
        items = []
        for item in value["items"]:
            codes = item["gronden"] if item["uitkomst"] == "allow" else item["redenen"]
            items.append([_word(item["gegeven"]), _word(item["uitkomst"]),
                          [_word(c) for c in codes], [_word(r) for r in item["regels"]]])
        digest = value["ruleset_digest"]
        out = [_word(value["uitkomst"]), items, 0 if digest == _label_digest(label) else digest]
        if "pet" in value:
            out.append(value["pet"])
        return out
    except (KeyError, TypeError, AttributeError):
        return value  # not this shape: kept as it is (the round trip then decides)


def _unbesluit(value, label):
    if not isinstance(value, list):
        return value
    try:
        outcome, items, digest, *hat = value
        # every object's keys in sorted order, as json.loads gives those of format 1
        out = {"items": []}
        for gegeven, uitkomst, codes, rules in items:
            uitkomst = _unword(uitkomst)
            out["items"].append({
                "gegeven": _unword(gegeven),
                "gronden" if uitkomst == "allow" else "redenen": [_unword(c) for c in codes],
                "regels": [_unword(r) for r in rules], "uitkomst": uitkomst})
        if hat:
            out["pet"] = hat[0]
        out["ruleset_digest"] = _label_digest(label) if digest == 0 else digest
        out["uitkomst"] = _unword(outcome)
        return out
    except (TypeError, ValueError):
        return value


def _toestemming(value):
    if not isinstance(value, dict) or set(value) != {"antwoord", "doelen", "reeks", "rol",
                                                     "versie"}:
        return None
    doelen = value["doelen"]
    if not isinstance(doelen, list):
        return None
    return [_word(value["antwoord"]), [_word(d) for d in doelen], _uuid(value["reeks"]),
            _word(value["rol"]), value["versie"]]


def _untoestemming(value):
    if not isinstance(value, list) or len(value) != 5:
        return None
    antwoord, doelen, reeks, rol, versie = value
    if not isinstance(doelen, list):
        return None
    return {"antwoord": _unword(antwoord), "doelen": [_unword(d) for d in doelen],
            "reeks": _unuuid(reeks), "rol": _unword(rol), "versie": versie}


def _slots(body: dict, registered_at: dt.datetime) -> list:
    label = body.get("verwerkingsactiviteitVersie")
    systeem = body.get("systeem")
    objects = body.get("verwerkteObjecten")
    categories = []
    if isinstance(objects, list) and len(objects) == 1 and isinstance(objects[0], dict):
        kinds = objects[0].get("verwerkteSoortenGegevens")
        if isinstance(kinds, list) and all(isinstance(k, dict) for k in kinds):
            categories = [_word(k.get("soortGegeven")) for k in kinds]
    tijdstip = body.get("tijdstip")
    stamp = registered_at.isoformat()
    if tijdstip == stamp:
        when = 0
    else:
        when = tijdstip
        try:
            delta = registered_at - dt.datetime.fromisoformat(tijdstip)
            us = delta // dt.timedelta(microseconds=1)
            if us > 0 and delta.total_seconds() < 86_400:
                when = us
        except (TypeError, ValueError):
            pass
    actie = body.get("actie")
    handeling = body.get("handelingNaam")
    return [
        FORMAT,
        body.get("rij"),
        _word(actie),
        0 if handeling is not None and handeling == ACTION_NAMES.get(actie) else _word(handeling),
        _word(_hex(body.get("gebruiker"))),
        _hex(body.get("trace_id")),
        _hex(body.get("span_id")),
        systeem[len(SYSTEM_PREFIX):] if isinstance(systeem, str)
        and systeem.startswith(SYSTEM_PREFIX) else None,
        body.get("verwerkingId"),
        _word(body.get("verwerkingNaam")),
        _label(label),
        _org(body.get("uitvoerder")),
        _org(body.get("afnemerId")),
        categories,
        _besluit(body.get("besluit"), label),
        when,
        _toestemming(body.get("toestemming")),
        {},
    ]


def _expand_slots(s: list, subject: str | None, activity: str,
                  registered_at: dt.datetime) -> dict:
    s = s + [_EMPTY[i] for i in range(len(s), _SLOTS)]
    actie = _unword(s[2])
    actie_naam = ACTION_NAMES.get(actie) if isinstance(actie, str) else None
    label = _unlabel(s[10])
    when = s[15]
    if when == 0 and type(when) is int:
        tijdstip = registered_at.isoformat()
    elif type(when) is int:
        tijdstip = (registered_at - dt.timedelta(microseconds=when)).isoformat()
    else:
        tijdstip = when
    body = {
        "actie": actie,
        "actieNaam": actie_naam,
        "handelingNaam": actie_naam if s[3] == 0 and type(s[3]) is int else _unword(s[3]),
        "gebruiker": _unhex(_unword(s[4])),
        "trace_id": _unhex(s[5]),
        "span_id": _unhex(s[6]),
        "systeem": SYSTEM_PREFIX + s[7] if isinstance(s[7], str) else None,
        "verwerkingId": s[8],
        "verwerkingNaam": _unword(s[9]),
        "verwerkingsactiviteitId": activity,
        "verwerkingsactiviteitVersie": label,
        "uitvoerder": _unorg(s[11]),
        "afnemerId": _unorg(s[12]),
        "soortAfnemerId": _org_kind(s[12]),
        "verwerkteObjecten": [] if subject is None else [{
            "betrokkenheid": "jeugdige", "objectId": subject, "objecttype": "persoon",
            "soortObjectId": "deelwijs-pseudoniem",
            "verwerkteSoortenGegevens": [{"soortGegeven": _unword(c)} for c in s[13]]}],
        "besluit": _unbesluit(s[14], label),
        "tijdstip": tijdstip,
        **CONSTANTS,
    }
    if s[1] is not None:
        body["rij"] = s[1]
        disclosure = _row_id(s[1], "disclosure")
        if disclosure is not None:
            body["verstrekking"] = disclosure
    toestemming = _untoestemming(s[16])
    if toestemming is not None:
        body["toestemming"] = toestemming
    if isinstance(s[17], dict):
        body.update(s[17])
    return body


def compact(body: dict, subject: str | None, activity: str,
            registered_at: dt.datetime) -> str:
    """The text to store for an entry body: format 2 when it expands to exactly the
    canonical JSON of `body`, else that canonical JSON (format 1). `subject`, `activity` and
    `registered_at` are the entry's columns."""
    full = canonical(body)
    try:
        slots = _slots(body, registered_at)
        got = _expand_slots(slots, subject, activity, registered_at)
        if any(key not in body for key in got):
            return full
        # the keys whose value differs from what positions 0-16 and the constants give, with
        # the value as JSON holds it (default=str applied, a tuple a list): those of the body
        # as JSON reads it back, read only when there are any (plain equality, True == 1:
        # the check of the whole text below is exact)
        differ = [key for key, value in body.items() if key not in got or got[key] != value]
        rest = {}
        if differ:
            plain = json.loads(full)
            for key, value in plain.items():
                if key not in got or got[key] != value:
                    rest[key] = value
            if any(key not in plain for key in got):
                return full
        slots[17] = rest
        while len(slots) > 14 and _same(slots[-1], _EMPTY[len(slots) - 1]):
            slots.pop()
        text = _COMPACT(slots)
        # what a reader gets from the text (expand, without its sorting: canonical sorts)
        back = _expand_slots(json.loads(text), subject, activity, registered_at)
    except (TypeError, ValueError, OverflowError):
        return full
    if canonical(back) != full:
        return full
    return text


def _same(a, b) -> bool:
    return type(a) is type(b) and a == b


def is_compact(text: str) -> bool:
    return text.startswith("[")


def expand(text: str, subject: str | None, activity: str, registered_at: dt.datetime) -> dict:
    """The full body (format 1's object) of a stored body in either format, with the keys of
    every object in the order json.loads gives those of format 1 (sorted)."""
    if not is_compact(text):
        return json.loads(text)
    slots = json.loads(text)
    if not slots or slots[0] != FORMAT:
        raise ValueError(f"not a body of format {FORMAT}")
    body = _expand_slots(slots, subject, activity, registered_at)
    return dict(sorted(body.items()))


# what a format-2 body starts with when it binds a row (position 1 a text), and when not
ROW_MARK = '[2,"'
NO_ROW_MARK = "[2,null"


def row_ref(text: str) -> str | None:
    """Position 1 (rij) of a format-2 body, read without parsing the body (None when the body
    is not of format 2 or binds no row)."""
    if not text.startswith(ROW_MARK):
        return None
    end = text.find('"', len(ROW_MARK))
    return text[len(ROW_MARK):end] if end >= 0 else None
