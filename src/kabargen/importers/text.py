"""Import releases from the plain-text form press offices already keep.

A plain-text release is a title line, credit lines ("Penulis & Fotografer : Nama (Jabatan)",
"Editor : Nama"), one paragraph per line, "Baca Juga : Judul" lines between paragraphs and
hashtag lines at the end. `parse_text_release` reads one such text without touching the disk;
`resolve_related` turns "Baca Juga" titles into slugs; `to_markdown_file` writes the result in
kabargen's content format; `import_text` does all of it for files and folders.

Every decision is recorded as a (line, message) note so that the person importing knows what
was taken from where, and every guess a human should check is a warning.
"""

from __future__ import annotations

import difflib
import os
import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date as Date, datetime, time, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Mapping, Sequence
from zoneinfo import ZoneInfo

import yaml

from .. import yamlload
from ..errors import Diagnostic, UsageError
from ..slugs import slugify

Note = tuple[int, str]

DEFAULT_TZ = ZoneInfo("Asia/Makassar")
DEFAULT_HOUR = 9  # releases that give a day but no time are dated 09:00, a morning publication
MAX_SLUG = 80  # a paragraph taken as a title must not make a file name longer than the disk allows
CREDIT_ORDER = ("penulis", "fotografer", "videografer")

# --- credit lines ---------------------------------------------------------------------------

# Label word -> what it credits. Longest spellings first so that "foto" does not eat "fotografer".
_ROLE_WORDS = {
    "photographer": "fotografer",
    "photografer": "fotografer",
    "fotografer": "fotografer",
    "videografer": "videografer",
    "redaktur": "editor",
    "reporter": "penulis",
    "penulis": "penulis",
    "editor": "editor",
    "photo": "fotografer",
    "foto": "fotografer",
}
_ROLE = "(?:" + "|".join(sorted(_ROLE_WORDS, key=len, reverse=True)) + r")\b"
_JOIN = r"\s*(?:&|\+|/|,|\bdan\b)\s*"
_CREDIT = re.compile(rf"^\s*(?P<label>{_ROLE}(?:{_JOIN}{_ROLE})*)\s*:\s*(?P<rest>.*?)\s*$", re.IGNORECASE)
_ROLE_FIND = re.compile(_ROLE, re.IGNORECASE)
# Separators between people, found only outside parentheses (a job title may hold "dan").
_PEOPLE_SEP = re.compile(r"\s*,\s*|\s+dan\s+|\s*&\s*", re.IGNORECASE)
# Academic degrees written after a name with a comma ("Nama, S.Sos., M.Si") belong to the name.
_DEGREE = re.compile(
    r"^(?:(?:[A-Z][A-Za-z]{0,4}\.)+[A-Za-z]{0,5}\.?|S\.?[A-Z][a-z]{0,3}|M\.?[A-Z][a-z]{0,3}|Ph\.?D|MBA|MPA|ST|SE|SH|MM|MT|MH|SP)$"
)
_NAME_PARTICLES = {"bin", "binti", "van", "der", "de", "al", "el", "la", "di"}
# A line shaped like "Label : value" that is not a credit line: reported so a human looks at it.
_LABEL_LIKE = re.compile(r"^\s*(?P<label>[A-Z][A-Za-z]*(?:\s*(?:&|/|\s)\s*[A-Z][A-Za-z]*){0,2})\s*:\s*\S")

# --- other recognised lines ------------------------------------------------------------------

_BACA_JUGA = re.compile(
    r"^\s*[*_\"“]*\s*baca\s+(?:juga|pula)\s*[*_\"”]*\s*(?::|–|—|-)\s*(?P<title>.*?)\s*$", re.IGNORECASE
)
_HASHTAG_LINE = re.compile(r"^\s*(?:#[^\s#]+\s*)+$")
_HASHTAG = re.compile(r"#([^\s#]+)")
_TRAILING_HASHTAGS = re.compile(r"(?:\s+(?:#[^\s#]+)+)+\s*$")
_TAG_PUNCT = ".,;:!?\"'”’)"

# --- dates -----------------------------------------------------------------------------------

_MONTHS = {
    "januari": 1, "jan": 1,
    "februari": 2, "pebruari": 2, "feb": 2, "peb": 2,
    "maret": 3, "mar": 3,
    "april": 4, "apr": 4,
    "mei": 5,
    "juni": 6, "jun": 6,
    "juli": 7, "jul": 7,
    "agustus": 8, "agu": 8, "agt": 8, "ags": 8, "agust": 8,
    "september": 9, "sep": 9, "sept": 9,
    "oktober": 10, "okt": 10,
    "november": 11, "nopember": 11, "nov": 11, "nop": 11,
    "desember": 12, "des": 12,
}
_WEEKDAYS = ("senin", "selasa", "rabu", "kamis", "jumat", "sabtu", "minggu")
_WEEKDAY = r"(?:Senin|Selasa|Rabu|Kamis|Jum['’]?at|Sabtu|Minggu|Ahad)"
_MONTH = "(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\b"
_DATE_LONG = re.compile(
    rf"(?:\b(?P<wd>{_WEEKDAY})\s*,?\s*)?\b(?P<d>\d{{1,2}})\s+(?P<m>{_MONTH})\.?\s+(?P<y>\d{{4}})\b", re.IGNORECASE
)
_DATE_NUM = re.compile(
    rf"(?:\b(?P<wd>{_WEEKDAY})\s*,?\s*)?(?:\((?P<pd>\d{{1,2}})/(?P<pm>\d{{1,2}})/(?P<py>\d{{4}}|\d{{2}})\)"
    r"|(?<![\w/.])(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4})(?![\w/]))",
    re.IGNORECASE,
)
_TIME = re.compile(r"\b(?:pukul|pkl\.?|jam)\s*(?P<h>\d{1,2})[.:](?P<min>\d{2})(?:\s*(?P<zone>WIB|WITA|WIT)\b)?", re.IGNORECASE)
_ZONES = {"wib": 7, "wita": 8, "wit": 9}

