"""The sample site at the repository root builds with every feature visible."""


import pytest

from conftest import copy_sample, grep_tree, run_cli

HIDDEN_MARKERS = [
    "RAHASIADRAF", "RAHASIAEMBARGO", "rahasia-draf-khusus", "rahasia-embargo-khusus",
    "Gita Permatasari Wulandaru", "Marselinus Tanggu Ratu", "draf-rahasia.pdf",
    "relokasi-pasar-rakyat-lembah-permai", "sayembara-desain-alun-alun",
]


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    root = tmp_path_factory.mktemp("sample")
    copy_sample(root)
    result = run_cli("build", "--source", str(root), "--now", "2026-01-01 00:00")
    assert result.returncode == 0, result.stderr
    return root / "public", result


def test_builds_cleanly_with_no_warnings(sample):
    _, result = sample
    assert "warning" not in result.stderr, result.stderr
    assert "Built 16 releases" in result.stdout


def test_has_every_page_type(sample):
    out, _ = sample
    for rel in [
        "index.html", "page/2/index.html", "tentang/index.html", "tag/index.html", "tag/internetdesa/index.html",
        "tag/internetdesa/feed.xml", "penulis/index.html", "arsip/2024/index.html", "feed.xml", "sitemap.xml",
        "robots.txt", "404.html", "rilis/2025/05/rakorda-internet-desa-2025/index.html",
        "berita/2025/05/rakor-internet-desa/index.html", "media/paparan-internet-desa-2025.pdf",
    ]:
        assert (out / rel).is_file(), rel


def test_release_using_every_field(sample):
    out, _ = sample
    page = (out / "rilis/2025/05/rakorda-internet-desa-2025/index.html").read_text()
    for fragment in ["WITA", "Editor:", "Baca Juga", "Lampiran", "Kontak media", "Riwayat perbaikan", "#InternetDesa", "media/_v/rakor-internet-desa-2025-"]:
        assert fragment in page, fragment


def test_hidden_releases_leave_no_trace(sample):
    out, _ = sample
    for marker in HIDDEN_MARKERS:
        assert grep_tree(out, marker) == [], marker


def test_withdrawn_release_stays_online_but_out_of_lists(sample):
    out, _ = sample
    page = (out / "rilis/2023/08/internet-desa-tahap-pertama-2023/index.html").read_text()
    assert "Rilis ini ditarik pada" in page
    assert "internet-desa-tahap-pertama-2023/" not in (out / "arsip/2023/index.html").read_text()
    assert "internet-desa-tahap-pertama-2023/" not in (out / "sitemap.xml").read_text()
