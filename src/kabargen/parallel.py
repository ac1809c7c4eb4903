"""Reading content with the cache and over several processes; the worker pools of a build.

Each Markdown file is read and hashed in the main process; a file whose hash (at the same
path) is in the cache is neither parsed nor converted again. The rest are parsed and
converted in worker processes, in batches, and the results come back in the order of the
files, so the outcome is the same whatever `--jobs` is.
"""

from __future__ import annotations

import contextlib
import hashlib
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from .cache import BuildCache
from .config import Config
from .errors import Diagnostic, error
from .model import BuildMemory, Markup, Page, Source
from .sources import Scan, display_path, parse_source, walk
from .workers import forking_quietly, give_back_free_memory, quiet_worker

# Below this many files to convert, starting processes costs more than it saves.
PARALLEL_THRESHOLD = 64
BATCH = 32
MARKDOWN_SUFFIXES = {".md", ".markdown"}

# The converter of a worker process, made once by the pool's initializer.
_WORKER: dict[str, Any] = {}


def job_count(jobs: int) -> int:
    """--jobs, where 0 means one per core."""
    return jobs if jobs > 0 else (os.cpu_count() or 1)


def pool_context():
    """Fork where the system has it: workers start at once and share what is loaded."""
    try:
        return multiprocessing.get_context("fork")
    except ValueError:  # pragma: no cover - Windows
        return multiprocessing.get_context()


def converter_args(config: Config) -> tuple:
    """The settings a converted body depends on: part of the cache's key."""
    return (config.base_path, tuple(config.embed_hosts), config.language)


def _converter(args: tuple):
    from .markup import Converter  # Markdown is imported only when something needs converting

    return Converter(*args)


def _init_worker(args: tuple) -> None:
    # Ctrl-C reaches the whole process group: the parent stops the pool, workers stay quiet.
    quiet_worker()
    _WORKER["converter"] = _converter(args)


def _convert_batch(items: list[tuple[bytes, str, str]]) -> list[tuple[str, tuple | None, list[Diagnostic]]]:
    return [_convert_one(_WORKER["converter"], raw, shown, rel) for raw, shown, rel in items]


def _convert_one(converter, raw: bytes, shown: str, rel: str) -> tuple[str, tuple | None, list[Diagnostic]]:
    """Parse and convert one file into a cache entry (plain data), with its problems."""
    source, problems = parse_source(raw, shown, rel)
    if source is None:
        return rel, None, problems
    m = converter.convert(source.body, rel, source.body_line)
    entry = (
        source.meta, dict(source.lines), source.body, source.body_line,
        m.html, m.xrefs, m.files, m.problems, m.first_paragraph, m.words,
    )
    return rel, entry, problems


def _from_entry(entry: tuple, shown: str, rel: str, digest: str) -> tuple[Source, Markup]:
    meta, lines, body, body_line, html, xrefs, files, problems, first, words = entry
    source = Source(shown, rel, meta, lines, body, body_line, digest)
    markup = Markup(
        html=html,
        xrefs=tuple(tuple(x) for x in xrefs),
        files=tuple(tuple(f) for f in files),
        problems=tuple(tuple(p) for p in problems),
        first_paragraph=first,
        words=words,
    )
    return source, markup


