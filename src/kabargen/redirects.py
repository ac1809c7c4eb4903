"""Aliases as real HTTP redirects, for hosts that can do better than a redirect page.

The redirect pages stay in the output either way: they serve hosts without
redirect rules (GitHub Pages, a bucket) and anyone who copies the folder.
"""

from __future__ import annotations

from urllib.parse import quote

from .config import Config
from .model import Site

NETLIFY_FILE = "_redirects"
NGINX_FILE = "redirects.nginx.conf"
FORMATS = ("netlify", "nginx")
# Characters a URL path may carry as they are; everything else is percent-encoded.
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


def redirect_pairs(config: Config, site: Site) -> list[tuple[str, str]]:
    """(old path, new path) for every alias, both from the host's root, sorted by old path."""
    base = config.base_path
    pairs = []
    for alias in site.aliases:
        target = site.releases[alias.target]
        pairs.append((base + alias.path, base + target.url))
    return sorted(pairs)


def netlify(config: Config, site: Site) -> bytes:
    """A Netlify `_redirects` file: one `OLD NEW 301!` line per alias.

    `301!` forces the rule although a redirect page exists at the old path:
    Netlify otherwise serves an existing file rather than redirect ("shadowing").
    """
    lines = ["# Written by kabargen from the releases' aliases: old path, new path, status."]
    for old, new in redirect_pairs(config, site):
        lines.append(f"{quote(old, safe=_PATH_SAFE)} {quote(new, safe=_PATH_SAFE)} 301!")
    return ("\n".join(lines) + "\n").encode("utf-8")


def _nginx_string(text: str) -> str:
    """A double-quoted nginx string: backslash, quote and $ (variables) escaped."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$") + '"'


def nginx(config: Config, site: Site) -> bytes:
    """An nginx `map` from old paths to new ones; the server block returns 301 when it matches.

    nginx compares the decoded, normalised path ($uri), so paths are written
    decoded. A folder alias also matches without its slash and as .../index.html.
    """
    lines = [
        "# Written by kabargen from the releases' aliases. Include it in the http {} block and",
        "# add to the server {} block:  if ($kabargen_redirect) { return 301 $kabargen_redirect; }",
        "map $uri $kabargen_redirect {",
        '    default "";',
    ]
    seen: set[str] = set()
    for old, new in redirect_pairs(config, site):
        forms = [old]
        if old.endswith("/"):
            forms += [old.rstrip("/"), old + "index.html"]
        for form in forms:
            if form and form not in seen:
                seen.add(form)
                lines.append(f"    {_nginx_string(form)} {_nginx_string(quote(new, safe=_PATH_SAFE))};")
    lines.append("}")
    return ("\n".join(lines) + "\n").encode("utf-8")
