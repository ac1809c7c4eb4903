"""The `kabargen` command."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from . import __version__
from .build import BuildOptions, BuildResult, build
from .ci import annotation, in_github_actions, json_line
from .errors import ConfigError, ContentError, Diagnostic, UsageError

if TYPE_CHECKING:
    from datetime import datetime


def _print_diagnostics(result: BuildResult, quiet: bool, fmt: str = "text") -> None:
    _emit(result.diagnostics, quiet, fmt)


def _emit(diagnostics: list[Diagnostic], quiet: bool, fmt: str) -> None:
    """Diagnostics as text (stderr) or JSON lines (stdout), plus annotations inside GitHub Actions."""
    github = in_github_actions()
    for d in diagnostics:
        if quiet and not d.is_error:
            continue
        if fmt == "json":
            click.echo(json_line(d))
        else:
            click.echo(d.format(), err=True)
        if github:
            click.echo(annotation(d), err=True)


def _run(options: BuildOptions, quiet: bool, fmt: str) -> BuildResult:
    """Run a build; config errors are reported in the chosen format, then exit 2."""
    try:
        return build(options)
    except ConfigError as exc:
        if fmt == "text" and not in_github_actions():
            raise
        _emit(exc.diagnostics, False, fmt)
        raise UsageError(f"{len(exc.diagnostics)} problem(s) in the configuration") from None


def _format_option(func):
    return click.option(
        "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
        help="Diagnostics as text lines on stderr, or as JSON lines on stdout (for CI).",
    )(func)


def _common(func):
    func = click.option("--source", "-s", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True, help="The site folder (holding kabargen.yaml).")(func)
    func = click.option("--drafts", is_flag=True, help="Also build drafts and embargoed releases (for previews).")(func)
    func = click.option("--base-url", help="Override base_url from kabargen.yaml (for preview deploys).")(func)
    func = click.option("--now", "now", metavar="DATETIME", help="The moment embargoes are compared with (default: now).")(func)
    func = click.option("--strict", is_flag=True, help="Treat warnings as errors.")(func)
    func = click.option("--quiet", "-q", is_flag=True, help="Print errors only.")(func)
    func = click.option("--jobs", "-j", type=click.IntRange(0, 256), default=0, help="Worker processes (default: one per core).")(func)
    func = click.option("--no-cache", "no_cache", is_flag=True, help="Neither read nor update the build cache (.kabargen-cache/).")(func)
    return func


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kabargen")
def main() -> None:
    """kabargen: build a press-release website from Markdown files."""


@main.command("build")
@_common
@click.option("--output", "-o", type=click.Path(file_okay=False, path_type=Path), default=None, help="Where to write the site (default: SOURCE/public).")
@click.option("--redirects", multiple=True, type=click.Choice(["netlify", "nginx"]), help="Also write the aliases as real 301 redirects: netlify: OUTPUT/_redirects; nginx: a map file beside the output folder, never inside it.")
@_format_option
def build_command(source, drafts, base_url, now, strict, quiet, jobs, no_cache, output, redirects, fmt) -> None:
    """Build the site into the output folder."""
    result = _run(BuildOptions(source=source, output=output, drafts=drafts, base_url=base_url, now=now, strict=strict, jobs=jobs, redirects=tuple(redirects), cache=not no_cache), quiet, fmt)
    _print_diagnostics(result, quiet, fmt)
    if not result.ok:
        raise ContentError(f"{len(result.errors)} error(s); the output folder was not changed")
    if not quiet:
        # With --format json, stdout carries only diagnostics; the summary is for people.
        _summary(result, err=fmt == "json")


@main.command("check")
@_common
@_format_option
def check_command(source, drafts, base_url, now, strict, quiet, jobs, no_cache, fmt) -> None:
    """Check every release and the config; write nothing."""
    result = _run(BuildOptions(source=source, drafts=drafts, base_url=base_url, now=now, strict=strict, jobs=jobs, write=False, read_only=True, cache=not no_cache), quiet, fmt)
    _print_diagnostics(result, quiet, fmt)
    if not result.ok:
        raise ContentError(f"{len(result.errors)} error(s)")
    if not quiet:
        site = result.site
        click.echo(f"OK: {len(site.releases)} releases and pages checked, {len(result.warnings)} warning(s)", err=fmt == "json")


@main.command("serve")
@click.option("--source", "-s", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True, help="The site folder (holding kabargen.yaml).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on; anything but loopback shares drafts with the network.")
@click.option("--port", "-p", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port to listen on; 0 picks a free one.")
@click.option("--no-drafts", is_flag=True, help="Show exactly what `kabargen build` publishes: no drafts, no embargoed releases.")
@click.option("--open", "open_browser", is_flag=True, help="Open the site in the web browser.")
def serve_command(source, host, port, no_drafts, open_browser) -> None:
    """Preview the site: build in memory, serve it, rebuild and reload on every save."""
    from .serve import ServeOptions, serve

    serve(ServeOptions(source=source, host=host, port=port, drafts=not no_drafts, open_browser=open_browser))


@main.command("schedule")
@click.option("--source", "-s", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True, help="The site folder (holding kabargen.yaml).")
@click.option("--now", "now", metavar="DATETIME", help="List embargoes that lift after this moment (default: now).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Readable text, or one JSON object for scripts.")
def schedule_command(source, now, fmt) -> None:
    """List every embargo still to lift, soonest first, so CI can rebuild on time."""
    from .schedule import schedule_json, schedule_text, upcoming

    result = _run(BuildOptions(source=source, now=now, jobs=1, write=False, render=False), False, "text")
    # Diagnostics go to stderr here whatever the format: stdout is the schedule.
    for d in result.diagnostics:
        click.echo(d.format(), err=True)
        if in_github_actions():
            click.echo(annotation(d), err=True)
    if not result.ok:
        raise ContentError(f"{len(result.errors)} error(s): fix them first; the schedule needs a site that builds")
    entries = upcoming(result.config, result.site)
    if fmt == "json":
        click.echo(schedule_json(result.config, result.site, entries))
    else:
        click.echo(schedule_text(result.config, result.site, entries), nl=False)


@main.command("init")
@click.argument("directory", type=click.Path(path_type=Path), default=Path("."), required=False)
def init_command(directory) -> None:
    """Create a new site in DIRECTORY (default: here) that builds at once."""
    from .authoring import init_site

    init_site(directory)
    here = str(directory) == "."
    click.echo(f"Created a kabargen site in {directory}: edit kabargen.yaml, then run kabargen build" + ("" if here else f" --source {directory}"))


def _site_config(source: Path):
    from .config import load_config

    config, warnings = load_config(source, None if str(source) == "." else str(source))
    for d in warnings:
        click.echo(d.format(), err=True)
    return config


def _when_option(value: str | None, config) -> "datetime":
    from datetime import datetime, timezone

    from .assemble import parse_date

    if not value:
        return datetime.now(timezone.utc).astimezone(config.tz)
    try:
        return parse_date(value, config.tz)
    except ValueError as exc:
        raise UsageError(f"--date: {exc}") from None


@main.command("new")
@click.argument("title")
@click.option("--section", default="rilis", show_default=True, help="The folder under content/ to write into.")
@click.option("--draft", is_flag=True, help="Mark the release as a draft (built only with --drafts).")
@click.option("--number", is_flag=True, help="Give it the next release number from 'numbering' in kabargen.yaml.")
@click.option("--date", "date", metavar="DATETIME", help='The release date, "YYYY-MM-DD HH:MM" in the site time zone (default: now).')
@click.option("--source", "-s", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True, help="The site folder (holding kabargen.yaml).")
def new_command(title, section, draft, number, date, source) -> None:
    """Write a new release file with its front matter filled in; print its path."""
    from .authoring import new_release
    from .sources import display_path

    config = _site_config(source)
    made = new_release(config, title, _when_option(date, config), section=section, draft=draft, number=number)
    click.echo(display_path(made.path))


@main.group("import")
def import_group() -> None:
    """Import releases an office already has (plain text, WordPress, RSS/Atom)."""


def _report_entries(entries) -> int:
    """Print each entry's findings and one summary line per file; return the number of failed files."""
    from .sources import display_path

    failed = 0
    for entry in entries:
        for d in entry.diagnostics():
            click.echo(d.format(), err=True)
        if entry.ok:
            click.echo(f"{display_path(entry.source)} -> {display_path(entry.written)}" + (f" ({len(entry.warnings)} warning(s) to check)" if entry.warnings else ""))
        else:
            failed += 1
            click.echo(f"{display_path(entry.source)}: not imported", err=True)
    return failed


