"""The resmi theme, read from built pages: what a reader, a search engine and a feed reader get.

The sample site at the repository root is built once in Indonesian and once in English; every
test reads the written files back (parsed with BeautifulSoup) and asserts on what shows.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import feedparser
import pytest
from bs4 import BeautifulSoup

from conftest import build_site, copy_sample, release, run_cli

NOW = "2026-01-01 00:00"
SITE = "https://pers.example.go.id/"
RAKOR = "rilis/2025/05/rakorda-internet-desa-2025/"  # the release that uses every field
WITHDRAWN = "rilis/2023/08/internet-desa-tahap-pertama-2023/"
PLAIN = "rilis/2024/01/siaga-banjir-muara-jernih/"  # no image, no corrections


def _sample(root: Path, language: str = "id", strings: str = "") -> Path:
    copy_sample(root, language, strings)
    result = build_site(root, now=NOW)
    assert result.ok, result.diagnostics
    return root / "public"


@pytest.fixture(scope="module")
def site_id(tmp_path_factory) -> Path:
    return _sample(tmp_path_factory.mktemp("sample-id"))


@pytest.fixture(scope="module")
def site_en(tmp_path_factory) -> Path:
    return _sample(tmp_path_factory.mktemp("sample-en"), "en", "strings:\n  en: {baca_juga: See also, nav_tags: Subjects}\n")


def soup(out: Path, url: str) -> BeautifulSoup:
    path = out / (url + "index.html" if url == "" or url.endswith("/") else url)
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def text(node) -> str:
    """Text as a reader sees it: whitespace collapsed."""
    return re.sub(r"\s+", " ", node.get_text(" " if node.name in {"ul", "ol"} else "")).strip()


def exists(out: Path, href: str) -> bool:
    """Whether a root-relative link of the site points at a written file."""
    path = urlsplit(href).path.lstrip("/")
    target = out / path
    return (target / "index.html").is_file() if path == "" or path.endswith("/") else target.is_file()


# -- the release page --------------------------------------------------------------------


def test_release_dateline_is_location_dash_localized_date_and_zone(site_id):
    page = soup(site_id, RAKOR)
    dateline = page.select_one(".dateline")
    assert text(dateline) == "Lembah Permai, Kabupaten Contoh — Rabu, 14 Mei 2025 10.00 WITA"
    assert dateline.time["datetime"] == "2025-05-14T10:00:00+08:00"
    assert text(page.select_one(".kicker")) == "Siaran Pers · Nomor 041/HM/DISKOMINFO/05/2025"


def test_byline_grouped_by_person_with_credits_and_links_to_person_pages(site_id):
    page = soup(site_id, RAKOR)
    lines = [text(li) for li in page.select(".byline li")]
    assert lines == [
        "Penulis & Fotografer: Rahmat Hidayatullah (Tenaga Ahli Peliputan)",
        "Penulis: Nadia Puspitasari (Pranata Humas Ahli Pertama)",
        "Editor: Hendra Wijayakusuma (Pranata Humas Ahli Muda), Lestari Handayani (Kepala Bidang Informasi dan Komunikasi Publik)",
    ]
    for link in page.select(".byline a"):
        assert exists(site_id, link["href"]), link
        assert text(soup(site_id, link["href"].lstrip("/")).h1) == text(link)


def test_lead_image_with_alt_caption_and_photo_credit(site_id):
    figure = soup(site_id, RAKOR).select_one("figure.lead-image")
    img = figure.img
    assert img["alt"] == "Peserta rapat koordinasi internet desa duduk berderet di aula menghadap layar paparan"
    assert exists(site_id, img["src"])
    caption = text(figure.figcaption)
    assert caption.startswith("Suasana Rapat Koordinasi Internet Desa 2025")
    assert caption.endswith("Foto: Rahmat Hidayatullah/Diskominfo Kabupaten Contoh")


def test_read_also_paragraph_is_an_inline_callout(site_id):
    body = soup(site_id, RAKOR).select_one(".body")
    callout = body.select_one(".read-also")
    assert text(callout) == "Baca Juga: Ralat: Internet Desa Tahap I Jangkau 34 Desa di Kabupaten Contoh"
    assert callout.a["href"] == "/rilis/2023/08/internet-desa-tahap-pertama-ralat/"
    # It sits between paragraphs of the text, not at the end.
    assert callout.find_previous_sibling("p") and callout.find_next_sibling("p")


def test_hashtags_link_to_tag_pages(site_id):
    tags = soup(site_id, RAKOR).select(".tags a")
    assert [text(a) for a in tags] == ["#InternetDesa", "#diskominfocontoh", "#pemkabcontoh", "#TransformasiDigital"]
    assert all(exists(site_id, a["href"]) for a in tags)


def test_baca_juga_box_lists_related_releases_and_marks_outside_links(site_id):
    box = soup(site_id, RAKOR).select_one(".related")
    assert text(box.h2) == "Baca Juga"
    items = box.select("li")
    assert len(items) == 3
    internal = [li for li in items if li.a["href"].startswith("/")]
    assert internal and all(exists(site_id, li.a["href"]) and li.time for li in internal)
    outside = [li for li in items if li.a["href"].startswith("https://")]
    assert [text(li.a) for li in outside] == ["Peta Jalan Transformasi Digital Kabupaten Contoh 2025–2029"]
    assert "tautan luar: diskominfo.example.go.id" in text(outside[0])


def test_attachments_show_file_type_and_size(site_id):
    box = soup(site_id, RAKOR).select_one(".attachments")
    assert text(box.h2) == "Lampiran"
    item = box.li
    size = (site_id / "media/paparan-internet-desa-2025.pdf").stat().st_size
    assert text(item) == f"Bahan paparan Rapat Koordinasi Internet Desa 2025 (PDF) (PDF, {round(size / 1024)} KB)"
    assert exists(site_id, item.a["href"])


def test_media_contact_with_phone_and_email_links(site_id):
    box = soup(site_id, RAKOR).select_one(".contact")
    assert text(box.h2) == "Kontak media"
    assert "Lestari Handayani, Kepala Bidang Informasi dan Komunikasi Publik" in text(box)
    assert box.select_one('a[href="tel:+625410001234"]')
    assert box.select_one('a[href="mailto:humas@diskominfo.example.go.id"]')


def test_corrections_log_and_last_updated_near_the_top(site_id):
    page = soup(site_id, RAKOR)
    last = page.select_one(".release-header .last-updated")
    assert text(last).startswith("Terakhir diperbarui 15 Mei 2025 08.00 WITA")
    assert last.a["href"] == "#rilis-perbaikan" and page.select_one("#rilis-perbaikan")
    # Before the body: the reader learns of the change first.
    html = str(page)
    assert html.index("Terakhir diperbarui") < html.index('class="body"')
    entries = [text(li) for li in page.select(".corrections li")]
    assert entries == [
        "Diperbarui 14 Mei 2025 15.30 WITA: Nama operator jaringan mitra kerja sama dilengkapi.",
        "Diperbarui 15 Mei 2025 08.00 WITA: Jumlah desa yang belum terhubung diperbaiki dari 31 menjadi 29 desa.",
    ]


def test_release_without_corrections_has_no_log(site_id):
    page = soup(site_id, PLAIN)
    assert page.select_one(".last-updated") is None and page.select_one(".corrections") is None
    assert page.select_one("figure") is None


def test_previous_and_next_release_links(site_id):
    nav = soup(site_id, RAKOR).select_one("nav.prev-next")
    prev, nxt = nav.select_one('a[rel="prev"]'), nav.select_one('a[rel="next"]')
    assert text(prev) == "← Rilis sebelumnya Musrenbang RKPD 2026 Prioritaskan Konektivitas Desa dan Penurunan Stunting"
    assert text(nxt).startswith("Rilis berikutnya → Gerakan Literasi Digital")
    assert exists(site_id, prev["href"]) and exists(site_id, nxt["href"])


def test_share_links_are_plain_links_without_scripts(site_id):
    page = soup(site_id, RAKOR)
    links = {text(a): a["href"] for a in page.select(".share a")}
    assert list(links) == ["Surel", "WhatsApp", "Facebook", "X"]
    url = SITE + RAKOR
    mail = urlsplit(links["Surel"])
    assert mail.scheme == "mailto" and url in parse_qs(mail.query)["body"][0]
    assert parse_qs(urlsplit(links["WhatsApp"]).query)["text"][0].endswith(" " + url)
    assert urlsplit(links["WhatsApp"]).netloc == "wa.me"
    assert parse_qs(urlsplit(links["Facebook"]).query)["u"] == [url]
    assert parse_qs(urlsplit(links["X"]).query)["url"] == [url]
    assert [s for s in page.find_all("script") if s.get("type") != "application/ld+json"] == []
    assert page.find("iframe") is None


def test_withdrawn_release_has_notice_before_its_title(site_id):
    page = soup(site_id, WITHDRAWN)
    notice = page.select_one(".notice-withdrawn")
    assert text(notice).startswith("Rilis ini telah ditarik Rilis ini ditarik pada Jumat, 11 Agustus 2023 08.30 WITA: Jumlah desa penerima keliru.")
    assert str(page).index("notice-withdrawn") < str(page).index("<h1")


def test_every_page_has_one_h1_and_html_lang(site_id):
    for path in site_id.rglob("*.html"):
        page = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        assert page.html["lang"] == "id", path
        assert len(page.find_all("h1")) == 1, path


# -- lists ---------------------------------------------------------------------------------


def test_home_cards_show_title_date_summary_and_thumbnail_only_with_an_image(site_id):
    page = soup(site_id, "")
    cards = page.select(".card")
    assert len(cards) == 10
    for card in cards:
        assert exists(site_id, card.h2.a["href"])
        assert card.time and re.fullmatch(r"\w+, \d{1,2} \w+ \d{4}", text(card.time))
        assert text(card.select_one(".card-summary"))
    with_image = [c for c in cards if c.img]
    assert [c.h2.a["href"] for c in with_image] == ["/" + RAKOR]
    assert exists(site_id, with_image[0].img["src"]) and with_image[0].img["alt"] == ""


def test_pagination_says_page_n_of_total_with_previous_and_next(site_id):
    first, second = soup(site_id, ""), soup(site_id, "page/2/")
    nav = first.select_one("nav.pagination")
    assert text(nav.select_one(".page-of")) == "Halaman 1 dari 2"
    assert nav.select_one('a[rel="next"]')["href"] == "/page/2/" and not nav.select_one('a[rel="prev"]')
    nav = second.select_one("nav.pagination")
    assert text(nav.select_one(".page-of")) == "Halaman 2 dari 2"
    assert nav.select_one('a[rel="prev"]')["href"] == "/" and not nav.select_one('a[rel="next"]')
    assert "(Halaman 2 dari 2)" in text(second.title)
    tag2 = soup(site_id, "tag/pemkabcontoh/page/2/")
    assert tag2.select_one('nav.pagination a[rel="prev"]')["href"] == "/tag/pemkabcontoh/"


def test_person_page_shows_roles_and_credits(site_id):
    page = soup(site_id, "penulis/lestari-handayani/")
    assert text(page.h1) == "Lestari Handayani"
    facts = {text(div.dt): text(div.dd) for div in page.select(".person-facts div")}
    assert facts == {"Jabatan": "Kepala Bidang Informasi dan Komunikasi Publik", "Peran": "Editor"}
    assert page.select(".card")


def test_tag_and_archive_pages(site_id):
    tag = soup(site_id, "tag/internetdesa/")
    assert text(tag.h1) == "#InternetDesa" and text(tag.select_one(".kicker")) == "Tagar"
    assert tag.select_one('link[type="application/atom+xml"][href="/tag/internetdesa/feed.xml"]')
    archive = soup(site_id, "arsip/2024/")
    assert text(archive.h1) == "Arsip 2024"
    assert all("2024" in text(card.time) for card in archive.select(".card"))


def test_tag_index_and_people_index_link_every_page_with_counts(site_id):
    tags = soup(site_id, "tag/")
    items = tags.select(".tag-index li")
    assert len(items) == len(list((site_id / "tag").glob("*/index.html")))
    assert all(exists(site_id, li.a["href"]) and re.search(r"\d+ rilis$", text(li)) for li in items)
    people = soup(site_id, "penulis/")
    entries = {text(li.a): text(li) for li in people.select(".people-index li")}
    assert entries["Hendra Wijayakusuma"] == "Hendra Wijayakusuma Pranata Humas Ahli Muda Editor · 8 rilis"
    assert all(exists(site_id, a["href"]) for a in people.select(".people-index a"))


def test_not_found_page_offers_a_way_back_and_latest_releases(site_id):
    page = soup(site_id, "404.html")
    assert text(page.h1) == "Halaman tidak ditemukan"
    assert page.select_one('main a[href="/"]')
    latest = page.select(".latest a")
    assert len(latest) == 5 and all(exists(site_id, a["href"]) for a in latest)
    assert page.select_one('meta[name="robots"]')["content"] == "noindex"
    # Served for any missing path, so every link and asset is root-relative.
    assert all(tag.get("href", "/").startswith(("/", "#", "http", "mailto:", "tel:")) for tag in page.find_all(["a", "link"]))


def test_plain_page(site_id):
    page = soup(site_id, "tentang/")
    assert text(page.h1) == "Tentang Situs Ini"
    assert page.select_one(".body h2") and page.select_one(".dateline") is None
    assert page.select_one('.site-footer a[href="/tentang/"]')


def test_navigation_marks_where_the_reader_is(site_id):
    assert soup(site_id, "tag/").select_one('.site-nav a[aria-current="page"]')["href"] == "/tag/"
    assert soup(site_id, "tag/banjir/").select_one('.site-nav a[aria-current="true"]')["href"] == "/tag/"
    assert soup(site_id, "").select_one('.site-nav a[aria-current="page"]')["href"] == "/"


# -- language ------------------------------------------------------------------------------


def test_english_ui_strings_and_dates(site_en):
    page = soup(site_en, RAKOR)
    assert page.html["lang"] == "en"
    assert text(page.select_one(".dateline")) == "Lembah Permai, Kabupaten Contoh — Wednesday, 14 May 2025, 10:00 WITA"
    assert text(page.select_one(".byline li")) == "Writer & Photographer: Rahmat Hidayatullah (Tenaga Ahli Peliputan)"
    assert text(page.select_one(".last-updated")).startswith("Last updated 15 May 2025, 08:00 WITA")
    assert text(page.select_one(".lead-image figcaption")).endswith("Photo: Rahmat Hidayatullah/Diskominfo Kabupaten Contoh")
    assert text(page.select_one(".corrections li")).startswith("Updated 14 May 2025, 15:30 WITA: ")
    assert [text(a) for a in page.select(".share a")] == ["Email", "WhatsApp", "Facebook", "X"]
    assert text(page.select_one(".skip-link")) == "Skip to main content"
    assert text(page.select_one(".read-also strong")) == "Baca Juga:"  # written by the author, kept
    assert text(soup(site_en, "").select_one(".page-of")) == "Page 1 of 2"
    assert "1 release" in text(soup(site_en, "tag/"))
    assert soup(site_en, "").select_one('meta[property="og:locale"]')["content"] == "en_US"


def test_config_strings_override_theme_strings(site_en):
    page = soup(site_en, RAKOR)
    assert text(page.select_one(".related h2")) == "See also"
    assert [text(a) for a in page.select(".site-nav a")] == ["Home", "Subjects", "Writers"]


# -- search engines and social networks ----------------------------------------------------


def _meta(page, key: str) -> str | None:
    tag = page.find("meta", attrs={"property": key}) or page.find("meta", attrs={"name": key})
    return tag["content"] if tag else None


def test_release_head_has_canonical_description_open_graph_and_twitter_card(site_id):
    page = soup(site_id, RAKOR)
    url = SITE + RAKOR
    assert page.find("link", rel="canonical")["href"] == url
    summary = "Rapat koordinasi internet desa menyepakati peta jalan agar 98 desa di Kabupaten Contoh terhubung internet pada akhir 2026, ditandai penandatanganan kerja sama dengan operator jaringan."
    assert _meta(page, "description") == summary
    assert _meta(page, "og:description") == summary and _meta(page, "twitter:description") == summary
    assert _meta(page, "og:type") == "article" and _meta(page, "og:url") == url
    assert _meta(page, "og:title") == _meta(page, "twitter:title") == text(page.h1)
    # The lead photo's 1200x630 social card (docs/images.md).
    assert _meta(page, "og:image") == _meta(page, "twitter:image")
    assert re.fullmatch(re.escape(SITE) + r"media/_v/rakor-internet-desa-2025-[0-9a-f]{8}-card\.jpg", _meta(page, "og:image"))
    assert (_meta(page, "og:image:width"), _meta(page, "og:image:height"), _meta(page, "og:image:type")) == ("1200", "630", "image/jpeg")
    assert _meta(page, "og:image:alt").startswith("Peserta rapat koordinasi")
    assert _meta(page, "twitter:card") == "summary_large_image"
    assert _meta(page, "og:locale") == "id_ID" and _meta(page, "og:site_name") == "Siaran Pers Diskominfo Kabupaten Contoh"
    assert _meta(page, "article:published_time") == "2025-05-14T10:00:00+08:00"
    assert _meta(page, "article:modified_time") == "2025-05-15T08:00:00+08:00"


def test_pages_without_a_photo_fall_back_to_the_logo_and_a_small_card(site_id):
    for url in [PLAIN, "", "tag/banjir/", "penulis/"]:
        page = soup(site_id, url)
        assert re.fullmatch(re.escape(SITE) + r"media/_v/logo-[0-9a-f]{8}-card\.png", _meta(page, "og:image")), url
        assert _meta(page, "twitter:card") == "summary", url
        assert page.find("link", rel="canonical")["href"] == SITE + url
        assert _meta(page, "description"), url


def test_jsonld_news_article_is_complete(site_id):
    page = soup(site_id, RAKOR)
    data = json.loads(page.find("script", type="application/ld+json").string)
    assert data["@type"] == "NewsArticle" and data["headline"] == text(page.h1)
    assert data["datePublished"] == "2025-05-14T10:00:00+08:00" and data["dateModified"] == "2025-05-15T08:00:00+08:00"
    assert data["author"][0] == {"@type": "Person", "name": "Rahmat Hidayatullah", "jobTitle": "Tenaga Ahli Peliputan", "url": SITE + "penulis/rahmat-hidayatullah/"}
    assert [e["jobTitle"] for e in data["editor"]] == ["Pranata Humas Ahli Muda", "Kepala Bidang Informasi dan Komunikasi Publik"]
    assert re.fullmatch(re.escape(SITE) + r"media/_v/rakor-internet-desa-2025-[0-9a-f]{8}-1600\.jpg", data["image"][0]["url"])
    publisher = data["publisher"]
    assert publisher["@type"] == "GovernmentOrganization" and publisher["name"] == "Dinas Komunikasi dan Informatika Kabupaten Contoh"
    assert publisher["logo"]["url"] == SITE + "media/logo.png"
    assert data["mainEntityOfPage"] == SITE + RAKOR and data["identifier"] == "041/HM/DISKOMINFO/05/2025"


def test_content_cannot_break_out_of_script_or_attributes(make_site):
    title = 'Kutip "ganda" </script><script>alert(1)</script> <!-- & \u2028 ]]> akhir'
    root = make_site({"content/a.md": release(title=json.dumps(title), summary=json.dumps(title))})
    assert build_site(root, now=NOW).ok
    html = (root / "public/rilis/2025/05/a/index.html").read_text(encoding="utf-8")
    assert html.lower().count("<script") == 1 and html.lower().count("</script") == 1
    page = BeautifulSoup(html, "html.parser")
    assert json.loads(page.find("script").string)["headline"] == title
    assert _meta(page, "og:title") == title and _meta(page, "description") == title
    assert text(page.h1) == re.sub(r"\s+", " ", title).strip()


# -- feeds ---------------------------------------------------------------------------------


def test_site_feed_parses_and_carries_every_field(site_id):
    feed = feedparser.parse((site_id / "feed.xml").read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.feed.title == "Siaran Pers Diskominfo Kabupaten Contoh"
    assert feed.feed.link == SITE and feed.feed.id == SITE + "feed.xml"
    entry = next(e for e in feed.entries if e.link == SITE + RAKOR)
    assert entry.id == SITE + RAKOR
    assert entry.published.startswith("2025-05-14T10:00") and entry.updated.startswith("2025-05-15T08:00")
    assert [a.name for a in entry.authors] == ["Rahmat Hidayatullah", "Nadia Puspitasari"]
    assert entry.summary.startswith("Rapat koordinasi internet desa")
    assert {t.term for t in entry.tags} == {"internetdesa", "diskominfocontoh", "pemkabcontoh", "transformasidigital"}
    content = entry.content[0].value
    assert "Satu Kabupaten, Satu Jaringan" in content
    assert re.search(re.escape(SITE) + r"media/_v/rakor-internet-desa-2025-[0-9a-f]{8}-1600\.jpg", content)
    assert SITE + "media/paparan-internet-desa-2025.pdf" in content
    assert "Jumlah desa yang belum terhubung diperbaiki" in content
    withdrawn = next(e for e in feed.entries if e.link == SITE + WITHDRAWN)
    assert withdrawn.title.startswith("[Ditarik]")


def test_every_tag_feed_parses(site_id):
    feeds = sorted((site_id / "tag").glob("*/feed.xml"))
    assert feeds
    for path in feeds:
        feed = feedparser.parse(path.read_bytes())
        assert not feed.bozo, (path, feed.get("bozo_exception"))
        assert feed.entries and all(e.title and e.link and e.id and e.published and e.updated and e.summary and e.content for e in feed.entries)


# -- light ---------------------------------------------------------------------------------


def test_css_is_small_fingerprinted_and_has_a_print_stylesheet(site_id):
    sheets = list((site_id / "assets").glob("*.css"))
    assert len(sheets) == 1
    css = sheets[0]
    digest = hashlib.sha256(css.read_bytes()).hexdigest()[:8]
    assert css.name == f"style.{digest}.css"
    assert css.stat().st_size < 30 * 1024
    assert "@media print" in css.read_text(encoding="utf-8")
    for path in site_id.rglob("*.html"):
        page = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        if page.find("meta", attrs={"http-equiv": "refresh"}):
            continue  # alias redirect pages have no style
        assert [link["href"] for link in page.find_all("link", rel="stylesheet")] == [f"/assets/{css.name}"], path


def test_pages_load_nothing_from_other_hosts_and_need_no_javascript(site_id):
    embeds = 0
    for path in site_id.rglob("*.html"):
        page = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        for tag in page.find_all(["img", "script", "iframe", "source", "video", "audio"]):
            if tag.name == "iframe" and tag.find_parent(class_="body") and urlsplit(tag["src"]).hostname == "www.youtube-nocookie.com":
                embeds += 1  # the one outside request: a video the office allowed with embed_hosts
                continue
            assert not tag.get("src", "/").startswith(("http:", "https:", "//")), (path, tag)
        for link in page.find_all("link"):
            if {"stylesheet", "icon", "preload", "modulepreload"} & set(link.get("rel", [])):
                assert link["href"].startswith("/") and not link["href"].startswith("//"), (path, link)
        if path.relative_to(site_id).as_posix() == "cari/index.html":
            continue  # the search page runs the search script (and says so without JavaScript): tests/test_search.py
        assert [s for s in page.find_all("script") if s.get("type") != "application/ld+json"] == [], path
        assert page.find("noscript") is None, path
    assert embeds == 1


def test_printed_links_know_their_whole_address(site_id):
    page = soup(site_id, RAKOR)
    callout = page.select_one(".read-also a")
    assert callout["data-print-url"] == SITE + "rilis/2023/08/internet-desa-tahap-pertama-ralat/"
    assert page.select_one(".attachments a")["data-print-url"] == SITE + "media/paparan-internet-desa-2025.pdf"
    internal = [a for a in page.select(".related a") if a["href"].startswith("/")]
    assert internal and all(a["data-print-url"] == SITE + a["href"].lstrip("/") for a in internal)
    assert text(page.select_one(".print-only")) == "Sumber: " + SITE + RAKOR


def test_printed_addresses_follow_a_sub_path_base_url(make_site):
    root = make_site({
        "kabargen.yaml": "title: Uji\nbase_url: https://contoh.github.io/siaran-pers/\n",
        "content/a.md": release(title="A", body="Lihat [[b]]."),
        "content/b.md": release(title="B", date="2025-05-14 10:00"),
    })
    assert build_site(root, now=NOW).ok
    page = BeautifulSoup((root / "public/rilis/2025/05/a/index.html").read_text(encoding="utf-8"), "html.parser")
    link = page.select_one(".body a")
    assert link["href"] == "/siaran-pers/rilis/2025/05/b/"
    assert link["data-print-url"] == "https://contoh.github.io/siaran-pers/rilis/2025/05/b/"


def test_a_site_with_only_a_title_still_gets_a_whole_page(make_site):
    root = make_site({"kabargen.yaml": "title: Siaran Pers Desa Uji\n", "content/a.md": release(title="Rilis Pertama")})
    assert build_site(root, now=NOW).ok
    page = BeautifulSoup((root / "public/rilis/2025/05/a/index.html").read_text(encoding="utf-8"), "html.parser")
    assert text(page.select_one(".brand")) == "Siaran Pers Desa Uji" and page.select_one(".brand-logo") is None
    assert text(page.select_one(".footer-name")) == "Siaran Pers Desa Uji"
    assert page.select_one(".share") is None  # sharing needs an absolute base_url
    assert _meta(page, "og:image") is None and _meta(page, "twitter:card") == "summary"
    data = json.loads(page.find("script", type="application/ld+json").string)
    assert data["publisher"] == {"@type": "GovernmentOrganization", "name": "Siaran Pers Desa Uji"}
    assert page.select_one(".body a[data-print-url]") is None


def test_home_description_comes_from_the_organization(make_site, site_id):
    assert _meta(soup(site_id, ""), "description") == (
        "Siaran pers resmi Dinas Komunikasi dan Informatika Kabupaten Contoh: kegiatan, kebijakan, dan layanan publik pemerintah daerah."
    )
    config = "title: Uji\nbase_url: https://pers.example.go.id/\norganization: {name: Dinas Uji, description: Kabar resmi Dinas Uji.}\n"
    root = make_site({"kabargen.yaml": config, "content/a.md": release()})
    assert build_site(root, now=NOW).ok
    home = BeautifulSoup((root / "public/index.html").read_text(encoding="utf-8"), "html.parser")
    assert _meta(home, "description") == _meta(home, "og:description") == "Kabar resmi Dinas Uji."


def test_a_footer_override_may_show_each_page_its_own_values(make_site):
    # The theme's footer is rendered once for all pages; one that reads the page's own values
    # is rendered on each page (render.Renderer._footer_once).
    site = make_site({
        "content/a.md": release(title="Rilis A", date="2025-05-14 10:00"),
        "content/b.md": release(title="Rilis B"),
        "templates/_footer.html": '<footer>Halaman ini: /{{ page_url }} | {{ t("tag_index") }}</footer>\n',
    })
    result = build_site(site)
    assert result.ok, result.diagnostics
    assert "<footer>Halaman ini: /rilis/2025/05/b/ | " in (site / "public/rilis/2025/05/b/index.html").read_text()
    assert "<footer>Halaman ini: /tag/ | " in (site / "public/tag/index.html").read_text()


def test_a_footer_reads_what_a_page_template_sets(make_site):
    # An include sees what the including templates set: a footer reading such a name is
    # rendered on each page, as it would be without rendering it once for all.
    theme_base = (Path(__file__).parents[1] / "themes/resmi/templates/base.html").read_text()
    site = make_site({
        "content/a.md": release(title="Rilis A"),
        "templates/_footer.html": "<footer>bahasa: {{ lang }}</footer>\n",
        "templates/base.html": "{% set lang = 'jv' if page_url.startswith('rilis/') else lang %}" + theme_base,
    })
    assert build_site(site).ok
    assert "<footer>bahasa: jv</footer>" in (site / "public/rilis/2025/05/a/index.html").read_text()
    assert "<footer>bahasa: id</footer>" in (site / "public/tag/index.html").read_text()


def test_a_broken_footer_is_reported_as_a_template_error(make_site):
    site = make_site({"content/a.md": release(), "templates/_footer.html": "<footer>{{ 'x' | tidakada }}</footer>\n"})
    result = run_cli("build", "--source", str(site))
    assert result.returncode == 1, result.stderr
    assert "_footer.html:1: error: template error" in result.stderr and "Traceback" not in result.stderr
