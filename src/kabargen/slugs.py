"""Readable, stable URL slugs from titles, names and tags."""

from __future__ import annotations

import functools
import re
import unicodedata

_SEPARATORS = re.compile(r"[\s_\-–—/\\.]+")
_NOT_ASCII_ALNUM = re.compile(r"[^a-z0-9]+")
# A slug is one folder name in the output: file systems allow 255 bytes, and a URL
# that long is no use to anyone. Non-Latin letters take 2-4 bytes each in UTF-8.
MAX_SLUG_BYTES = 200


def slug_too_long(slug: str) -> bool:
    """Whether a slug is too long to be a folder name in the output."""
    return len(slug.encode("utf-8")) > MAX_SLUG_BYTES


# A pure function called for every tag, name and link of every release: names and tags
# repeat across thousands of releases, so a bounded memo saves most of the work.
@functools.lru_cache(maxsize=1 << 16)
def slugify(text: str) -> str:
    """Return a lowercase slug: Latin letters lose accents, other scripts are kept (NFC).

    Never returns an empty string for text that has any letter or digit in it;
    returns "" only when the text has none at all (the caller reports that).
    """
    if text.isascii():
        # The common case, about 20x faster; gives what the loop below gives for ASCII.
        return _NOT_ASCII_ALNUM.sub("-", text.lower().replace("'", "")).strip("-")
    out: list[str] = []
    for ch in unicodedata.normalize("NFC", text.strip()):
        decomposed = unicodedata.normalize("NFD", ch)
        base = decomposed[0]
        if base.isascii():
            if base.isalnum():
                out.append(base.lower())
            elif _SEPARATORS.match(base) or base in "'’":
                # An apostrophe joins a word ("Jum'at" -> "jumat"); other punctuation separates.
                out.append("" if base in "'’" else "-")
            else:
                out.append("-")
        elif ch in "’‘":
            out.append("")
        elif unicodedata.category(ch)[0] in "LN" or unicodedata.category(ch) == "Mn":
            out.append(ch.lower())
        else:
            out.append("-")
    slug = re.sub(r"-{2,}", "-", "".join(out)).strip("-")
    return unicodedata.normalize("NFC", slug)
