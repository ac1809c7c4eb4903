"""`kabargen serve`: a live preview that rebuilds on save and reloads every open tab.

The site is built in memory (`build(write=False)`): pages are served from a dict, copied files
(media, static/, theme assets) straight from the files the build chose, so nothing is written to
disk and the user's public/ is never touched. A watchdog observer notices saves; after a short
quiet spell (editors save through temporary files and renames) the site is built again, and a
new "generation" is announced over Server-Sent Events to the small script that serve adds to the
HTML responses it sends (never to built files). A build with errors keeps the server up: every
HTML request gets an error page listing them, other files come from the last good build.
"""

from __future__ import annotations

import errno
import hashlib
import html
import ipaddress
import multiprocessing
import os
import re
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Mapping
from urllib.parse import quote, unquote

import click
import jinja2
from watchdog.events import (
    DirCreatedEvent, DirDeletedEvent, DirMovedEvent, FileCreatedEvent, FileDeletedEvent, FileModifiedEvent, FileMovedEvent,
    FileSystemEvent, FileSystemEventHandler,
)
from watchdog.observers import Observer

from . import search
from .build import BuildOptions, BuildResult, PageMaker, build, patch_build, template_diagnostic
from .config import Config
from .errors import ConfigError, Diagnostic, UsageError, error
from .model import BuildMemory, Page
from .parallel import kept_converter
from .sources import ignored
from .theme import find_theme

# Paths of serve's own endpoints; a site cannot have files under /__kabargen/.
INTERNAL = "/__kabargen/"
EVENTS_PATH = INTERNAL + "events"
SCRIPT_PATH = INTERNAL + "reload.js"
GENERATION_PATH = INTERNAL + "generation"

DEBOUNCE = 0.05  # seconds without events before a rebuild starts (an editor's save is a burst of a few ms)
MAX_DELAY = 2.0  # a steady stream of events (a git checkout) still rebuilds this often
KEEPALIVE = 15.0  # seconds between comments on an idle event stream
SETTLE = 0.5  # seconds after announcing a build before the rest of its pages are rendered
WATCHED = ("content", "static", "templates", "themes")
# Changes only: without a filter, the build's own reading of every file (inotify's open and
# close events) kept the watcher thread busy, which slowed a build of 10,000 releases by 1.5 s.
WATCHED_EVENTS = (FileCreatedEvent, FileModifiedEvent, FileDeletedEvent, FileMovedEvent, DirCreatedEvent, DirDeletedEvent, DirMovedEvent)
CONFIG_NAME = "kabargen.yaml"

RELOAD_JS = b"""\
// kabargen serve: reload this page when the site has been built again.
(function () {
  "use strict";
  var script = document.currentScript;
  var mine = script ? script.getAttribute("data-generation") : "";
  var reloading = false;
  function check(generation) {
    if (generation && generation !== mine && !reloading) {
      reloading = true;
      location.reload();
    }
  }
  var channel = window.BroadcastChannel ? new BroadcastChannel("kabargen-serve") : null;
  function listen() {
    var source = new EventSource("/__kabargen/events");
    source.onmessage = function (event) {
      if (channel) { channel.postMessage(event.data); }
      check(event.data);
    };
  }
  if (channel && navigator.locks && navigator.locks.request) {
    // Browsers open at most six connections to one host: one tab holds the event stream
    // and tells the others; when it closes, another tab takes the lock over.
    channel.onmessage = function (event) { check(event.data); };
    navigator.locks.request("kabargen-serve", function () {
      listen();
      return new Promise(function () {});
    });
    fetch("/__kabargen/generation", { cache: "no-store" })
      .then(function (response) { return response.text(); })
      .then(check, function () {});
  } else {
    listen();
  }
})();
"""

