"""Rotating the keys that wrap the youths' data keys (docs/retention.md § 4).

Every youth's data key is stored wrapped: by the newest wrapping key of
DEELWIJS_WRAPPING_KEYS, or by the master key when none are configured (crypto.py). A backup
holds the wrapped keys of its day. To make every backup made before some moment unreadable,
the operator puts a new wrapping key at the front of the list, re-wraps every live youth key
under it (`rewrap`), checks that no live key is left under an older one (`status`), and then
removes the older key from the configuration and destroys it. The master key cannot take part
in this: it also derives the processing log's keys, so it is never destroyed, and without
wrapping keys there is nothing to rotate (`NO_ROTATION`).

`rewrap` works in batches, one transaction each, and compares before it writes: a key
shredded (or re-wrapped by someone else) between reading and writing is left alone. It is
idempotent and resumable: what is under the newest key already is skipped, and so are
shredded youths (they have no key). A real run logs one entry per region that had keys
re-wrapped (activity `registratie`, in the transaction of the last batch); a dry run writes
nothing. `status` reads only. Both are the administrator's (they take a `Unit`;
access.require_admin).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from cryptography.fernet import InvalidToken
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from deelwijs.crypto import WRAPPING_VAR, Keyring
from deelwijs.services import access
from deelwijs.services.context import Unit
from deelwijs.services.errors import Invalid
from deelwijs.services.log import audit
from deelwijs.storage import orm

BATCH = 500
REWRAP_REASON = "Opnieuw verpakken van de sleutels van jongeren (sleutelrotatie)"

NO_ROTATION = (
    "Sleutelrotatie is niet mogelijk: er zijn geen verpakkingssleutels ingesteld "
    f"({WRAPPING_VAR}), dus de hoofdsleutel verpakt de sleutels van de jongeren, en die kan "
    "nooit vernietigd worden. Een back-up van vóór een vernietiging blijft daardoor leesbaar "
    "zolang die back-up bestaat (zie docs/retention.md § 4).")

Progress = Callable[[int, int], None]

_YOUTH = orm.Youth.__table__
# compare-and-swap: only a key that is still what was read gets replaced
_SWAP = (update(_YOUTH)
         .where(_YOUTH.c.id == bindparam("y_id"), _YOUTH.c.key_wrapped == bindparam("y_old"))
         .values(key_wrapped=bindparam("y_new")))


def _plural(n: int) -> str:
    return f"{n} sleutel" if n == 1 else f"{n} sleutels"


def rotation_notice(u: Unit, shredded: int = 0, dry_run: bool = False) -> str | None:
    """What a retention run should tell the operator about backups: that rotation is not
    possible (no wrapping keys of `u.keys`), or, after a real run that destroyed keys, how to
    make the backups from before it unreadable. None when there is nothing to say."""
    keys = u.keys
    if not keys.can_rotate:
        return NO_ROTATION
    if shredded and not dry_run:
        return ("Back-ups van vóór deze ronde bevatten de vernietigde sleutels nog. Maak ze "
                "onleesbaar: zet een nieuwe verpakkingssleutel vooraan in "
                f"{WRAPPING_VAR} (deelwijs keys new), draai deelwijs keys rewrap, controleer "
                "met deelwijs keys status en vernietig daarna de oude verpakkingssleutel.")
    return None


def _live(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(_YOUTH)
                          .where(_YOUTH.c.key_wrapped.is_not(None)))


def _shredded(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(_YOUTH)
                          .where(_YOUTH.c.key_wrapped.is_(None)))


def status(u: Unit, progress: Progress | None = None, batch_size: int = BATCH) -> dict:
    """How many youth keys are wrapped under each configured wrapping key (newest first),
    under the master key, under none of them (unreadable), and how many are shredded; and
    whether the older wrapping keys can be removed and destroyed. The administrator's
    (access.require_admin). Reads only."""
    access.require_admin(u, "De stand van de sleutelrotatie")
    session, keys = u.session, u.keys
    tick = progress or (lambda done, total: None)
    total = _live(session)
    tick(0, total)
    prints = keys.fingerprints
    under: Counter[int | None] = Counter()
    done = 0
    rows = session.execute(select(_YOUTH.c.key_wrapped)
                           .where(_YOUTH.c.key_wrapped.is_not(None)).order_by(_YOUTH.c.id)
                           .execution_options(yield_per=batch_size))
    for (wrapped,) in rows:
        under[keys.wrapped_by(bytes(wrapped))] += 1
        done += 1
        if done % batch_size == 0:
            tick(done, max(total, done))
    tick(done, max(total, done))
    master, unreadable = under[len(prints)], under[None]
    to_rewrap = done - under[0] - unreadable if keys.can_rotate else 0
    removable = keys.can_rotate and to_rewrap == 0 and len(prints) > 1
    return {
        "rotation_possible": keys.can_rotate,
        "wrapping_keys": [{"position": i + 1, "fingerprint": fp, "newest": i == 0,
                           "youths": under[i]} for i, fp in enumerate(prints)],
        "master_key": master,
        "unreadable": unreadable,
        "shredded": _shredded(session),
        "live": done,
        "to_rewrap": to_rewrap,
        "old_keys_removable": removable,
        "message": _status_message(keys, to_rewrap, unreadable, master),
    }


def _status_message(keys: Keyring, to_rewrap: int, unreadable: int, master: int) -> str:
    prints = keys.fingerprints
    if not keys.can_rotate:
        text = NO_ROTATION
    elif to_rewrap:
        text = (f"{_plural(to_rewrap)} van jongeren {'staat' if to_rewrap == 1 else 'staan'} "
                "nog onder een oudere verpakkingssleutel"
                + (f" of de hoofdsleutel ({master})" if master else "")
                + ": draai deelwijs keys rewrap voordat u een oudere verpakkingssleutel "
                "verwijdert.")
    elif len(prints) > 1:
        text = (f"Alle sleutels van jongeren staan onder de nieuwste verpakkingssleutel "
                f"({prints[0]}). De oudere ({', '.join(prints[1:])}) kunnen nu uit "
                f"{WRAPPING_VAR} en daarna vernietigd worden; elke back-up van vóór de "
                "laatste rewrap is dan onleesbaar.")
    else:
        text = (f"Alle sleutels van jongeren staan onder de verpakkingssleutel ({prints[0]}); "
                "er is geen oudere verpakkingssleutel om te vernietigen.")
    if unreadable:
        text += (f" Let op: {_plural(unreadable)} {'past' if unreadable == 1 else 'passen'} "
                 "bij geen enkele ingestelde sleutel, dus de gegevens van "
                 f"{'die jongere' if unreadable == 1 else 'die jongeren'} zijn onleesbaar. Is "
                 "een oude verpakkingssleutel te vroeg verwijderd, zet die dan terug en draai "
                 "deelwijs keys rewrap.")
    return text


def rewrap(u: Unit, *, dry_run: bool = False, batch_size: int = BATCH,
           progress: Progress | None = None) -> dict:
    """Re-wrap every live youth key that is not under the newest wrapping key, in batches of
    `batch_size`, one transaction per batch of `u.app` (see the module's docstring; the
    unit's own session is not used). The operator's, who holds the keys
    (access.require_operator). `progress(done, total)` is called after each batch. Returns
    the counts."""
    access.require_operator(u, "Sleutelrotatie")
    app, keys = u.app, u.keys
    if not isinstance(dry_run, bool):
        raise Invalid("wrong_type", "geef aan of dit een proefronde is (dry_run)", "dry_run")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise Invalid("invalid_batch_size", "de grootte van een portie moet een geheel getal "
                      "van minstens 1 zijn", "batch_size")
    if not keys.can_rotate:
        raise Invalid("no_wrapping_keys", "er zijn geen verpakkingssleutels ingesteld, dus er "
                      "valt niets opnieuw te verpakken: de hoofdsleutel verpakt de sleutels "
                      "van de jongeren en kan niet vernietigd worden. Zet eerst een sleutel "
                      "(deelwijs keys new) in deze variabele (zie docs/retention.md § 4)",
                      WRAPPING_VAR)
    tick = progress or (lambda done, total: None)
    with app.transaction() as s:
        total, shredded = _live(s), _shredded(s)
    tick(0, total)
    rewrapped: Counter[int] = Counter()  # per region
    current = unreadable = changed = done = 0
    last_id = 0
    while True:
        with app.transaction() as s:
            rows = s.execute(select(_YOUTH.c.id, _YOUTH.c.region_id, _YOUTH.c.key_wrapped)
                             .where(_YOUTH.c.id > last_id, _YOUTH.c.key_wrapped.is_not(None))
                             .order_by(_YOUTH.c.id).limit(batch_size)).all()
            for youth_id, region_id, wrapped in rows:
                wrapped = bytes(wrapped)
                if keys.is_current(wrapped):
                    current += 1
                    continue
                try:
                    new = keys.rewrap(wrapped)
                except InvalidToken:
                    unreadable += 1
                    continue
                if not dry_run and s.execute(_SWAP, {"y_id": youth_id, "y_old": wrapped,
                                                     "y_new": new}).rowcount != 1:
                    changed += 1
                    continue
                rewrapped[region_id] += 1
            done += len(rows)
            if rows:
                last_id = rows[-1].id
            last = len(rows) < batch_size
            if last and not dry_run:
                _log(s, keys, rewrapped)
        tick(done, max(total, done))
        if last:
            break
    return {
        "dry_run": dry_run,
        "wrapping_key": keys.fingerprints[0],
        "live": done,
        "rewrapped": sum(rewrapped.values()),
        "already_current": current,
        "unreadable": unreadable,
        "changed": changed,
        "shredded": shredded,
        "message": _rewrap_message(keys, dry_run, sum(rewrapped.values()), current,
                                   unreadable, changed),
    }




def _log(session: Session, keys: Keyring, rewrapped: Counter[int]) -> None:
    """One entry per region that had keys re-wrapped: no youth is named, only the count and
    the fingerprint of the key they are under now."""
    if not rewrapped:
        return
    codes = dict(session.execute(select(orm.Region.id, orm.Region.code)
                                 .where(orm.Region.id.in_(list(rewrapped)))).all())
    for region_id in sorted(rewrapped):
        audit.log_system(session, region_id=region_id, name="registratie", actie="rekey",
                         handeling=REWRAP_REASON,
                         extra={"sleutelrotatie": {"opnieuw_verpakt": rewrapped[region_id],
                                                   "regio": codes.get(region_id),
                                                   "verpakkingssleutel": keys.fingerprints[0]}})


def _rewrap_message(keys: Keyring, dry_run: bool, n: int, current: int, unreadable: int,
                    changed: int) -> str:
    fp = keys.fingerprints[0]
    if dry_run:
        text = (f"Proefronde: {_plural(n)} zou{'' if n == 1 else 'den'} opnieuw verpakt worden "
                f"onder verpakkingssleutel {fp} ({current} "
                f"{'stond' if current == 1 else 'stonden'} er al onder). Er is niets "
                "geschreven.")
    else:
        text = (f"{_plural(n)} opnieuw verpakt onder verpakkingssleutel {fp} ({current} "
                f"{'stond' if current == 1 else 'stonden'} er al onder).")
        if not changed and not unreadable and len(keys.fingerprints) > 1:
            text += (" Controleer met deelwijs keys status; haal daarna de oudere "
                     f"verpakkingssleutel(s) uit {WRAPPING_VAR} en vernietig ze.")
    if changed:
        text += (f" {_plural(changed)} {'is' if changed == 1 else 'zijn'} intussen gewijzigd "
                 "(bijvoorbeeld vernietigd) en overgeslagen; draai deelwijs keys rewrap nog "
                 "eens.")
    if unreadable:
        text += (f" Let op: {_plural(unreadable)} {'past' if unreadable == 1 else 'passen'} "
                 "bij geen enkele ingestelde sleutel en kon"
                 f"{'' if unreadable == 1 else 'den'} niet opnieuw verpakt worden; de gegevens "
                 "zijn onleesbaar. Is een oude verpakkingssleutel te vroeg verwijderd, zet die "
                 "dan terug en draai deelwijs keys rewrap nog eens.")
    return text
