"""Validation and the site model: each error kind with its path:line, taxonomies, links."""

from datetime import datetime, timezone

import pytest

from kabargen.assemble import parse_date
from zoneinfo import ZoneInfo

from conftest import build_site, release


def messages(result):
    return [d.format() for d in result.diagnostics]


def only_error(result, path_end):
    errors = [d for d in result.errors if d.path.endswith(path_end)]
    assert errors, messages(result)
    return errors


def test_parse_date_forms():
    tz = ZoneInfo("Asia/Makassar")
    assert parse_date("2025-05-15", tz) == datetime(2025, 5, 15, tzinfo=tz)
    assert parse_date("2025-05-15 10:00", tz).hour == 10
    assert parse_date("2025-05-15 10:00:30", tz).second == 30
    moment = parse_date("2025-05-15T10:00:00+07:00", tz)
    assert moment.astimezone(timezone.utc).hour == 3
    with pytest.raises(ValueError, match="not a real date"):
        parse_date("2025-13-45", tz)
    with pytest.raises(ValueError):
        parse_date("kemarin", tz)


@pytest.mark.parametrize(
    "front, line, text",
    [
        ("title: x\nbyline: [A]", 1, "'date' is required"),
        ("date: 2025-05-15\nbyline: [A]", 1, "'title' is required"),
        ("title: x\ndate: 2025-05-15", 1, "'byline' is required"),
        ("title: x\ndate: 2025-13-45\nbyline: [A]", 3, "not a real date"),
        ("title: x\ndate: 2025-05-15\nbyline: [A]\ntags: satu", 5, "'tags' must be a list"),
        ("title: x\ndate: 2025-05-15\nbyline: [A]\nrelated: [tidak-ada]", 5, "no release has that slug"),
        ("title: x\ndate: 2025-05-15\nbyline: [A]\nimage: {src: media/hilang.jpg, alt: a}", 5, "not found under content/"),
        ("title: x\ndate: 2025-05-15\nbyline: [A]\nrelated: [{title: a, url: 'javascript:alert(1)'}]", 5, "scheme that is not allowed"),
        ("title: x\ndate: 2025-05-15\nbyline: [A]\ndraft: mungkin", 5, "'draft' must be true or false"),
        ("title: x\ndate: 2025-05-15\nbyline: [{role: Editor}]", 4, "'name' is required"),
    ],
)
def test_each_error_kind_has_path_and_line(make_site, front, line, text):
    root = make_site({"content/rilis/a.md": f"---\n{front}\n---\nIsi.\n"})
    result = build_site(root)
    errors = only_error(result, "a.md")
    assert any(e.line == line and text in e.message for e in errors), messages(result)
    assert not (root / "public").exists()


def test_unknown_key_is_a_warning_with_suggestion(make_site):
    root = make_site({"content/a.md": release(tittle="x")})
    result = build_site(root)
    assert result.ok
    assert any("unknown key 'tittle'" in w.message and "did you mean 'title'" in w.message and w.line == 4 for w in result.warnings)


def test_strict_turns_warnings_into_errors(make_site):
    root = make_site({"content/a.md": release(tittle="x")})
    assert not build_site(root, strict=True).ok


def test_duplicate_slugs_compared_case_insensitively(make_site):
    root = make_site({
        "content/rilis/Banjir.md": release(),
        "content/lain/banjir.md": release(),
    })
    result = build_site(root)
    assert any("already used by" in e.message for e in result.errors), messages(result)


def test_link_to_draft_or_later_embargo_is_an_error(make_site):
    root = make_site({
        "content/a.md": release(body="Lihat [[b]] dan [[c]]."),
        "content/b.md": release(title="B", draft="true"),
        "content/c.md": release(title="C", embargo="2030-01-01 08:00"),
    })
    result = build_site(root, now="2025-06-01 00:00")
    texts = messages(result)
    assert any("a.md:6:" in t and "'b', which is a draft" in t for t in texts), texts
    assert any("a.md:6:" in t and "'c', which is embargoed until 2030-01-01T08:00+08:00" in t for t in texts), texts


