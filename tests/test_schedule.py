"""Embargo schedules: the build's closing line and `kabargen schedule`, with a fixed --now."""

import json
from datetime import timedelta

import pytest

from conftest import release, run_cli
from kabargen.schedule import duration


@pytest.fixture
def site(make_site):
    return make_site({
        "content/rilis/terbit.md": release(title="Sudah Terbit", date="2025-05-01 09:00"),
        "content/rilis/pagi.md": release(title="Embargo Pagi", date="2025-05-20 08:00"),
        # The later of date and embargo is the publish moment; an offset is honoured.
        "content/rilis/siang.md": release(title="Embargo Siang", date="2025-05-19 10:00", embargo="2025-05-20T13:30:00+07:00"),
        "content/rilis/depan.md": release(title="Embargo Bulan Depan", date="2025-06-02 07:15"),
        # A draft is held back but is not scheduled: it will not appear when its date passes.
        "content/rilis/draf.md": release(title="Draf Berembargo", date="2025-05-25 08:00", draft="true"),
    })


NOW = "2025-05-18 21:10"


def test_schedule_text_lists_every_future_embargo(site):
    result = run_cli("schedule", "--now", NOW, cwd=site)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "3 embargoes to lift after Sunday 18 May 2025, 21:10 WITA (Asia/Makassar):\n"
        "\n"
        "Tuesday 20 May 2025, 08:00 WITA, in 1 day 10 hours  [2025-05-20T08:00:00+08:00]\n"
        "  pagi: Embargo Pagi\n"
        "  content/rilis/pagi.md\n"
        "\n"
        "Tuesday 20 May 2025, 14:30 WITA, in 1 day 17 hours  [2025-05-20T14:30:00+08:00]\n"
        "  siang: Embargo Siang\n"
        "  content/rilis/siang.md\n"
        "\n"
        "Monday 2 June 2025, 07:15 WITA, in 14 days 10 hours  [2025-06-02T07:15:00+08:00]\n"
        "  depan: Embargo Bulan Depan\n"
        "  content/rilis/depan.md\n"
    )


def test_schedule_json(site):
    result = run_cli("schedule", "--now", NOW, "--format", "json", "--source", site.name, cwd=site.parent)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["now"] == "2025-05-18T21:10:00+08:00"
    assert data["timezone"] == "Asia/Makassar"
    assert data["next"] == "2025-05-20T08:00:00+08:00"
    assert [e["slug"] for e in data["embargoes"]] == ["pagi", "siang", "depan"]
    siang = data["embargoes"][1]
    assert siang == {
        "slug": "siang",
        "title": "Embargo Siang",
        "file": f"{site.name}/content/rilis/siang.md",  # relative to the current folder, like diagnostics
        "url": "https://pers.example.go.id/rilis/2025/05/siang/",
        "lifts_at": "2025-05-20T14:30:00+08:00",
        "lifts_at_utc": "2025-05-20T06:30:00Z",
        "lifts_at_unix": 1747722600,
        "lifts_at_text": "Tuesday 20 May 2025, 14:30 WITA",
    }


def test_schedule_after_an_embargo_lifted_lists_only_the_rest(site):
    data = json.loads(run_cli("schedule", "--now", "2025-05-20 08:00", "--format", "json", cwd=site).stdout)
    # At the very moment an embargo lifts, the release is published: it is no longer scheduled.
    assert [e["slug"] for e in data["embargoes"]] == ["siang", "depan"]
    data = json.loads(run_cli("schedule", "--now", "2025-07-01 00:00", "--format", "json", cwd=site).stdout)
    assert data == {"now": "2025-07-01T00:00:00+08:00", "timezone": "Asia/Makassar", "next": None, "embargoes": []}
    text = run_cli("schedule", "--now", "2025-07-01 00:00", cwd=site).stdout
    assert text == "No embargo to lift after Tuesday 1 July 2025, 00:00 WITA (Asia/Makassar).\n"


def test_schedule_refuses_a_broken_site(make_site):
    root = make_site({"content/a.md": release(title="A", date="2025-13-01"), "content/b.md": release(title="B", date="2030-01-01")})
    result = run_cli("schedule", "--format", "json", cwd=root)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "content/a.md:3: error:" in result.stderr


def test_schedule_uses_the_site_time_zone(make_site):
    root = make_site({
        "kabargen.yaml": "title: Uji\nbase_url: https://pers.example.go.id/\ntimezone: Asia/Jayapura\n",
        "content/a.md": release(title="A", date="2025-05-20T08:00:00+08:00"),
    })
    result = run_cli("schedule", "--now", "2025-05-20 00:00", cwd=root)
    assert "Tuesday 20 May 2025, 09:00 WIT, in 9 hours  [2025-05-20T09:00:00+09:00]" in result.stdout


def test_build_says_how_many_are_held_back_and_when_the_next_lifts(site):
    result = run_cli("build", "--now", NOW, cwd=site)
    assert result.returncode == 0, result.stderr
    assert "Built 1 releases" in result.stdout
    assert (
        "4 releases held back (1 draft, 3 under embargo); the next embargo lifts "
        "Tuesday 20 May 2025, 08:00 WITA (Asia/Makassar), in 1 day 10 hours: pagi"
    ) in result.stdout.splitlines()


def test_build_with_only_drafts_held_back(make_site):
    root = make_site({"content/a.md": release(title="A"), "content/b.md": release(title="B", draft="true")})
    result = run_cli("build", "--now", "2025-06-01 00:00", cwd=root)
    assert "1 release held back (1 draft)" in result.stdout.splitlines()
    assert "embargo" not in result.stdout


def test_build_with_nothing_held_back_says_nothing_about_it(make_site):
    root = make_site({"content/a.md": release(title="A")})
    result = run_cli("build", "--now", "2025-06-01 00:00", cwd=root)
    assert "held back" not in result.stdout


@pytest.mark.parametrize("delta, text", [
    (timedelta(seconds=20), "less than a minute"),
    (timedelta(minutes=1), "1 minute"),
    (timedelta(minutes=59, seconds=59), "59 minutes"),
    (timedelta(hours=1), "1 hour"),
    (timedelta(hours=2, minutes=5), "2 hours 5 minutes"),
    (timedelta(days=1, minutes=5), "1 day"),
    (timedelta(days=3, hours=4, minutes=5), "3 days 4 hours"),
])
def test_duration_shows_two_units_at_most(delta, text):
    assert duration(delta) == text
