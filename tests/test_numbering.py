"""Release numbers: the next number from the config pattern, a sequence per year; duplicates rejected."""

from datetime import datetime

import pytest

from conftest import build_site, release, run_cli
from kabargen.numbering import check_pattern, next_number, parse_number

PATTERN = "{seq:03d}/HM/DISKOMINFO/{month:02d}/{year}"
JULY = datetime(2025, 7, 3, 10, 0)


def test_first_number_of_the_year():
    assert next_number(PATTERN, [], JULY) == "001/HM/DISKOMINFO/07/2025"


def test_continues_from_the_highest_of_the_year_whatever_the_month():
    existing = ["045/HM/DISKOMINFO/05/2025", "046/HM/DISKOMINFO/06/2025", "012/HM/DISKOMINFO/02/2025"]
    assert next_number(PATTERN, existing, JULY) == "047/HM/DISKOMINFO/07/2025"


def test_sequence_restarts_each_year():
    existing = ["187/HM/DISKOMINFO/12/2024", "188/HM/DISKOMINFO/12/2024"]
    assert next_number(PATTERN, existing, datetime(2025, 1, 2)) == "001/HM/DISKOMINFO/01/2025"
    assert next_number(PATTERN, existing + ["001/HM/DISKOMINFO/01/2025"], datetime(2025, 1, 2)) == "002/HM/DISKOMINFO/01/2025"


def test_numbers_of_another_scheme_and_case_are_handled():
    existing = ["B-12/HUMAS/2025", "009/hm/diskominfo/03/2025", "", "  010/HM/DISKOMINFO/04/2025  "]
    assert next_number(PATTERN, existing, JULY) == "011/HM/DISKOMINFO/07/2025"


def test_sequence_grows_past_its_padding():
    assert next_number(PATTERN, ["999/HM/DISKOMINFO/11/2025"], datetime(2025, 12, 1)) == "1000/HM/DISKOMINFO/12/2025"
    assert parse_number(PATTERN, "1000/HM/DISKOMINFO/12/2025") == {"seq": 1000, "month": 12, "year": 2025}


def test_roman_month_and_pattern_without_year():
    assert next_number("{seq}/{month_roman}/HUMAS/{year}", ["7/V/HUMAS/2025", "12/vi/HUMAS/2025"], JULY) == "13/VII/HUMAS/2025"
    # Without {year} the sequence runs on across years.
    assert next_number("HM-{seq:04d}", ["HM-0041", "HM-0040"], datetime(2026, 1, 1)) == "HM-0042"


def test_never_returns_a_number_already_taken():
    # Written by hand with a month that does not fit the pattern's month: still taken.
    pattern = "{seq:03d}/{day:02d}"
    assert next_number(pattern, ["001/01", "002/03"], datetime(2025, 3, 3)) == "003/03"


@pytest.mark.parametrize("pattern, problem", [
    ("{month:02d}/{year}", "must contain {seq}"),
    ("{seq}/{bulan}", "unknown field(s) bulan"),
    ("{seq:03d", "cannot be read"),
    ("{seq:q}", "cannot be used"),
    (17, "must be a pattern"),
])
def test_bad_patterns(pattern, problem):
    assert problem in check_pattern(pattern)
    with pytest.raises(ValueError):
        next_number(pattern, [], JULY)


def test_config_rejects_a_pattern_without_seq(make_site):
    root = make_site({"kabargen.yaml": 'title: Uji\nnumbering: "HM/{month:02d}/{year}"\n'})
    result = run_cli("check", cwd=root)
    assert result.returncode == 2
    assert "kabargen.yaml:2: error: 'numbering' must contain {seq}" in result.stderr


def test_duplicate_numbers_rejected_naming_both_files(make_site, monkeypatch):
    root = make_site({
        "content/rilis/pertama.md": release(title="Pertama", number="045/HM/DISKOMINFO/05/2025"),
        "content/rilis/kedua.md": release(title="Kedua", number="045/hm/diskominfo/05/2025", tags="[uji]"),
        "content/rilis/ketiga.md": release(title="Ketiga", number="046/HM/DISKOMINFO/05/2025"),
    })
    monkeypatch.chdir(root)  # diagnostics name files relative to the current folder
    result = build_site(root)
    assert [e.format() for e in result.errors] == [
        "content/rilis/pertama.md:4: error: release number '045/HM/DISKOMINFO/05/2025' is already used by content/rilis/kedua.md"
    ]
    assert not (root / "public").exists()