# --- places ----------------------------------------------------------------------------------

_DASH = r"(?:\s*[–—]+\s*|\s+-+\s*|\s*-+\s+)"
_PLACE_WORDS = r"[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*){0,3}"
# "Tenggarong, 15 Mei 2025 –" or "Samarinda, Kamis (15/5/2025) –" at the start of the first paragraph.
_DATELINE_WITH_DATE = re.compile(rf"^(?P<place>{_PLACE_WORDS})\s*,\s*(?P<date>[^–—]{{4,40}}?)(?:{_DASH}|\s*$)")
# "SAMARINDA –" or "SAMARINDA (Diskominfo) –" or "Tenggarong – ...".
_DATELINE_CAPS = re.compile(rf"^(?P<place>[A-Z][A-Z'’.-]*(?:\s+[A-Z][A-Z'’.-]*){{0,3}})(?:\s*\([^)]{{1,40}}\))?{_DASH}(?=\S)")
# "Tenggarong – ...": a mixed-case place needs a real dash (en or em) to count.
_DATELINE_WORDS = re.compile(r"^(?P<place>[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*)?)(?:\s*\([^)]{1,40}\))?\s*[–—]+\s*(?=\S)")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’]?\s+(?=[A-Z“\"])")
_DI = re.compile(r"(?<![\w-])di\s+")
# First words of a venue rather than a town: such parts are not the dateline.
_VENUE_WORDS = {
    "hotel", "gedung", "ruang", "ruangan", "aula", "kantor", "balai", "pendopo", "pendapa", "lapangan",
    "jalan", "jl", "jl.", "kawasan", "gelanggang", "stadion", "masjid", "taman", "rumah", "halaman",
    "gor", "auditorium", "kampus", "universitas", "sekolah", "sma", "smp", "sd", "smk", "convention",
    "hall", "lamin", "komplek", "kompleks", "pelabuhan", "bandara", "bandar", "pasar", "plaza", "mall",
    "lobi", "lobby", "studio", "posko", "puskesmas", "gereja", "pura", "vihara", "lantai", "markas",
    "dermaga", "terminal", "graha", "wisma", "pondok", "sanggar",
}

# --- Markdown escaping -----------------------------------------------------------------------

_INLINE_ESCAPE = re.compile(r"[\\`*\[\]{}]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_HTML_START = re.compile(r"<(?=[A-Za-z/!?])")
_ENTITY = re.compile(r"&(?=#?\w+;)")
_LIST_START = re.compile(r"^([-+])(?=\s|$)")
_OLIST_START = re.compile(r"^(\d+)\.(?=\s|$)")
_RULE = re.compile(r"^-(?:\s*-){2,}\s*$")


@dataclass(frozen=True)
class ImportedRelease:
    """One release read from plain text, with notes on where each part came from."""

    name: str
    title: str
    date: datetime | None
    location: str | None
    byline: tuple[dict, ...]
    editor: tuple[dict, ...]
    tags: tuple[str, ...]
    related_titles: tuple[tuple[str, int], ...]
    body_markdown: str
    report: tuple[Note, ...]
    warnings: tuple[Note, ...] = ()
    related: tuple[str, ...] = ()  # slugs, filled in by resolve_related
    paragraphs: tuple[tuple[int, str], ...] = field(default=(), repr=False)  # (source line, Markdown)


@dataclass(frozen=True)
class ImportReportEntry:
    """What importing one file did: where it went, what was taken, what needs a human look."""

    source: Path
    written: Path | None
    slug: str | None = None
    notes: tuple[Note, ...] = ()
    warnings: tuple[Note, ...] = ()
    errors: tuple[Note, ...] = ()

    @property
    def ok(self) -> bool:
        return self.written is not None and not self.errors

    def diagnostics(self) -> list[Diagnostic]:
        """The entry as diagnostics (`path:line: severity: message`), path relative to the current folder."""
        path = _display(self.source)
        out = [Diagnostic(path, line, "error", msg) for line, msg in self.errors]
        out += [Diagnostic(path, line, "warning", msg) for line, msg in self.warnings]
        out += [Diagnostic(path, line, "note", msg) for line, msg in self.notes]
        return sorted(out, key=lambda d: (d.line, {"error": 0, "warning": 1}.get(d.severity, 2), d.message))


class TitleIndex(dict):
    """Normalized title -> slug of the releases already in a site, plus what the scan noticed.

    `slugs` holds every slug in use (casefolded, also of unreadable files, by file name);
    `publish` the publish moment of each slug when it could be read; `drafts` normalized
    titles of drafts (a link to a draft would break the build); `notes` (path, line, message)
    for files that could not be read.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.slugs: set[str] = set()
        self.publish: dict[str, datetime] = {}
        self.drafts: dict[str, str] = {}
        self.notes: list[tuple[Path, int, str]] = []


# --- titles, slugs, escaping ----------------------------------------------------------------------------


def normalize_title(text: str) -> str:
    """Fold a title for matching: lowercase, no accents, no punctuation, single spaces."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"['’‘`]", "", text.casefold())  # "Jum'at" matches "Jumat"
    text = re.sub(r"[\W_]+", " ", text)
    return " ".join(text.split())


def release_slug(title: str) -> str:
    """The slug a release gets from its title: slugify, cut at a word under MAX_SLUG characters."""
    slug = slugify(title)
    if len(slug) > MAX_SLUG:
        cut = slug[: MAX_SLUG + 1]
        slug = cut[: cut.rfind("-")] if "-" in cut else slug[:MAX_SLUG]
    return slug.strip("-") or "rilis"


def escape_markdown(text: str) -> str:
    """Escape one plain-text paragraph so Markdown shows it as written (no lists, headings, HTML)."""
    text = text.strip()
    text = _ENTITY.sub("&amp;", text)
    text = _HTML_START.sub("&lt;", text)
    text = _INLINE_ESCAPE.sub(lambda m: "\\" + m.group(0), text)
    if _RULE.match(text):
        return "\\" + text
    if text.startswith(("#", ">")):
        return "\\" + text
    if text.startswith("~~~"):
        return "&#" + str(ord(text[0])) + ";" + text[1:]
    text = _LIST_START.sub(r"\\\1", text)
    text = _OLIST_START.sub(r"\1\\.", text)
    return text


def _display(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)


def _clean(text: str) -> str:
    return " ".join(text.split())


def _title_case(place: str) -> str:
    """"SAMARINDA" -> "Samarinda"; mixed-case places are kept as written."""
    if place.upper() != place:
        return place
    return " ".join(w[:1].upper() + w[1:].lower() for w in place.split())


# --- credit lines ----------------------------------------------------------------------------


def _split_people(rest: str) -> list[str]:
    """Split "A (x, y), B dan C" at separators outside parentheses; degrees stay with their name."""
    masked, depth = [], 0
    for ch in rest:
        if ch in "([":
            depth += 1
        elif ch in ")]" and depth:
            depth -= 1
            masked.append(ch)
            continue
        masked.append("\0" if depth else ch)
    masked_text = "".join(masked)
    pieces, start = [], 0
    for m in _PEOPLE_SEP.finditer(masked_text):
        pieces.append((rest[start : m.start()], m.group(0)))
        start = m.end()
    pieces.append((rest[start:], ""))
    people: list[str] = []
    for text, _sep in pieces:
        text = text.strip()
        if people and _DEGREE.match(re.sub(r"\s*\(.*$", "", text).rstrip(",")):
            people[-1] = f"{people[-1]}, {text}"
        else:
            people.append(text)
    return [p for p in people if p]


def _person(piece: str) -> tuple[str, str | None] | None:
    """"Nama Orang (Jabatan)" -> (name, role); None when it does not look like a name."""
    m = re.match(r"^(?P<name>[^()]*?)\s*(?:\((?P<role>[^()]*)\))?\s*[.;]?$", piece)
    if m:
        name, role = _clean(m.group("name")), _clean(m.group("role") or "") or None
    elif "(" in piece:  # "Nama (Jabatan) lain" or an unclosed "(": the words before "(" are the name
        before, after = piece.split("(", 1)
        name, role = _clean(before), _clean(after.replace(")", " ").rstrip(".; ")) or None
    else:
        return None
    if not name or len(name) > 80 or len(name.split()) > 10 or re.search(r"[:|;]", name):
        return None
    # Names are capitalised; a caption ("Foto: Suasana rapat ...") is not a name.
    for word in name.split():
        if not (word[:1].isupper() or word[:1].isdigit() or "." in word or word.lower() in _NAME_PARTICLES):
            return None
    return name, role


def _parse_credit(line: str) -> tuple[list[str], list[tuple[str, str | None]]] | None:
    """A credit line -> (credits, people); None when the line is not one."""
    m = _CREDIT.match(line)
    if not m or not m.group("rest"):
        return None
    credits = []
    for word in _ROLE_FIND.findall(m.group("label")):
        credit = _ROLE_WORDS[word.lower()]
        if credit not in credits:
            credits.append(credit)
    people = []
    for piece in _split_people(m.group("rest")):
        person = _person(piece)
        if person is None:
            return None
        people.append(person)
    if not people:
        return None
    return credits, people


def _credit_lines(line: str) -> list[tuple[list[str], list[tuple[str, str | None]]]] | None:
    """One line may hold several credits separated by "|" or ";" ("Penulis: A | Foto: B")."""
    whole = _parse_credit(line)
    if whole is not None and not re.search(r"[|;]", line):
        return [whole]
    parts = [p for p in re.split(r"\s*[|;]\s*", line) if p.strip()]
    parsed = [_parse_credit(p) for p in parts]
    if parsed and all(p is not None for p in parsed):
        return parsed  # type: ignore[return-value]
    return [whole] if whole is not None else None


# --- dates and places ------------------------------------------------------------------------


@dataclass
class _DateHit:
    line: int
    start: int
    end: int
    day: Date
    weekday: str | None
    text: str


def _date_hits(lineno: int, text: str, notes: list[Note]) -> list[_DateHit]:
    """Every date written in a line, in reading order; impossible dates are reported and skipped."""
    hits = []
    for m in _DATE_LONG.finditer(text):
        hits.append((m.start(), m.end(), m.group("d"), str(_MONTHS[m.group("m").lower()]), m.group("y"), m.group("wd"), m.group(0)))
    for m in _DATE_NUM.finditer(text):
        d, mo, y = (m.group("pd"), m.group("pm"), m.group("py")) if m.group("pd") else (m.group("d"), m.group("m"), m.group("y"))
        if len(y) == 2:
            y = "20" + y
        hits.append((m.start(), m.end(), d, mo, y, m.group("wd"), m.group(0)))
    result = []
    for start, end, d, mo, y, wd, written in sorted(hits):
        try:
            day = Date(int(y), int(mo), int(d))
        except ValueError:
            notes.append((lineno, f"'{written.strip()}' is not a real date: ignored"))
            continue
        result.append(_DateHit(lineno, start, end, day, wd, written.strip()))
    return result


def _sentence(text: str, start: int, end: int) -> tuple[str, int]:
    """The sentence of TEXT that holds [start, end), and its offset in TEXT."""
    bounds = [0] + [m.end() for m in _SENTENCE_END.finditer(text)] + [len(text)]
    for a, b in zip(bounds, bounds[1:]):
        if a <= start < b:
            # A sentence break inside the match (an abbreviation) must not cut it.
            while b < end and b < len(text):
                b = next((x for x in bounds if x > b), len(text))
            return text[a:b], a
    return text, 0


def _capitalised_prefix(part: str) -> tuple[str, bool]:
    """The leading capitalised words of a part, and whether the whole part was such words."""
    words = part.split()
    taken = []
    for w in words:
        if not (w[:1].isupper() or w[:1].isdigit()):
            break
        taken.append(w)
    return " ".join(taken).rstrip(".;:"), len(taken) == len(words)


def _place_after_di(sentence: str, date_start: int, date_end: int) -> tuple[str | None, str | None]:
    """The town named after "di" in a sentence: (location, the phrase it came from)."""
    matches = list(_DI.finditer(sentence))
    after = [m for m in matches if m.start() >= date_end]
    before = [m for m in matches if m.end() <= date_start]
    chosen = after[0] if after else (before[-1] if before else None)
    if chosen is None:
        return None, None
    phrase = sentence[chosen.end() :]
    if chosen in before:
        phrase = sentence[chosen.end() : date_start]
    parts: list[str] = []
    for raw in phrase.split(","):
        prefix, whole = _capitalised_prefix(raw.strip())
        if not prefix:
            break
        parts.append(prefix)
        if not whole:
            break
    if not parts:
        return None, None
    shown = ", ".join(parts)
    towns = [p for p in parts if p.split()[0].lower().rstrip(".") not in _VENUE_WORDS]
    if not towns:
        return None, shown
    return ", ".join(towns[-2:]), shown


def _time_in(sentence: str) -> tuple[int, int, str | None, str] | None:
    m = _TIME.search(sentence)
    if not m:
        return None
    hour, minute = int(m.group("h")), int(m.group("min"))
    if hour > 23 or minute > 59:
        return None
    return hour, minute, (m.group("zone") or "").lower() or None, m.group(0)


def _moment(day: Date, clock: tuple[int, int, str | None, str] | None, tz: tzinfo) -> datetime:
    if clock is None:
        return datetime.combine(day, time(DEFAULT_HOUR, 0), tzinfo=tz)
    hour, minute, zone, _text = clock
    if zone:
        written = datetime.combine(day, time(hour, minute), tzinfo=timezone(timedelta(hours=_ZONES[zone])))
        return written.astimezone(tz)
    return datetime.combine(day, time(hour, minute), tzinfo=tz)


def _check_weekday(hit: _DateHit, warnings: list[Note]) -> None:
    if not hit.weekday:
        return
    said = re.sub(r"['’]", "", hit.weekday.lower()).replace("ahad", "minggu")
    actual = _WEEKDAYS[hit.day.weekday()]
    if said != actual:
        warnings.append((hit.line, f"'{hit.text}' says {hit.weekday.capitalize()} but that day is a {actual.capitalize()}: check the date"))


# --- the parser ------------------------------------------------------------------------------


def parse_text_release(
    text: str,
    name: str,
    default_date: datetime | None,
    tz: tzinfo | None = None,
    *,
    title: str | None = None,
) -> ImportedRelease:
    """Read one plain-text release; NAME is used in messages only. Never raises for bad text.

    `default_date` is used when the text gives no date; `tz` is the zone of dates written in
    the text without one (the site's time zone); `title` replaces the title line.
    """
    tz = tz or DEFAULT_TZ
    notes: list[Note] = []
    warnings: list[Note] = []
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")

    # Pass 1: what each line is.
    kinds: list[tuple[str, object]] = []
    for raw in lines:
        stripped = raw.strip()
        if not stripped:
            kinds.append(("blank", None))
        elif (bj := _BACA_JUGA.match(stripped)) is not None:
            kinds.append(("baca", bj.group("title")))
        elif (credit := _credit_lines(stripped)) is not None:
            kinds.append(("credit", credit))
        elif _HASHTAG_LINE.match(stripped):
            kinds.append(("hashtags", _HASHTAG.findall(stripped)))
        else:
            kinds.append(("text", stripped))
    text_lines = [i for i, (kind, _v) in enumerate(kinds) if kind == "text"]
    first_text = text_lines[0] if text_lines else len(lines)
    last_text = text_lines[-1] if text_lines else -1

    byline: dict[str, dict] = {}
    editors: dict[str, dict] = {}
    tags: dict[str, str] = {}
    related_titles: list[tuple[str, int]] = []
    paragraphs: list[tuple[int, str]] = []  # (line, plain text)
    found_title: tuple[int, str] | None = None

    def add_tags(lineno: int, words: list[str]) -> None:
        added = []
        for word in words:
            word = word.strip(_TAG_PUNCT)
            if word and word.casefold() not in tags:
                tags[word.casefold()] = word
                added.append(word)
        if added:
            notes.append((lineno, "tags: " + ", ".join(added)))

    for index, (kind, value) in enumerate(kinds):
        lineno = index + 1
        if kind == "blank":
            continue
        if kind == "baca":
            shown = str(value).strip("*_\"“”'‘’ ")
            if shown:
                related_titles.append((shown, lineno))
                notes.append((lineno, f"Baca Juga: '{shown}'"))
            else:
                warnings.append((lineno, "a 'Baca Juga' line without a title: left out"))
            continue
        if kind == "credit":
            for credits, people in value:  # type: ignore[misc]
                byline_credits = [c for c in credits if c != "editor"]
                for person_name, role in people:
                    key = person_name.casefold()
                    if byline_credits:
                        entry = byline.setdefault(key, {"name": person_name, "role": role, "credit": []})
                        entry["role"] = entry["role"] or role
                        entry["credit"] = [c for c in CREDIT_ORDER if c in entry["credit"] or c in byline_credits]
                        notes.append((lineno, f"byline: {person_name}" + (f" ({role})" if role else "") + f" as {', '.join(byline_credits)}"))
                    if "editor" in credits:
                        entry = editors.setdefault(key, {"name": person_name, "role": role})
                        entry["role"] = entry["role"] or role
                        notes.append((lineno, f"editor: {person_name}" + (f" ({role})" if role else "")))
            continue
        if kind == "hashtags":
            if index < first_text or index > last_text:
                add_tags(lineno, list(value))  # type: ignore[arg-type]
            else:
                paragraphs.append((lineno, lines[index].strip()))
                warnings.append((lineno, "a hashtag line between paragraphs: kept in the body; move it to 'tags' if it is one"))
            continue
        stripped = str(value)
        if found_title is None and title is None:
            first_line = _clean(stripped.strip("*_"))
            if _looks_like_paragraph(first_line):
                found_title = (lineno, _first_sentence(first_line))
                paragraphs.append((lineno, stripped))
                warnings.append((lineno, f"the first line ({len(first_line)} characters) looks like a paragraph, not a title: it was kept as the first paragraph and its first sentence taken as the title; write a real title (or pass --title)"))
            else:
                found_title = (lineno, first_line)
            notes.append((lineno, f"title: '{_short(found_title[1])}'"))
            continue
        label = _LABEL_LIKE.match(stripped)
        if _CREDIT.match(stripped):
            warnings.append((lineno, "looks like a credit line but the names could not be read: kept as a paragraph"))
        elif label and len(stripped) <= 120:
            warnings.append((lineno, f"'{label.group('label').strip()} :' is not a line kabargen recognises: kept as a paragraph"))
        paragraphs.append((lineno, stripped))

    # Hashtags glued to the end of the last paragraph ("... ujarnya. #a #b").
    if paragraphs:
        lineno, last = paragraphs[-1]
        glued = _TRAILING_HASHTAGS.search(last)
        if glued and glued.start() > 0 and (found_title is None or lineno != found_title[0]):
            paragraphs[-1] = (lineno, last[: glued.start()].rstrip())
            add_tags(lineno, _HASHTAG.findall(glued.group(0)))

    the_title = _clean(title) if title is not None else (found_title[1] if found_title else "")
    if title is not None:
        notes.append((0, "title from --title"))
    elif found_title is None:
        warnings.append((0, "no title line found: pass --title"))

    # Dateline, date and place.
    location, date = None, None
    body_start = 0 if paragraphs else None
    hits: list[_DateHit] = []
    if body_start is not None:
        lineno, first = paragraphs[body_start]
        dateline = _dateline(lineno, first, notes)
        if dateline is not None:
            place, hit, rest = dateline
            location = place
            shown = first[: len(first) - len(rest)].strip()
            notes.append((lineno, f"location '{place}' from the dateline '{shown}'" + (", which was taken out of the paragraph" if rest != first else "")))
            if rest:
                paragraphs[body_start] = (lineno, rest[:1].upper() + rest[1:])
            else:
                del paragraphs[body_start]
            if hit is not None:
                hits.append(hit)
    for lineno, para in paragraphs:
        hits.extend(_date_hits(lineno, para, notes))
    if not hits and found_title is not None:
        hits = _date_hits(found_title[0], found_title[1], notes)

    if hits:
        hit = hits[0]
        _check_weekday(hit, warnings)
        source_line = next((p for ln, p in paragraphs if ln == hit.line), None)
        if hit.start >= 0 and source_line:
            sentence, offset = _sentence(source_line, hit.start, hit.end)
            clock = _time_in(sentence)
        else:  # a dateline's date: the time, if any, is in the paragraph's first sentence
            sentence, offset = "", 0
            lead = next((p for ln, p in paragraphs if ln == hit.line), "")
            clock = _time_in(_SENTENCE_END.split(lead, maxsplit=1)[0]) if lead else None
        date = _moment(hit.day, clock, tz)
        if clock is None:
            notes.append((hit.line, f"date {hit.day.isoformat()} from '{hit.text}'; no time given: {DEFAULT_HOUR:02d}:00 assumed"))
        else:
            notes.append((hit.line, f"date {date.strftime('%Y-%m-%d %H:%M')} from '{hit.text}' and '{clock[3]}'"))
        others = sorted({h.day.isoformat() for h in hits[1:] if h.day != hit.day})
        if others:
            notes.append((hit.line, f"the text also names {', '.join(others)}: the first date was taken"))
        if location is None and sentence:
            place, phrase = _place_after_di(sentence, hit.start - offset, hit.end - offset)
            if place:
                location = place
                notes.append((hit.line, f"location '{place}' from 'di {phrase}'"))
            elif phrase:
                notes.append((hit.line, f"'di {phrase}' names a venue, not a town: no location taken"))
    elif default_date is not None:
        date = default_date if default_date.tzinfo else default_date.replace(tzinfo=tz)
        date = date.astimezone(tz)
        notes.append((0, f"no date in the text: {date.strftime('%Y-%m-%d %H:%M')} from --date"))
    else:
        warnings.append((0, "no date found: pass --date"))
    if location is None:
        notes.append((0, "no place found: no location"))

    if not byline:
        warnings.append((0, "no credit line (Penulis : ...): no byline"))
    if not paragraphs:
        warnings.append((0, "no body text"))

    rendered = tuple((ln, escape_markdown(p)) for ln, p in paragraphs if p.strip())
    return ImportedRelease(
        name=name,
        title=the_title,
        date=date,
        location=location,
        byline=tuple(byline.values()),
        editor=tuple(editors.values()),
        tags=tuple(tags.values()),
        related_titles=tuple(related_titles),
        body_markdown=_join(rendered),
        report=tuple(sorted(notes, key=lambda n: n[0])),
        warnings=tuple(sorted(warnings, key=lambda n: n[0])),
        paragraphs=rendered,
    )


def _looks_like_paragraph(title: str) -> bool:
    """A first line that is really the first paragraph (some offices write no title line)."""
    return len(title) > 150 or _SENTENCE_END.search(title.rstrip(".")) is not None


def _first_sentence(text: str) -> str:
    """A title made from a paragraph: its first sentence, cut at a word if still long."""
    sentence = _SENTENCE_END.split(text, maxsplit=1)[0].rstrip(" .")
    if len(sentence) > 150:
        sentence = sentence[:150].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"
    return sentence


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + "…"


def _dateline(lineno: int, para: str, notes: list[Note]) -> tuple[str, _DateHit | None, str] | None:
    """(place, date, rest of the paragraph) when the paragraph opens with a dateline."""
    m = _DATELINE_WITH_DATE.match(para)
    if m:
        hits = _date_hits(lineno, m.group("date"), notes)
        if hits and hits[0].start == 0 and not m.group("date")[hits[0].end :].strip(" ,"):
            hit = hits[0]
            hit.start, hit.end = -1, -1  # not inside the remaining text
            return _title_case(m.group("place")), hit, para[m.end() :].strip()
    m = _DATELINE_CAPS.match(para) or _DATELINE_WORDS.match(para)
    if m and m.group("place").split()[0].lower().rstrip(".") not in _VENUE_WORDS:
        return _title_case(m.group("place")), None, para[m.end() :].strip()
    return None


def _join(paragraphs: Sequence[tuple[int, str]]) -> str:
    return "\n\n".join(text for _line, text in sorted(paragraphs, key=lambda p: p[0])) + "\n" if paragraphs else ""


# --- related titles --------------------------------------------------------------------------


def resolve_related(
    imported: Sequence[ImportedRelease],
    existing: Mapping[str, str],
    slugs: Sequence[str] | None = None,
) -> list[ImportedRelease]:
    """Turn each release's "Baca Juga" titles into slugs of the site's or this run's releases.

    EXISTING maps normalized titles to slugs (see `existing_titles`); SLUGS are the slugs the
    imported releases will be written under (default: from their titles). A title that matches
    nothing, a draft, or a release published later (the build would reject that link) stays in
    the body as a plain "Baca Juga: Title" paragraph, with a warning.
    """
    slugs = list(slugs) if slugs is not None else [release_slug(r.title) for r in imported]
    if len(slugs) != len(imported):
        raise ValueError("one slug per imported release")
    run: dict[str, tuple[str, datetime | None]] = {}
    for rel, slug in zip(imported, slugs):
        run.setdefault(normalize_title(rel.title), (slug, rel.date))
    publish: Mapping[str, datetime] = getattr(existing, "publish", {})
    drafts: Mapping[str, str] = getattr(existing, "drafts", {})
    known = sorted(set(existing) | set(run))

    result = []
    for rel, own_slug in zip(imported, slugs):
        related: list[str] = []
        # The parser's "Baca Juga: 'T'" notes are replaced by what became of each title.
        asked = {(line, f"Baca Juga: '{title}'") for title, line in rel.related_titles}
        notes = [n for n in rel.report if n not in asked]
        warnings = list(rel.warnings)
        paragraphs = list(rel.paragraphs)
        for title, line in rel.related_titles:
            key = normalize_title(title)
            target, when, where = None, None, ""
            if key in existing:
                target, when, where = existing[key], publish.get(existing[key].casefold()), "in the site"
            elif key in run:
                (target, when), where = run[key], "imported in this run"
            problem = ""
            if target is None:
                close = difflib.get_close_matches(key, known, n=1, cutoff=0.8)
                problem = "matches no release in the site or in this import" + (" (a similar title exists: check the spelling)" if close else "")
                if key in drafts:
                    problem = f"matches the draft '{drafts[key]}': a published release cannot link to it"
            elif target.casefold() == own_slug.casefold():
                problem = "is this release itself"
            elif when is not None and rel.date is not None and when > rel.date:
                problem = f"matches '{target}', which is published after this release: the build would reject the link"
            if problem:
                paragraphs.append((line, escape_markdown(f"Baca Juga: {title}")))
                warnings.append((line, f"Baca Juga '{title}' {problem}: kept as a note in the body"))
                continue
            if target not in related:
                related.append(target)
            notes.append((line, f"Baca Juga '{title}' -> {target} ({where})"))
        result.append(
            replace(
                rel,
                related=tuple(related),
                report=tuple(sorted(notes, key=lambda n: n[0])),
                warnings=tuple(sorted(warnings, key=lambda n: n[0])),
                paragraphs=tuple(sorted(paragraphs, key=lambda p: p[0])),
                body_markdown=_join(paragraphs),
            )
        )
    return result


# --- writing ---------------------------------------------------------------------------------


def to_markdown_file(rel: ImportedRelease, slug: str) -> str:
    """The release as a kabargen Markdown file: YAML front matter, then the body.

    SLUG is the slug the file is saved under; a related entry pointing at it is left out.
    """
    meta: dict = {"title": rel.title}
    if rel.date is not None:
        meta["date"] = rel.date.strftime("%Y-%m-%d %H:%M")
    if rel.location:
        meta["location"] = rel.location
    meta["byline"] = [_person_out(p, with_credit=True) for p in rel.byline]
    editors = [_person_out(p, with_credit=False) for p in rel.editor]
    if len(editors) == 1:
        meta["editor"] = editors[0]
    elif editors:
        meta["editor"] = editors
    if rel.tags:
        meta["tags"] = list(rel.tags)
    related = [s for s in rel.related if s.casefold() != slug.casefold()]
    if related:
        meta["related"] = related
    front = yaml.dump(meta, Dumper=_FrontMatterDumper, allow_unicode=True, sort_keys=False, width=1000)
    return f"---\n{front}---\n{rel.body_markdown}"


class _FrontMatterDumper(yaml.SafeDumper):
    """Safe YAML, lists of words on one line (`credit: [penulis, fotografer]`), mappings in blocks."""

    def represent_list(self, data):
        flow = all(isinstance(item, str) for item in data)
        return self.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_FrontMatterDumper.add_representer(list, _FrontMatterDumper.represent_list)


def _person_out(person: dict, with_credit: bool) -> dict:
    out = {"name": str(person["name"])}
    if person.get("role"):
        out["role"] = str(person["role"])
    if with_credit:
        out["credit"] = [str(c) for c in person.get("credit") or ["penulis"]]
    return out


# --- the site's existing releases ------------------------------------------------------------


def existing_titles(content_root: Path, tz: tzinfo | None = None) -> TitleIndex:
    """Titles of the Markdown files under CONTENT_ROOT, normalized, mapped to their slugs.

    Files that cannot be read are skipped with a note (their file name still counts as a slug
    in use); drafts are kept apart because a published release may not link to them.
    """
    tz = tz or DEFAULT_TZ
    index = TitleIndex()
    if not content_root.is_dir():
        return index
    for path in sorted(content_root.rglob("*.md")):
        rel_parts = path.relative_to(content_root).parts
        if any(part.startswith(".") for part in rel_parts) or path.name.endswith("~"):
            continue
        index.slugs.add(path.stem.casefold())
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            index.notes.append((path, 0, f"not read ({exc.__class__.__name__}): its title is not matched"))
            continue
        meta, problem = _front_matter(text)
        if problem:
            index.notes.append((path, problem[0], f"{problem[1]}: its title is not matched"))
            continue
        title = meta.get("title")
        if not isinstance(title, str) or not title.strip():
            index.notes.append((path, 1, "no title: not matched"))
            continue
        slug = meta.get("slug") if isinstance(meta.get("slug"), str) and meta.get("slug").strip() else path.stem
        slug = slug.strip()
        index.slugs.add(slug.casefold())
        key = normalize_title(title)
        if str(meta.get("draft", "")).strip().lower() in {"true", "yes", "on"}:
            index.drafts.setdefault(key, slug)
            continue
        moments = [m for m in (_when(meta.get("date"), tz), _when(meta.get("embargo"), tz)) if m]
        if moments:
            index.publish[slug.casefold()] = max(moments)
        if key in index:
            index.notes.append((path, 1, f"same title as '{index[key]}': a Baca Juga with this title points at '{index[key]}'"))
            continue
        index[key] = slug
    return index


def _front_matter(text: str) -> tuple[dict, tuple[int, str] | None]:
    lines = text.replace("\r\n", "\n").split("\n")
    if not lines or lines[0].strip() != "---":
        return {}, (1, "no front matter")
    for end in range(1, len(lines)):
        if lines[end].strip() in {"---", "..."}:
            break
    else:
        return {}, (1, "front matter is not closed with ---")
    try:
        data, _lines = yamlload.load("\n".join(lines[1:end]), first_line=2)
    except yamlload.YamlProblem as exc:
        return {}, (exc.line, exc.message)
    if not isinstance(data, dict):
        return {}, (2, "front matter is not a mapping")
    return data, None


def _when(value, tz: tzinfo) -> datetime | None:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, Date):
        moment = datetime.combine(value, time())
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    else:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


# --- files -----------------------------------------------------------------------------------


def import_text(
    paths: Sequence[Path],
    into: Path,
    content_root: Path,
    default_date: datetime | None = None,
    tz: tzinfo | None = None,
    existing_titles: Mapping[str, str] | None = None,
    *,
    title: str | None = None,
    default_byline: Sequence[dict] | None = None,
) -> list[ImportReportEntry]:
    """Import plain-text files (a folder means its *.txt files) into INTO/YYYY/MM/slug.md.

    INTO must be inside CONTENT_ROOT, whose releases "Baca Juga" titles are matched against
    (EXISTING_TITLES, scanned when not given). Never overwrites: a taken slug gets -2, -3, ...
    A file without a date, title or byline (and no DEFAULT_BYLINE) is not written: its entry
    has an error. Returns one entry per file, in the order read.
    """
    tz = tz or DEFAULT_TZ
    try:
        into.resolve().relative_to(content_root.resolve())
    except ValueError:
        raise UsageError(f"--into {_display(into)} is not inside the content folder {_display(content_root)}") from None
    index = existing_titles if existing_titles is not None else _scan_titles(content_root, tz)

    files: list[Path] = []
    problems: list[tuple[Path, str]] = []
    seen: set[Path] = set()
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.glob("*.txt") if p.is_file())
            if not found:
                problems.append((path, "no *.txt files in this folder"))
            candidates = found
        elif path.is_file():
            candidates = [path]
        else:
            problems.append((path, "no such file or folder"))
            candidates = []
        for candidate in candidates:
            key = candidate.resolve()
            if key not in seen:
                seen.add(key)
                files.append(candidate)
    if title is not None and len(files) > 1:
        raise UsageError("--title can only be given when importing one file")

    parsed: list[tuple[Path, ImportedRelease]] = []
    failed: list[ImportReportEntry] = []
    for path in files:
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raw = path.read_bytes()
            line = raw[: exc.start].count(b"\n") + 1
            failed.append(ImportReportEntry(path, None, errors=((line, "not UTF-8 text: save the file as UTF-8 and import it again"),)))
            continue
        except OSError as exc:
            failed.append(ImportReportEntry(path, None, errors=((0, f"cannot be read: {exc.strerror or exc}"),)))
            continue
        rel = parse_text_release(text, _display(path), default_date, tz, title=title)
        if not rel.byline and default_byline:
            people = tuple({"name": p["name"], "role": p.get("role"), "credit": list(p.get("credit") or ["penulis"])} for p in default_byline)
            rel = replace(rel, byline=people, warnings=tuple(w for w in rel.warnings if "no byline" not in w[1]), report=rel.report + ((0, "byline from the site's defaults"),))
        errors = []
        if not rel.title:
            errors.append((0, "no title: pass --title"))
        if rel.date is None:
            errors.append((0, "no date found: pass --date"))
        if not rel.byline:
            errors.append((0, "no credit line (Penulis : Nama): add one to the text"))
        if errors:
            failed.append(
                ImportReportEntry(
                    path, None, None, rel.report,
                    tuple(w for w in rel.warnings if not w[1].startswith(("no date found", "no credit line", "no title line"))),
                    tuple(errors),
                )
            )
            continue
        parsed.append((path, rel))

    # Slugs unique in the whole site (compared without case), and files that do not exist yet.
    taken = set(getattr(index, "slugs", set())) | {s.casefold() for s in index.values()}
    if existing_titles is not None and not getattr(index, "slugs", None):
        taken |= {p.stem.casefold() for p in content_root.rglob("*.md")} if content_root.is_dir() else set()
    plan: list[tuple[Path, ImportedRelease, str, Path, list[Note]]] = []
    for path, rel in parsed:
        base = release_slug(rel.title)
        extra: list[Note] = []
        if base != slugify(rel.title):
            extra.append((0, f"slug shortened to '{base}'"))
        folder = into / f"{rel.date.year:04d}" / f"{rel.date.month:02d}"  # type: ignore[union-attr]
        slug, n = base, 1
        while slug.casefold() in taken or (folder / f"{slug}.md").exists():
            n += 1
            slug = f"{base}-{n}"
        if slug != base:
            extra.append((0, f"slug '{base}' is taken: written as '{slug}'"))
        taken.add(slug.casefold())
        plan.append((path, rel, slug, folder / f"{slug}.md", extra))

    resolved = resolve_related([p[1] for p in plan], index, [p[2] for p in plan])
    written: list[ImportReportEntry] = []
    for (path, _rel, slug, target, extra), rel in zip(plan, resolved):
        target.parent.mkdir(parents=True, exist_ok=True)
        # "x" refuses to replace a file that appeared since the check above.
        with open(target, "x", encoding="utf-8", newline="\n") as out:
            out.write(to_markdown_file(rel, slug))
        written.append(ImportReportEntry(path, target, slug, tuple(sorted(rel.report + tuple(extra), key=lambda n: n[0])), rel.warnings))

    by_source = {e.source: e for e in written + failed}
    ordered = [by_source[p] for p in files if p in by_source]
    return [ImportReportEntry(p, None, errors=((0, msg),)) for p, msg in problems] + ordered


_scan_titles = existing_titles  # import_text's parameter of the same name hides the function
