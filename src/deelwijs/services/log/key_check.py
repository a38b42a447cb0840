"""Does the master key fit this log? `audit verify` asks before it checks every entry, so that
a wrong key is named in one line instead of every entry as forged (moved here from
rights/keys.py: it reads the log, and the log's verify calls it)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from deelwijs.crypto import Keyring
from deelwijs.domain import checkpoint as cp
from deelwijs.storage import orm

KEY_SAMPLE = 8  # entries whose MAC is checked: the first, the last and some between
_SIGNATURE = "\u2014 "  # a signed note's signature line starts with an em dash and a space


def log_key_mismatch(session: Session, keys: Keyring, region_id: int) -> dict | None:
    """Whether the master key given is not the one a region's log was written with: then
    `audit verify` says that in one line instead of naming every entry as forged.

    The database already holds keyed values that fingerprint the master key without
    revealing it: every entry's MAC (a keyed hash over its position and stored leaf hash;
    no leaf is recomputed here, so this does not depend on the leaf's layout) and the key id
    in every signed checkpoint (a hash of the public key derived from the master key). The
    key does not fit when none of the sampled entries (the first, the last and some between)
    carries a MAC under it and no checkpoint carries its signature, while there is at least
    one of them. Then a dict with the Dutch message and the counts; None when the key fits
    (or there is nothing to tell by), and the full verify names what is wrong."""
    entry = orm.LogEntry
    low, high, count = session.execute(
        select(func.min(entry.seq), func.max(entry.seq), func.count())
        .where(entry.region_id == region_id)).one()
    rows = []
    if count:
        step = KEY_SAMPLE - 1
        wanted = sorted({low + (high - low) * i // step for i in range(KEY_SAMPLE)})
        rows = session.execute(select(entry.seq, entry.leaf_hash, entry.mac).where(
            entry.region_id == region_id, entry.seq.in_(wanted))).all()
    if any(keys.entry_mac(seq, bytes(leaf)) == bytes(mac) for seq, leaf, mac in rows):
        return None
    notes = session.scalars(select(orm.LogCheckpoint.note)
                            .where(orm.LogCheckpoint.region_id == region_id)).all()
    ours: set[str] = set()
    theirs: set[str] = set()
    for note in notes:
        for signer, key_id in _signatures(note):
            try:
                mine = cp.key_hash(signer, keys.verify_key).hex()
            except cp.CheckpointError:
                mine = None
            if key_id == mine:
                return None
            ours.add(mine or "?")
            theirs.add(key_id)
    if not rows and not notes:
        return None
    parts = []
    if rows:
        parts.append(f"geen van de {len(rows)} gecontroleerde regels (de eerste en de laatste "
                     "inbegrepen) draagt een MAC van deze hoofdsleutel")
    if notes:
        parts.append(f"geen van de {len(notes)} checkpoints is ermee ondertekend (sleutel-id "
                     f"in het log: {', '.join(sorted(theirs)) or 'geen'}; van deze sleutel: "
                     f"{', '.join(sorted(ours))})")
    message = (" en ".join(parts) + ". Gebruik de hoofdsleutel van deze database "
               "(DEELWIJS_MASTER_KEY, DEELWIJS_MASTER_KEY_FILE of var/master.key); de regels "
               "zijn daarom niet één voor één gecontroleerd")
    return {"message": message, "entries": count, "checkpoints": len(notes)}


def _signatures(note: str) -> list[tuple[str, str]]:
    """(key name, key id in hex) of every signature line of a signed note, as far as they
    can be read; what cannot is left out (verify itself names a malformed checkpoint)."""
    import base64
    import binascii

    out = []
    _, found, tail = note.rpartition("\n\n")
    for line in tail.split("\n") if found else []:
        if not line.startswith(_SIGNATURE):
            continue
        signer, _, encoded = line[len(_SIGNATURE):].partition(" ")
        try:
            blob = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue
        if signer and len(blob) > 4:
            out.append((signer, blob[:4].hex()))
    return out
