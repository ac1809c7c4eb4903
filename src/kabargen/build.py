"""Runs the pipeline: config, sources, markup, assemble, render, write."""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import tempfile
import threading

import jinja2
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

from .assemble import CheckedFields, assemble, parse_date, with_body
from .cache import CACHE_DIR, BuildCache, PageReuse
from .config import Config, load_config
from .errors import Diagnostic, UsageError, sort_diagnostics, warning
from . import images, redirects, search
from .model import BuildMemory, Page, Site, StaticFile
from .parallel import MARKDOWN_SUFFIXES, RENDER_PARALLEL_THRESHOLD, RenderOutcome, convert_here, memory_key, read_content, render_pages
from .render import Renderer
from .sources import Scan, walk
from .theme import CompiledTemplates, load_theme, make_environment
from .write import OutputLock, Staging, Survey, WriteReport, spare_path


@dataclass(frozen=True)
class BuildOptions:
    """What the command line asked for."""

    source: Path = Path(".")
    output: Path | None = None  # default: SOURCE/public
    drafts: bool = False
    base_url: str | None = None
    now: datetime | None = None
    strict: bool = False
    jobs: int = 0  # 0: one per core
    write: bool = True
    render: bool = True  # False: stop after checking (kabargen schedule needs only the Site)
    redirects: tuple[str, ...] = ()  # "netlify", "nginx": aliases as real redirects too
    cache: bool = True  # read (and, when writing, update) SOURCE/.kabargen-cache
    read_only: bool = False  # kabargen check: caches are read, never written (photos are only checked)
    photo_cache: Path | None = None  # kabargen serve: photo copies .kabargen-cache/ lacks are made here
    lazy: bool = False  # kabargen serve: render nothing; BuildResult.maker renders pages when asked
    # kabargen serve: the files read by the last build, reused from memory (see read_content).
    memory: BuildMemory | None = field(default=None, compare=False, hash=False)


@dataclass
class BuildResult:
    """The outcome of a build or check."""

    config: Config | None = None
    site: Site | None = None
    # Every page, in output order; after a build that wrote, without bytes (data None).
    pages: list[Page] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    report: WriteReport | None = None
    rendered: int = 0  # pages rendered; the rest were unchanged and kept from the output
    static: list[StaticFile] = field(default_factory=list)  # copied files, also when nothing is written
    seconds: float = 0.0
    output: Path | None = None
    extra_files: list[Path] = field(default_factory=list)  # written outside the output folder
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase (for profiling)
    images: images.ImageReport | None = None  # photo work done (processed is 0 on a warm rebuild)
    search_index: str = ""  # "built", "reused" (from the cache) or "" (search off or unavailable)
    maker: "PageMaker | None" = None  # a lazy build's pages, rendered on demand (pages hold no bytes)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if not d.is_error]

    @property
    def ok(self) -> bool:
        return not self.errors


def parse_now(value: str, config: Config) -> datetime:
    """--now, in the site's time zone unless it names an offset."""
    try:
        return parse_date(value, config.tz)
    except ValueError as exc:
        raise UsageError(f"--now: {exc}") from None



def check_output(root: Path, output: Path) -> None:
    """Refuse an output folder that would overwrite the site or its content, or publish the cache.

    The output is replaced as a whole, so it may be neither the site folder, nor one of
    its input folders, nor a parent of them; it may not lie inside an input folder
    either (the next build would read its own output) nor be or hold the cache.
    """
    out = output.resolve()
    if out.exists() and not out.is_dir():
        raise UsageError(f"--output {output} is a file, not a folder")
    for protected in (root, root / "content", root / "static", root / "templates", root / "themes", root / CACHE_DIR, root / ".git"):
        protected = protected.resolve()
        if out == protected or out in protected.parents:
            raise UsageError(f"--output {output} would replace {protected}: choose a separate folder such as public/")
        if protected != root.resolve() and protected in out.parents:
            raise UsageError(f"--output {output} lies inside {protected}: choose a separate folder such as public/")
    foreign = foreign_output(out)
    if foreign:
        raise UsageError(
            f"--output {output} holds {foreign}, which kabargen did not write; the whole folder is replaced "
            "on every build, so choose an empty folder (or one kabargen built) such as public/")


