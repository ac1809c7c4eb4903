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


# Version-control folders are never published, not even from static/ (which keeps other dot-files).
VCS_DIRS = {".git", ".hg", ".svn", ".bzr"}


def walk(folder: Path, site_root: Path, scan: Scan, skip_hidden: bool = True) -> list[tuple[Path, str]]:
    """List files under FOLDER (sorted), leaving out leftovers and links that leave the site.

    A symbolic link is followed only when it stays inside the site folder and out of
    its hidden parts (.git, .kabargen-cache): a link to /etc/passwd or ../.git/config
    must not be published. A folder reached twice through links is walked once.
    """
    found: list[tuple[Path, str]] = []
    if not folder.is_dir():
        return found
    root_real = site_root.resolve()
    seen_dirs: set[Path] = set()  # real paths of folders walked (or about to be, through a link)
    # Depth first, each folder's entries in name order (as os.walk would go); os.scandir's
    # entries tell files, folders and links apart without a system call per file.
    stack: list[tuple[str, str]] = [(str(folder), "")]
    while stack:
        dirpath, prefix = stack.pop()
        seen_dirs.add(Path(dirpath).resolve())
        try:
            with os.scandir(dirpath) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError:
            continue  # a folder that vanished or cannot be listed, as os.walk skips it
        subdirs: list[tuple[str, str]] = []
        for entry in entries:
            name = entry.name
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                if (skip_hidden and name.startswith(".")) or name in VCS_DIRS:
                    continue
                if entry.is_symlink():
                    sub = Path(entry.path)
                    problem = _link_problem(sub, root_real)
                    if problem:
                        scan.diagnostics.append(warning(display_path(sub), 0, problem))
                        continue
                    real = sub.resolve()
                    if real in seen_dirs:  # an ancestor (a loop) or a folder already linked
                        scan.diagnostics.append(warning(display_path(sub), 0, "symbolic link leads back into a folder already read: not followed"))
                        continue
                    seen_dirs.add(real)
                subdirs.append((entry.path, prefix + name + "/"))
                continue
            if ignored(name) or (skip_hidden and name.startswith(".")):
                continue
            path = Path(entry.path)
            if entry.is_symlink():
                problem = _link_problem(path, root_real)
                if problem:
                    scan.diagnostics.append(warning(display_path(path), 0, problem))
                    continue
            if not entry.is_file():
                if not path.exists():
                    scan.diagnostics.append(warning(display_path(path), 0, "broken symbolic link: its target does not exist; not published"))
                continue
            found.append((path, prefix + name))
        stack.extend(reversed(subdirs))
    found.sort(key=lambda item: item[1])
    return found


def _link_problem(path: Path, root_real: Path) -> str:
    """Why a symbolic link may not be followed, or "" when it may."""
    try:
        real = path.resolve(strict=True)
    except FileNotFoundError:
        return ""  # broken: reported by the caller
    except (OSError, RuntimeError):
        return "symbolic link cannot be resolved (a loop?): not followed"
    try:
        inside = real.relative_to(root_real)
    except ValueError:
        return "symbolic link leads outside the site folder: not followed"
    if any(part.startswith(".") for part in inside.parts):
        return f"symbolic link leads into the hidden {inside.parts[0]}/ of the site folder: not followed"
    return ""


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
