"""Diagnostics for CI: GitHub Actions annotations and JSON lines, from the real command."""

import json

from conftest import release, run_cli
from kabargen.ci import annotation, escape_data, escape_property, github_path, json_line
from kabargen.errors import Diagnostic

BROKEN = {
    "content/rilis/tanggal.md": release(title="Tanggal Salah", date="2025-02-30"),
    "content/rilis/kunci.md": release(title="Kunci Asing", judul="lupa"),
}


def test_annotation_format_for_errors_and_warnings():
    error = Diagnostic("content/rilis/a.md", 3, "error", "'date': '2025-02-30' is not a real date")
    warning = Diagnostic("content/rilis/b.md", 7, "warning", "unknown key 'judul'")
    assert annotation(error, {}) == "::error file=content/rilis/a.md,line=3,title=kabargen::'date': '2025-02-30' is not a real date"
    assert annotation(warning, {}) == "::warning file=content/rilis/b.md,line=7,title=kabargen::unknown key 'judul'"
    # A diagnostic without a line (a whole file) carries no line property.
    assert annotation(Diagnostic("static/CNAME", 0, "error", "x"), {}) == "::error file=static/CNAME,title=kabargen::x"


def test_annotation_escaping_follows_the_runner_rules():
    assert escape_data("100% selesai\r\nbaris 2") == "100%25 selesai%0D%0Abaris 2"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    # ':' and ',' stay as they are in the message, but not in the file property.
    d = Diagnostic("content/a,b:c.md", 2, "error", "50% of 'a, b: c'\nnext line")
    assert annotation(d, {}) == "::error file=content/a%2Cb%3Ac.md,line=2,title=kabargen::50%25 of 'a, b: c'%0Anext line"


def test_annotation_path_is_relative_to_the_checkout(tmp_path, monkeypatch):
    site = tmp_path / "repo" / "situs"
    site.mkdir(parents=True)
    monkeypatch.chdir(site)
    env = {"GITHUB_WORKSPACE": str(tmp_path / "repo")}
    assert github_path("content/a.md", env) == "situs/content/a.md"
    assert github_path("content/a.md", {}) == "content/a.md"
    # Outside the checkout: left as it is rather than climbing with "..".
    assert github_path(str(tmp_path / "elsewhere.md"), env) == str(tmp_path / "elsewhere.md")


def test_json_line_fields():
    data = json.loads(json_line(Diagnostic("content/a.md", 4, "warning", "kata \"asing\"\nbaris")))
    assert data == {"path": "content/a.md", "line": 4, "severity": "warning", "message": "kata \"asing\"\nbaris"}


def test_github_actions_run_prints_annotations(make_site):
    root = make_site(BROKEN)
    result = run_cli("build", cwd=root, env={"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": str(root)})
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    # The plain form stays for people reading the log; the annotation is added for the pull request.
    assert any(line.startswith("content/rilis/tanggal.md:3: error:") for line in lines), result.stderr
    assert any(line.startswith("::error file=content/rilis/tanggal.md,line=3,title=kabargen::") and "not a real date" in line for line in lines), result.stderr
    assert any(line.startswith("::warning file=content/rilis/kunci.md,line=4,title=kabargen::") and "judul" in line for line in lines), result.stderr
    assert not (root / "public").exists()


def test_no_annotations_outside_github_actions(make_site):
    root = make_site(BROKEN)
    result = run_cli("check", cwd=root, env={"GITHUB_ACTIONS": ""})
    assert result.returncode == 1
    assert "::error" not in result.stderr + result.stdout


def test_config_errors_are_annotated_too(make_site):
    root = make_site({"kabargen.yaml": "title: Uji\ntimezone: Asia/Atlantis\nper_page: nol\n"})
    result = run_cli("check", cwd=root, env={"GITHUB_ACTIONS": "true"})
    assert result.returncode == 2
    assert "::error file=kabargen.yaml,line=2,title=kabargen::unknown time zone" in result.stderr
    assert "::error file=kabargen.yaml,line=3,title=kabargen::" in result.stderr


def test_format_json_for_check_and_build(make_site):
    root = make_site(BROKEN)
    for command in ("check", "build"):
        result = run_cli(command, "--format", "json", cwd=root, env={"GITHUB_ACTIONS": ""})
        assert result.returncode == 1
        # stdout holds nothing but the diagnostics, one JSON object a line.
        records = [json.loads(line) for line in result.stdout.splitlines()]
        assert {(r["path"], r["severity"]) for r in records} == {("content/rilis/tanggal.md", "error"), ("content/rilis/kunci.md", "warning")}
        date = next(r for r in records if r["severity"] == "error")
        assert date["line"] == 3 and "not a real date" in date["message"]
        assert set(date) == {"path", "line", "severity", "message"}
        assert "error(s)" in result.stderr


def test_format_json_success_keeps_stdout_clean(make_site):
    root = make_site({"content/a.md": release(title="Baik")})
    result = run_cli("build", "--format", "json", cwd=root)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "Built 1 releases" in result.stderr
    result = run_cli("check", "--format", "json", "--quiet", cwd=root)
    assert result.returncode == 0 and result.stdout == "" and result.stderr == ""


def test_format_json_config_error(make_site):
    root = make_site({"kabargen.yaml": "judul: Uji\n"})
    result = run_cli("check", "--format", "json", cwd=root)
    assert result.returncode == 2
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert any(r["path"] == "kabargen.yaml" and r["severity"] == "error" and "'title' is required" in r["message"] for r in records)
