"""kabargen.yaml -> Config, with every bad key reported at once."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import yamlload
from .errors import ConfigError, Diagnostic, error, warning
from .numbering import check_pattern as check_numbering

CONFIG_FILE = "kabargen.yaml"

DEFAULT_PERMALINKS = {
    "release": "/rilis/{year}/{month}/{slug}/",
    "page": "/{slug}/",
    "tag": "/tag/{slug}/",
    "person": "/penulis/{slug}/",
    "archive": "/arsip/{year}/",
}
PERMALINK_FIELDS = {
    "release": {"year", "month", "day", "slug", "section"},
    "page": {"slug", "section"},
    "tag": {"slug"},
    "person": {"slug"},
    "archive": {"year"},
}

KNOWN_KEYS = {
    "title", "base_url", "language", "timezone", "theme", "per_page", "feed_limit",
    "permalinks", "organization", "defaults", "strings", "embed_hosts", "numbering", "search", "images",
}
LANGUAGES = {"id", "en"}
IMAGE_KEYS = {"widths", "publish_originals"}
# Narrower than a phone is useless; wider than a 4K screen only costs bytes.
IMAGE_WIDTH_RANGE = (16, 4096)


@dataclass(frozen=True)
class ImageConfig:
    """How photos are published: the widths made of each, and whether the original goes out too."""

    widths: tuple[int, ...] = (480, 960, 1600)
    publish_originals: bool = False


@dataclass(frozen=True)
class Config:
    """The site's settings, checked; paths are absolute."""

    root: Path  # the site folder
    title: str
    base_url: str = "/"
    language: str = "id"
    timezone: str = "Asia/Makassar"
    theme: str = "resmi"
    per_page: int = 10
    feed_limit: int = 20
    permalinks: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_PERMALINKS))
    organization: Mapping[str, Any] = field(default_factory=dict)
    defaults: Mapping[str, Any] = field(default_factory=dict)
    strings: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    embed_hosts: tuple[str, ...] = ()
    numbering: str = ""
    search: bool = True
    images: ImageConfig = field(default_factory=ImageConfig)
    # Where the config came from, for messages only: never on a page, so not in page fingerprints.
    path: str = field(default=CONFIG_FILE, metadata={"fingerprint": False})  # as shown in diagnostics
    lines: Mapping[str, int] = field(default_factory=dict, compare=False, repr=False, metadata={"fingerprint": False})  # dotted key -> line

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def base_path(self) -> str:
        """The path part of base_url, always starting and ending with "/"."""
        path = urlsplit(self.base_url).path or "/"
        return path if path.endswith("/") else path + "/"

    @property
    def absolute(self) -> bool:
        """Whether base_url names a scheme and host, so absolute URLs can be written."""
        parts = urlsplit(self.base_url)
        return bool(parts.scheme and parts.netloc)

    @property
    def content_dir(self) -> Path:
        return self.root / "content"

    def with_base_url(self, base_url: str) -> "Config":
        """A copy with another base_url (the --base-url flag)."""
        from dataclasses import replace

        return replace(self, base_url=_normal_base(base_url))


def _normal_base(value: str) -> str:
    return value if value.endswith("/") else value + "/"


def _suggest(key: str, known) -> str:
    close = difflib.get_close_matches(key, sorted(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, str):
        lowered = value.lower()
        if lowered in {"true", "yes", "on"}:
            return True
        if lowered in {"false", "no", "off"}:
            return False
    return None


def _as_int(value: Any) -> int | None:
    # Nine digits at most: int() refuses very long digit strings, and no setting needs more.
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,9}", value.strip()):
        return int(value)
    return None


