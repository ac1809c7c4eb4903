"""Runs the pipeline: config, sources, markup, assemble, render, write."""

from __future__ import annotations

import os

import jinja2
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

from .assemble import assemble, parse_date
from .config import Config, load_config
from .errors import Diagnostic, UsageError, sort_diagnostics, warning
from .markup import Converter
from . import images, redirects, search
from .model import Markup, Page, Site, Source, StaticFile
from .render import render_site
from .sources import Scan, scan_content, walk
from .theme import load_theme, make_environment
from .workers import forking_quietly, quiet_worker
from .write import WriteReport, write_site

# Below this many files a process pool costs more than it saves.
PARALLEL_THRESHOLD = 64


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
    read_only: bool = False  # kabargen check: caches are read, never written (photos are only checked)
    photo_cache: Path | None = None  # kabargen serve: photo copies .kabargen-cache/ lacks are made here


@dataclass
class BuildResult:
    """The outcome of a build or check."""

    config: Config | None = None
    site: Site | None = None
    pages: list[Page] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    report: WriteReport | None = None
    static: list[StaticFile] = field(default_factory=list)  # copied files, also when nothing is written
    seconds: float = 0.0
    output: Path | None = None
    extra_files: list[Path] = field(default_factory=list)  # written outside the output folder
    images: images.ImageReport | None = None  # photo work done (processed is 0 on a warm rebuild)
    search_index: str = ""  # "built", "reused" (from the cache) or "" (search off or unavailable)

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


CACHE_DIR = ".kabargen-cache"


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


_WORKER: dict = {}


def _init_worker(base_path: str, embed_hosts: tuple[str, ...], language: str) -> None:
    # Ctrl-C reaches the whole process group: the parent stops the pool, workers stay quiet.
    quiet_worker()
    _WORKER["converter"] = Converter(base_path, embed_hosts, language)


def _convert_in_worker(item: tuple[str, str, int]) -> Markup:
    body, rel, line = item
    return _WORKER["converter"].convert(body, rel, line)


def convert_all(config: Config, sources: list[Source], jobs: int) -> dict[str, Markup]:
    """Convert every body, over several processes when there are many."""
    jobs = jobs or os.cpu_count() or 1
    items = [(s.body, s.rel, s.body_line) for s in sources]
    if jobs > 1 and len(items) >= PARALLEL_THRESHOLD:
        with ProcessPoolExecutor(jobs, initializer=_init_worker, initargs=(config.base_path, config.embed_hosts, config.language)) as pool:
            with forking_quietly():  # the first submit forks the workers
                pending = pool.map(_convert_in_worker, items, chunksize=max(1, len(items) // (jobs * 8)))
            results = list(pending)
    else:
        converter = Converter(config.base_path, config.embed_hosts, config.language)
        results = [converter.convert(*item) for item in items]
    return {s.rel: m for s, m in zip(sources, results)}


def build(options: BuildOptions) -> BuildResult:
    """Build (or with write=False, only check) a site. Raises UsageError/ConfigError for exit 2."""
    started = time.perf_counter()
    root = options.source.resolve()
    shown_root = os.path.relpath(root)
    config, diagnostics = load_config(root, None if shown_root == "." else shown_root)
    if options.base_url:
        config = config.with_base_url(options.base_url)
    output = (options.output if options.output is not None else root / "public")
    if options.write:
        check_output(root, output)
    now = parse_now(options.now, config) if isinstance(options.now, str) else (options.now or datetime.now(timezone.utc))
    theme = load_theme(config)
    scan = scan_content(root)
    static_scan = Scan()
    site_static = [(str(path), rel) for path, rel in walk(root / "static", root, static_scan, skip_hidden=False)]
    diagnostics += scan.diagnostics + static_scan.diagnostics
    files = {rel: (str(path), path.stat().st_size) for path, rel in scan.files}
    markups = convert_all(config, scan.sources, options.jobs)
    site, problems = assemble(config, scan.sources, markups, files, now, options.drafts, site_static, scan.failed)
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
    result = BuildResult(config=config, site=site, diagnostics=sort_diagnostics(diagnostics), output=output)
    if result.errors or site is None or not options.render:
        result.seconds = time.perf_counter() - started
        return result
    env = make_environment(theme)
    photos = images.publish(config, root, site, scan.sources, markups, files, options.jobs, store=not options.read_only, private=options.photo_cache)
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
    try:
        result.pages = render_site(config, site, env, theme)
    except jinja2.TemplateError as exc:
        result.diagnostics.append(template_diagnostic(exc))
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
        result.seconds = time.perf_counter() - started
        return result
    if options.write:
        before_swap = None
        if indexer is not None:
            key = indexer.key(result.pages)

            def before_swap(staging: Path) -> None:
                result.search_index = "reused" if indexer.index(staging, key) else "built"

        try:
            result.report = write_site(output, result.pages, static, before_swap)
        except search.SearchUnavailable as exc:
            result.diagnostics.append(Diagnostic(config.path, 1, "error", f"search index not built, output left as it was: {exc}"))
            result.seconds = time.perf_counter() - started
            return result
        if "nginx" in options.redirects:
            result.extra_files.append(write_beside(output, redirects.NGINX_FILE, redirects.nginx(config, site)))
    result.seconds = time.perf_counter() - started
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