def foreign_output(out: Path) -> str:
    """What in an existing output folder shows kabargen did not build it ('' when it may be replaced).

    Every build replaces the whole folder, so a folder of someone's own files (--output ~/Documents)
    or a git checkout (a gh-pages worktree, whose .git would go) must be refused, never emptied. A
    folder kabargen built always has index.html; an empty one is fine.
    """
    try:
        names = sorted(os.listdir(out))
    except FileNotFoundError:
        return ""
    except OSError as exc:
        return f"a folder that cannot be read ({exc.strerror})"
    if not names:
        return ""
    if ".git" in names:
        return "a .git folder"
    if "index.html" not in names:
        return f"{len(names)} item(s) but no index.html (such as {names[0]})"
    return ""


def build(options: BuildOptions) -> BuildResult:
    """Build (or with write=False, only check) a site. Raises UsageError/ConfigError for exit 2."""
    with _few_full_collections():
        return _build(options)


@contextlib.contextmanager
def _few_full_collections():
    """Keep Python's full garbage collections out of the build.

    A build makes millions of long-lived objects that are freed only at its end; each full
    collection walks all of them, which cost a third of the assemble step at 10,000
    releases. Young collections still run, so short-lived cycles are still freed.
    """
    before = gc.get_threshold()
    gc.set_threshold(before[0], before[1], 1_000_000)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _build(options: BuildOptions) -> BuildResult:
    started = time.perf_counter()
    root = options.source.resolve()
    shown_root = os.path.relpath(root)
    config, diagnostics = load_config(root, None if shown_root == "." else shown_root)
    if options.base_url:
        config = config.with_base_url(options.base_url)
    output = (options.output if options.output is not None else root / "public")
    if options.write:
        check_output(root, output)
    with contextlib.ExitStack() as stack:
        if not options.cache and options.photo_cache is None:
            # --no-cache: photo copies are made in a folder of this build's own, removed after it.
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="kabargen-photos-"))
            options = replace(options, photo_cache=Path(folder))
        if not options.write:
            return _build_site(options, started, root, config, diagnostics, output, None)
        stack.enter_context(OutputLock(output))
        spare = spare_path(output, root / CACHE_DIR) if options.cache else None
        survey = Survey(output, spare)
        try:
            return _build_site(options, started, root, config, diagnostics, output, survey)
        finally:
            survey.close()