def read_content(root: Path, config: Config, cache: BuildCache, jobs: int, memory: BuildMemory | None = None) -> tuple[Scan, dict[str, Markup]]:
    """Every Markdown file under content/ as a Source and its converted body; other files listed.

    Gives what `sources.scan_content` and converting every body would, reusing the cache.
    MEMORY, kept by a long-running caller (kabargen serve) from one build to the next, holds
    the results of the last build by file, hash and settings: an unchanged file is taken from
    it without reading the cache (and keeps its Source object). It is updated to this build's files.
    """
    scan = Scan()
    content = root / "content"
    found = walk(content, root, scan)
    shown_base = display_path(content)
    scope = repr(converter_args(config))
    cache.use_source_scope(scope)
    remembered = memory.sources if memory is not None else {}
    done: dict[str, tuple[Source, Markup] | None] = {}
    problems: dict[str, list[Diagnostic]] = {}
    todo: list[tuple[bytes, str, str]] = []
    digests: dict[str, str] = {}
    order: list[str] = []
    for path, rel in found:
        if path.suffix.lower() not in MARKDOWN_SUFFIXES:
            scan.files.append((path, rel))
            continue
        order.append(rel)
        shown = os.path.join(shown_base, *rel.split("/"))
        try:
            raw = path.read_bytes()
        except OSError as exc:
            done[rel] = None
            problems[rel] = [error(shown, 0, f"cannot read file: {exc.strerror}")]
            continue
        digest = hashlib.sha256(raw).hexdigest()
        hit = remembered.get(memory_key(config, rel, digest, shown))
        if hit is not None:
            done[rel] = hit
            continue
        entry = cache.source(digest, rel)
        if entry is not None:
            try:
                done[rel] = _from_entry(entry, shown, rel, digest)
                continue
            except (TypeError, ValueError):  # a damaged entry: convert again
                pass
        digests[rel] = digest
        todo.append((raw, shown, rel))
    for rel, entry, found_problems in _convert_all(todo, converter_args(config), jobs):
        problems[rel] = found_problems
        if entry is None:
            done[rel] = None
            continue
        cache.put_source(digests[rel], rel, entry)
        done[rel] = _from_entry(entry, os.path.join(shown_base, *rel.split("/")), rel, digests[rel])
    if memory is not None:
        memory.sources = {memory_key(config, rel, result[0].digest, result[0].path): result for rel, result in done.items() if result is not None}
    markups: dict[str, Markup] = {}
    for rel in order:
        scan.diagnostics.extend(problems.get(rel, ()))
        result = done.get(rel)
        if result is None:
            scan.failed.append(rel)
            continue
        source, markup = result
        scan.sources.append(source)
        markups[rel] = markup
    return scan, markups


def memory_key(config: Config, rel: str, digest: str, shown: str) -> tuple:
    """Where BuildMemory.sources keeps a file's Source and Markup: what they were made from."""
    return (rel, digest, repr(converter_args(config)), shown)


def kept_converter(config: Config, memory: BuildMemory):
    """The converter MEMORY keeps for CONFIG's settings, made (and Markdown imported) on first use."""
    args = converter_args(config)
    if memory.converter is None or memory.converter[0] != args:
        memory.converter = (args, _converter(args))
    return memory.converter[1]


def convert_here(raw: bytes, digest: str, shown: str, rel: str, config: Config, memory: BuildMemory) -> tuple[Source | None, Markup | None, list[Diagnostic]]:
    """Parse and convert one file in this process, as read_content would (kabargen serve's quick path).

    The converter is made once and kept in MEMORY: making one costs more than converting a release.
    """
    rel, entry, problems = _convert_one(kept_converter(config, memory), raw, shown, rel)
    if entry is None:
        return None, None, problems
    source, markup = _from_entry(entry, shown, rel, digest)
    return source, markup, problems


def _convert_all(todo: list[tuple[bytes, str, str]], args: tuple, jobs: int) -> Iterable[tuple[str, tuple | None, list[Diagnostic]]]:
    jobs = job_count(jobs)
    if jobs > 1 and len(todo) >= PARALLEL_THRESHOLD:
        batches = [todo[i : i + BATCH] for i in range(0, len(todo), BATCH)]
        with ProcessPoolExecutor(min(jobs, len(batches)), mp_context=pool_context(), initializer=_init_worker, initargs=(args,)) as pool:
            with forking_quietly():  # the first submit forks the workers
                pending = pool.map(_convert_batch, batches)
            for batch in pending:
                yield from batch
        return
    if not todo:
        return
    converter = _converter(args)
    for raw, shown, rel in todo:
        yield _convert_one(converter, raw, shown, rel)


# -- rendering and writing ------------------------------------------------------------

# Below this many releases, forking render processes costs more than it saves.
RENDER_PARALLEL_THRESHOLD = 200


@dataclass
class RenderOutcome:
    """What rendering (and staging) the pages gave, gathered from every process."""

    pages: list[Page] = field(default_factory=list)  # data dropped once staged
    diagnostics: list[Diagnostic] = field(default_factory=list)
    rendered: int = 0
    kept: int = 0
    cards: dict[str, str] = field(default_factory=dict)
    cancelled: bool = False  # ended early: the pages are not all there


