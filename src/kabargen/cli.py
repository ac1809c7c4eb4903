"""The `kabargen` command."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __version__
from .build import BuildOptions, BuildResult, build
from .ci import annotation, in_github_actions, json_line
from .errors import ConfigError, ContentError, Diagnostic, UsageError


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
def build_command(source, drafts, base_url, now, strict, quiet, jobs, output, redirects, fmt) -> None:
    """Build the site into the output folder."""
    result = _run(BuildOptions(source=source, output=output, drafts=drafts, base_url=base_url, now=now, strict=strict, jobs=jobs, redirects=tuple(redirects)), quiet, fmt)
    _print_diagnostics(result, quiet, fmt)
    if not result.ok:
        raise ContentError(f"{len(result.errors)} error(s); the output folder was not changed")
    if not quiet:
        # With --format json, stdout carries only diagnostics; the summary is for people.
        _summary(result, err=fmt == "json")


@main.command("check")
@_common
@_format_option
def check_command(source, drafts, base_url, now, strict, quiet, jobs, fmt) -> None:
    """Check every release and the config; write nothing."""
    result = _run(BuildOptions(source=source, drafts=drafts, base_url=base_url, now=now, strict=strict, jobs=jobs, write=False), quiet, fmt)
    _print_diagnostics(result, quiet, fmt)
    if not result.ok:
        raise ContentError(f"{len(result.errors)} error(s)")
    if not quiet:
        site = result.site
        click.echo(f"OK: {len(site.releases)} releases and pages checked, {len(result.warnings)} warning(s)", err=fmt == "json")


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
