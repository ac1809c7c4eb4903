"""Publishing: sub-path hosting over real HTTP, upload-friendly rebuilds, ready-made deployment files."""

import os
import re
from urllib.parse import urlsplit
import tomllib

import pytest
import yaml

from conftest import REPO, build_site, copy_sample, read_tree, release, run_cli
from httpcrawl import crawl, fetch, serve

PUBLIC = "https://diskominfo-contoh.github.io/siaran-pers/"


@pytest.fixture(scope="module")
def sub_path_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("subpath")
    copy_sample(root)
    (root / "static").mkdir()
    (root / "static/.nojekyll").write_bytes(b"")
    result = run_cli("build", "--source", str(root), "--base-url", PUBLIC, "--now", "2026-01-01 00:00")
    assert result.returncode == 0, result.stderr
    return root / "public"


def test_every_link_resolves_under_the_sub_path(sub_path_site):
    out = sub_path_site
    with serve(out, "/siaran-pers/") as local:
        # The host serves nothing outside the sub-path: a link that forgot it would fail.
        assert fetch(local.replace("/siaran-pers/", "/index.html"))[0] == 404
        start = [local, local + "404.html", local + "robots.txt", local + "sitemap.xml", local + "feed.xml",
                 local + "berita/2025/05/rakor-internet-desa/"]
        status, found_on = crawl(start, PUBLIC, local)
    broken = {url: sorted(found_on[url]) for url, code in status.items() if code != 200}
    assert broken == {}
    visited = {url[len(local):] for url in status}
    # Every page, feed, stylesheet, photo and attachment was reached by following links.
    for rel in read_tree(out):
        if rel in {".nojekyll"} or rel.startswith("pagefind/"):
            continue  # the search index is fetched by the search page's script, not linked
        url = rel[: -len("index.html")] if rel.endswith("index.html") else rel
        assert url in visited, rel
    # And what was crawled really covers the kinds of link: assets, media, feeds, sitemap entries.
    assert any(u.startswith("assets/style.") for u in visited)
    assert any(u.startswith("media/_v/rakor-internet-desa-2025-") for u in visited) and "media/paparan-internet-desa-2025.pdf" in visited
    assert "tag/internetdesa/feed.xml" in visited and "rilis/2025/05/rakorda-internet-desa-2025/" in visited


def test_no_root_relative_link_escapes_the_sub_path(sub_path_site):
    for rel, data in read_tree(sub_path_site).items():
        if rel.endswith((".html", ".xml")):
            text = data.decode("utf-8")
            for url in re.findall(r'(?:href|src|url)=["\']?(/[^"\'\s>]*)', text):
                assert url.startswith("/siaran-pers/"), (rel, url)
            for url in re.findall(r"https?://[^\"'<\s]+", text):
                # Share links carry the page's address encoded in their query: only the host counts.
                if (urlsplit(url).hostname or "").endswith("github.io"):
                    assert url.startswith(PUBLIC), (rel, url)


# -- upload-friendly rebuilds ------------------------------------------------------------------

OLD = 1_000_000_000  # an mtime far in the past, set on every file before the rebuild


def small_site(make_site):
    return make_site({
        # No search index here: this test lists every file an edit must rewrite.
        "kabargen.yaml": "title: Uji Unggah\nbase_url: https://pers.example.go.id/\nper_page: 2\nsearch: false\n",
        "content/rilis/r1.md": release(title="Satu", date="2025-05-01 09:00", tags="[jalan]", byline="[{name: Ani}]"),
        "content/rilis/r2.md": release(title="Dua", date="2025-05-02 09:00", tags="[jalan, desa]", byline="[{name: Budi}]",
                                       aliases="[/lama/dua/]", body="Paragraf pembuka.\n\nParagraf kedua."),
        "content/rilis/r3.md": release(title="Tiga", date="2025-05-03 09:00", tags="[desa]", byline="[{name: Ani}]"),
        "content/rilis/r4.md": release(title="Empat", date="2025-05-04 09:00", tags="[pasar]", byline="[{name: Citra}]"),
        "content/halaman/tentang.md": "---\ntitle: Tentang\nlayout: page\n---\nTentang kami.\n",
    })


def age_all(out):
    for path in out.rglob("*"):
        if path.is_file():
            os.utime(path, (OLD, OLD))


def rewritten(out):
    return {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and p.stat().st_mtime != OLD}


