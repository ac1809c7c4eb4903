"""Save-to-reload time of `kabargen serve`: from a file saved to the reload event, and to the new page.

    python bench/serve_reload.py --source SITE [--file content/...md] [--runs 5]

Starts `kabargen serve --port 0` on SITE, listens on its event stream like an open browser tab,
then appends a sentence to one release (the corpus's edit-target.txt, else --file) the way editors
save (a temporary file renamed over it), RUNS times. For each save it reports the time until the
reload event arrives and until the release's page serves the new sentence. The file is restored
at the end. Prints medians; the figures depend on the machine's load, so run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=Path("."))
    parser.add_argument("--file", help="release to edit, relative to the site (default: edit-target.txt, else the first release)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-drafts", action="store_true")
    args = parser.parse_args()

    root = args.source.resolve()
    rel = args.file
    if rel is None and (root / "edit-target.txt").is_file():
        rel = (root / "edit-target.txt").read_text().strip()
    if rel is None:
        rel = sorted(p.relative_to(root).as_posix() for p in (root / "content").rglob("*.md"))[0]
    target = root / rel
    original = target.read_bytes()

    command = [sys.executable, "-m", "kabargen", "serve", "--source", str(root), "--port", "0"]
    if args.no_drafts:
        command.append("--no-drafts")
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        port = None
        for line in proc.stdout:
            match = re.match(r"Serving http://127\.0\.0\.1:(\d+)(/\S*)", line)
            if match:
                port, base = int(match.group(1)), match.group(2)
                break
        if port is None:
            raise SystemExit("kabargen serve did not start")
        print(f"started in {time.perf_counter() - started:.2f} s (first build included)")
        url = page_url(root, rel, base, port)
        events = EventStream(port)
        events.next()
        to_event, to_page, cpu = [], [], []
        for run in range(args.runs):
            marker = f"Kalimat uji muat ulang nomor {run} {time.time_ns()}."
            cpu_before = cpu_seconds(proc.pid)
            saved = time.perf_counter()
            save(target, original + f"\n{marker}\n".encode())
            events.next()
            to_event.append(time.perf_counter() - saved)
            deadline = time.perf_counter() + 300
            while marker.encode() not in fetch(port, url):
                if time.perf_counter() > deadline:
                    raise SystemExit(f"{url} never showed the edit")
                time.sleep(0.005)
            to_page.append(time.perf_counter() - saved)
            cpu.append(cpu_seconds(proc.pid) - cpu_before)
            print(f"run {run + 1}: reload event {to_event[-1]:.3f} s, new page served {to_page[-1]:.3f} s, cpu {cpu[-1]:.2f} s")
        print(
            f"median over {args.runs}: reload event {statistics.median(to_event):.3f} s, new page {statistics.median(to_page):.3f} s, "
            f"cpu {statistics.median(cpu):.2f} s; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
        )
        events.close()
    finally:
        save(target, original)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    return 0


def page_url(root: Path, rel: str, base: str, port: int) -> str:
    """The path of the edited release on the live site, found in the sitemap by its slug."""
    text = (root / rel).read_text(encoding="utf-8")
    match = re.search(r"^slug:\s*['\"]?([^'\"\s]+)", text, re.M)
    slug = match.group(1) if match else Path(rel).stem
    sitemap = fetch(port, base + "sitemap.xml").decode("utf-8", "replace")
    for loc in re.findall(r"<loc>([^<]+)</loc>", sitemap):
        path = "/" + loc.split("://", 1)[-1].split("/", 1)[-1] if "://" in loc else loc
        if path.rstrip("/").endswith("/" + slug):
            return path
    raise SystemExit(f"{rel}: no page with slug {slug!r} in the sitemap (is it published?)")


def cpu_seconds(pid: int) -> float:
    """CPU time of the server and its finished worker processes (Linux /proc), in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def fetch(port: int, path: str) -> bytes:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("GET", path)
        return conn.getresponse().read()
    finally:
        conn.close()


def save(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.bench-tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


class EventStream:
    """What a browser tab does: listen to /__kabargen/events."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=600)
        self.sock.sendall(b"GET /__kabargen/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        self.stream = self.sock.makefile("rb")
        while self.stream.readline() not in (b"\r\n", b""):
            pass

    def next(self) -> str:
        while True:
            line = self.stream.readline()
            if not line:
                raise SystemExit("the event stream ended")
            if line.startswith(b"data: "):
                return line[6:].decode().strip()

    def close(self) -> None:
        self.stream.close()
        self.sock.close()


if __name__ == "__main__":
    sys.exit(main())
