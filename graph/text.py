"""Danish text handling: collation for sorting, and folding for matching.

Danish sorts æ, ø, å after z (and treats the old spelling aa as å only in names, which we do not
guess at). Other accented letters sort with their base letter (é with e, ü with y as Danish does,
ä and ö with æ and ø).
"""

from __future__ import annotations

import unicodedata

_AFTER_Z = {"æ": "{", "ä": "{", "ø": "|", "ö": "|", "å": "}"}
_SPECIAL = {"ü": "y"}


def danish_sort_key(text: str) -> tuple[str, str]:
    """A key that sorts strings as a Danish dictionary does: … x y z æ ø å."""
    folded = []
    for char in text.casefold():
        if char in _AFTER_Z:
            folded.append(_AFTER_Z[char])
        elif char in _SPECIAL:
            folded.append(_SPECIAL[char])
        else:
            base = unicodedata.normalize("NFD", char)[0]
            folded.append(base)
    return "".join(folded), text


def initial_letter(text: str) -> str:
    """The index letter a label is filed under: A–Z, Æ, Ø, Å, or '#' for digits and symbols."""
    for char in text.strip():
        upper = char.upper()
        if upper in "ÆØÅ":
            return upper
        if upper in "ÄÖ":
            return {"Ä": "Æ", "Ö": "Ø"}[upper]
        base = unicodedata.normalize("NFD", upper)[0]
        if "A" <= base <= "Z":
            return base
        if char.isalnum():
            return "#"
    return "#"


DANISH_ALPHABET = [*"ABCDEFGHIJKLMNOPQRSTUVWXYZ", "Æ", "Ø", "Å"]
