"""Diagnostics in the forms CI systems read: GitHub Actions annotations and JSON lines."""

from __future__ import annotations

import json
import os
from typing import Mapping

from .errors import Diagnostic


def escape_data(text: str) -> str:
    """Escape an annotation message the way the Actions runner unescapes it."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape an annotation property (file, title): also ':' and ',', which end a property."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_path(path: str, environ: Mapping[str, str]) -> str:
    """A diagnostic's path relative to the checkout, as GitHub matches it against the diff.

    Diagnostics name files relative to the current folder; a step with another
    working-directory would otherwise point annotations at the wrong file.
    """
    workspace = environ.get("GITHUB_WORKSPACE", "")
    if not workspace or not path:
        return path
    full = os.path.abspath(path)
    try:
        rel = os.path.relpath(full, os.path.abspath(workspace))
    except ValueError:
        return path
    if rel == ".." or rel.startswith(".." + os.sep):
        return path
    return rel.replace(os.sep, "/")


def annotation(diagnostic: Diagnostic, environ: Mapping[str, str] | None = None) -> str:
    """One workflow command: `::error file=…,line=…,title=kabargen::message`."""
    environ = os.environ if environ is None else environ
    command = "error" if diagnostic.is_error else "warning"
    props = []
    if diagnostic.path:
        props.append("file=" + escape_property(github_path(diagnostic.path, environ)))
    if diagnostic.line:
        props.append(f"line={diagnostic.line}")
    props.append("title=kabargen")
    return f"::{command} {','.join(props)}::{escape_data(diagnostic.message)}"


def in_github_actions(environ: Mapping[str, str] | None = None) -> bool:
    """Whether we run inside a GitHub Actions job (the runner sets GITHUB_ACTIONS=true)."""
    environ = os.environ if environ is None else environ
    return environ.get("GITHUB_ACTIONS", "").lower() == "true"


def json_line(diagnostic: Diagnostic) -> str:
    """One diagnostic as a JSON object on a line of its own."""
    return json.dumps(
        {"path": diagnostic.path, "line": diagnostic.line, "severity": diagnostic.severity, "message": diagnostic.message},
        ensure_ascii=False,
    )