def test_tags_normalised_with_most_common_spelling(make_site):
    root = make_site({
        "content/a.md": release(title="A", tags='["#DiskominfoKaltim", pemprov]'),
        "content/b.md": release(title="B", tags="[diskominfokaltim]", date="2025-05-16 10:00"),
        "content/c.md": release(title="C", tags="[DiskominfoKaltim]", date="2025-05-17 10:00"),
    })
    result = build_site(root)
    assert result.ok, messages(result)
    tags = {t.slug: t for t in result.site.tags}
    assert set(tags) == {"diskominfokaltim", "pemprov"}
    assert tags["diskominfokaltim"].name == "DiskominfoKaltim"
    assert tags["diskominfokaltim"].releases == ("c", "b", "a")


def test_people_with_roles_and_credits(make_site):
    root = make_site({
        "content/a.md": release(title="A", editor="{name: Budi Santoso, role: Pranata Humas Ahli Muda}"),
        "content/b.md": release(title="B", date="2025-05-16 10:00", byline="[{name: Budi Santoso, role: Editor Senior, credit: [penulis]}]"),
    })
    result = build_site(root)
    people = {p.slug: p for p in result.site.people}
    budi = people["budi-santoso"]
    assert budi.releases == ("b", "a")
    assert budi.roles == ("Pranata Humas Ahli Muda", "Editor Senior") or set(budi.roles) == {"Pranata Humas Ahli Muda", "Editor Senior"}
    assert set(budi.credits) == {"editor", "penulis"}
    assert "rina-penulis" in people


def test_related_resolved_and_topped_up_by_shared_tags(make_site):
    root = make_site({
        "content/a.md": release(title="A", date="2025-01-01 10:00", tags="[x, y]"),
        "content/b.md": release(title="B", date="2025-01-02 10:00", tags="[x]"),
        "content/c.md": release(title="C", date="2025-01-03 10:00", tags="[z]"),
        "content/d.md": release(title="D", date="2025-01-04 10:00", tags="[x, y]", related="[c, {title: Luar, url: 'https://example.org/x'}]"),
    })
    result = build_site(root)
    d = result.site.releases["d"]
    assert [(link.title, link.external) for link in d.related] == [("C", False), ("Luar", True), ("A", False)]


def test_prev_next_and_years(make_site):
    root = make_site({
        "content/a.md": release(title="A", date="2024-12-31 10:00"),
        "content/b.md": release(title="B", date="2025-01-02 10:00"),
        "content/c.md": release(title="C", date="2025-01-03 10:00"),
    })
    site = build_site(root).site
    assert (site.releases["b"].prev, site.releases["b"].next) == ("a", "c")
    assert [(y.year, y.releases) for y in site.years] == [(2025, ("c", "b")), (2024, ("a",))]


def test_release_number_unique(make_site):
    root = make_site({
        "content/a.md": release(title="A", number="001/HM/2025"),
        "content/b.md": release(title="B", number="001/HM/2025"),
    })
    result = build_site(root)
    assert any("release number '001/HM/2025' is already used by" in e.message for e in result.errors)


def test_alias_collisions_name_both_files(make_site):
    root = make_site({
        "content/a.md": release(title="A", aliases="[/lama/berita/]"),
        "content/b.md": release(title="B", aliases="[/lama/berita/]"),
    })
    result = build_site(root)
    assert any("also an alias in" in e.message and e.path.endswith("b.md") and "a.md" in e.message for e in result.errors), messages(result)


def test_slug_from_other_scripts_is_kept(make_site):
    root = make_site({"content/a.md": release(title="Berita", slug="東京 ニュース")})
    site = build_site(root).site
    assert "東京-ニュース" in site.releases
