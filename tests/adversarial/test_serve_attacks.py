"""`kabargen serve`, run for real, survives hostile requests and hostile edits: it keeps answering,
never serves a byte from outside the built site, and never prints a traceback."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from hostile import front_matter

TIMEOUT = 30  # an upper bound for a rebuild on a slow CI machine, never a sleep
SECRET = "RAHASIA-SERVE-Q8"
CONFIG = "title: Siaran Pers Uji\nbase_url: https://pers.example.go.id/\nsearch: false\n"


class Server:
    """`kabargen serve` in its own process on a free port, its output collected."""

    def __init__(self, root: Path, *args: str):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kabargen", "serve", "--source", str(root), "--port", "0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        )
        self.out: list[str] = []
        self.err: list[str] = []
        started = threading.Event()
        self.port = 0

        def read(stream, into, watch):
            for line in stream:
                into.append(line)
                found = watch and re.search(r"Serving http://127\.0\.0\.1:(\d+)/", line)
                if found:
                    self.port = int(found.group(1))
                    started.set()

        threading.Thread(target=read, args=(self.process.stdout, self.out, True), daemon=True).start()
        threading.Thread(target=read, args=(self.process.stderr, self.err, False), daemon=True).start()
        if not started.wait(TIMEOUT):
            self.stop()
            pytest.fail("kabargen serve did not start: " + "".join(self.err))

    def get(self, path: str, headers: dict | None = None) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
        try:
            conn.request("GET", path, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def raw(self, data: bytes) -> bytes:
        with socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT) as sock:
            try:
                sock.sendall(data)
                sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass  # the server may close on a request it refuses before reading it all
            chunks = []
            try:
                while chunk := sock.recv(65536):
                    chunks.append(chunk)
            except ConnectionResetError:
                pass
        return b"".join(chunks)

    def wait_for(self, path: str, condition, timeout: float = TIMEOUT) -> tuple[int, bytes]:
        deadline = time.monotonic() + timeout
        while True:
            answer = self.get(path)
            if condition(*answer):
                return answer
            assert time.monotonic() < deadline, (path, answer[0], answer[1][:300])
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def healthy(self) -> None:
        assert self.process.poll() is None, "".join(self.err)
        status, body = self.get("/")
        assert status == 200 and b"Rilis Terbuka" in body
        assert "Traceback" not in "".join(self.err), "".join(self.err)


@pytest.fixture
def server(make_site, tmp_path):
    (tmp_path / "rahasia.txt").write_text(SECRET)
    root = make_site({
        "kabargen.yaml": CONFIG,
        "content/rilis/a.md": front_matter({"title": "Rilis Terbuka", "date": "2025-05-15 10:00", "byline": "[Rina]"}, "Isi rilis."),
        "content/media/foto.jpg": b"\xff\xd8foto",
    })
    os.symlink(tmp_path / "rahasia.txt", root / "content/media/luar.txt")
    running = Server(root)
    running.root = root
    try:
        yield running
    finally:
        running.stop()


def test_hostile_request_lines_and_paths(server):
    attacks = [
        b"GET /..;/kabargen.yaml HTTP/1.0\r\n\r\n",
        b"GET /%c0%ae%c0%ae/kabargen.yaml HTTP/1.0\r\n\r\n",
        b"GET /%u002e%u002e/kabargen.yaml HTTP/1.0\r\n\r\n",
        b"GET /media/luar.txt HTTP/1.0\r\n\r\n",
        b"GET /media/..%252f..%252fkabargen.yaml HTTP/1.0\r\n\r\n",
        b"GET /content/rilis/a.md HTTP/1.0\r\n\r\n",
        b"GET /.kabargen-cache/ HTTP/1.0\r\n\r\n",
        b"GET http://evil.example/kabargen.yaml HTTP/1.1\r\nHost: evil.example\r\n\r\n",
        b"CONNECT 127.0.0.1:22 HTTP/1.1\r\n\r\n",
        b"TRACE / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        b"GET /\xff\xfe\xfd HTTP/1.0\r\n\r\n",
        b"GET /\xe2\x80\xae HTTP/1.0\r\n\r\n",
        b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n\r\n",
        b"GET /rilis/2025/05/a HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n",  # redirect target stays on this server
        b"GET //evil.example/%2e%2e HTTP/1.0\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\nGET /kabargen.yaml HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.0\r\n" + b"X: " + b"a" * 70000 + b"\r\n\r\n",
        b"GET / HTTP/1.0\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(5000)) + b"\r\n",
        b"GET / HTTP/1.0\r\n" + b"X: a\r\n" * 90 + b"Folded:\r\n " + b"b" * 60000 + b"\r\n\r\n",
        b"POST / HTTP/1.0\r\nContent-Length: 99999999999\r\n\r\nabc",
        b"GET / HTTP/1.0\r\n\x00\x01\x02: \xff\r\n\r\n",
        b"\x00" * 1000,
    ]
    for attack in attacks:
        answer = server.raw(attack)
        assert SECRET.encode() not in answer and b"title: Siaran Pers Uji" not in answer and b"byline:" not in answer, attack[:60]
        location = re.search(rb"\r\nLocation: (\S+)", answer)
        assert location is None or location.group(1).startswith(b"/") and not location.group(1).startswith(b"//"), answer[:200]
    server.healthy()


def test_idle_and_half_open_connections_do_not_starve_it(server):
    idle = [socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) for _ in range(80)]
    try:
        for sock in idle[::2]:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")  # and never finishes
        server.healthy()
    finally:
        for sock in idle:
            sock.close()
    server.healthy()


def test_hostile_edits_keep_it_serving_the_last_good_files(server):
    release = server.root / "content/rilis/a.md"
    good = release.read_text()
    bomb = "x0: &x0 [a, a, a, a, a, a, a, a, a]\n" + "".join(f"x{i}: &x{i} [{', '.join([f'*x{i - 1}'] * 9)}]\n" for i in range(1, 10))
    edits = [
        good.replace("byline: [Rina]", "byline: [Rina]\n" + bomb),
        good.replace("byline: [Rina]", "byline: [Rina]\nx: " + "[" * 10_000 + "]" * 10_000),
        good.replace("byline: [Rina]", "byline: [Rina]\nsummary: !!python/object/apply:os.system ['echo DIBOBOL']"),
        good.replace("Rilis Terbuka", "Rilis <script>alert(1)</script>").replace("date: 2025-05-15 10:00", "date: 2025-13-45"),
        good.encode("utf-8").replace(b"Isi rilis.", b"Isi \xff rilis.").decode("latin-1"),
    ]
    for edit in edits:
        release.write_text(edit, encoding="latin-1" if "\xff" in edit else "utf-8")
        status, body = server.wait_for("/", lambda status, body: status == 500)
        assert f"{os.path.join('content', 'rilis', 'a.md')}:".encode() in body or b"a.md:" in body
        assert b"<script>alert(1)" not in body
        assert server.get("/media/foto.jpg") == (200, b"\xff\xd8foto")  # the last good files are still served
        assert server.process.poll() is None
    # A symbolic link loop and a vanished content folder while serving.
    release.write_text(good)
    os.symlink(server.root / "content", server.root / "content/putaran")
    server.wait_for("/", lambda status, body: status == 200)
    server.healthy()
    os.rename(server.root / "content", server.root / "content-lama")
    server.wait_for("/", lambda status, body: status in (200, 500) and b"Rilis Terbuka" not in body)
    os.rename(server.root / "content-lama", server.root / "content")
    server.wait_for("/", lambda status, body: status == 200 and b"Rilis Terbuka" in body)
    server.healthy()
    assert "DIBOBOL" not in "".join(server.out + server.err)