def _import_into(config, into: Path | None) -> Path:
    """--into, relative to the site folder (the same as the current folder unless --source is given)."""
    if into is None:
        return config.content_dir / "rilis"
    return into if into.is_absolute() else config.root / into


@import_group.command("text")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--into", type=click.Path(file_okay=False, path_type=Path), default=None, help="Where the releases go (default: content/rilis); must be inside content/.")
@click.option("--date", "date", metavar="DATETIME", help='Date of releases whose text names none, "YYYY-MM-DD HH:MM" (site time zone).')
@click.option("--title", default=None, help="The title, instead of the first line (one file only).")
@click.option("--source", "-s", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True, help="The site folder (holding kabargen.yaml).")
def import_text_command(paths, into, date, title, source) -> None:
    """Import plain-text releases (files, or folders of *.txt files)."""
    from .importers.text import existing_titles, import_text

    config = _site_config(source)
    default_date = _when_option(date, config) if date else None
    byline = (config.defaults or {}).get("byline")
    if isinstance(byline, dict):
        byline = [byline]
    if not (isinstance(byline, list) and all(isinstance(p, dict) and isinstance(p.get("name"), str) for p in byline)):
        byline = None
    index = existing_titles(config.content_dir, config.tz)
    entries = import_text(
        list(paths), _import_into(config, into), config.content_dir, default_date, config.tz, index,
        title=title, default_byline=byline,
    )
    failed = _report_entries(entries)
    if failed:
        raise ContentError(f"{failed} of {len(entries)} file(s) not imported")