class _Phases:
    """Wall time of each phase of a build, for BuildResult.timings."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def mark(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = round(now - self._last, 4)
        self._last = now


def _build_site(options: BuildOptions, started: float, root: Path, config: Config, diagnostics: list[Diagnostic], output: Path, survey: "Survey | None") -> BuildResult:
    now = parse_now(options.now, config) if isinstance(options.now, str) else (options.now or datetime.now(timezone.utc))
    theme = load_theme(config)
    cache = BuildCache(root, enabled=options.cache, writable=options.write and not options.read_only)
    phases = _Phases()
    scan, markups = read_content(root, config, cache, options.jobs, options.memory)
    cache.save()
    phases.mark("read")
    static_scan = Scan()
    site_static = [(str(path), rel) for path, rel in walk(root / "static", root, static_scan, skip_hidden=False)]
    diagnostics += scan.diagnostics + static_scan.diagnostics
    files = {rel: (str(path), path.stat().st_size) for path, rel in scan.files}
    checked = cache.checked(CheckedFields.scope(config.tz, files)) if options.memory is None else None
    site, problems = assemble(config, scan.sources, markups, files, now, options.drafts, site_static, scan.failed, options.memory, checked)
    cache.save()  # the checked front matter, also when this build stops at an error
    cache.forget_checked()
    phases.mark("assemble")
    diagnostics += problems
    if not config.absolute:
        diagnostics.append(warning(config.path, 1, f"base_url {config.base_url!r} has no host: sitemap, feeds and canonical links are written relative; set base_url: https://your-site/ to publish"))
    indexer = None
    if config.search and options.write and options.render and site is not None:
        try:
            indexer = search.make_indexer(root, config.language)
        except search.SearchUnavailable as exc:
            # Publishing without search beats not publishing; --strict makes this an error.
            diagnostics.append(warning(config.path, 1, f"search is on but Pagefind cannot run ({exc}): the site is built without search (no /{search.SEARCH_PAGE}, no search box); set search: false to silence this"))
            config = replace(config, search=False)
    if options.strict:
        diagnostics = [Diagnostic(d.path, d.line, "error", d.message) if not d.is_error else d for d in diagnostics]
    result = BuildResult(config=config, site=site, diagnostics=sort_diagnostics(diagnostics), output=output, timings=phases.seconds)
    if result.errors or site is None or not options.render:
        result.seconds = time.perf_counter() - started
        return result
    env = make_environment(theme)
    photos = images.publish(config, root, site, scan.sources, markups, files, options.jobs, store=not options.read_only, private=options.photo_cache, use_cache=options.cache)
    # The parsed files are in the Site now; let them go before rendering forks processes.
    del scan, markups
    cache.forget_sources()
    result.images = photos.report
    photo_problems = photos.diagnostics
    if options.strict:
        photo_problems = [Diagnostic(d.path, d.line, "error", d.message) for d in photo_problems]
    result.diagnostics = sort_diagnostics(result.diagnostics + photo_problems)
    if result.errors:
        result.seconds = time.perf_counter() - started
        return result
    site = result.site = images.rewrite_bodies(config, photos.site, images.body_renderer(env))
    env.globals.update(images.template_globals(config, site))
    phases.mark("photos")
    records = cache.output_records(output)
    # Only a build that writes can keep pages from the output folder: a preview or a check
    # needs every page's bytes, so it renders them all (and spends nothing on fingerprints).
    reuse = PageReuse(cache, output, records, (theme.name, theme.digest, options.drafts)) if options.cache and options.write else None
    staging = Staging(output, records, survey) if options.write else None
    if options.lazy and not options.write:
        scope = (config, theme.digest, options.drafts)
        if options.memory is not None and (options.memory.templates is None or options.memory.templates.scope != scope):
            options.memory.templates = CompiledTemplates(scope)
        result.maker = PageMaker(config, site, theme, options.jobs, options.memory.templates if options.memory is not None else None)
        outcome = RenderOutcome(pages=[Page(url, None) for url in result.maker.urls])
    else:
        if reuse is not None and len(site.releases) >= RENDER_PARALLEL_THRESHOLD:
            reuse.prepare(env, (*site.releases.values(), *site.tags, *site.people, *site.years))
        try:
            outcome = render_pages(
                lambda share: Renderer(config, site, env, theme, reuse=reuse, share=share),
                len(site.releases), staging, options.jobs, template_diagnostic,
            )
        except BaseException:
            if staging is not None:
                staging.abandon()
            raise
    phases.mark("render")
    for key, html in outcome.cards.items():
        cache.put_card(key, html)
    if reuse is not None and reuse.enabled:
        cache.keep_cards(reuse.card_keys(site.releases.values()))
    result.pages = outcome.pages
    result.rendered = outcome.rendered
    if outcome.diagnostics:
        result.diagnostics.extend(outcome.diagnostics)
        if staging is not None:
            staging.abandon()
        result.seconds = time.perf_counter() - started
        return result
    if "netlify" in options.redirects:
        result.pages.append(Page(redirects.NETLIFY_FILE, redirects.netlify(config, site)))
    result.static = static = list(site.static) + [_asset(src, out) for src, out in theme.assets.values()]
    clashes = output_clashes(root, site, result.pages, static, theme, options.redirects)
    if indexer is not None:
        # The search index owns /pagefind/: nothing else may be published there.
        for item in static:
            if item.path.casefold().startswith(search.INDEX_DIR + "/"):
                clashes.append(Diagnostic(os.path.relpath(item.src), 0, "error", f"{item.path} clashes with the search index, which kabargen writes under /{search.INDEX_DIR}/; move the file, or set search: false"))
    if clashes:
        result.diagnostics = sort_diagnostics(result.diagnostics + clashes)
        if staging is not None:
            staging.abandon()
        result.seconds = time.perf_counter() - started
        return result
    if staging is not None:
        try:
            for page in result.pages:
                if page.data is not None:  # added after rendering (the redirects file)
                    staging.put_page(page)
            for item in static:
                staging.put_file(item)
            before_swap = None
            if indexer is not None:
                # Pages only (copied files have no hash): the same key a preview computes.
                key = indexer.key_from_hashes((rel, record.sha) for rel, record in staging.new_records.items() if record.sha)

                def index_then_swap(path: Path) -> None:
                    result.search_index = "reused" if indexer.index(path, key) else "built"

                before_swap = index_then_swap

            result.report = staging.finish(before_swap)
        except search.SearchUnavailable as exc:
            staging.abandon()
            result.diagnostics.append(Diagnostic(config.path, 1, "error", f"search index not built, output left as it was: {exc}"))
            result.seconds = time.perf_counter() - started
            return result
        except BaseException:
            staging.abandon()
            raise
        phases.mark("write")
        cache.save(output, staging.new_records)
        phases.mark("save cache")
        if "nginx" in options.redirects:
            result.extra_files.append(write_beside(output, redirects.NGINX_FILE, redirects.nginx(config, site)))
    result.seconds = time.perf_counter() - started
    return result


class PageMaker:
    """The pages of one assembled site, rendered when asked: one at a time, or all of them.

    kabargen serve answers a save as soon as the site is assembled and checked: the page a
    browser asks for is rendered then (the pages open in tabs first, as they reload), while
    the whole site is rendered in the background to find template errors and feed the
    search index. The bytes equal those of a full build: the same Renderer makes them.
    """

    def __init__(self, config: Config, site: Site, theme, jobs: int, compiled: CompiledTemplates | None = None, urls: tuple[str, ...] | None = None):
        """URLS: the pages of the site, when known (a site whose releases, tags and people are another's)."""
        self.config, self.site, self.theme, self.jobs, self.compiled = config, site, theme, jobs, compiled
        # One renderer (and Jinja environment) for pages asked for one at a time, used under
        # the lock: it keeps what it worked out (cards, dates, link lookups) between requests.
        self._lock = threading.Lock()
        self._renderer = Renderer(config, site, self._environment(), theme)
        if urls is None:
            seen: dict[str, None] = {}
            # Every page maker asks mine(url) before doing any work: saying no to all lists the URLs.
            self._renderer.wanted = lambda url: seen.setdefault(url, None) or False
            for _ in self._renderer.iter_pages():
                pass
            urls = tuple(sorted(seen, key=lambda url: Page(url, None).output_path))
        self.urls: tuple[str, ...] = urls

    def _environment(self) -> jinja2.Environment:
        env = make_environment(self.theme, self.compiled)
        env.globals.update(images.template_globals(self.config, self.site))
        return env

    def page(self, url: str) -> bytes | None:
        """The bytes of the page at URL (None: the site has no such page); raises jinja2.TemplateError."""
        with self._lock:
            self._renderer.wanted = url.__eq__
            for page in self._renderer.iter_pages():
                return page.data
        return None

    def render_all(self, cancel=None) -> RenderOutcome:
        """Every page, as a build renders them (over --jobs processes); CANCEL may end it early."""
        env = self._environment()  # its own: the one above may be in use by a request meanwhile
        return render_pages(
            lambda share: Renderer(self.config, self.site, env, self.theme, share=share),
            len(self.site.releases), None, self.jobs, template_diagnostic, cancel=cancel, fork_lock=self._lock,
        )


def patch_build(previous: BuildResult, changed: Iterable[str], options: BuildOptions) -> BuildResult | None:
    """PREVIOUS (a lazy build) with the bodies of the CHANGED files edited; None when that is not enough.

    kabargen serve's quick path for the commonest save, a writer editing the text of a
    release: only the files the watcher names are read; when each kept its front matter
    (same keys, values and lines) and its body links to the same releases and files, only
    that release's body, word count and summary can differ from the previous site, so the
    previous site is patched instead of reading and checking every file again. Anything else
    (a new, moved or deleted file, a front matter change, a problem in the file, a file the
    last build had a message about, any other kind of file) gives None: build in full. The
    preview confirms each patched site with a full build in the background.
    """
    memory, site, config, maker = options.memory, previous.site, previous.config, previous.maker
    if memory is None or site is None or config is None or maker is None or previous.errors or options.drafts != site.drafts:
        return None
    started = time.perf_counter()
    content = (options.source.resolve() / "content")
    noted = {d.path for d in previous.diagnostics}
    releases = dict(site.releases)
    remember: list[tuple[tuple, tuple, tuple]] = []
    for path in sorted(set(changed)):
        if not path:
            return None  # not a file: an embargo lifted
        try:
            rel = Path(path).relative_to(content).as_posix()
        except ValueError:
            return None
        key = next((key for key in memory.sources if key[0] == rel), None)
        if key is None or Path(path).suffix.lower() not in MARKDOWN_SUFFIXES:
            return None
        old, old_markup = memory.sources[key]
        try:
            raw = Path(path).read_bytes()
        except OSError:
            return None  # gone or unreadable: a full build says so
        digest = hashlib.sha256(raw).hexdigest()
        if digest == old.digest:
            continue  # saved without a change
        if old.path in noted:
            return None
        source, markup, problems = convert_here(raw, digest, old.path, rel, config, memory)
        if source is None or markup is None or problems or markup.problems:
            return None
        if (source.meta, source.lines, source.body_line) != (old.meta, old.lines, old.body_line):
            return None
        if [x[0] for x in markup.xrefs] != [x[0] for x in old_markup.xrefs] or [x[0] for x in markup.files] != [x[0] for x in old_markup.files]:
            return None
        checked = memory.fields.get(id(old))
        if checked is None or checked[0] is not old or checked[1] is None:
            return None  # the front matter was not checked by the last build
        release = site.releases.get(checked[1]["slug"])
        if release is None or release.rel != rel:
            return None  # not shown (a draft, embargoed): the pages do not change
        patched = with_body(release, markup, checked[1]["summary"], site)
        if patched is None:
            return None
        if site.pictures and "<img" in patched.body_html:
            env = make_environment(maker.theme, memory.templates)
            lone = images.rewrite_bodies(config, replace(site, releases={patched.slug: patched}), images.body_renderer(env))
            patched = lone.releases[patched.slug]
        releases[patched.slug] = patched
        remember.append((key, memory_key(config, rel, digest, old.path), (source, markup), checked))
    if not remember:
        return previous
    for old_key, new_key, pair, checked in remember:
        del memory.sources[old_key]
        memory.sources[new_key] = pair
        memory.fields[id(pair[0])] = (pair[0], checked[1], checked[2])
    new_site = replace(site, releases=releases)
    result = replace(previous, site=new_site, maker=PageMaker(config, new_site, maker.theme, maker.jobs, maker.compiled, urls=maker.urls))
    result.seconds = time.perf_counter() - started
    result.timings = {"patch": round(result.seconds, 4)}
    return result


def _generated_names(site: Site) -> dict[str, str]:
    """What each generated page is, by site path, for clash messages."""
    names = {
        "": "the home page", "feed.xml": "the Atom feed", "sitemap.xml": "the sitemap", "robots.txt": "robots.txt",
        "404.html": "the not-found page", "tag/": "the tag index", "penulis/": "the people index",
        search.SEARCH_PAGE: "the search page",
    }
    for tag in site.tags:
        names[tag.url] = f"the page of tag #{tag.name}"
        names[tag.url + "feed.xml"] = f"the feed of tag #{tag.name}"
    for person in site.people:
        names[person.url] = f"the page of {person.name}"
    for year in site.years:
        names[year.url] = f"the {year.year} archive"
    return names


def output_clashes(root: Path, site: Site, pages: list[Page], static: list, theme, redirect_formats=()) -> list[Diagnostic]:
    """Every output path claimed twice (compared without case, as many hosts do), naming both sides.

    Nothing may land where something else lands: a static/ file, a content file
    or an alias on a generated page, a theme asset or one another is an error,
    reported before anything is written.
    A file where another output needs a folder (static/feed.xml/x) clashes too.
    """
    by_url = {r.url: r for r in site.releases.values()}
    alias_of = {a.path: site.releases[a.target] for a in site.aliases}
    static_root = str((root / "static").resolve()) + os.sep
    content_root = str((root / "content").resolve()) + os.sep
    generated = _generated_names(site)
    # (output path, who, path to report at, rank): a clash is reported at the lowest rank,
    # the side most likely to be the mistake (an alias, then a static/ file, then content/).
    claims: list[tuple[str, str, str, int]] = []
    for page in pages:
        if page.url in alias_of:
            owner = alias_of[page.url]
            claims.append((page.output_path, f"the alias /{page.url} in {owner.path}", owner.path, 0))
        elif page.url in by_url:
            owner = by_url[page.url]
            claims.append((page.output_path, f"the page of {owner.path}", owner.path, 3))
        elif page.url == redirects.NETLIFY_FILE and "netlify" in redirect_formats:
            claims.append((page.output_path, "the redirects file that --redirects netlify writes", "", 9))
        else:
            what = generated.get(page.url) or generated.get(page.url.rsplit("page/", 1)[0] if "page/" in page.url else page.url)
            claims.append((page.output_path, f"{what or 'a page'} that kabargen generates", "", 9))
    theme_sources = {src for src, _ in theme.assets.values()}
    for item in static:
        real = str(Path(item.src).resolve())
        shown = os.path.relpath(item.src)
        if item.src in theme_sources:
            who, shown, rank = f"the theme file {shown}", "", 9
        elif real.startswith(static_root) or item.src.startswith(str(root / "static") + os.sep):
            who, rank = f"static/{item.path}", 1
        elif real.startswith(content_root) or item.src.startswith(str(root / "content") + os.sep):
            who, rank = f"content/{item.path}", 2
        else:
            who, rank = shown, 2
        claims.append((item.path, who, shown, rank))
    problems: list[Diagnostic] = []
    seen: dict[str, tuple[str, str, str, int]] = {}
    for claim in claims:
        key = claim[0].casefold()
        if key in seen:
            problems.append(_clash(seen[key], claim, f"both would be published at /{claim[0]}"))
        else:
            seen[key] = claim
    folders: dict[str, tuple[str, str, str, int]] = {}
    for claim in claims:
        parts = claim[0].casefold().split("/")
        for i in range(1, len(parts)):
            folders.setdefault("/".join(parts[:i]), claim)
    for key, claim in seen.items():
        if key in folders:
            problems.append(_clash(claim, folders[key], f"/{claim[0]} would have to be a file and a folder at once"))
    return problems


def _clash(first: tuple[str, str, str, int], second: tuple[str, str, str, int], why: str) -> Diagnostic:
    """Report a clash at the side most likely to be the mistake, naming both."""
    at, other = (second, first) if second[3] < first[3] else (first, second)
    return Diagnostic(at[2] or "kabargen", 0, "error", f"{at[1]} clashes with {other[1]}: {why}; rename or remove one of them")


def write_beside(output: Path, name: str, data: bytes) -> Path:
    """Write a file next to the output folder (never inside it), atomically; keep it when unchanged."""
    target = output.absolute().parent / name
    if target.is_file() and target.read_bytes() == data:
        return target
    tmp = target.with_name(f".{name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)
    return target


def template_diagnostic(exc: "jinja2.TemplateError") -> Diagnostic:
    """A template problem as a diagnostic naming the template file and line."""
    import traceback

    filename, line = getattr(exc, "filename", None), getattr(exc, "lineno", None)
    if not filename:
        # Runtime errors carry the template position only in the traceback Jinja rewrote.
        for frame in reversed(traceback.extract_tb(exc.__traceback__)):
            if frame.filename.endswith((".html", ".xml", ".txt")):
                filename, line = frame.filename, frame.lineno
                break
    shown = os.path.relpath(filename) if filename else "templates"
    return Diagnostic(shown, line or 0, "error", f"template error: {exc.message if hasattr(exc, 'message') and exc.message else exc}")


def _asset(src: str, out: str):
    from .model import StaticFile

    return StaticFile(src=src, path=out)
