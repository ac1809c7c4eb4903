"""Nothing outside the site folder is read and nothing outside the output folder is written:
slugs, aliases, file references, body links, symlinks and --output are all contained."""

import os

import pytest

from conftest import build_site, read_tree, run_cli
from hostile import diagnostics, find_everywhere, front_matter, snapshot, yaml_quote

CONFIG = "title: Siaran Pers Uji\nbase_url: https://pers.example.go.id/\n"
SECRET = "RAHASIA-LUAR-SITUS-Z1"


def rel(extra: dict | None = None, body: str = "Isi.") -> str:
    fields = {"title": "Rilis", "date": "2025-05-15 10:00", "byline": "[Rina]"}
    fields.update(extra or {})
    return front_matter(fields, body)


@pytest.fixture
def outside(tmp_path):
    """A secret beside the site folder, and a record of everything outside the output folder."""
    (tmp_path / "rahasia.txt").write_text(SECRET)
    (tmp_path / "rahasia").mkdir()
    (tmp_path / "rahasia" / "dokumen.pdf").write_text(SECRET)
    return tmp_path


def assert_contained(tmp_path, before, out):
    """Only the output folder (and the build cache) changed, and the secret is nowhere in it."""
    def outside(tree):
        return {k: v for k, v in tree.items() if not k.startswith((os.path.relpath(out, tmp_path) + "/", "site/.kabargen-cache/"))}
    assert outside(snapshot(tmp_path)) == outside(before)
    assert find_everywhere(out, SECRET) == [] if out.exists() else True


SLUGS = {
    "../../../luar": "luar",
    "/etc/cron.d/x": "etc-cron-d-x",
    "%2e%2e%2f%2e%2e%2fluar": "2e-2e-2f-2e-2e-2fluar",
    "..\\..\\luar2": "luar2",
    "C:\\Windows\\x": "c-windows-x",
    "~/.ssh/x": "ssh-x",
    "a/../../b": "a-b",
    " \u202e..\u202d/.. ": None,
    "..": None,
    "./.": None,
    "/": None,
}


def test_hostile_slugs_give_safe_folders(make_site, outside):
    files = {"kabargen.yaml": CONFIG}
    for i, (slug, folder) in enumerate(SLUGS.items()):
        if folder:
            files[f"content/r{i}.md"] = rel({"slug": yaml_quote(slug), "title": f"Rilis {i}"})
    root = make_site(files)
    before = snapshot(outside)
    assert build_site(root).ok
    out = root / "public"
    folders = sorted({p.split("/")[3] for p in read_tree(out) if p.startswith("rilis/")})
    assert folders == sorted(f for f in SLUGS.values() if f)
    assert_contained(outside, before, out)


def test_slugs_without_letters_are_errors(make_site):
    files = {"kabargen.yaml": CONFIG}
    for i, (slug, folder) in enumerate(SLUGS.items()):
        if not folder:
            files[f"content/r{i}.md"] = rel({"slug": yaml_quote(slug), "title": f"Rilis {i}"})
    result = build_site(make_site(files))
    assert sorted((os.path.basename(d.path), d.line) for d in result.errors) == sorted(
        (f"r{i}.md", 5) for i, f in enumerate(SLUGS.values()) if not f)


ALIASES = [
    "/../../luar/",
    "/%2e%2e/%2e%2e/luar/",
    "/%2E%2E%2F%2E%2E%2Fluar/",
    "/a/..%2f..%2f../luar/",
    "//evil.example/x/",
    "https://evil.example/x/",
    "/a\\..\\..\\luar/",
    "C:/Windows/x/",
    "relatif/tanpa-garis/",
    "/a/%00/b/",
    "/a/%0a/b/",
    "/a/\x7f/",
    "/a/./b/",
    "/",
    "/lama?x=1",
    "/lama#x",
]


