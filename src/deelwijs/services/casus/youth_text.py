"""Free text about a youth, kept encrypted with the youth's own key.

Whatever a professional writes in a case about an identifiable youth (the case's title, a
meeting's agenda and its items, minutes, actions, the answers of a written weighing, a note
with a workflow step) may name the youth or their family. It is stored encrypted with the
youth's data key, in a `<column>_enc` column, with the plaintext column left empty; once the
key is destroyed (crypto-shredding, `rights.shred_youth`) every copy of it, backups included,
is unreadable. In an anonymous case nothing identifying is stored, so its text stays as
written (`<column>_enc` is NULL); so does text written before revision 0003, until the
youth's retention run empties it.

`Texts` is the one way in and out: `Texts.for_youth(session, youth_id)` unwraps the key once,
`seal` gives the values of the plaintext and the encrypted column, `open` the text back
(`SHREDDED` once the key is gone).
"""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from deelwijs.crypto import Keyring
from deelwijs.domain.bsn import find_bsn, masked
from deelwijs.services.errors import Invalid
from deelwijs.storage import orm

SHREDDED = "[vernietigd]"


class Texts:
    """Seal and open the free text of one youth (or of an anonymous case: youth None)."""

    def __init__(self, keys: Keyring | None, key: bytes | None, identifiable: bool):
        self._keys = keys
        self._key = key
        self.identifiable = identifiable

    @classmethod
    def for_youth(cls, session: Session, youth_id: int | None,
                  keys: Keyring | None = None) -> Texts:
        """The texts of this youth (None: an anonymous case, kept as written)."""
        if youth_id is None:
            return cls(None, None, False)
        from deelwijs.services.log import audit  # (audit imports services that import this)

        keys = keys or audit.keys_of(session)
        youth = session.get(orm.Youth, youth_id)
        wrapped = youth.key_wrapped if youth is not None else None
        return cls(keys, keys.unwrap(wrapped) if wrapped is not None else None, True)

    @classmethod
    def for_case(cls, session: Session, case: orm.Case, keys: Keyring | None = None) -> Texts:
        return cls.for_youth(session, case.youth_id, keys)

    @property
    def shredded(self) -> bool:
        return self.identifiable and self._key is None

    def ensure_writable(self, field: str = "text") -> None:
        """Refuse (Invalid 'shredded') once the youth's data were destroyed."""
        if self.shredded:
            raise Invalid("shredded", "de gegevens van deze jongere zijn vernietigd", field)

    def seal(self, text: str, field: str = "text") -> tuple[str, bytes | None]:
        """(plaintext column, encrypted column) for this text: ("", ciphertext) about an
        identifiable youth, (text, None) in an anonymous case. Refuses (Invalid 'shredded')
        once the youth's data were destroyed."""
        if not self.identifiable:
            return text, None
        self.ensure_writable(field)
        return "", self._keys.encrypt(self._key, text)

    def seal_json(self, value, empty, field: str = "text") -> tuple[object, bytes | None]:
        """seal() for a JSON value: (empty, ciphertext of the JSON) or (value, None)."""
        if not self.identifiable:
            return value, None
        self.ensure_writable(field)
        return empty, self._keys.encrypt(self._key, json.dumps(value, ensure_ascii=False))

    def open(self, plain: str, enc: bytes | None) -> str:
        """The text of a (plaintext, encrypted) pair of columns; SHREDDED when it was
        encrypted with a key that is gone (or emptied by the retention run)."""
        if enc is None:
            return SHREDDED if self.shredded and plain == "" else plain
        if self._key is None:
            return SHREDDED
        return self._keys.decrypt(self._key, enc)

    def open_json(self, plain, enc: bytes | None, empty):
        """open() for a JSON value; `empty` once the key is gone."""
        if enc is None:
            return plain
        if self._key is None:
            return empty
        return json.loads(self._keys.decrypt(self._key, enc))


def no_bsn_in_anonymous(youth_id: int | None, text: str, field: str, what: str) -> None:
    """An anonymous case keeps its text as written (nothing identifying is stored with it):
    text holding a BSN is refused there, before anything is written. About a youth the text
    is encrypted with the youth's key (services/youth_text), and may name it."""
    if youth_id is not None:
        return
    found = find_bsn(text)
    if found is not None:
        raise Invalid("contains_bsn", f"{what} bevat een BSN ({masked(found)}). In een "
                      "anonieme casus wordt niets opgeslagen dat iemand identificeert; laat "
                      "het BSN weg (of zet de casus eerst op naam: deelwijs case identify)",
                      field)
