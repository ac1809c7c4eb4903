"""The `kabargen` command."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __version__
from .build import BuildOptions, BuildResult, build
from .errors import ContentError


def _print_diagnostics(result: BuildResult, quiet: bool) -> None:
    for d in result.diagnostics:
        if quiet and not d.is_error:
            continue
        click.echo(d.format(), err=True)


def _common(func):
    func = click.option("--source", "-s", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True, help="The site folder (holding kabargen.yaml).")(func)
    func = click.option("--drafts", is_flag=True, help="Also build drafts and embargoed releases (for previews).")(func)
    func = click.option("--base-url", help="Override base_url from kabargen.yaml (for preview deploys).")(func)
    func = click.option("--now", "now", metavar="DATETIME", help="The moment embargoes are compared with (default: now).")(func)
    func = click.option("--strict", is_flag=True, help="Treat warnings as errors.")(func)
    func = click.option("--quiet", "-q", is_flag=True, help="Print errors only.")(func)
    func = click.option("--jobs", "-j", type=click.IntRange(0, 256), default=0, help="Worker processes (default: one per core).")(func)
    return func


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kabargen")
def main() -> None:
    """kabargen: build a press-release website from Markdown files."""


@main.command("build")
@_common
@click.option("--output", "-o", type=click.Path(file_okay=False, path_type=Path), default=None, help="Where to write the site (default: SOURCE/public).")
def build_command(source, drafts, base_url, now, strict, quiet, jobs, output) -> None:
    """Build the site into the output folder."""
    result = build(BuildOptions(source=source, output=output, drafts=drafts, base_url=base_url, now=now, strict=strict, jobs=jobs))
    _print_diagnostics(result, quiet)
    if not result.ok:
        raise ContentError(f"{len(result.errors)} error(s); the output folder was not changed")
    if not quiet:
        _summary(result)


@main.command("check")
@_common
def check_command(source, drafts, base_url, now, strict, quiet, jobs) -> None:
    """Check every release and the config; write nothing."""
    result = build(BuildOptions(source=source, drafts=drafts, base_url=base_url, now=now, strict=strict, jobs=jobs, write=False))
    _print_diagnostics(result, quiet)
    if not result.ok:
        raise ContentError(f"{len(result.errors)} error(s)")
    if not quiet:
        site = result.site
        click.echo(f"OK: {len(site.releases)} releases and pages checked, {len(result.warnings)} warning(s)")


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


def _summary(result: BuildResult) -> None:
    site = result.site
    report = result.report
    releases = sum(1 for r in site.releases.values() if r.layout == "release")
    click.echo(
        f"Built {releases} releases, {len(result.pages)} pages, {report.files} files "
        f"({report.written} written, {report.unchanged} unchanged, {report.removed} removed) "
        f"in {result.seconds:.2f} s -> {result.output}"
    )
    held = len(site.held_back)
    if held and not site.drafts:
        line = f"{held} release(s) held back (draft or embargo)"
        if site.next_embargo:
            local = site.next_embargo.astimezone(result.config.tz)
            line += f"; next embargo lifts {local:%Y-%m-%d %H:%M} ({result.config.timezone})"
        click.echo(line)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