def test_hostile_aliases_are_errors_with_their_line(make_site, outside):
    files = {"kabargen.yaml": CONFIG}
    for i, alias in enumerate(ALIASES):
        files[f"content/r{i}.md"] = rel({"aliases": f"[{yaml_quote(alias)}]", "title": f"Rilis {i}"})
    root = make_site(files)
    before = snapshot(outside)
    result = run_cli("build", "--source", str(root), cwd=root)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    errors = {(p, line) for p, line, sev, _ in diagnostics(result.stderr) if sev == "error"}
    for i, alias in enumerate(ALIASES):
        if alias == "/a/\x7f/":
            continue  # refused by the YAML loader already: its line is still 5
        assert (f"content/r{i}.md", 5) in errors, (alias, result.stderr)
    assert_contained(outside, before, root / "public")


FILE_REFS = [
    "../rahasia.txt",
    "../../rahasia.txt",
    "/../../rahasia.txt",
    "%2e%2e/%2e%2e/rahasia.txt",
    "media/../../../rahasia.txt",
    "media\\..\\..\\..\\rahasia.txt",
    "/etc/passwd",
    "file:///etc/passwd",
    "//localhost/etc/passwd",
    "~/rahasia.txt",
    "../kabargen.yaml",
]


def test_file_references_cannot_leave_content(make_site, outside):
    files = {"kabargen.yaml": CONFIG, "content/media/ada.jpg": b"\xff\xd8"}
    for i, ref in enumerate(FILE_REFS):
        files[f"content/r{i}.md"] = rel({"image": f"{{src: {yaml_quote(ref)}, alt: x}}", "attachments": f"[{yaml_quote(ref)}]", "title": f"Rilis {i}"})
    root = make_site(files)
    before = snapshot(outside)
    result = run_cli("build", "--source", str(root), cwd=root)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    errors = {(p, line) for p, line, sev, _ in diagnostics(result.stderr) if sev == "error"}
    for i, ref in enumerate(FILE_REFS):
        assert (f"content/r{i}.md", 5) in errors and (f"content/r{i}.md", 6) in errors, (ref, result.stderr)
    assert_contained(outside, before, root / "public")


BODY_LINKS = [
    "[berkas](../../rahasia.txt)",
    "[berkas](../../../rahasia.txt)",
    "![foto](/../rahasia.txt)",
    "[berkas](%2e%2e/%2e%2e/rahasia.txt)",
    "[berkas](/%2e%2e/rahasia.txt)",
    "[berkas](../kabargen.yaml)",
    "![foto](../../rahasia/dokumen.pdf)",
]


def test_body_links_cannot_leave_content(make_site, outside):
    body = "\n\n".join(BODY_LINKS)
    root = make_site({"kabargen.yaml": CONFIG, "content/rilis/a.md": rel(body=body)})
    before = snapshot(outside)
    result = run_cli("build", "--source", str(root), cwd=root)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines = {line for p, line, sev, _ in diagnostics(result.stderr) if sev == "error" and p == "content/rilis/a.md"}
    assert lines == {6 + 2 * i for i in range(len(BODY_LINKS))}, result.stderr
    assert_contained(outside, before, root / "public")


@pytest.mark.parametrize("pattern", ["/../{slug}/", "/rilis/../../{slug}/", "rilis/{slug}/", "/rilis\\{slug}/"])
def test_permalinks_cannot_climb_out(make_site, pattern):
    root = make_site({"kabargen.yaml": CONFIG + f"permalinks: {{release: {yaml_quote(pattern)}}}\n", "content/a.md": rel()})
    result = run_cli("build", "--source", str(root), cwd=root)
    assert result.returncode == 2 and "kabargen.yaml:3: error:" in result.stderr


def test_folder_names_that_would_make_unsafe_urls_are_errors(make_site, outside):
    root = make_site({"kabargen.yaml": CONFIG + "permalinks: {release: '/{section}/{slug}/'}\n",
                      "content/x\\..\\..\\..\\luar/a.md": rel(),
                      "content/biasa/b.md": rel({"title": "B"}),
                      "content/media/nama\\..\\..\\berkas.pdf": b"%PDF",
                      "static/x\\..\\y.txt": "teks"})
    before = snapshot(outside)
    result = build_site(root)
    shown = sorted((d.path.replace("\\", "/").split("site/")[-1], d.line) for d in result.errors)
    assert len(shown) == 3, [d.format() for d in result.diagnostics]
    assert_contained(outside, before, root / "public")


