"""Embargoes still to lift: the build's closing line and `kabargen schedule`.

A static site only changes when it is rebuilt, so a scheduled CI job needs to know
when the next embargo lifts. Times are shown in the site's time zone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from babel.dates import format_datetime

from .config import Config
from .model import Site
from .render import ZONE_NAMES


@dataclass(frozen=True)
class Embargo:
    """A release whose embargo has not lifted yet."""

    slug: str
    title: str
    file: str  # source path, relative to the current folder
    url: str  # site path below the base path
    lifts_at: datetime  # in the site's time zone


def upcoming(config: Config, site: Site) -> list[Embargo]:
    """Every embargo that lifts after the build's `now`, soonest first (then by slug)."""
    entries = []
    for slug, title, moment, path, url in site.extra.get("embargoes", ()):
        if moment > site.now:
            entries.append(Embargo(slug, title, path, url, moment.astimezone(config.tz)))
    return sorted(entries, key=lambda e: (e.lifts_at, e.slug))


def zone_name(config: Config, moment: datetime) -> str:
    """WIB/WITA/WIT for Indonesia's zones, else the zone's short name."""
    return ZONE_NAMES.get(config.timezone) or format_datetime(moment, "zzz", tzinfo=config.tz, locale="en")


def readable(config: Config, moment: datetime) -> str:
    """A moment as people read it, in the site's zone: 'Tuesday 1 January 2030, 08:00 WITA'."""
    local = moment.astimezone(config.tz)
    text = format_datetime(local, "EEEE d MMMM y, HH:mm", tzinfo=config.tz, locale="en")
    return f"{text} {zone_name(config, local)}"


def duration(delta: timedelta) -> str:
    """A duration in its largest unit and the next one: '3 days 4 hours', '25 minutes'."""
    minutes = max(0, int(delta.total_seconds()) // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    units = [(days, "day"), (hours, "hour"), (minutes, "minute")]
    first = next((i for i, (n, _) in enumerate(units) if n), None)
    if first is None:
        return "less than a minute"
    shown = [units[first]] + [u for u in units[first + 1 : first + 2] if u[0]]
    return " ".join(f"{n} {unit}{'' if n == 1 else 's'}" for n, unit in shown)


def held_back_line(config: Config, site: Site) -> str:
    """The build's closing line about releases not published yet, or '' when there are none."""
    if site.drafts or not site.held_back:
        return ""
    embargoed = len(site.extra.get("embargoes", ()))
    drafts = len(site.held_back) - embargoed
    parts = []
    if drafts:
        parts.append(f"{drafts} draft{'' if drafts == 1 else 's'}")
    if embargoed:
        parts.append(f"{embargoed} under embargo")
    total = len(site.held_back)
    line = f"{total} release{'' if total == 1 else 's'} held back ({', '.join(parts)})"
    entries = upcoming(config, site)
    if entries:
        first = entries[0]
        line += (
            f"; the next embargo lifts {readable(config, first.lifts_at)} ({config.timezone}), "
            f"in {duration(first.lifts_at - site.now)}: {first.slug}"
        )
    return line


def schedule_text(config: Config, site: Site, entries: list[Embargo]) -> str:
    """The schedule as people read it: one block per embargo, soonest first."""
    now = f"{readable(config, site.now)} ({config.timezone})"
    if not entries:
        return f"No embargo to lift after {now}.\n"
    count = len(entries)
    lines = [f"{count} embargo{'' if count == 1 else 'es'} to lift after {now}:", ""]
    for e in entries:
        lines.append(f"{readable(config, e.lifts_at)}, in {duration(e.lifts_at - site.now)}  [{e.lifts_at.isoformat()}]")
        lines.append(f"  {e.slug}: {e.title}")
        lines.append(f"  {e.file}")
        lines.append("")
    return "\n".join(lines)


def _url(config: Config, path: str) -> str:
    base = config.base_url if config.absolute else config.base_path
    return base + path.lstrip("/")


def schedule_json(config: Config, site: Site, entries: list[Embargo]) -> str:
    """The schedule as one JSON object, for scripts (jq, Python) in scheduled CI jobs."""
    data = {
        "now": site.now.astimezone(config.tz).isoformat(),
        "timezone": config.timezone,
        "next": entries[0].lifts_at.isoformat() if entries else None,
        "embargoes": [
            {
                "slug": e.slug,
                "title": e.title,
                "file": e.file,
                "url": _url(config, e.url),
                "lifts_at": e.lifts_at.isoformat(),
                "lifts_at_utc": e.lifts_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "lifts_at_unix": int(e.lifts_at.timestamp()),
                "lifts_at_text": readable(config, e.lifts_at),
            }
            for e in entries
        ],
    }
    return json.dumps(data, ensure_ascii=False, indent=2)