# Content types by extension; text types say their charset. Feeds are recognised by content.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".xml": "application/xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
    ".md": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/vnd.microsoft.icon",
    ".pdf": "application/pdf",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".wasm": "application/wasm",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".zip": "application/zip",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".ppt": "application/vnd.ms-powerpoint",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
}
ATOM = "application/atom+xml; charset=utf-8"
# Escapes that would smuggle a separator or NUL into one path segment.
_BAD_ESCAPES = re.compile(r"%(2f|5c|00)", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def content_type(path: str, head: bytes = b"") -> str:
    """The Content-Type for an output path; HEAD is the start of the file, to tell feeds apart."""
    ext = os.path.splitext(path)[1].lower()
    if ext == ".xml" and b"<feed" in head[:1024]:
        return ATOM
    return CONTENT_TYPES.get(ext, "application/octet-stream")


# -- what is served ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SiteFiles:
    """One successful build as served: output path -> page bytes, or the file a copy comes from."""

    pages: Mapping[str, bytes]
    copies: Mapping[str, str]
    base_path: str  # "/" or "/sub/path/"
    index: Mapping[str, str] = field(default_factory=dict)  # pagefind/... -> file in the private folder
    index_key: str = ""  # what the index above was made from
    search_key: str = ""  # what these pages need ("" when search is off)

    def has(self, key: str) -> bool:
        return key in self.pages or key in self.copies or key in self.index

    def file(self, key: str) -> str:
        """The file a copied output path (or a search index file) is served from."""
        return self.copies[key] if key in self.copies else self.index[key]


class LazyPages(Mapping[str, bytes]):
    """Output path -> page bytes of a site whose pages are rendered the first time they are asked for.

    A save is answered as soon as the site is assembled and checked; the tabs that reload ask
    for their pages, which are rendered then, while the builder renders the whole site behind.
    Reading a page may raise jinja2.TemplateError (a template the site has not yet been checked with).
    """

    def __init__(self, maker: PageMaker, urls: Mapping[str, str]):
        self.maker = maker
        self._urls = urls  # output path -> site path
        self._made: dict[str, bytes] = {}

    def __getitem__(self, key: str) -> bytes:
        data = self._made.get(key)
        if data is None:
            data = self.maker.page(self._urls[key])
            if data is None:
                raise KeyError(key)
            self._made[key] = data
        return data

    def __contains__(self, key: object) -> bool:
        return key in self._urls

    def __iter__(self):
        return iter(self._urls)

    def __len__(self) -> int:
        return len(self._urls)


@dataclass(frozen=True)
class State:
    """What the server answers with right now: the last good site and the current build's errors."""

    site: SiteFiles | None
    errors: tuple[Diagnostic, ...]
    warnings: int
    generation: str
    language: str = "id"

    @property
    def broken(self) -> bool:
        return bool(self.errors) or self.site is None


@dataclass(frozen=True)
class Route:
    """Where a request path leads: a file of the site, a redirect, or nowhere."""

    kind: str  # "file", "redirect", "missing"
    key: str = ""  # output path for "file"
    location: str = ""  # for "redirect"


def split_target(target: str) -> list[str] | None:
    """The decoded path segments of a request target; None for anything but a plain path.

    Refused: absolute-form and other targets not starting with one "/", backslashes, encoded
    slashes, backslashes and NULs, control characters, bad UTF-8, "." and ".." segments and
    empty segments (a trailing "/" is kept as a final empty segment).
    """
    path = target.split("#", 1)[0].split("?", 1)[0]
    if not path.startswith("/") or path.startswith("//") or "\\" in path or _BAD_ESCAPES.search(path):
        return None
    try:
        decoded = unquote(path, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        return None
    if _CONTROL.search(decoded) or "\\" in decoded:
        return None
    segments = decoded.split("/")[1:]
    for i, segment in enumerate(segments):
        if segment in (".", "..") or (segment == "" and i != len(segments) - 1):
            return None
    return segments


def route(target: str, site: SiteFiles | None, base_path: str) -> Route:
    """Map a request target onto the built site, the way a static host does."""
    segments = split_target(target)
    if segments is None:
        return Route("missing")
    raw_path, _, query = target.split("#", 1)[0].partition("?")
    suffix = "?" + query if query else ""
    rel = "/".join(segments)
    prefix = base_path.lstrip("/")
    if prefix and (rel + "/") == prefix or (prefix and rel == ""):
        return Route("redirect", location=quote(base_path, safe="/%") + suffix)
    if not rel.startswith(prefix):
        return Route("missing")
    inner = rel[len(prefix):]
    if site is None:
        return Route("missing")
    if inner == "" or inner.endswith("/"):
        key = inner + "index.html"
        return Route("file", key) if site.has(key) else Route("missing")
    if site.has(inner):
        return Route("file", inner)
    if site.has(inner + "/index.html"):
        # The target was checked above: one leading "/", no "//", so this stays on this server.
        return Route("redirect", location=raw_path + "/" + suffix)
    return Route("missing")


def inject_script(page: bytes, generation: str) -> bytes:
    """The page with the reload script added before </body> (or at the end)."""
    tag = f'<script src="{SCRIPT_PATH}" data-generation="{html.escape(generation)}"></script>\n'.encode()
    at = page.lower().rfind(b"</body>")
    if at < 0:
        return page + tag
    return page[:at] + tag + page[at:]


_ERROR_TEXT = {
    "id": ("Situs belum dapat dibangun", "kabargen menemukan {n} kesalahan. Perbaiki lalu simpan berkasnya: halaman ini akan dimuat ulang dengan sendirinya.", "{n} peringatan lain tercetak di terminal."),
    "en": ("The site cannot be built", "kabargen found {n} error(s). Fix the file and save it: this page reloads by itself.", "{n} warning(s) more are printed in the terminal."),
}


def error_page(state: State) -> bytes:
    """An HTML page listing the build errors, every piece of text escaped."""
    lang = "id" if state.language.lower().startswith("id") else "en"
    title, lead, more = _ERROR_TEXT[lang]
    items = "\n".join(f"<li><code>{html.escape(d.format())}</code></li>" for d in state.errors)
    warnings = f"<p>{html.escape(more.format(n=state.warnings))}</p>\n" if state.warnings else ""
    page = f"""<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{html.escape(title)}</title>
<style>
body {{ font: 16px/1.5 system-ui, sans-serif; margin: 0; color: #1a1a1a; background: #fff; }}
main {{ max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }}
h1 {{ color: #a4001d; font-size: 1.5rem; }}
ul {{ padding: 0; list-style: none; }}
li {{ margin: .5rem 0; padding: .5rem .75rem; border-left: 4px solid #a4001d; background: #fdf1f2; }}
code {{ white-space: pre-wrap; word-break: break-word; font-size: .95rem; }}
</style>
</head>
<body>
<main>
<h1>{html.escape(title)}</h1>
<p>{html.escape(lead.format(n=len(state.errors)))}</p>
<ul class="errors">
{items}
</ul>
{warnings}</main>
</body>
</html>
"""
    return page.encode("utf-8")


# -- building ------------------------------------------------------------------------------------

PENDING = "pending"  # search_key of a site whose pages are not all rendered yet


def _internal_error(exc: Exception) -> Diagnostic:
    """A bug in kabargen, reported without ending the preview (the traceback goes to the terminal)."""
    traceback.print_exc()
    return error("kabargen", 0, f"internal error: {type(exc).__name__}: {exc} (the terminal shows the traceback)")


@dataclass(frozen=True)
class ServeOptions:
    """What `kabargen serve` was asked for."""

    source: Path = Path(".")
    host: str = "127.0.0.1"
    port: int = 8000
    drafts: bool = True
    open_browser: bool = False
    jobs: int = 0


def is_loopback(host: str) -> bool:
    """Whether HOST only listens on this machine."""
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _stat_key(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns)


class SearchIndex:
    """The preview's Pagefind index, kept current in a private temporary folder in the background.

    Pagefind indexes HTML files on disk and takes seconds on a large site, so the pages of a new
    build are served at once and the index follows when it is ready (the old one serves until
    then). Indexes are never written into the site folder: an index the last `kabargen build`
    left in its cache is copied when it fits, anything else is made here and removed on exit.
    """

    def __init__(self, root: Path, echo: Callable[..., None], ready: Callable[[str, dict[str, str]], None]):
        self.root = root
        self.echo = echo
        self.ready = ready
        self.folder = Path(tempfile.mkdtemp(prefix="kabargen-serve-")).resolve()
        self._indexer: search.Indexer | None = None
        self._unavailable = False
        self._cond = threading.Condition()
        self._job: tuple[str, dict[str, bytes]] | None = None
        self._stopping = False
        self._proc: subprocess.Popen | None = None
        self._runs = 0
        self._current: Path | None = None
        self._thread = threading.Thread(target=self._loop, name="kabargen-search", daemon=True)
        self._thread.start()

    def key(self, pages: list[Page], language: str) -> str:
        """What an index of these pages is keyed by; "" when Pagefind cannot run (said once)."""
        if self._indexer is None or self._indexer.language != language.split("-")[0].lower():
            if self._unavailable:
                return ""
            try:
                self._indexer = search.make_indexer(self.root, language)
            except search.SearchUnavailable as exc:
                self._unavailable = True
                self.echo(f"warning: search is on but Pagefind cannot run ({exc}): the preview's search finds nothing", err=True)
                return ""
        return self._indexer.key(pages)

    def request(self, key: str, pages: Mapping[str, bytes]) -> None:
        """Make the index for KEY of PAGES (output path -> bytes) next (a newer request replaces one not started yet)."""
        indexed = {path: data for path, data in pages.items() if path.endswith(".html") and search.BODY_MARK in data}
        with self._cond:
            self._job = (key, indexed)
            self._cond.notify_all()

    def stop(self) -> None:
        """Stop a Pagefind run in progress and remove the private folder."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            if self._proc is not None and self._proc.poll() is None:
                self._proc.kill()
        self._thread.join(timeout=10)
        shutil.rmtree(self.folder, ignore_errors=True)

    def abort(self) -> None:
        with self._cond:
            self._stopping = True
            if self._proc is not None and self._proc.poll() is None:
                self._proc.kill()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while self._job is None and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                (key, pages), self._job = self._job, None
            try:
                files = self._make(key, pages)
            except OSError as exc:
                if not self._stopping:
                    self.echo(f"warning: the preview's search index could not be made: {exc}", err=True)
                continue
            if files is not None and not self._stopping:
                self.ready(key, files)

    def _make(self, key: str, pages: dict[str, bytes]) -> dict[str, str] | None:
        self._runs += 1
        run = self.folder / f"index-{self._runs}"
        target = run / search.INDEX_DIR
        cached = self.root / search.CACHE_DIR / key
        if (cached / "pagefind-entry.json").is_file():
            shutil.copytree(cached, target)  # a copy: a build running meanwhile may replace the cache
        else:
            for rel, data in pages.items():
                path = run / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
            indexer = self._indexer
            command = [indexer.binary, "--site", str(run), "--output-subdir", search.INDEX_DIR, "--force-language", indexer.language, "--silent"]
            with self._cond:
                if self._stopping:
                    return None
                # Its own session: Ctrl-C in the terminal is for kabargen, which stops Pagefind itself.
                self._proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
            output, _ = self._proc.communicate()
            if self._stopping:
                return None
            if self._proc.returncode != 0 or not (target / "pagefind-entry.json").is_file():
                last = output.strip().splitlines()[-1:] or [""]
                self.echo(f"warning: the preview's search index could not be made: pagefind failed (exit {self._proc.returncode}) {last[0]}".rstrip(), err=True)
                shutil.rmtree(run, ignore_errors=True)
                return None
            for name in search.UNUSED:
                (target / name).unlink(missing_ok=True)
        files = {
            f"{search.INDEX_DIR}/{path.relative_to(target).as_posix()}": str(path)
            for path in sorted(target.rglob("*")) if path.is_file()
        }
        # The index before this one is no longer served (a download in progress keeps its file open).
        if self._current is not None:
            shutil.rmtree(self._current, ignore_errors=True)
        self._current = run
        return files


class Preview:
    """The preview server: builds, serves, watches and announces new builds.

    `start()` binds and builds; `stop()` undoes everything. The CLI adds signal handling around
    these; tests use them directly.
    """

    def __init__(self, options: ServeOptions, echo: Callable[..., None] = click.echo):
        self.options = options
        self.echo = echo
        self.root = options.source.resolve()
        self._boot = secrets.token_hex(4)
        self._count = 0
        self._state = State(site=None, errors=(), warnings=0, generation=f"{self._boot}-0")
        self._copies_stat: dict[str, tuple[int, int] | None] = {}
        self._inputs: tuple | None = None  # what the site served was built from (see _rebuild)
        self._checked: tuple | None = None  # config, theme and flags every page last rendered with, without error
        self._pending: SiteFiles | None = None  # served, its pages not all rendered yet
        self._memory = BuildMemory()  # what the last build read and checked, for the next one
        self._last: BuildResult | None = None  # the build served, when it had no error (patch_build starts from it)
        self._unverified: set[str] = set()  # files patched into the site served, not yet checked by a full build
        self._changed = threading.Condition()  # guards generation changes and the stop flag
        self._stopping = False
        self._dirty: set[str] = set()
        self._first_event = 0.0
        self._last_event = 0.0
        self._wake = threading.Condition()  # guards _dirty and the event times
        self._next_embargo: datetime | None = None
        self._config: Config | None = None  # of the last build that could read it: finds the theme
        self._allowed_roots: tuple[str, ...] = (str(self.root),)
        self._watches: dict[str, object] = {}
        self._observer = None
        self._builder: threading.Thread | None = None
        self._server_thread: threading.Thread | None = None
        self.server: ThreadingHTTPServer | None = None
        self._search: SearchIndex | None = None
        # Photo copies that .kabargen-cache/ lacks are made here: the preview writes nothing in the site.
        self._photos: Path | None = None

    # -- life cycle --------------------------------------------------------------------------

    @property
    def state(self) -> State:
        return self._state

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def url(self) -> str:
        """The address to open: the site's base path on this server."""
        host = self.options.host
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        base = self._state.site.base_path if self._state.site else "/"
        return f"http://{host}:{self.port}{quote(base, safe='/%')}"

    def bind(self) -> None:
        """Open the listening socket; a port in use or a bad host is a usage error (exit 2)."""
        if not (self.root / CONFIG_NAME).is_file():
            raise UsageError(f"no {CONFIG_NAME} in {self.options.source}: run kabargen serve in a site folder, or pass --source")
        host = self.options.host
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        server_class = type("PreviewHTTPServer", (_HTTPServer,), {"address_family": family})
        try:
            self.server = server_class((host.strip("[]"), self.options.port), _Handler)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise UsageError(f"port {self.options.port} on {host} is in use: stop the other server, or choose another with --port (--port 0 picks a free one)") from None
            raise UsageError(f"cannot listen on {host}:{self.options.port}: {exc.strerror or exc}") from None
        self.server.preview = self

    def start(self) -> None:
        """Bind (unless done), build once, then serve and watch in background threads."""
        if self.server is None:
            self.bind()
        if not is_loopback(self.options.host):
            self.echo(f"warning: listening on {self.options.host}: anyone who can reach this machine can read the preview, drafts and embargoed releases included; use --host 127.0.0.1 to keep it private", err=True)
        # Watch before the first build, so a save made while it runs is not missed.
        self._observer = Observer()
        self._observer.daemon = True
        self._update_watches()
        self._observer.start()
        self._rebuild(set(), initial=True)
        self._server_thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.2}, name="kabargen-http", daemon=True)
        self._server_thread.start()
        self._builder = threading.Thread(target=self._build_loop, name="kabargen-builder", daemon=True)
        self._builder.start()

    def stop(self) -> None:
        """Stop serving, watching and building; wake every open event stream so it ends."""
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        with self._wake:
            self._wake.notify_all()
        if self._observer is not None:
            self._observer.stop()
        if self.server is not None:
            if self._server_thread is not None:
                self.server.shutdown()
            self.server.server_close()
        if self._observer is not None and self._observer.is_alive():
            self._observer.join(timeout=5)
        self._finish_build()
        if self._search is not None:
            self._search.stop()
        self._remove_photos()

    def abort(self) -> None:
        """Stop Pagefind and remove the private folder without waiting for anything."""
        if self._search is not None:
            self._search.abort()
        self._remove_photos()

    def _remove_photos(self) -> None:
        if self._photos is not None:
            shutil.rmtree(self._photos, ignore_errors=True)

    def _finish_build(self) -> None:
        """Wait for a build in progress to end.

        It is not cut short: a build's worker processes, stopped halfway through sending a result,
        would leave its process pool (and so the interpreter's exit) waiting forever.
        """
        if self._builder is None:
            return
        self._builder.join(timeout=0.3)
        if self._builder.is_alive():
            self.echo("Finishing the build in progress (press Ctrl-C again to quit at once)...", err=True)
        while self._builder.is_alive():
            self._builder.join(timeout=0.25)  # short waits: a second Ctrl-C is acted on at once

    @property
    def stopping(self) -> bool:
        return self._stopping

    # -- watching ----------------------------------------------------------------------------

    def _watch_targets(self, config: Config | None) -> dict[str, bool]:
        """Folders to watch -> recursive?: the site folder itself (for kabargen.yaml), its
        content/, static/, templates/ and themes/, and the theme's folder wherever it lives."""
        targets = {str(self.root): False}
        for name in WATCHED:
            folder = self.root / name
            if folder.is_dir():
                targets[str(folder.resolve())] = True
        if config is not None:
            try:
                theme = find_theme(config).resolve()
            except ConfigError:
                theme = None
            if theme is not None:
                self._allowed_roots = (str(self.root), str(theme))
                if not any(theme == Path(t) or Path(t) in theme.parents for t, r in targets.items() if r):
                    targets[str(theme)] = True
        return targets

    def _update_watches(self, config: Config | None = None) -> None:
        if self._observer is None:
            return
        wanted = self._watch_targets(config if config is not None else self._config)
        for path in list(self._watches):
            if path not in wanted or not os.path.isdir(path):
                try:
                    self._observer.unschedule(self._watches.pop(path))
                except (KeyError, ValueError, OSError):
                    pass
        handler = _ChangeHandler(self)
        for path, recursive in wanted.items():
            if path not in self._watches and os.path.isdir(path):
                try:
                    self._watches[path] = self._observer.schedule(handler, path, recursive=recursive, event_filter=list(WATCHED_EVENTS))
                except OSError as exc:
                    self.echo(f"warning: cannot watch {os.path.relpath(path)}: {exc}; changes there need a restart", err=True)

    def relevant(self, path: str) -> bool:
        """Whether a change at PATH can change the site (editor leftovers and hidden files cannot)."""
        p = Path(path)
        name = p.name
        if p.parent == self.root:
            return name == CONFIG_NAME or name in WATCHED
        if ignored(name):
            return False
        try:
            parts = p.relative_to(self.root).parts
        except ValueError:  # the theme installed with kabargen, outside the site
            parts = (name,)
        # Hidden files and folders (.git) are not built, except in static/ (.nojekyll).
        return parts[0] == "static" or not any(part.startswith(".") for part in parts)

    def notice(self, path: str) -> None:
        """A relevant file changed: schedule a rebuild after the quiet spell."""
        now = time.monotonic()
        with self._wake:
            if not self._dirty:
                self._first_event = now
            self._dirty.add(path)
            self._last_event = now
            self._wake.notify_all()

    def _build_loop(self) -> None:
        if self._config is not None:
            # Ready for the first save: importing Markdown and making the converter take 0.1 s.
            kept_converter(self._config, self._memory)
        while True:
            with self._wake:
                while not self._dirty and not self._stopping and self._pending is None and not self._unverified:
                    timeout = None
                    if self._next_embargo is not None:
                        timeout = max(0.0, (self._next_embargo - datetime.now(timezone.utc)).total_seconds()) + 0.5
                    if not self._wake.wait(timeout) and timeout is not None:
                        self._next_embargo = None
                        self._dirty.add("")  # an embargo lifted
                if self._stopping:
                    return
                changed = None
                if self._dirty:
                    # Debounce: wait until the burst is over (or has lasted too long).
                    while not self._stopping:
                        now = time.monotonic()
                        quiet = now - self._last_event
                        if quiet >= DEBOUNCE or now - self._first_event >= MAX_DELAY:
                            break
                        self._wake.wait(DEBOUNCE - quiet)
                    if self._stopping:
                        return
                    changed, self._dirty = self._dirty, set()
            if changed is None:
                self._complete()
            else:
                self._rebuild(changed)

    # -- building ----------------------------------------------------------------------------

    def _interrupted(self) -> bool:
        """Whether rendering in the background should give way: a new save, or the server stopping."""
        return bool(self._dirty) or self._stopping

    def _rebuild(self, changed: set[str], initial: bool = False, verify: bool = False) -> None:
        """Build again (pages are rendered when asked for), swap in the result, and announce it.

        The first build renders every page before the server answers; later ones are announced
        as soon as the site is assembled and checked, and the builder then renders the whole
        site in the background (_complete), unless a newer save comes first. A save that only
        edited the text of releases patches the site served (build.patch_build), announced
        at once; the background then builds in full first (VERIFY), to confirm it.
        """
        started = time.perf_counter()
        result: BuildResult | None = None
        before = self._last
        # Watch a folder made since the last build (templates/, say) before this build reads it:
        # a save there after the build has read it must start the next one.
        self._update_watches()
        try:
            if self._photos is None:
                self._photos = Path(tempfile.mkdtemp(prefix="kabargen-serve-photos-")).resolve()
            options = BuildOptions(source=self.root, drafts=self.options.drafts, jobs=self.options.jobs, write=False, lazy=True, photo_cache=self._photos, memory=self._memory)
            patched = None
            if not (initial or verify) and self._last is not None and self._inputs is not None and self._inputs[:3] == self._checked:
                patched = patch_build(self._last, changed, options)
            if patched is not None:
                if patched is not self._last:
                    self._unverified |= changed
                result = patched
            else:
                result = build(options)
                self._unverified = set()
            diagnostics = result.diagnostics
        except ConfigError as exc:
            diagnostics = exc.diagnostics
        except UsageError as exc:
            diagnostics = [error(os.path.relpath(self.root / CONFIG_NAME), 0, exc.format_message())]
        except Exception as exc:  # a bug in kabargen must not end the preview: report it in full
            diagnostics = [_internal_error(exc)]
        if self._stopping:
            return
        errors = tuple(d for d in diagnostics if d.is_error)
        old = self._state
        site = old.site
        language = old.language
        if result is not None and result.config is not None:
            self._config = result.config
            language = result.config.language
        fresh = result is not None and not errors and result.site is not None
        inputs = None
        if fresh:
            maker = result.maker
            # What the pages are made from; equal inputs give equal pages (the build's `now`
            # aside, which no page shows: embargoes lifting change releases, not `now`).
            inputs = (result.config, maker.theme.digest, self.options.drafts, replace(result.site, now=None))
            site = SiteFiles(
                pages=LazyPages(maker, {p.output_path: p.url for p in result.pages}),
                copies={s.path: s.src for s in result.static},
                base_path=result.config.base_path,
                search_key=PENDING if result.config.search else "",
            )
            self._next_embargo = result.site.next_embargo
            # Only a content change is answered before the pages are rendered: after a change to
            # the templates or the config (or the first time) every page may fail, so all are
            # rendered first and a template error is shown by the one reload, as a build shows it.
            if initial or inputs[:3] != self._checked:
                site, render_errors = self._render_all(site)
                diagnostics = list(diagnostics) + list(render_errors)
                errors += tuple(render_errors)
                if render_errors:
                    inputs, fresh, site = None, False, old.site
                    self._checked = None
                elif not isinstance(site.pages, LazyPages):
                    self._checked = inputs[:3]
        seconds = time.perf_counter() - started
        warnings = sum(1 for d in diagnostics if not d.is_error)
        copies_stat = {k: _stat_key(v) for k, v in site.copies.items()} if site else {}
        same = (
            fresh and old.site is not None and not old.errors
            and site.base_path == old.site.base_path and inputs == self._inputs
            and site.copies == old.site.copies and copies_stat == self._copies_stat
        ) or (not fresh and bool(errors) and errors == old.errors and copies_stat == self._copies_stat)
        self._copies_stat = copies_stat
        self._inputs = inputs
        self._last = result if fresh else None  # a build that failed leaves no older site to patch
        generation = old.generation
        if same:
            site = old.site  # with every page it has rendered, and its search index
            if fresh and isinstance(site.pages, LazyPages):
                self._pending = site  # its background rendering was cut short by this save
        else:
            self._count += 1
            generation = f"{self._boot}-{self._count}"
            self._pending = site if fresh and isinstance(site.pages, LazyPages) else None
        if verify and same and before is not None and result is not None and result.diagnostics == before.diagnostics:
            return  # the patched site served is what a full build gives: nothing to say
        for d in diagnostics:
            self.echo(d.format(), err=True)
        # Watch the theme the new config names before anyone hears of this build: an edit made
        # right after a tab reloads must not fall between the build and the watch.
        self._update_watches()
        # The terminal first: by the time a tab reloads, the line that explains it is there.
        self._report(State(site=site, errors=errors, warnings=warnings, generation=generation, language=language), initial, changed, seconds, same)
        with self._changed:
            current = self._state.site
            if fresh and not same and site.search_key and current is not None:
                # Until its own index is ready, a new build keeps the index there is.
                site = replace(site, index=current.index, index_key=current.index_key)
                if self._pending is not None:
                    self._pending = site
            self._state = State(site=site, errors=errors, warnings=warnings, generation=generation, language=language)
            self._changed.notify_all()
        if fresh and not same and not isinstance(site.pages, LazyPages):
            self._request_index(site)

    def _render_all(self, site: SiteFiles) -> tuple[SiteFiles, list[Diagnostic]]:
        """Render every page of a lazily built site: the complete site, or the template errors."""
        try:
            outcome = site.pages.maker.render_all(cancel=self._interrupted)
        except Exception as exc:  # a bug in kabargen must not end the preview: report it in full
            return site, [_internal_error(exc)]
        if outcome.diagnostics:  # before cancelled: a template error found is never dropped
            return site, outcome.diagnostics
        if outcome.cancelled:
            return site, []
        pages = {p.output_path: p.data for p in outcome.pages}
        search_key = ""
        if site.search_key:
            if self._search is None:
                self._search = SearchIndex(self.root, self.echo, self._index_ready)
            search_key = self._search.key(outcome.pages, self._config.language if self._config else "id")
        return replace(site, pages=pages, search_key=search_key), []

    def _complete(self) -> None:
        """Render, in the background, every page of the site being served (see _rebuild)."""
        with self._wake:
            # The tabs reload at once and ask for their pages: let those render without the
            # whole site competing for the processor.
            if self._wake.wait_for(lambda: bool(self._dirty) or self._stopping, timeout=SETTLE):
                return  # a save (or the end) came first; the site stays pending unless replaced
        if self._unverified:
            # A patched site: build in full first. The same site stays pending (the builder
            # comes back here to render it); a different one is announced.
            self._rebuild(set(self._unverified), verify=True)
            return
        site, self._pending = self._pending, None
        if site is None or self._state.errors:
            return  # a site shown behind an error page is not worth rendering
        started = time.perf_counter()
        done, errors = self._render_all(site)
        if self._stopping or (done is site and not errors):
            return  # cut short by a save: _rebuild keeps this site pending if it stays served
        with self._changed:
            state = self._state
            if state.site is None or state.site.pages is not site.pages:
                return  # a newer build is served already
            if not errors:
                # The same bytes the tabs were given: nothing to announce.
                self._state = replace(state, site=replace(done, index=state.site.index, index_key=state.site.index_key))
        if not errors:
            self._request_index(self._state.site)
            return
        for d in errors:
            self.echo(d.format(), err=True)
        self._inputs = self._checked = None
        self._count += 1
        state = replace(state, errors=tuple(errors), generation=f"{self._boot}-{self._count}")
        self._report(state, False, set(), time.perf_counter() - started, False)
        with self._changed:
            self._state = state
            self._changed.notify_all()

    def _request_index(self, site: SiteFiles) -> None:
        """Ask for the search index of a complete site, unless it is there already."""
        if site.search_key and site.search_key != site.index_key and self._search is not None:
            self._search.request(site.search_key, site.pages)

    def _index_ready(self, key: str, files: dict[str, str]) -> None:
        """A search index is ready: serve it if the pages being served are still the ones it indexes."""
        with self._changed:
            state = self._state
            if state.site is not None and state.site.search_key == key:
                self._state = replace(state, site=replace(state.site, index=files, index_key=key))

    @property
    def search_ready(self) -> bool:
        """Whether the search index served matches the pages served (or search is off)."""
        site = self._state.site
        return site is not None and site.search_key == site.index_key

    def _report(self, state: State, initial: bool, changed: set[str], seconds: float, same: bool) -> None:
        """One line in the terminal about the build that just finished."""
        shown = sorted(os.path.relpath(p) for p in changed if p)
        what = ", ".join(shown[:3]) + (", ..." if len(shown) > 3 else "")
        stamp = "" if initial else time.strftime("%H:%M:%S ")
        if state.errors:
            after = f" after {what} changed" if what else ""
            self.echo(f"{stamp}{len(state.errors)} error(s){after}: the browser shows them until they are fixed", err=True)
            return
        pages = len(state.site.pages)
        if initial:
            hidden = " (drafts and embargoed releases shown, with a banner)" if self.options.drafts else ""
            self.echo(f"Built {pages} pages in {seconds:.2f} s{hidden}")
        else:
            note = ", nothing changed" if same else ""
            self.echo(f"{stamp}Rebuilt in {seconds:.2f} s ({pages} pages{note}){': ' + what if what else ''}")

    def wait_for_change(self, seen: str | None, timeout: float) -> str:
        """Block until the generation differs from SEEN (or TIMEOUT passes); return it."""
        with self._changed:
            self._changed.wait_for(lambda: self._state.generation != seen or self._stopping, timeout)
            return self._state.generation

    def readable(self, src: str) -> bool:
        """Whether a copied file still lies inside the site, the theme or a private folder after symlinks."""
        real = os.path.realpath(src)
        roots = self._allowed_roots + ((str(self._search.folder),) if self._search is not None else ())
        roots += (str(self._photos),) if self._photos is not None else ()
        return any(real == root or real.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64  # a page load opens many connections at once (HTTP/1.0: one per file)
    preview: Preview

    def handle_error(self, request, client_address) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, socket.timeout)):
            return  # the browser went away: nothing to tell
        sys.stderr.write(f"kabargen serve: error answering {client_address[0]}:\n")
        traceback.print_exc()


