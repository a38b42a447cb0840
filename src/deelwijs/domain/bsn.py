"""A BSN hidden in free text (pure).

Text that Deelwijs keeps as written, unencrypted (an anonymous case's title, agenda, minutes,
actions and weighing answers; a breach's description, measures and reasons), must not hold a
burgerservicenummer: the case is anonymous, and the breach register is read by people who
need no one's BSN. `find_bsn` finds one so that the service can refuse the text.

A BSN is a 9-digit number that passes the elfproef (`stdnum.nl.bsn`). It is found written as
one number (123456782) or in groups joined by a single space, dot or hyphen (123.456.782,
1234 56 782, 12-34-56-782), in any Unicode digits. Only whole groups count: a run of groups
is cut at group borders, never inside a group, so a longer number (an IBAN, a phone number
with its area code) yields a BSN only when whole groups of it add up to nine digits that pass
the elfproef. An 8-digit number (a BSN with its leading zero left out) is not searched for:
too many dates and other numbers are 8 digits long.
"""

from __future__ import annotations

import re
import unicodedata

from stdnum.nl import bsn as stdnum_bsn

# digits, in groups joined by one separator: space, no-break spaces, dot, hyphens
_SEPARATORS = " .\u00a0\u202f\u2009-\u2010\u2011\u2012\u2013"
_RUN = re.compile(rf"\d+(?:[{re.escape(_SEPARATORS)}]\d+)*")
_SPLIT = re.compile(rf"[{re.escape(_SEPARATORS)}]")
LENGTH = 9


def _ascii(digits: str) -> str:
    return "".join(str(unicodedata.digit(c)) for c in digits)


def find_bsn(text: str) -> str | None:
    """The first BSN written in `text` (as 9 ASCII digits), or None."""
    if not isinstance(text, str):
        return None
    for run in _RUN.finditer(text):
        groups = [_ascii(g) for g in _SPLIT.split(run.group())]
        for i in range(len(groups)):
            number = ""
            for group in groups[i:]:
                number += group
                if len(number) >= LENGTH:
                    break
            if len(number) == LENGTH and stdnum_bsn.is_valid(number):
                return number
    return None


def masked(number: str) -> str:
    """A found BSN as a message may show it: only its last three digits."""
    return "******" + number[-3:]