@import_group.command("wordpress")
@click.argument("export", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--into", type=click.Path(file_okay=False, path_type=Path), default=None, help="Where posts go (default: content/rilis); pages go to content/halaman.")
@click.option("--fetch-media", is_flag=True, help="Also download the attachments (http/https only) into content/media/.")
@click.option("--source", "-s", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True, help="The site folder (holding kabargen.yaml).")
def import_wordpress_command(export, into, fetch_media, source) -> None:
    """Import a WordPress export (WXR): posts, pages, old URLs, attachments."""
    from .importers.wordpress import import_wordpress

    config = _site_config(source)
    result = import_wordpress(export, _import_into(config, into), config, fetch_media=fetch_media)
    failed = _report_entries(result.entries)
    for line in result.media_lines():
        click.echo(line)
    if failed:
        raise ContentError(f"{failed} of {len(result.entries)} item(s) not imported")


@import_group.command("feed")
@click.argument("feed")
@click.option("--into", type=click.Path(file_okay=False, path_type=Path), default=None, help="Where the releases go (default: content/rilis).")
@click.option("--source", "-s", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True, help="The site folder (holding kabargen.yaml).")
def import_feed_command(feed, into, source) -> None:
    """Import the entries of an RSS or Atom feed (a file, or an http(s) URL)."""
    from .importers.wordpress import import_feed

    config = _site_config(source)
    entries = import_feed(feed, _import_into(config, into), config)
    failed = _report_entries(entries)
    if failed:
        raise ContentError(f"{failed} of {len(entries)} entr(ies) not imported")


def _summary(result: BuildResult, err: bool = False) -> None:
    from .schedule import held_back_line

    site = result.site
    report = result.report
    releases = sum(1 for r in site.releases.values() if r.layout == "release")
    click.echo(
        f"Built {releases} releases, {len(result.pages)} pages, {report.files} files "
        f"({report.written} written, {report.unchanged} unchanged, {report.removed} removed) "
        f"in {result.seconds:.2f} s -> {result.output}",
        err=err,
    )
    photos = result.images
    if photos and photos.photos:
        click.echo(f"Photos: {photos.photos} ({photos.processed} resized, {photos.cached} from the cache) in {photos.seconds:.2f} s", err=err)
    line = held_back_line(result.config, site)
    if line:
        click.echo(line, err=err)
    for path in result.extra_files:
        click.echo(f"Wrote {path}", err=err)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
