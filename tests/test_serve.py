"""`kabargen serve` over real HTTP on 127.0.0.1: pages, reloads, errors, safety, shutdown."""

from __future__ import annotations

import gzip
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import SITES, build_site, grep_tree, read_tree, release, run_cli
from kabargen.serve import Preview, ServeOptions, is_loopback, split_target

RELEASE = "content/rilis/2025/05/pelatihan-umkm.md"
RELEASE_URL = "/rilis/2025/05/pelatihan-umkm/"
DRAFT_URL = "/rilis/2025/05/draf-rahasia/"
EMBARGO_URL = "/rilis/2025/05/embargo-penanda/"
SCRIPT = re.compile(rb'<script src="/__kabargen/reload\.js" data-generation="[^"]*"></script>\n')
TIMEOUT = 20  # seconds: an upper bound for a rebuild on a slow CI machine, never a sleep


@pytest.fixture
def site(tmp_path) -> Path:
    root = tmp_path / "basic"
    shutil.copytree(SITES / "basic", root)
    (root / "static").mkdir()
    (root / "static" / "CNAME").write_text("pers.example.go.id\n")
    # The lead photo's original is published too, so /media/foto.jpg is a file to serve (docs/images.md).
    with open(root / "kabargen.yaml", "a", encoding="utf-8") as config:
        config.write("images: {publish_originals: true}\n")
    return root


@contextmanager
def serving(root: Path, **options):
    """A preview of ROOT on a free port; its terminal lines collected in .lines."""
    lines: list[str] = []
    preview = Preview(ServeOptions(source=root, port=0, jobs=1, **options), echo=lambda message="", err=False: lines.append(str(message)))
    preview.lines = lines
    preview.start()
    try:
        yield preview
    finally:
        preview.stop()


def get(preview: Preview, path: str, method: str = "GET", headers: dict | None = None):
    """(status, headers with lower-case names, body) of one request, path sent as written."""
    conn = http.client.HTTPConnection("127.0.0.1", preview.port, timeout=TIMEOUT)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def raw(port: int, data: bytes) -> bytes:
    """Send bytes as they are and read the whole answer (for requests http.client refuses)."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)  # no more is coming: the server must answer what it has
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


class Events:
    """A client of the Server-Sent Events stream that tells open tabs to reload."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.sock.sendall(b"GET /__kabargen/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
        self.stream = self.sock.makefile("rb")
        status = self.stream.readline()
        assert b" 200 " in status, status
        while self.stream.readline() not in (b"\r\n", b"\n", b""):
            pass

    def next(self) -> str:
        """The data of the next event (keep-alive comments skipped); fail after TIMEOUT seconds."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            # Keep-alive comments arrive more often than the socket times out: count time here.
            assert time.monotonic() < deadline, f"no reload announced within {TIMEOUT} s"
            line = self.stream.readline()
            assert line, "the event stream ended"
            if line.startswith(b"data: "):
                return line[6:].decode().strip()

    def close(self) -> None:
        self.stream.close()
        self.sock.close()


def wait_until(condition, timeout: float = TIMEOUT) -> None:
    """Poll CONDITION until it holds; fail after TIMEOUT seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def served_index(preview: Preview) -> bytes:
    """Every file of the search index the preview serves, fetched over HTTP and decompressed."""
    blobs = []
    for key in sorted(preview.state.site.index):
        data = get(preview, "/" + key)[2]
        blobs.append(gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data)
    return b"\n".join(blobs)