def load_config(root: Path, display_root: str | None = None) -> tuple[Config, list[Diagnostic]]:
    """Read ROOT/kabargen.yaml; return the config and its warnings, or raise ConfigError."""
    cfg_path = root / CONFIG_FILE
    shown = str(Path(display_root) / CONFIG_FILE) if display_root else CONFIG_FILE
    if not cfg_path.is_file():
        raise ConfigError([error(shown, 0, f"no {CONFIG_FILE} here: is this a kabargen site? (kabargen init creates one)")])
    try:
        text = cfg_path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError([error(shown, 1, f"not valid UTF-8 ({exc.reason})")]) from None
    try:
        data, lines = yamlload.load(text.replace("\r\n", "\n"))
    except yamlload.YamlProblem as exc:
        raise ConfigError([error(shown, exc.line, exc.message)]) from None
    return parse_config(data, lines, root.resolve(), shown)


def parse_config(data: Any, lines: Mapping[str, int], root: Path, shown: str = CONFIG_FILE) -> tuple[Config, list[Diagnostic]]:
    """Check raw config data; return (Config, warnings) or raise ConfigError with every error."""
    problems: list[Diagnostic] = []

    def line(key: str) -> int:
        return lines.get(key, 1)

    def bad(key: str, message: str) -> None:
        problems.append(error(shown, line(key), message))

    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([error(shown, 1, "the config must be a mapping of keys to values")])
    values: dict[str, Any] = {"root": root, "path": shown, "lines": dict(lines)}
    for key in data:
        if key not in KNOWN_KEYS:
            problems.append(warning(shown, line(key), f"unknown key {key!r}{_suggest(key, KNOWN_KEYS)}"))

    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        bad("title", "'title' is required: the site's name, e.g. title: Siaran Pers Diskominfo")
    else:
        values["title"] = title.strip()

    if "base_url" in data:
        base = data["base_url"]
        parts = urlsplit(base) if isinstance(base, str) else None
        if parts is None or (parts.scheme and parts.scheme not in {"http", "https"}) or (parts.scheme and not parts.netloc) or parts.query or parts.fragment:
            bad("base_url", "'base_url' must be an http(s) URL like https://pers.example.go.id/ or a path like /")
        elif not parts.scheme and not base.startswith("/"):
            bad("base_url", "'base_url' must be an http(s) URL or start with '/'")
        else:
            values["base_url"] = _normal_base(base)

    if "language" in data:
        lang = data["language"]
        if not isinstance(lang, str) or not re.fullmatch(r"[a-zA-Z]{2,3}(-[A-Za-z0-9]{2,8})*", lang):
            bad("language", f"'language' must be a language code such as id or en, not {lang!r}")
        else:
            if lang.split("-")[0].lower() not in LANGUAGES:
                problems.append(warning(shown, line("language"), f"no built-in UI strings for {lang!r}: add them under 'strings' (English is used meanwhile)"))
            values["language"] = lang

    if "timezone" in data:
        zone = data["timezone"]
        try:
            if not isinstance(zone, str) or not zone:
                raise ValueError
            ZoneInfo(zone)
            values["timezone"] = zone
        except (ValueError, ZoneInfoNotFoundError):
            bad("timezone", f"unknown time zone {zone!r}: use a name like Asia/Makassar (WITA), Asia/Jakarta (WIB) or Asia/Jayapura (WIT)")

    if "theme" in data:
        theme = data["theme"]
        if not isinstance(theme, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", theme) or theme.startswith("."):
            bad("theme", "'theme' must be a theme folder name, e.g. resmi")
        else:
            values["theme"] = theme

    for key, minimum in (("per_page", 1), ("feed_limit", 1)):
        if key in data:
            number = _as_int(data[key])
            if number is None or number < minimum:
                bad(key, f"'{key}' must be a whole number of at least {minimum}")
            else:
                values[key] = number

    if "permalinks" in data:
        links = data["permalinks"]
        if not isinstance(links, dict):
            bad("permalinks", "'permalinks' must be a mapping like {release: /rilis/{year}/{month}/{slug}/}")
        else:
            merged = dict(DEFAULT_PERMALINKS)
            for kind, pattern in links.items():
                key = f"permalinks.{kind}"
                if kind not in DEFAULT_PERMALINKS:
                    problems.append(warning(shown, line(key), f"unknown permalink kind {kind!r}{_suggest(kind, DEFAULT_PERMALINKS)}"))
                    continue
                message = check_permalink(kind, pattern)
                if message:
                    bad(key, message)
                else:
                    merged[kind] = pattern
            values["permalinks"] = merged

    for key in ("organization", "defaults"):
        if key in data and data[key] is not None:
            if not isinstance(data[key], dict):
                bad(key, f"'{key}' must be a mapping")
            else:
                values[key] = data[key]

    if "strings" in data and data["strings"] is not None:
        strings = data["strings"]
        ok = isinstance(strings, dict) and all(
            isinstance(v, dict) and all(isinstance(s, str) for s in v.values()) for v in strings.values()
        )
        if not ok:
            bad("strings", "'strings' must map a language to {key: text}, e.g. {id: {baca_juga: Baca Juga}}")
        else:
            values["strings"] = strings

    if "embed_hosts" in data and data["embed_hosts"] is not None:
        hosts = data["embed_hosts"]
        if not isinstance(hosts, list) or not all(isinstance(h, str) and re.fullmatch(r"[A-Za-z0-9.-]+", h) for h in hosts):
            bad("embed_hosts", "'embed_hosts' must be a list of host names, e.g. [www.youtube-nocookie.com]")
        else:
            values["embed_hosts"] = tuple(h.lower() for h in hosts)

    if "numbering" in data and data["numbering"] is not None:
        pattern = data["numbering"]
        message = check_numbering(pattern)
        if message:
            bad("numbering", message)
        else:
            values["numbering"] = pattern

    if "search" in data:
        flag = _as_bool(data["search"])
        if flag is None:
            bad("search", "'search' must be true or false")
        else:
            values["search"] = flag

    if "images" in data and data["images"] is not None:
        values["images"] = _image_config(data["images"], bad, lambda key, message: problems.append(warning(shown, line(key), message)))

    errors = [p for p in problems if p.is_error]
    if errors:
        raise ConfigError(problems)
    return Config(**values), [p for p in problems if not p.is_error]


def _image_config(raw: Any, bad, warn) -> ImageConfig:
    """The `images` mapping: widths of the resized copies and whether originals are published."""
    if not isinstance(raw, dict):
        bad("images", "'images' must be a mapping like {widths: [480, 960, 1600], publish_originals: false}")
        return ImageConfig()
    config = ImageConfig()
    for key in raw:
        if key not in IMAGE_KEYS:
            warn(f"images.{key}", f"unknown key {key!r} in 'images'{_suggest(key, IMAGE_KEYS)}")
    if "widths" in raw:
        low, high = IMAGE_WIDTH_RANGE
        items = raw["widths"] if isinstance(raw["widths"], list) else None
        widths = [_as_int(w) for w in items or []]
        if not widths or any(w is None or not low <= w <= high for w in widths):
            bad("images.widths", f"'images.widths' must be a list of pixel widths from {low} to {high}, e.g. [480, 960, 1600]")
        else:
            config = ImageConfig(widths=tuple(sorted(set(widths))), publish_originals=config.publish_originals)
    if "publish_originals" in raw:
        flag = _as_bool(raw["publish_originals"])
        if flag is None:
            bad("images.publish_originals", "'images.publish_originals' must be true or false")
        else:
            config = ImageConfig(widths=config.widths, publish_originals=flag)
    return config


def check_permalink(kind: str, pattern: Any) -> str:
    """Return an error message for a bad permalink pattern, or ""."""
    if not isinstance(pattern, str) or not pattern.startswith("/") or not pattern.endswith("/"):
        return f"permalink for {kind} must start and end with '/', e.g. {DEFAULT_PERMALINKS[kind]}"
    if ".." in pattern.split("/") or "\\" in pattern:
        return f"permalink for {kind} may not contain '..' or backslashes"
    names = set(re.findall(r"{(\w+)}", pattern))
    unknown = names - PERMALINK_FIELDS[kind]
    if unknown:
        return f"permalink for {kind} uses unknown field(s) {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(PERMALINK_FIELDS[kind]))}"
    if kind != "archive" and "slug" not in names:
        return f"permalink for {kind} must contain {{slug}}"
    return ""