@pytest.mark.parametrize("files", [
    {"content/Rapat.md": rel(), "content/rapat.md": rel({"title": "B"})},
    {"content/a.md": rel({"slug": "RAPAT-Desa"}), "content/b/rapat-desa.md": rel({"title": "B"})},
    {"content/a.md": rel({"slug": "straße"}), "content/b.md": rel({"slug": "STRASSE"})},
    {"content/a.md": rel({"aliases": "[/Lama/Berita/]"}), "content/b.md": rel({"aliases": "[/lama/berita/]", "title": "B"})},
    {"content/media/Foto.JPG": b"1", "static/media/foto.jpg": b"2", "content/a.md": rel()},
])
def test_names_that_differ_only_by_case_collide(make_site, files):
    root = make_site({"kabargen.yaml": CONFIG, **files})
    result = run_cli("build", "--source", str(root), cwd=root)
    assert result.returncode == 1, result.stderr
    assert any(sev == "error" for _, _, sev, _ in diagnostics(result.stderr)) or "error" in result.stderr
    assert not (root / "public").exists()


def test_symlinks_leaving_the_site_are_not_followed(make_site, outside):
    root = make_site({"kabargen.yaml": CONFIG, "content/a.md": rel(), "content/media/asli.jpg": b"\xff\xd8",
                      ".git/config": f"[remote] url = https://token:{SECRET}@example.invalid/\n",
                      ".kabargen-cache/x": SECRET})
    links = {
        "content/media/luar.txt": outside / "rahasia.txt",
        "content/luar-folder": outside / "rahasia",
        "content/media/gitconfig": root / ".git/config",
        "content/media/cache": root / ".kabargen-cache",
        "static/luar.txt": outside / "rahasia.txt",
        "static/folder": outside / "rahasia",
        "content/media/putus.jpg": root / "tidak-ada.jpg",
        "content/putaran": root / "content",
        "content/media/salinan.jpg": root / "content/media/asli.jpg",  # inside the site: followed
    }
    for link, target in links.items():
        (root / link).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, root / link)
    before = snapshot(outside)
    result = run_cli("build", "--source", str(root), cwd=root)
    assert result.returncode == 0, result.stderr
    warned = {p for p, _, sev, _ in diagnostics(result.stderr) if sev == "warning"}
    for link in set(links) - {"content/media/salinan.jpg"}:
        assert link in warned, (link, result.stderr)
    out = root / "public"
    assert (out / "media/salinan.jpg").read_bytes() == b"\xff\xd8"
    assert_contained(outside, before, out)
    assert find_everywhere(out, "token:") == []
    strict = run_cli("build", "--source", str(root), "--strict", cwd=root)
    assert strict.returncode == 1 and "symbolic link" in strict.stderr


@pytest.mark.parametrize("target", ["{site}", "{site}/content", "{site}/content/rilis", "{site}/static", "{site}/templates",
                                    "{site}/.kabargen-cache", "{site}/.kabargen-cache/x", "{parent}", "/", "{site}/kabargen.yaml"])
def test_output_may_not_replace_or_sit_inside_the_site_inputs(make_site, tmp_path, target):
    root = make_site({"kabargen.yaml": CONFIG, "content/rilis/a.md": rel(), "static/CNAME": "pers.example.go.id\n",
                      "templates/.keep": "", ".kabargen-cache/data": "cache"})
    before = snapshot(tmp_path)
    out = target.format(site=root, parent=root.parent)
    result = run_cli("build", "--source", str(root), "--output", out)
    assert result.returncode == 2, (out, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and "--output" in result.stderr
    assert snapshot(tmp_path) == before
    assert not list(root.parent.glob(".kabargen-staging-*")) and not list(root.glob(".kabargen-staging-*"))