def save(path: Path, text: str) -> None:
    """Save the way many editors do: write a temporary file beside it, then rename it over."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def strip_script(page: bytes) -> bytes:
    return SCRIPT.sub(b"", page)


# -- serving ---------------------------------------------------------------------------------


def test_pages_and_files_with_honest_headers(site):
    with serving(site) as preview:
        status, headers, body = get(preview, "/")
        assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
        assert b"Siaran Pers Uji Dasar" in body
        assert headers["cache-control"] == "no-cache" and headers["etag"]
        assert body.count(b"/__kabargen/reload.js") == 1 and body.index(b"/__kabargen/reload.js") < body.rindex(b"</body>")
        assert int(headers["content-length"]) == len(body)

        status, again, _ = get(preview, "/", headers={"If-None-Match": headers["etag"]})
        assert status == 304 and again["etag"] == headers["etag"]

        status, head_headers, head_body = get(preview, "/", method="HEAD")
        assert status == 200 and head_body == b"" and head_headers["content-length"] == headers["content-length"]

        css = re.search(rb'href="(/assets/style\.[0-9a-f]+\.css)"', body).group(1).decode()
        expected = {
            css: "text/css; charset=utf-8",
            "/feed.xml": "application/atom+xml; charset=utf-8",
            "/tag/umkm/feed.xml": "application/atom+xml; charset=utf-8",
            "/sitemap.xml": "application/xml; charset=utf-8",
            "/robots.txt": "text/plain; charset=utf-8",
            "/media/materi.pdf": "application/pdf",
            "/CNAME": "application/octet-stream",
        }
        for path, ctype in expected.items():
            status, headers, body = get(preview, path)
            assert (status, headers["content-type"]) == (200, ctype), path
            assert b"__kabargen" not in body, f"reload script in {path}"
            assert headers["x-content-type-options"] == "nosniff"
        assert get(preview, "/media/materi.pdf")[2] == (site / "content/media/materi.pdf").read_bytes()

        status, headers, body = get(preview, "/tag/umkm?x=1")
        assert status == 302 and headers["location"] == "/tag/umkm/?x=1"
        status, headers, body = get(preview, "/tidak-ada/")
        assert status == 404 and headers["content-type"] == "text/html; charset=utf-8"
        assert strip_script(body) == preview.state.site.pages["404.html"] and b"/__kabargen/reload.js" in body
        assert get(preview, "/", method="POST")[0] == 405
    assert not (site / "public").exists(), "serve must not write the site folder's output"


def test_drafts_and_embargoes_shown_with_banner_by_default(site):
    with serving(site) as preview:
        status, _, draft = get(preview, DRAFT_URL)
        assert status == 200 and b"DRAFMARKER123" in draft
        assert "DRAF".encode() in draft and b'<meta name="robots" content="noindex">' in draft
        status, _, embargoed = get(preview, EMBARGO_URL)
        assert status == 200 and "EMBARGO hingga".encode() in embargoed
        assert get(preview, "/media/draf.pdf")[0] == 200
        assert any("drafts and embargoed releases shown" in line for line in preview.lines)


def test_no_drafts_serves_exactly_what_build_publishes(site, tmp_path):
    out = tmp_path / "published"
    assert build_site(site, output=out).ok
    built = read_tree(out)
    with serving(site, drafts=False) as preview:
        # The search index follows the pages in the background: the build's, from its cache.
        wait_until(lambda: get(preview, "/pagefind/pagefind-entry.json")[2] == built["pagefind/pagefind-entry.json"])
        for rel, data in built.items():
            url = "/" + (rel[: -len("index.html")] if rel.endswith("index.html") else rel)
            status, _, body = get(preview, url)
            assert (status if rel != "404.html" else 200) == 200, rel
            assert strip_script(body) == data, rel
        for hidden in (DRAFT_URL, EMBARGO_URL, "/media/draf.pdf", "/tag/tagar-khusus-draf/"):
            status, _, body = get(preview, hidden)
            assert status == 404 and b"DRAFMARKER123" not in body, hidden


def test_pages_asked_for_right_after_a_save_are_the_built_ones(site, tmp_path):
    # A content save is announced before every page is rendered again (docs/serve.md): the
    # pages a tab asks for at once are rendered on request, and must be what a build writes.
    path = site / RELEASE
    with serving(site, drafts=False) as preview:
        events = Events(preview.port)
        try:
            first = events.next()
            save(path, path.read_text().replace("Pelatihan berlangsung dua hari.", "Pelatihan berlangsung LIMA hari."))
            assert events.next() != first
            early = {url: get(preview, url)[2] for url in (RELEASE_URL, "/", "/tag/umkm/", "/feed.xml")}
        finally:
            events.close()
        assert b"Pelatihan berlangsung LIMA hari." in early[RELEASE_URL]
        out = tmp_path / "published"
        assert build_site(site, output=out).ok
        built = read_tree(out)
        for url, body in early.items():
            rel = url.lstrip("/") + ("index.html" if url.endswith("/") else "")
            assert strip_script(body) == built[rel], url
        for rel, data in built.items():
            if rel.endswith(".html") and not rel.startswith("pagefind/"):
                url = "/" + (rel[: -len("index.html")] if rel.endswith("index.html") else rel)
                assert strip_script(get(preview, url)[2]) == data, rel


def test_a_patched_save_is_confirmed_by_a_full_build(site):
    # A save that only edits a release's text is answered from the files the watcher names
    # (docs/serve.md); a full build follows in the background, so a change the watcher did
    # not report (here: made while nothing watched) still reaches the browser.
    path, other = site / RELEASE, site / "content/rilis/2025/05/jembatan-desa-selesai.md"
    other_url = "/rilis/2025/05/jembatan-desa-selesai/"
    with serving(site, drafts=False) as preview:
        events = Events(preview.port)
        try:
            first = events.next()
            preview._observer.unschedule_all()
            preview._watches.clear()
            other.write_text(other.read_text().replace("title: Jembatan Desa Sungai Hijau Selesai Dibangun", "title: Jembatan TANPAKABAR Selesai"))
            save(path, path.read_text().replace("Pelatihan berlangsung dua hari.", "Pelatihan berlangsung ENAM hari."))
            preview.notice(str(path))
            second = events.next()
            assert second != first
            assert b"ENAM hari" in get(preview, RELEASE_URL)[2]
            assert b"TANPAKABAR" not in get(preview, other_url)[2], "only the file named was read at first"
            third = events.next()
            assert third != second
            assert b"TANPAKABAR" in get(preview, other_url)[2] and b"ENAM hari" in get(preview, RELEASE_URL)[2]
        finally:
            events.close()


def test_search_index_follows_edits_in_a_private_folder(site):
    with serving(site) as preview:
        folder = preview._search.folder
        assert folder.is_dir() and site not in folder.parents
        wait_until(lambda: preview.search_ready)
        index = served_index(preview)
        assert b"DRAFMARKER123" in index, "the preview searches what it shows, drafts included"
        path = site / RELEASE
        save(path, path.read_text().replace("Pelatihan berlangsung dua hari.", "Pelatihan berlangsung di balai TERAPUNGKATA."))
        wait_until(lambda: b"TERAPUNGKATA" in get(preview, RELEASE_URL)[2])
        wait_until(lambda: preview.search_ready)
        index = served_index(preview)
        assert b"terapungkata" in index.lower() and b"berlangsung dua hari" not in index
    assert not folder.exists(), "the private folder is removed on exit"
    assert not (site / ".kabargen-cache").exists() and not (site / "public").exists()


def test_build_output_has_no_reload_script(site):
    with serving(site):
        pass
    result = run_cli("build", "--source", str(site), "--drafts")
    assert result.returncode == 0, result.stderr
    assert grep_tree(site / "public", "__kabargen") == []
    assert grep_tree(site / "public", "EventSource") == []


def test_sub_path_base_url_is_served_under_its_path(site):
    config = site / "kabargen.yaml"
    config.write_text(config.read_text().replace("https://pers.example.go.id/", "https://diskominfo.github.io/siaran-pers/"))
    with serving(site) as preview:
        assert preview.url.endswith("/siaran-pers/")
        for path in ("/", "/siaran-pers"):
            status, headers, _ = get(preview, path)
            assert status == 302 and headers["location"] == "/siaran-pers/", path
        assert get(preview, "/siaran-pers/")[0] == 200
        status, _, body = get(preview, "/siaran-pers" + RELEASE_URL)
        assert status == 200 and b'href="/siaran-pers/tag/umkm/"' in body
        assert get(preview, "/siaran-pers/tag/umkm")[2] == b"" and get(preview, "/siaran-pers/tag/umkm")[1]["location"] == "/siaran-pers/tag/umkm/"
        assert get(preview, RELEASE_URL)[0] == 404


# -- rebuilding and reloading -----------------------------------------------------------------


def test_a_save_is_served_and_announced_once(site):
    path = site / RELEASE
    with serving(site) as preview:
        events = Events(preview.port)
        try:
            first = events.next()
            _, _, page = get(preview, RELEASE_URL)
            assert f'data-generation="{first}"'.encode() in page
            save(path, path.read_text().replace("Pelatihan berlangsung dua hari.", "Pelatihan berlangsung TIGA hari."))
            second = events.next()
            assert second != first
            _, _, page = get(preview, RELEASE_URL)
            assert b"Pelatihan berlangsung TIGA hari." in page and f'data-generation="{second}"'.encode() in page
            assert len([line for line in preview.lines if "Rebuilt" in line]) == 1, preview.lines

            # A burst the way vim saves (probe file, backup rename, write, delete): one rebuild.
            probe, backup = path.with_name("4913"), path.with_name(path.name + "~")
            probe.write_text("")
            probe.unlink()
            os.rename(path, backup)
            path.write_text(backup.read_text().replace("TIGA", "EMPAT"), encoding="utf-8")
            backup.unlink()
            third = events.next()
            assert b"Pelatihan berlangsung EMPAT hari." in get(preview, RELEASE_URL)[2]
            assert third != second
            assert len([line for line in preview.lines if "Rebuilt" in line]) == 2, preview.lines
            assert "Rebuilt" in preview.lines[-1] and os.path.relpath(path) in preview.lines[-1]
        finally:
            events.close()


def test_editor_leftovers_do_not_count_as_changes(site):
    with serving(site) as preview:
        folder = site / "content/rilis/2025/05"
        for name in (".pelatihan-umkm.md.swp", "pelatihan-umkm.md~", "4913", "#pelatihan-umkm.md#", ".DS_Store"):
            assert not preview.relevant(str(folder / name)), name
        for path in (folder / "pelatihan-umkm.md", site / "kabargen.yaml", site / "static/.nojekyll", site / "templates/base.html"):
            assert preview.relevant(str(path)), path
        assert not preview.relevant(str(site / "public"))
        assert not preview.relevant(str(site / ".kabargen-cache"))
        assert not preview.relevant(str(site / "content/.git/index"))


def test_content_error_shows_error_page_until_fixed(site):
    path = site / RELEASE
    good = path.read_text()
    with serving(site) as preview:
        events = Events(preview.port)
        try:
            events.next()
            _, _, home = get(preview, "/")
            css = re.search(rb'href="(/assets/style\.[0-9a-f]+\.css)"', home).group(1).decode()
            save(path, good.replace("date: 2025-05-12 13:30", 'date: "<script>alert(1)</script>"'))
            events.next()
            where = f"{os.path.relpath(path)}:3: error:"
            for url in ("/", RELEASE_URL, "/tidak-ada/"):
                status, headers, body = get(preview, url)
                assert status == 500 and headers["content-type"] == "text/html; charset=utf-8", url
                assert where.encode() in body and b"/__kabargen/reload.js" in body
                assert b"<script>alert(1)" not in body and b"&lt;script&gt;alert(1)&lt;/script&gt;" in body
            assert any(line.startswith(where) for line in preview.lines), preview.lines
            assert get(preview, css)[0] == 200, "assets stay available while the site is broken"

            save(path, good.replace("Pelatihan berlangsung dua hari.", "Pelatihan sudah diperbaiki."))
            events.next()
            status, _, body = get(preview, RELEASE_URL)
            assert status == 200 and b"Pelatihan sudah diperbaiki." in body
        finally:
            events.close()


def test_broken_at_start_then_fixed(make_site):
    root = make_site({"content/a.md": release(title="Rilis A", date="bukan tanggal")})
    with serving(root) as preview:
        status, _, body = get(preview, "/")
        assert status == 500 and f"{os.path.relpath(root / 'content/a.md')}:3: error:".encode() in body
        assert get(preview, "/feed.xml")[0] in (404, 500)
        events = Events(preview.port)
        try:
            events.next()
            save(root / "content/a.md", release(title="Rilis A Sudah Benar"))
            events.next()
            status, _, body = get(preview, "/")
            assert status == 200 and b"Rilis A Sudah Benar" in body
        finally:
            events.close()


def test_broken_config_and_template_are_shown_too(site):
    config = site / "kabargen.yaml"
    good = config.read_text()
    with serving(site) as preview:
        events = Events(preview.port)
        try:
            events.next()
            save(config, good.replace("per_page: 2", "per_page: banyak"))
            events.next()
            status, _, body = get(preview, "/")
            assert status == 500 and f"{os.path.relpath(config)}:3: error:".encode() in body
            save(config, good)
            events.next()
            assert get(preview, "/")[0] == 200

            (site / "templates").mkdir()
            save(site / "templates/404.html", "{% extends 'base.html' %}\n{% block main %}{{ 1 + }}{% endblock %}\n")
            events.next()
            status, _, body = get(preview, RELEASE_URL)
            assert status == 500 and b"404.html:2" in body, body
            (site / "templates/404.html").unlink()
            events.next()
            assert get(preview, RELEASE_URL)[0] == 200
        finally:
            events.close()


def test_an_embargo_lifts_while_serving(make_site):
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    soon = datetime.now(ZoneInfo("Asia/Makassar")) + timedelta(seconds=2)
    root = make_site({
        "content/a.md": release(title="Rilis Terbit"),
        "content/b.md": release(title="Rilis Embargo Singkat", embargo=soon.strftime("%Y-%m-%d %H:%M:%S")),
    })
    with serving(root, drafts=False) as preview:
        events = Events(preview.port)
        try:
            events.next()
            assert get(preview, "/rilis/2025/05/b/")[0] == 404
            events.next()  # no file changed: the preview rebuilt when the embargo lifted
            status, _, body = get(preview, "/rilis/2025/05/b/")
            assert status == 200 and b"Rilis Embargo Singkat" in body and b"EMBARGO" not in body
        finally:
            events.close()


# -- safety ------------------------------------------------------------------------------------


def test_nothing_outside_the_built_site_is_served(site, tmp_path):
    secret = tmp_path / "rahasia.txt"
    secret.write_text("RAHASIAMARKER789")
    (site / "content/media/tautan.txt").symlink_to(secret)
    (site / "static/tautan-static.txt").symlink_to(secret)
    with serving(site) as preview:
        attempts = [
            "/../rahasia.txt", "/..", "/../kabargen.yaml", "/%2e%2e/kabargen.yaml", "/%2E%2E/%2e%2E/rahasia.txt",
            "/media/..%2f..%2fkabargen.yaml", "/media%2f..%2f..%2fkabargen.yaml", "/media/%2e%2e/%2e%2e/kabargen.yaml",
            "/%252e%252e/kabargen.yaml", "/..%5ckabargen.yaml", "/media\\..\\..\\kabargen.yaml", "/media/./foto.jpg",
            "//etc/passwd", "/etc/passwd", str(secret), "/kabargen.yaml", "/content/media/foto.jpg",
            "/" + RELEASE, "/media/tautan.txt", "/tautan-static.txt", "/media/foto.jpg%00.html",
            "/%ff%fe", "/__kabargen/../kabargen.yaml",
        ]
        for target in attempts:
            answer = raw(preview.port, f"GET {target} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode())
            assert answer.startswith(b"HTTP/1.0 404 "), (target, answer[:80])
            assert b"RAHASIAMARKER789" not in answer and b"title: Siaran Pers" not in answer, target
        for target in (b"/media/foto.jpg\x00", b"http://127.0.0.1/../kabargen.yaml", b"*", b"rilis/"):
            answer = raw(preview.port, b"GET " + target + b" HTTP/1.0\r\n\r\n")
            assert answer.split(b" ", 2)[1] in (b"400", b"404"), (target, answer[:80])
            assert b"RAHASIAMARKER789" not in answer
        assert get(preview, "/media/materi.pdf")[0] == 200, "the server still answers"


def test_malformed_requests_do_not_break_it(site):
    with serving(site) as preview:
        for junk in (b"GARBAGE\r\n\r\n", b"GET\r\n\r\n", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", b"GET / HTTP/9.9\r\n\r\n",
                     b"GET /" + b"a" * 70000 + b" HTTP/1.0\r\n\r\n", b"GET / HTTP/1.0\r\nBad header line\r\n\r\n", b"\r\n"):
            try:
                raw(preview.port, junk)
            except ConnectionError:
                pass
        with socket.create_connection(("127.0.0.1", preview.port), timeout=TIMEOUT) as half:
            half.sendall(b"GET / HT")  # and goes away mid-request
        assert get(preview, "/")[0] == 200


def test_other_host_names_are_refused_on_loopback(site):
    with serving(site) as preview:
        assert get(preview, "/", headers={"Host": "evil.example:8000"})[0] == 403
        assert get(preview, "/__kabargen/events", headers={"Host": "evil.example"})[0] == 403
        for host in ("localhost:1234", "127.0.0.1", "[::1]:80"):
            assert get(preview, "/", headers={"Host": host})[0] == 200, host


def test_split_target_and_loopback():
    assert split_target("/rilis/a/?x=1") == ["rilis", "a", ""]
    assert split_target("/caf%C3%A9") == ["café"]
    for bad in ("rilis", "//x", "/a//b", "/a/../b", "/%2e%2e", "/a%2Fb", "/a%5Cb", "/a%00", "/a\\b", "/%ff", "http://x/"):
        assert split_target(bad) is None, bad
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost") and is_loopback("127.1.2.3")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5") and not is_loopback("example.org")


# -- the command -------------------------------------------------------------------------------


def start_cli(root: Path, *args: str, env: dict | None = None) -> tuple[subprocess.Popen, str]:
    """`kabargen serve` in a new process (and process group, like a terminal's job); returns it and
    the URL it printed."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "kabargen", "serve", "--source", str(root), "--port", "0", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})},
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        match = re.match(r"Serving (http://127\.0\.0\.1:\d+/\S*)", line)
        if match:
            return proc, match.group(1)
    proc.kill()
    raise AssertionError(f"no Serving line: {proc.communicate()}")


def test_ctrl_c_stops_cleanly_and_open_opens_the_browser(site, tmp_path):
    opened = tmp_path / "opened.txt"
    # The standard library's webbrowser runs $BROWSER with the URL in place of %s.
    browser = f"{sys.executable} -c \"import sys; open(sys.argv[1], 'w').write(sys.argv[2])\" {opened} %s"
    private = tmp_path / "tmp"
    private.mkdir()
    proc, url = start_cli(site, "--open", env={"BROWSER": browser, "TMPDIR": str(private)})
    try:
        deadline = time.monotonic() + TIMEOUT
        while not (opened.is_file() and opened.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert opened.read_text() == url
        port = int(re.search(r":(\d+)/", url).group(1))
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
        conn.request("GET", RELEASE_URL)
        assert conn.getresponse().status == 200
        events = Events(port)  # an open tab must not keep the server from stopping
        events.next()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=TIMEOUT)
        events.close()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "Stopped." in out
    assert not (site / "public").exists() and not (site / ".kabargen-cache").exists()
    assert list(private.iterdir()) == [], "the private folder (search index) is removed"


def test_ctrl_c_in_the_middle_of_a_build_with_workers(make_site, tmp_path):
    # Enough releases for the build to use worker processes; Ctrl-C in a terminal reaches them too.
    files = {f"content/rilis/r{i:03d}.md": release(title=f"Rilis {i}", body="Paragraf. " * 200) for i in range(80)}
    root = make_site(files)
    private = tmp_path / "tmp"
    private.mkdir()
    proc, _ = start_cli(root, env={"TMPDIR": str(private)})
    try:
        save(root / "content/rilis/r000.md", release(title="Rilis Nol Diubah", body="Paragraf. " * 200))
        time.sleep(0.3)  # past the quiet spell: the rebuild has started
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "Stopped." in out
    deadline = time.monotonic() + TIMEOUT
    while True:  # no worker (or Pagefind) process is left behind; killed ones vanish once reaped
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        assert time.monotonic() < deadline, "processes of the server are still running"
        time.sleep(0.05)
    assert list(private.iterdir()) == []


def test_port_in_use_is_a_clear_error(site):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("serve", "--source", str(site), "--port", str(port))
    assert result.returncode == 2
    assert f"port {port}" in result.stderr and "in use" in result.stderr and "Traceback" not in result.stderr


def test_not_a_site_folder(tmp_path):
    result = run_cli("serve", "--source", str(tmp_path), "--port", "0")
    assert result.returncode == 2 and "kabargen.yaml" in result.stderr


# -- in a real browser ---------------------------------------------------------------------------

def test_open_tabs_reload_by_themselves(site):
    from browser import launch_browser

    path = site / RELEASE
    with serving(site) as preview, launch_browser() as browser:
        context = browser.new_context()
        try:
            # More tabs than a browser opens connections to one host: all must still load and reload.
            tabs = [context.new_page() for _ in range(8)]
            for tab in tabs:
                tab.goto(preview.url.rstrip("/") + RELEASE_URL)
            save(path, path.read_text().replace("Pelatihan berlangsung dua hari.", "Pelatihan berlangsung LIMA hari."))
            for tab in tabs:
                tab.wait_for_function("document.body.innerText.includes('LIMA hari')", timeout=TIMEOUT * 1000, polling=100)
            save(path, path.read_text().replace("date: 2025-05-12 13:30", "date: kemarin"))
            tabs[0].wait_for_function("document.title.includes('dibangun')", timeout=TIMEOUT * 1000, polling=100)
            assert "pelatihan-umkm.md:3" in tabs[0].inner_text("body")
            save(path, path.read_text().replace("date: kemarin", "date: 2025-05-12 13:30"))
            tabs[0].wait_for_function("document.body.innerText.includes('LIMA hari')", timeout=TIMEOUT * 1000, polling=100)
        finally:
            context.close()