class _ChangeHandler(FileSystemEventHandler):
    """Turns file system events into rebuild requests."""

    KINDS = {"created", "modified", "deleted", "moved"}

    def __init__(self, preview: Preview):
        self.preview = preview

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type not in self.KINDS or (event.is_directory and event.event_type == "modified"):
            return
        for path in (event.src_path, getattr(event, "dest_path", "")):
            path = os.fsdecode(path) if path else ""
            if path and self.preview.relevant(path):
                self.preview.notice(path)


class _Handler(BaseHTTPRequestHandler):
    """Answers GET and HEAD from the current State; nothing is read outside the built site."""

    server_version = "kabargen-serve"
    protocol_version = "HTTP/1.0"
    timeout = 60
    server: _HTTPServer

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the base class's name)
        pass  # a preview is not a production server: no access log in the terminal

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def do_GET(self) -> None:
        self._answer(head=False)

    def _not_allowed(self) -> None:
        self._send(HTTPStatus.METHOD_NOT_ALLOWED, b"Method not allowed\n", "text/plain; charset=utf-8", head=False, extra={"Allow": "GET, HEAD"})

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _not_allowed

    # -- answering ---------------------------------------------------------------------------

    def _answer(self, head: bool) -> None:
        preview = self.server.preview
        if not self._host_allowed(preview):
            self._send(HTTPStatus.FORBIDDEN, b"kabargen serve answers only requests for localhost\n", "text/plain; charset=utf-8", head)
            return
        state = preview.state
        path = self.path.split("?", 1)[0]
        if path == EVENTS_PATH:
            self._events(preview, head)
            return
        if path == SCRIPT_PATH:
            self._send(HTTPStatus.OK, RELOAD_JS, "text/javascript; charset=utf-8", head)
            return
        if path == GENERATION_PATH:
            self._send(HTTPStatus.OK, state.generation.encode(), "text/plain; charset=utf-8", head, cache="no-store")
            return
        site = state.site
        base_path = site.base_path if site else "/"
        found = route(self.path, site, base_path)
        if found.kind == "redirect":
            self._send(HTTPStatus.FOUND, b"", "text/plain; charset=utf-8", head, extra={"Location": found.location}, cache="no-store")
            return
        is_html = found.kind != "file" or found.key.endswith((".html", ".htm"))
        if state.broken and is_html:
            self._send(HTTPStatus.INTERNAL_SERVER_ERROR, inject_script(error_page(state), state.generation), CONTENT_TYPES[".html"], head, cache="no-store")
            return
        if found.kind == "file":
            if found.key in site.pages:
                try:
                    data = site.pages[found.key]
                except jinja2.TemplateError as exc:
                    # Rendered on request, before the background rendering reached the error.
                    broken = replace(state, errors=(template_diagnostic(exc),))
                    self._send(HTTPStatus.INTERNAL_SERVER_ERROR, inject_script(error_page(broken), state.generation), CONTENT_TYPES[".html"], head, cache="no-store")
                    return
                ctype = content_type(found.key, data)
                if is_html:
                    data = inject_script(data, state.generation)
                self._send(HTTPStatus.OK, data, ctype, head)
                return
            if self._send_copy(site.file(found.key), found.key, head):
                return
        self._not_found(state, head)

    def _not_found(self, state: State, head: bool) -> None:
        try:
            page = state.site.pages.get("404.html") if state.site else None
        except jinja2.TemplateError:
            page = None  # the background rendering reports it
        if page is None:
            page = b"<!DOCTYPE html>\n<title>404</title>\n<h1>404</h1>\n"
        self._send(HTTPStatus.NOT_FOUND, inject_script(page, state.generation), CONTENT_TYPES[".html"], head, cache="no-store")

    def _send_copy(self, src: str, key: str, head: bool) -> bool:
        """Stream a copied file from where the build found it; False when it is gone or unsafe."""
        if not self.server.preview.readable(src):
            return False
        try:
            stream = open(src, "rb")
        except OSError:
            return False
        with stream:
            st = os.fstat(stream.fileno())
            if not stat.S_ISREG(st.st_mode):
                return False
            first = stream.read(1024)
            etag = f'"{st.st_size:x}-{st.st_mtime_ns:x}"'
            if self._not_modified(etag):
                self._headers(HTTPStatus.NOT_MODIFIED, None, None, etag=etag)
                return True
            self._headers(HTTPStatus.OK, content_type(key, first), st.st_size, etag=etag)
            if not head:
                self.wfile.write(first)
                while chunk := stream.read(256 * 1024):
                    self.wfile.write(chunk)
        return True

    def _events(self, preview: Preview, head: bool) -> None:
        """Server-Sent Events: the current generation now, then each new one as it comes."""
        self._headers(HTTPStatus.OK, "text/event-stream; charset=utf-8", None, cache="no-store", extra={"X-Accel-Buffering": "no"})
        if head:
            return
        self.wfile.write(b"retry: 1000\n\n")
        seen = None
        while not preview.stopping:
            generation = preview.wait_for_change(seen, KEEPALIVE) if seen is not None else preview.state.generation
            if preview.stopping:
                break
            if generation != seen:
                self.wfile.write(f"data: {generation}\n\n".encode())
                seen = generation
            else:
                self.wfile.write(b": keepalive\n\n")
            self.wfile.flush()
        self.close_connection = True

    # -- HTTP details ------------------------------------------------------------------------

    def _host_allowed(self, preview: Preview) -> bool:
        """On loopback, refuse other Host names: a web page cannot reach the preview by DNS rebinding."""
        if not is_loopback(preview.options.host):
            return True
        host = self.headers.get("Host")
        if not host:
            return True
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if host.startswith("[") and "]" in host:
            name = host[: host.index("]") + 1]
        return is_loopback(name)

    def _not_modified(self, etag: str) -> bool:
        wanted = self.headers.get("If-None-Match", "")
        return etag in [t.strip() for t in wanted.split(",")] or wanted.strip() == "*"

    def _send(self, status: HTTPStatus, data: bytes, ctype: str, head: bool, extra: dict | None = None, cache: str = "no-cache") -> None:
        etag = None
        if status == HTTPStatus.OK and cache == "no-cache":
            etag = '"' + hashlib.sha1(data).hexdigest()[:20] + '"'
            if self._not_modified(etag):
                self._headers(HTTPStatus.NOT_MODIFIED, None, None, etag=etag)
                return
        self._headers(status, ctype, len(data), etag=etag, extra=extra, cache=cache)
        if not head and data:
            self.wfile.write(data)

    def _headers(self, status: HTTPStatus, ctype: str | None, length: int | None, etag: str | None = None, extra: dict | None = None, cache: str = "no-cache") -> None:
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        if length is not None:
            self.send_header("Content-Length", str(length))
        # no-cache: the browser asks every time (an ETag makes that cheap), so nothing is stale.
        self.send_header("Cache-Control", cache)
        if etag:
            self.send_header("ETag", etag)
        self.send_header("X-Content-Type-Options", "nosniff")
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()


