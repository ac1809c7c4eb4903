"""A static host for tests: serve an output folder under a sub-path over real HTTP, and crawl it."""

from __future__ import annotations

import contextlib
import functools
import json
import http.server
import os
import posixpath
import threading
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves ROOT at PREFIX only, like GitHub Pages serves a project site; 404 elsewhere."""

    prefix = "/"

    def send_head(self):
        if not unquote(urlsplit(self.path).path).startswith(self.prefix):
            self.send_error(404)
            return None
        return super().send_head()

    def translate_path(self, path):
        clean = unquote(urlsplit(path).path)
        rest = clean[len(self.prefix):]
        parts = [p for p in posixpath.normpath("/" + rest).split("/") if p and p not in (".", "..")]
        full = os.path.join(self.directory, *parts)
        if clean.endswith("/") and not full.endswith(os.sep):
            full += os.sep
        return full

    def log_message(self, *args):  # keep test output quiet
        pass


@contextlib.contextmanager
def serve(root: Path, prefix: str = "/", headers: dict | None = None):
    """Serve ROOT under PREFIX on 127.0.0.1; yields the base URL, e.g. http://127.0.0.1:PORT/siaran-pers/."""
    extra = dict(headers or {})

    class Handler(_Handler):
        def end_headers(self):
            for name, value in extra.items():
                self.send_header(name, value)
            super().end_headers()

    Handler.prefix = prefix
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{prefix}"
    finally:
        server.shutdown()
        server.server_close()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def fetch(url: str) -> tuple[int, bytes, str]:
    """GET without following redirects: (status, body, content type)."""
    try:
        with _OPENER.open(url, timeout=10) as response:
            return response.status, response.read(), response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        return exc.code, b"", ""


class Links(HTMLParser):
    """Every URL a page makes the browser or reader fetch or follow."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self._jsonld: list[str] | None = None

    def handle_data(self, data):
        if self._jsonld is not None:
            self._jsonld.append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._jsonld is not None:
            self.urls.extend(_json_urls(json.loads("".join(self._jsonld))))
            self._jsonld = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script" and a.get("type") == "application/ld+json":
            self._jsonld = []
        for name in ("href", "src", "action"):
            if a.get(name) and (tag, name) in {("a", "href"), ("link", "href"), ("img", "src"), ("script", "src"), ("iframe", "src"), ("source", "src"), ("area", "href"), ("form", "action")}:
                self.urls.append(a[name])
        if a.get("srcset") and tag in {"img", "source"}:
            for candidate in a["srcset"].split(","):
                if candidate.strip():
                    self.urls.append(candidate.strip().split()[0])
        if tag == "meta" and (a.get("property") or a.get("name")) in {"og:image", "twitter:image"} and a.get("content"):
            self.urls.append(a["content"])
        if tag == "meta" and (a.get("http-equiv") or "").lower() == "refresh":
            content = a.get("content") or ""
            if "url=" in content.lower():
                self.urls.append(content[content.lower().index("url=") + 4:].strip().strip("'\""))


def _json_urls(data) -> list[str]:
    """Every http(s) URL among the values of structured data (url, logo, image, ...)."""
    if isinstance(data, dict):
        return [u for v in data.values() for u in _json_urls(v)]
    if isinstance(data, list):
        return [u for v in data for u in _json_urls(v)]
    return [data] if isinstance(data, str) and data.startswith(("http://", "https://")) else []


def page_links(html: str) -> list[str]:
    parser = Links()
    parser.feed(html)
    return parser.urls


def xml_links(data: bytes) -> list[str]:
    """Links of a feed (entries, their HTML content) or a sitemap."""
    tree = ET.fromstring(data)
    urls = [el.text.strip() for el in tree.iter(SITEMAP + "loc") if el.text]
    for link in tree.iter(ATOM + "link"):
        urls.append(link.get("href"))
    for content in tree.iter(ATOM + "content"):
        if content.get("type") == "html" and content.text:
            urls.extend(page_links(content.text))
    return urls


def crawl(start: list[str], public_base: str, local_base: str) -> tuple[dict[str, int], dict[str, set[str]]]:
    """Follow every link of the site from START; public URLs under PUBLIC_BASE are fetched from LOCAL_BASE.

    Returns (status of every local URL visited, the pages each URL was found on).
    Links to other hosts, mailto: and tel: are not followed.
    """
    status: dict[str, int] = {}
    found_on: dict[str, set[str]] = {}
    queue = [(url, "(start)") for url in start]
    while queue:
        raw, referrer = queue.pop()
        url = urldefrag(urljoin(referrer if referrer != "(start)" else local_base, raw))[0]
        if url.startswith(public_base):
            url = local_base + url[len(public_base):]
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or parts.netloc != urlsplit(local_base).netloc:
            continue  # another host, mailto:, tel:
        found_on.setdefault(url, set()).add(referrer)
        if url in status:
            continue
        code, body, ctype = fetch(url)
        status[url] = code
        if code != 200:
            continue
        if "html" in ctype:
            queue.extend((link, url) for link in page_links(body.decode("utf-8")))
        elif url.endswith(".xml"):
            queue.extend((link, url) for link in xml_links(body))
        elif url.endswith("robots.txt"):
            queue.extend((line.split(":", 1)[1].strip(), url) for line in body.decode().splitlines() if line.lower().startswith("sitemap:"))
    return status, found_on
