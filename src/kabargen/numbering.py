"""Release numbers from a pattern: the next free number, with a sequence that restarts each year.

The pattern is the config's `numbering`, a Python format string over the fields
`seq`, `year`, `month`, `day` and `month_roman` (I-XII, as many offices number
their letters), e.g. "{seq:03d}/HM/DISKOMINFO/{month:02d}/{year}". Existing
numbers are parsed back with the same pattern, so the sequence continues from
the highest number already used in the year; numbers written another way (an
older scheme) are ignored.
"""

from __future__ import annotations

import re
import string
from datetime import datetime
from typing import Iterable

FIELDS = ("seq", "year", "month", "day", "month_roman")
ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")
_ROMAN_RE = "|".join(sorted(ROMAN, key=len, reverse=True))


def _values(seq: int, now: datetime) -> dict:
    return {"seq": seq, "year": now.year, "month": now.month, "day": now.day, "month_roman": ROMAN[now.month - 1]}


def check_pattern(pattern: object) -> str:
    """An error message for an unusable pattern, or '' when it is fine."""
    example = '"{seq:03d}/HM/DISKOMINFO/{month:02d}/{year}"'
    if not isinstance(pattern, str):
        return f"'numbering' must be a pattern like {example}"
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(pattern) if name is not None]
    except ValueError as exc:
        return f"'numbering' pattern cannot be read ({exc}), e.g. {example}"
    unknown = sorted({n for n in names if n not in FIELDS})
    if unknown:
        return f"'numbering' uses unknown field(s) {', '.join(unknown)}; allowed: {', '.join(FIELDS)}"
    try:
        pattern.format(**_values(1, datetime(2025, 1, 1)))
    except (ValueError, KeyError, IndexError, AttributeError) as exc:
        return f"'numbering' pattern cannot be used ({exc}), e.g. {example}"
    if "seq" not in names:
        return f"'numbering' must contain {{seq}}, the running number, e.g. {example}"
    return ""


def pattern_regex(pattern: str) -> re.Pattern:
    """A regular expression that reads a number written with PATTERN back into its fields."""
    out = []
    seen: set[str] = set()
    for literal, name, spec, _conversion in string.Formatter().parse(pattern):
        out.append(re.escape(literal))
        if name is None:
            continue
        if name in seen:
            out.append(f"(?P={name})")
            continue
        seen.add(name)
        body = f"(?:{_ROMAN_RE})" if name == "month_roman" else r"\s*[0-9]+"  # a width spec may pad with spaces
        out.append(f"(?P<{name}>{body})")
    return re.compile("".join(out), re.IGNORECASE)


def parse_number(pattern: str, number: str) -> dict | None:
    """The fields of a number written with PATTERN (seq, year, ... as ints), or None if it does not fit."""
    match = pattern_regex(pattern).fullmatch(number.strip())
    if not match:
        return None
    fields = {}
    for name, value in match.groupdict().items():
        if name == "month_roman":
            fields["month"] = ROMAN.index(value.upper()) + 1
        else:
            fields[name] = int(value)
    return fields


def next_number(pattern: str, existing_numbers: Iterable[str], now: datetime) -> str:
    """The number for a new release written at NOW: one more than the highest of NOW's year.

    A pattern without {year} numbers straight on across the years. The result is
    never one of EXISTING_NUMBERS (compared without case), even if an office
    wrote numbers out of order.
    """
    problem = check_pattern(pattern)
    if problem:
        raise ValueError(problem)
    per_year = "year" in {name for _, name, _, _ in string.Formatter().parse(pattern)}
    existing = [n.strip() for n in existing_numbers if isinstance(n, str)]
    taken = {n.casefold() for n in existing}
    highest = 0
    for number in existing:
        fields = parse_number(pattern, number)
        if fields is None or (per_year and fields.get("year") != now.year):
            continue
        highest = max(highest, fields["seq"])
    seq = highest + 1
    candidate = pattern.format(**_values(seq, now))
    while candidate.casefold() in taken:  # a hand-written number may sit above the parsed maximum
        seq += 1
        candidate = pattern.format(**_values(seq, now))
    return candidate
