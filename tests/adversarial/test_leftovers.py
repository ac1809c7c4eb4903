"""Editor and OS leftovers are never read as content and never published, wherever they lie."""

import shutil

from conftest import REPO, build_site, read_tree

CONFIG = "title: Siaran Pers Uji\nbase_url: https://pers.example.go.id/\n"
GOOD = "---\ntitle: Rilis\ndate: 2025-05-15 10:00\nbyline: [Rina]\n---\nIsi.\n"
# A leftover of a release is often broken (half saved): if it were read, the build would fail.
BROKEN = b"---\ntitle: [tidak ditutup\n\xff\xfe SISA-EDITOR-K4\n"

LEFTOVERS = [
    "a.md~", ".a.md.swp", ".a.md.swo", ".a.md.swx", "#a.md#", ".#a.md", "4913", ".DS_Store", "Thumbs.db", "desktop.ini",
]


def test_leftovers_are_never_read_or_published(make_site, tmp_path):
    files = {"kabargen.yaml": CONFIG, "content/rilis/a.md": GOOD, "content/media/foto.jpg": b"\xff\xd8",
             "static/CNAME": "pers.example.go.id\n", "static/.well-known/security.txt": "Contact: mailto:humas@example.go.id\n",
             "static/.nojekyll": ""}
    for folder in ["content", "content/rilis", "content/media", "static", "static/.well-known"]:
        for name in LEFTOVERS:
            files[f"{folder}/{name}"] = BROKEN
    files["content/media/foto.jpg~"] = BROKEN
    files["static/.git/config"] = BROKEN
    files["static/berkas/.svn/entries"] = BROKEN
    root = make_site(files)
    # The site's own copy of the theme, with leftovers beside its stylesheet.
    shutil.copytree(REPO / "themes/resmi", root / "themes/resmi")
    for name in ["style.css~", ".style.css.swp", "#style.css#", "4913", ".DS_Store"]:
        (root / "themes/resmi/static" / name).write_bytes(BROKEN)
    result = build_site(root)
    assert result.ok, [d.format() for d in result.diagnostics]
    tree = read_tree(root / "public")
    assert [rel for rel, data in tree.items() if b"SISA-EDITOR-K4" in data] == []
    names = {rel.rsplit("/", 1)[-1] for rel in tree}
    assert names.isdisjoint(LEFTOVERS + ["foto.jpg~", "config", "entries"])
    assert not any(".git" in rel or ".svn" in rel or "~" in rel or "#" in rel for rel in tree)
    # Dot-files a host needs are still published.
    assert {"CNAME", ".nojekyll", ".well-known/security.txt", "media/foto.jpg"} <= set(tree)
    theme_files = {p.name.split(".")[0] for p in (REPO / "themes/resmi/static").iterdir()}
    assert {rel.split("/")[1].split(".")[0] for rel in tree if rel.startswith("assets/")} == theme_files
