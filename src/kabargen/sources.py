"""Files -> Sources (front matter, body, line numbers) and diagnostics; never raises."""

from __future__ import annotations

import fnmatch
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from . import yamlload
from .errors import Diagnostic, error, warning
from .model import Source

# Editor and OS leftovers that must never be published.
IGNORED = ("*~", ".*.swp", ".*.swo", ".*.swx", "#*#", ".#*", ".DS_Store", "Thumbs.db", "desktop.ini", "4913")


_IGNORED_RE = re.compile("|".join(f"(?:{fnmatch.translate(pattern)})" for pattern in IGNORED))


def ignored(name: str) -> bool:
    """Whether a file name is an editor or OS leftover."""
    return _IGNORED_RE.match(name) is not None


def display_path(path: Path) -> str:
    """A path as the user should see it in a message: relative to the current folder."""
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)


@dataclass
class Scan:
    """What a walk of a folder found."""

    sources: list[Source] = field(default_factory=list)
    files: list[tuple[Path, str]] = field(default_factory=list)  # (absolute path, posix path relative to the folder)
    failed: list[str] = field(default_factory=list)  # content-relative paths of Markdown files that could not be read
    diagnostics: list[Diagnostic] = field(default_factory=list)


def walk(folder: Path, site_root: Path, scan: Scan, skip_hidden: bool = True) -> list[tuple[Path, str]]:
    """List files under FOLDER (sorted), leaving out leftovers and links that leave the site."""
    found: list[tuple[Path, str]] = []
    if not folder.is_dir():
        return found
    root_real = site_root.resolve()
    # os.scandir, not os.walk and Path: the entries' types come with the listing, which
    # makes this several times faster on content folders of thousands of files.
    stack = [(str(folder), "")]
    while stack:
        here, prefix = stack.pop()
        with os.scandir(here) as listing:
            entries = sorted(listing, key=lambda e: e.name)
        for entry in entries:
            name = entry.name
            if entry.is_dir():  # follows links, as os.walk(followlinks=True) does
                if skip_hidden and name.startswith("."):
                    continue
                if entry.is_symlink() and not _inside(Path(entry.path), root_real):
                    scan.diagnostics.append(warning(display_path(Path(entry.path)), 0, "symbolic link leads outside the site folder: not followed"))
                    continue
                stack.append((entry.path, prefix + name + "/"))
                continue
            if ignored(name) or (skip_hidden and name.startswith(".")):
                continue
            if entry.is_symlink() and not _inside(Path(entry.path), root_real):
                scan.diagnostics.append(warning(display_path(Path(entry.path)), 0, "symbolic link leads outside the site folder: not followed"))
                continue
            if not entry.is_file():
                continue
            found.append((Path(entry.path), prefix + name))
    found.sort(key=lambda item: item[1])
    return found


def _inside(path: Path, root_real: Path) -> bool:
    try:
        path.resolve().relative_to(root_real)
        return True
    except (ValueError, OSError, RuntimeError):
        return False


def scan_content(site_root: Path) -> Scan:
    """Read every Markdown file under content/ and list the other files there."""
    scan = Scan()
    for path, rel in walk(site_root / "content", site_root, scan):
        if path.suffix.lower() in {".md", ".markdown"}:
            source, problems = read_source(path, rel)
            scan.diagnostics.extend(problems)
            if source is not None:
                scan.sources.append(source)
            else:
                scan.failed.append(rel)
        else:
            scan.files.append((path, rel))
    return scan


def read_source(path: Path, rel: str) -> tuple[Source | None, list[Diagnostic]]:
    """Read one Markdown file; return its Source, or None and the reasons."""
    shown = display_path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, [error(shown, 0, f"cannot read file: {exc.strerror}")]
    return parse_source(raw, shown, rel)


def parse_source(raw: bytes, shown: str, rel: str) -> tuple[Source | None, list[Diagnostic]]:
    """Split bytes into front matter and body; report problems with their lines."""
    digest = hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [error(shown, line, f"not valid UTF-8 (byte 0x{raw[exc.start]:02x}): save the file as UTF-8")]
    if text.startswith("\ufeff"):
        text = text[1:]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        return None, [error(shown, line, "file contains a NUL byte: is it really a Markdown file?")]
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != "---":
        return None, [error(shown, 1, "missing front matter: a release starts with a '---' line, then title, date and byline, then '---'")]
    end = None
    for index in range(1, len(lines)):
        if lines[index].rstrip() in {"---", "..."}:
            end = index
            break
    if end is None:
        return None, [error(shown, 1, "front matter is not closed: add a '---' line after it")]
    yaml_text = "\n".join(lines[1:end])
    try:
        meta, key_lines = yamlload.load(yaml_text, first_line=2)
    except yamlload.YamlProblem as exc:
        return None, [error(shown, exc.line, exc.message)]
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        return None, [error(shown, 2, "front matter must be a mapping of keys to values (key: value)")]
    body = "\n".join(lines[end + 1 :])
    return Source(shown, rel, meta, key_lines, body, end + 2, digest), []