# -- the command ---------------------------------------------------------------------------------


def serve(options: ServeOptions) -> None:
    """Run the preview until Ctrl-C (or SIGTERM); leave nothing behind."""
    preview = Preview(options)
    preview.bind()

    def terminate(signum, frame):
        raise KeyboardInterrupt

    def quit_now(signum, frame):
        """A second Ctrl-C: stop the build's workers and Pagefind, remove the private folder, exit."""
        for child in multiprocessing.active_children():
            child.kill()
        preview.abort()
        os._exit(128 + signum)

    previous = signal.getsignal(signal.SIGINT), signal.signal(signal.SIGTERM, terminate)
    try:
        preview.start()
        click.echo(f"Serving {preview.url}")
        click.echo("Press Ctrl-C to stop.")
        if options.open_browser:
            import webbrowser

            threading.Thread(target=webbrowser.open, args=(preview.url,), daemon=True).start()
        while True:
            # Short sleeps: the kernel may hand Ctrl-C to any thread, and Python acts on it only
            # when the main thread wakes up.
            time.sleep(0.25)
    except KeyboardInterrupt:
        pass
    finally:
        # A second Ctrl-C while shutting down quits at once, without a traceback. Nothing was
        # written to the site folder, so nothing is left half done there.
        signal.signal(signal.SIGINT, quit_now)
        signal.signal(signal.SIGTERM, quit_now)
        preview.stop()
        signal.signal(signal.SIGINT, previous[0])
        signal.signal(signal.SIGTERM, previous[1])
    click.echo("Stopped.")
