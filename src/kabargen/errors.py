"""Diagnostics and the errors a user sees."""

from __future__ import annotations

from dataclasses import dataclass

import click

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem found in the input, tied to a file and line."""

    path: str
    line: int
    severity: str
    message: str

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def format(self) -> str:
        """Render as `path:line: severity: message`, the form editors and CI understand."""
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.severity}: {self.message}"


def error(path: str, line: int, message: str) -> Diagnostic:
    """Shorthand for an error diagnostic."""
    return Diagnostic(path, line, ERROR, message)


def warning(path: str, line: int, message: str) -> Diagnostic:
    """Shorthand for a warning diagnostic."""
    return Diagnostic(path, line, WARNING, message)


def sort_diagnostics(diagnostics) -> list[Diagnostic]:
    """Order diagnostics by file and line, so output is stable across runs."""
    return sorted(set(diagnostics), key=lambda d: (d.path, d.line, d.severity, d.message))


class UsageError(click.ClickException):
    """A bad command line or configuration: exit status 2."""

    exit_code = 2


class ConfigError(UsageError):
    """kabargen.yaml is missing or wrong; carries every problem found."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = sort_diagnostics(diagnostics)
        super().__init__("\n".join(d.format() for d in self.diagnostics))

    def format_message(self) -> str:
        return self.message


class ContentError(click.ClickException):
    """The content has errors: exit status 1; the output folder was not touched."""

    exit_code = 1