def edit(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_editing_a_body_rewrites_only_that_page_and_its_feeds(make_site):
    root = small_site(make_site)
    out = root / "public"
    build_site(root)
    before = read_tree(out)
    age_all(out)
    edit(root / "content/rilis/r2.md", "Paragraf kedua.", "Paragraf kedua, diperbaiki.")
    result = build_site(root)
    # The card in lists shows title, date, place and summary, not the body: only the page and
    # the feeds carrying the full text change.
    expected = {"rilis/2025/05/r2/index.html", "feed.xml", "tag/jalan/feed.xml", "tag/desa/feed.xml"}
    assert rewritten(out) == expected
    after = read_tree(out)
    assert {rel for rel in after if after[rel] != before.get(rel)} == expected
    assert (result.report.written, result.report.unchanged, result.report.removed) == (len(expected), len(after) - len(expected), 0)


def test_editing_a_title_rewrites_exactly_the_pages_that_show_it(make_site):
    root = small_site(make_site)
    out = root / "public"
    build_site(root)
    before = read_tree(out)
    age_all(out)
    edit(root / "content/rilis/r2.md", "title: Dua", "title: Dua Diperbarui")
    result = build_site(root)
    expected = {
        "rilis/2025/05/r2/index.html",  # the release itself
        "rilis/2025/05/r1/index.html",  # its neighbours' prev/next links
        "rilis/2025/05/r3/index.html",  # (and r3's "Baca Juga", which shares #desa)
        "page/2/index.html",  # home page 2 holds r2's card (2 per page: r4 r3 | r2 r1)
        "tag/jalan/index.html", "tag/desa/index.html",  # its tags
        "penulis/budi/index.html",  # its writer
        "arsip/2025/page/2/index.html",  # its year, second page
        "404.html",  # the latest releases on the not-found page
        "lama/dua/index.html",  # the redirect page from its old URL names it
        "feed.xml", "tag/jalan/feed.xml", "tag/desa/feed.xml",
    }
    assert rewritten(out) == expected
    after = read_tree(out)
    assert {rel for rel in after if after[rel] != before.get(rel)} == expected
    assert result.report.written == len(expected) and result.report.removed == 0


def test_deleting_a_release_removes_its_files(make_site):
    root = small_site(make_site)
    out = root / "public"
    build_site(root)
    before = set(read_tree(out))
    age_all(out)
    (root / "content/rilis/r4.md").unlink()
    result = build_site(root)
    after = set(read_tree(out))
    # Its page, and the tag and person pages only it had.
    removed = {"rilis/2025/05/r4/index.html", "tag/pasar/index.html", "tag/pasar/feed.xml", "penulis/citra/index.html"}
    assert before - after == removed and after <= before
    assert result.report.removed == len(removed)
    assert not (out / "rilis/2025/05/r4").exists() and not (out / "tag/pasar").exists()
    # Pages that never showed it keep their mtimes.
    assert {"rilis/2025/05/r1/index.html", "tag/jalan/index.html", "penulis/budi/index.html", "tentang/index.html"} & rewritten(out) == set()


def test_summary_counts_written_unchanged_removed(make_site):
    root = small_site(make_site)
    first = run_cli("build", cwd=root)
    total = len(read_tree(root / "public"))
    assert f"{total} files ({total} written, 0 unchanged, 0 removed)" in first.stdout
    second = run_cli("build", cwd=root)
    assert f"{total} files (0 written, {total} unchanged, 0 removed)" in second.stdout


# -- the deployment files in docs/publishing.md -----------------------------------------------

DOCS = REPO / "docs" / "publishing.md"


def code_blocks(language):
    text = DOCS.read_text(encoding="utf-8")
    return re.findall(rf"```{language}\n(.*?)```", text, re.S)


def test_docs_workflows_are_valid_yaml_and_use_kabargen():
    blocks = code_blocks("yaml")
    assert len(blocks) >= 4  # GitHub Pages, the scheduled variant, GitLab Pages, ...
    for block in blocks:
        data = yaml.safe_load(block)
        assert isinstance(data, dict)
    text = "\n".join(blocks)
    assert "actions/upload-pages-artifact" in text and "actions/deploy-pages" in text
    assert "cron:" in text and "kabargen schedule" in text
    assert "pages:" in text and "artifacts:" in text  # GitLab Pages job


def test_github_pages_workflow_builds_and_deploys():
    workflows = [yaml.safe_load(b) for b in code_blocks("yaml") if "deploy-pages" in b]
    assert workflows
    for wf in workflows:
        jobs = wf["jobs"]
        steps = [s for job in jobs.values() for s in job.get("steps", [])]
        runs = "\n".join(s.get("run", "") for s in steps)
        assert "kabargen build" in runs
        uses = [s.get("uses", "") for s in steps]
        assert any(u.startswith("actions/upload-pages-artifact@") for u in uses)
        assert any(u.startswith("actions/deploy-pages@") for u in uses)
        assert wf["permissions"]["pages"] == "write" and wf["permissions"]["id-token"] == "write"


def test_docs_netlify_toml_is_valid_and_sets_the_csp():
    blocks = code_blocks("toml")
    assert blocks
    config = tomllib.loads(blocks[0])
    assert config["build"]["publish"] == "public"
    assert "kabargen build" in config["build"]["command"]
    headers = {k: v for h in config["headers"] for k, v in h["values"].items()}
    assert headers["Content-Security-Policy"] == documented_csp()


def documented_csp():
    text = DOCS.read_text(encoding="utf-8")
    match = re.search(r"^Content-Security-Policy: (.+)$", text, re.M)
    assert match, "the CSP line is missing from docs/publishing.md"
    return match.group(1).strip()