def _render_share(make_renderer: Callable[[tuple[int, int]], Any], share: tuple[int, int], staging, on_template_error, stop: Callable[[], bool] | None = None) -> tuple:
    """Render (and stage) one share of the pages; return plain results (early when STOP says so)."""
    import jinja2

    renderer = make_renderer(share)
    pages: list[Page] = []
    rendered = 0
    stopped_early = False
    try:
        for page in renderer.iter_pages():
            if stop is not None and stop():
                stopped_early = True
                break
            if page.data is not None:
                rendered += 1
            if staging is not None:
                staging.put_page(page)
                page = Page(page.url, None, page.key)
            pages.append(page)
    except jinja2.TemplateError as exc:
        return pages, [on_template_error(exc)], rendered, None, {}, 0, False
    outcome = staging.outcome() if staging is not None else None
    reuse = renderer.reuse
    cards = dict(reuse.cache._cards_used) if reuse is not None else {}
    return pages, [], rendered, outcome, cards, reuse.kept_count if reuse is not None else 0, stopped_early


def _share_child(conn, make_renderer, share, staging, on_template_error, stopped) -> None:  # pragma: no cover - runs in a fork
    # Ctrl-C reaches the whole process group: the parent stops the build, this process stays quiet.
    quiet_worker()
    try:
        result = ("ok", _render_share(make_renderer, share, staging, on_template_error, stopped.is_set if stopped is not None else None))
    except BaseException:  # noqa: BLE001 - reported by the parent
        import traceback

        result = ("crash", traceback.format_exc())
    try:
        conn.send(result)
    finally:
        conn.close()
        os._exit(0)


def render_pages(make_renderer: Callable[[tuple[int, int]], Any], release_count: int, staging, jobs: int, on_template_error,
                 cancel: Callable[[], bool] | None = None, fork_lock: Any = None) -> RenderOutcome:
    """Render every page, over several processes when there are many, staging each as it comes.

    Each process renders the pages whose URL hashes to its share (Renderer.mine), so every
    page is rendered by exactly one process and the bytes do not depend on `--jobs`.
    CANCEL, asked between pages, ends the work early (outcome.cancelled). FORK_LOCK is held
    while a process is forked, so that no other thread is inside a lock the child would need.
    """
    n = job_count(jobs)
    if n < 2 or release_count < RENDER_PARALLEL_THRESHOLD or "fork" not in multiprocessing.get_all_start_methods():
        n = 1
    children = []
    stopped = None
    stop = cancel
    if n > 1:
        context = multiprocessing.get_context("fork")
        if cancel is not None:
            # The other processes learn of a cancel through an event the main one sets.
            stopped = context.Event()

            def stop_all() -> bool:
                if cancel():
                    stopped.set()
                    return True
                return stopped.is_set()

            stop = stop_all

        give_back_free_memory()
        for k in range(1, n):
            parent_end, child_end = context.Pipe(duplex=False)
            process = context.Process(target=_share_child, args=(child_end, make_renderer, (k, n), staging, on_template_error, stopped), daemon=True)
            with fork_lock if fork_lock is not None else contextlib.nullcontext(), forking_quietly():
                process.start()
            child_end.close()
            children.append((process, parent_end))
    results = [_render_share(make_renderer, (0, n), staging, on_template_error, stop)]
    crash = ""
    for process, conn in children:
        try:
            status, value = conn.recv()
        except EOFError:
            status, value = "crash", "a render process ended without a result"
        process.join()
        if status == "ok":
            results.append(value)
        else:
            crash = crash or value
    if crash:
        raise RuntimeError(f"rendering failed in a worker process:\n{crash}")
    outcome = RenderOutcome()
    for index, (pages, diagnostics, rendered, staged, cards, kept, stopped_early) in enumerate(results):
        # Only a share that really stopped early leaves pages out: a cancel asked for after
        # every share was done does not throw away a complete render.
        outcome.cancelled = outcome.cancelled or stopped_early
        outcome.pages.extend(pages)
        outcome.diagnostics.extend(diagnostics)
        outcome.rendered += rendered
        outcome.kept += kept
        outcome.cards.update(cards)
        if index > 0 and staging is not None and staged is not None:
            staging.merge(staged)  # the main process's share is in `staging` already
    outcome.pages.sort(key=lambda p: p.output_path)
    return outcome
