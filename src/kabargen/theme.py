"""The Jinja environment: the site's templates/ first, then the theme's, by loader order."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import jinja2

from . import yamlload
from .config import Config
from .errors import ConfigError, error
from .sources import VCS_DIRS, ignored

# Only these are fingerprinted: fonts and images are referenced from CSS by plain name.
FINGERPRINTED = {".css", ".js"}


@dataclass(frozen=True)
class Theme:
    """A located theme: its folders, UI strings and fingerprinted assets."""

    name: str
    root: Path
    template_dirs: tuple[Path, ...]  # site templates/ first, then the theme's
    strings: Mapping[str, str]
    assets: Mapping[str, tuple[str, str]]  # logical name -> (absolute source, output path)
    digest: str  # hash of every template, string and asset: part of the cache key


def bundled_themes_dirs() -> list[Path]:
    """Where the themes installed with kabargen live (wheel first, then a source checkout)."""
    here = Path(__file__).resolve().parent
    return [here / "themes", here.parent.parent / "themes"]


def find_theme(config: Config) -> Path:
    """The theme folder: the site's themes/NAME, else the one installed with kabargen."""
    candidates = [config.root / "themes" / config.theme] + [d / config.theme for d in bundled_themes_dirs()]
    for candidate in candidates:
        if (candidate / "templates").is_dir():
            return candidate
    raise ConfigError([error(config.path, 1, f"theme {config.theme!r} not found: looked in themes/{config.theme}/ and the themes installed with kabargen")])


def load_theme(config: Config) -> Theme:
    """Locate the theme and read what the build needs from it."""
    root = find_theme(config)
    digest = hashlib.sha256()
    dirs = tuple(d for d in (config.root / "templates", root / "templates") if d.is_dir())
    for folder in dirs + (root / "i18n", root / "static"):
        if folder.is_dir():
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    strings = _strings(config, root)
    assets = {}
    static = root / "static"
    if static.is_dir():
        for path in sorted(p for p in static.rglob("*") if p.is_file()):
            rel = path.relative_to(static).as_posix()
            if any(ignored(part) or part in VCS_DIRS for part in rel.split("/")):
                continue  # an editor's leftover beside a theme file is not a theme file
            out = rel
            if path.suffix in FINGERPRINTED:
                short = hashlib.sha256(path.read_bytes()).hexdigest()[:8]
                out = f"{rel[: -len(path.suffix)]}.{short}{path.suffix}"
            assets[rel] = (str(path), "assets/" + out)
    return Theme(config.theme, root, dirs, strings, assets, digest.hexdigest())


def _strings(config: Config, root: Path) -> dict[str, str]:
    """UI strings: English as the base, the site language over it, then the config's own."""
    strings: dict[str, str] = {}
    lang = config.language.split("-")[0].lower()
    for code in dict.fromkeys(["en", lang]):
        path = root / "i18n" / f"{code}.yaml"
        if path.is_file():
            data, _ = yamlload.load(path.read_text(encoding="utf-8"))
            strings.update(data or {})
    for code in dict.fromkeys([lang, config.language]):
        strings.update((config.strings or {}).get(code, {}))
    return strings


class CompiledTemplates(jinja2.BytecodeCache):
    """Compiled templates kept in memory for the next environment (kabargen serve's builds).

    Jinja keys each entry by the template's name and a checksum of its source, so an edited
    template is compiled again; compiling the theme costs a preview a few tenths of a second
    on the first page it renders after every save otherwise.
    """

    def __init__(self, scope: Any = None):
        # What the compiled code may depend on besides the source: Jinja evaluates filters on
        # constants while compiling ({{ 1048576|filesize }}), and kabargen's filters depend on
        # the config. Builds with another scope start a new store (see build.py).
        self.scope = scope
        self._store: dict[str, bytes] = {}
        self.assigned: dict[str, frozenset[str]] = {}  # see assigned_names

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        data = self._store.get(bucket.key)
        if data is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._store[bucket.key] = bucket.bytecode_to_string()


def assigned_names(env: jinja2.Environment, skip: str = "") -> frozenset[str]:
    """Every variable name a template of ENV sets ({% set %}, loops, macros, with), SKIP's aside.

    Kept on the environment's CompiledTemplates when it has one (kabargen serve): parsing
    every template costs a few hundredths of a second, and the theme's digest is in its scope.
    """
    compiled = env.bytecode_cache
    if isinstance(compiled, CompiledTemplates) and skip in compiled.assigned:
        return compiled.assigned[skip]
    from jinja2 import nodes

    names: set[str] = set()
    for name in env.list_templates():
        if name == skip:
            continue
        try:
            tree = env.parse(env.loader.get_source(env, name)[0], name)
        except jinja2.TemplateError:
            continue  # reported when a page uses it
        names.update(node.name for node in tree.find_all(nodes.Name) if node.ctx in ("store", "param"))
    found = frozenset(names)
    if isinstance(compiled, CompiledTemplates):
        compiled.assigned[skip] = found
    return found


def make_environment(theme: Theme, compiled: CompiledTemplates | None = None) -> jinja2.Environment:
    """A Jinja environment with autoescaping on; missing optional values render empty."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in theme.template_dirs]),
        autoescape=True,
        undefined=jinja2.ChainableUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # One environment serves one build: templates are read once, not stat()ed again on
        # every include of every page (a preview makes a new environment for each build).
        auto_reload=False,
        bytecode_cache=compiled,
    )
    return env
