"""YAML written to attack the loader: tags that construct objects, alias bombs, deep nesting,
impossible dates and huge numbers. Each one is a clear `path:line:` error, never a traceback."""

import os
import time

import pytest

from kabargen.errors import ConfigError

from conftest import build_site, run_cli
from hostile import diagnostics, jsonld_of

CONFIG = "title: Siaran Pers Uji\nbase_url: https://pers.example.go.id/\n"
HEAD = "---\ntitle: Rilis\ndate: 2025-05-15 10:00\nbyline: [Rina]\n"  # front matter lines 1-4

PYTHON_TAGS = [
    "!!python/object/apply:os.system ['touch {flag}']",
    "!!python/object/new:os.system ['touch {flag}']",
    "!!python/name:os.system",
    "!!python/module:os",
    "!!python/object:builtins.dict {{a: 1}}",
    "!<tag:yaml.org,2002:python/object/apply:os.system> ['touch {flag}']",
    "!!binary dG91Y2g=",
    "!!set {{a, b}}",
    "!!omap [a: 1]",
    "!lokal nilai",
]


def bomb(levels: int = 9, width: int = 9) -> str:
    lines = ['x0: &x0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels + 1):
        lines.append(f"x{i}: &x{i} [" + ", ".join([f"*x{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def errors_of(root) -> list[tuple[str, int]]:
    """Build in-process; (path relative to the site, line) of every error, config errors included."""
    try:
        result = build_site(root)
    except ConfigError as exc:
        found = exc.diagnostics
    else:
        found = result.errors
    return [(os.path.relpath(os.path.abspath(d.path), root) if d.path.startswith(("/", ".")) else d.path, d.line) for d in found if d.is_error]


def run(root):
    started = time.perf_counter()
    result = run_cli("build", "--source", str(root), cwd=root)
    assert "Traceback" not in result.stderr, result.stderr
    return result, time.perf_counter() - started


def test_no_tag_constructs_anything_in_content(make_site, tmp_path):
    flag = tmp_path / "PWNED"
    files = {"kabargen.yaml": CONFIG}
    for i, tag in enumerate(PYTHON_TAGS):
        files[f"content/r{i}.md"] = HEAD + f"summary: {tag.format(flag=flag)}\n---\nIsi.\n"
    root = make_site(files)
    result, _ = run(root)
    assert result.returncode == 1
    errors = {(p, line): msg for p, line, sev, msg in diagnostics(result.stderr) if sev == "error"}
    for i in range(len(PYTHON_TAGS)):
        assert "is not allowed" in errors[(f"content/r{i}.md", 5)], result.stderr
    assert not flag.exists()
    assert not (root / "public").exists()


@pytest.mark.parametrize("tag", PYTHON_TAGS[:3])
def test_no_tag_constructs_anything_in_the_config(make_site, tmp_path, tag):
    flag = tmp_path / "PWNED"
    root = make_site({"kabargen.yaml": CONFIG + f"defaults:\n  location: {tag.format(flag=flag)}\n",
                      "content/a.md": HEAD + "---\nIsi.\n"})
    result, _ = run(root)
    assert result.returncode == 2
    assert "kabargen.yaml:4: error: YAML tag" in result.stderr
    assert not flag.exists()


def test_alias_bomb_fails_fast_in_content_and_config(make_site):
    root = make_site({"kabargen.yaml": CONFIG, "content/a.md": HEAD + bomb() + "---\nIsi.\n"})
    result, seconds = run(root)
    assert result.returncode == 1
    assert "content/a.md:" in result.stderr and "alias bomb" in result.stderr
    assert seconds < 60  # a generous bound for a slow CI machine; expanding it would take hours
    root = make_site({"kabargen.yaml": CONFIG + bomb(), "content/a.md": HEAD + "---\nIsi.\n"})
    result, _ = run(root)
    assert result.returncode == 2 and "kabargen.yaml:" in result.stderr and "alias bomb" in result.stderr


@pytest.mark.parametrize("text, line", [
    ("x: &a [*a]\n", 5),
    ("x: &a {b: [c, *a]}\n", 5),
    ("x: *tidakada\n", 5),
])
def test_recursive_and_dangling_aliases_are_errors(make_site, text, line):
    root = make_site({"kabargen.yaml": CONFIG, "content/a.md": HEAD + text + "---\nIsi.\n"})
    result = build_site(root)
    assert [(d.line, "alias" in d.message) for d in result.errors] == [(line, True)]


@pytest.mark.parametrize("nested", [
    "x: " + "[" * 10_000 + "]" * 10_000,
    "x: " + "{a: " * 10_000 + "b" + "}" * 10_000,
    "x:\n" + "".join("  " * i + "- \n" for i in range(1, 3_000)),
    "x:\n" + "".join("  " * i + "a:\n" for i in range(1, 3_000)),
])
def test_ten_thousand_deep_nesting_is_a_clean_error(make_site, nested):
    root = make_site({"kabargen.yaml": CONFIG, "content/a.md": HEAD + nested + "\n---\nIsi.\n"})
    [(path, line)] = errors_of(root)
    assert path.endswith("content/a.md") and line >= 5
    root = make_site({"kabargen.yaml": CONFIG + nested + "\n", "content/a.md": HEAD + "---\nIsi.\n"})
    [(path, line)] = errors_of(root)
    assert path.endswith("kabargen.yaml") and line >= 3


@pytest.mark.parametrize("key, value, line", [
    ("date", "2025-13-45", 3),
    ("date", "2025-02-30 10:00", 3),
    ("date", "2025-05-15 25:00", 3),
    ("date", "0001-01-01T00:00:00+01:00", 3),
    ("date", "9999-12-31T23:00:00-10:00", 3),
    ("date", "99999999999999999999-01-01", 3),
    ("date", "!!timestamp 2025-13-45", 3),
    ("embargo", "2025-13-45 10:00", 5),
    ("updated", "[{date: 2025-13-45, note: x}]", 5),
    ("withdrawn", "{date: 2025-06-31, reason: x}", 5),
])
def test_impossible_dates_are_errors_with_their_line(make_site, key, value, line):
    text = HEAD.replace("date: 2025-05-15 10:00", f"date: {value}") if key == "date" else HEAD + f"{key}: {value}\n"
    root = make_site({"kabargen.yaml": CONFIG, "content/a.md": text + "---\nIsi.\n"})
    [(path, found)] = errors_of(root)
    assert path.endswith("content/a.md") and found == line


def test_huge_numbers_are_text_or_clean_errors(make_site):
    digits = "9" * 5000
    root = make_site({"kabargen.yaml": CONFIG, "content/a.md": HEAD + f"tags: [1e999999, -0, .nan, {'9' * 200}]\nnumber: {digits}\n---\nIsi.\n"})
    assert build_site(root).ok
    assert (root / "public/tag/1e999999/index.html").is_file() and (root / "public/tag" / ("9" * 200)).is_dir()
    assert digits in (root / "public/rilis/2025/05/a/index.html").read_text()
    # As a tag, slug or name it would be a folder name longer than any file system allows.
    for field in [f"tags: [{digits}]", f"slug: {digits}", f"editor: {{name: {'Nama ' * 60}}}", f"aliases: [/{'a' * 300}/]"]:
        root = make_site({"kabargen.yaml": CONFIG, "content/a.md": HEAD + field + "\n---\nIsi.\n"})
        [(path, line)] = errors_of(root)
        assert path.endswith("content/a.md") and line == 5, field[:20]
    for config in [f"per_page: {digits}\n", f"feed_limit: {digits}\n", "per_page: 1e9\n", "per_page: -1\n"]:
        root = make_site({"kabargen.yaml": CONFIG + config, "content/a.md": HEAD + "---\nIsi.\n"})
        [(path, line)] = errors_of(root)
        assert path.endswith("kabargen.yaml") and line == 3, config
    root = make_site({"kabargen.yaml": CONFIG, "content/a.md": HEAD + "---\nIsi.\n"})
    result = run_cli("build", "--source", str(root), "--now", "9999-12-31T23:59:00-12:00")
    assert result.returncode == 2 and "--now" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("text, line", [
    ("summary: \"nol \\0 byte\"\n", 5),
    ("summary: \"escape \\x1b[31m merah\"\n", 5),
    ("summary: \"\\uFFFE\"\n", 5),
    ("summary: a\nsummary: b\n", 6),
    ("<<: {title: x}\n", 5),
    ("? [a, b]\n: c\n", 5),
    ("summary: \"\\ud800\"\n", 5),
])
def test_other_hostile_yaml_is_an_error_with_its_line(make_site, text, line):
    root = make_site({"kabargen.yaml": CONFIG, "content/a.md": HEAD + text + "---\nIsi.\n"})
    result = build_site(root)
    assert [d.line for d in result.errors] == [line], [d.format() for d in result.diagnostics]


def test_yaml_scalars_stay_text(make_site):
    root = make_site({"kabargen.yaml": CONFIG, "content/a.md": HEAD.replace("title: Rilis", "title: no")
                      + "tags: [no, on, 2025, 0x1F, 1_000, ~x, .inf, 2025-05-15]\nnumber: 012\n---\nIsi.\n"})
    assert build_site(root).ok
    page = (root / "public/rilis/2025/05/a/index.html").read_text()
    assert "<h1>no</h1>" in page and jsonld_of(page)["headline"] == "no" and "012</" in page
    for tag in ["no", "on", "2025", "0x1f", "1-000", "x", "inf", "2025-05-15"]:
        assert (root / f"public/tag/{tag}/index.html").is_file(), tag


def test_deep_nesting_fails_cleanly_without_libyaml_too(monkeypatch):
    """PyYAML built without libyaml parses in Python; its own recursion must not be what stops it."""
    import yaml

    from kabargen import yamlload

    class PurePython(yaml.SafeLoader):
        pass

    monkeypatch.setattr(yamlload, "_EventLoader", PurePython)
    for nested in ["x: " + "[" * 10_000 + "]" * 10_000, "x: " + "{a: " * 10_000 + "b" + "}" * 10_000, "&a [*a]"]:
        with pytest.raises(yamlload.YamlProblem) as problem:
            yamlload.load(nested, first_line=2)
        assert problem.value.line == 2
    assert yamlload.load("a: [no, on]\nb: ~\n") == ({"a": ["no", "on"], "b": None}, {"a": 1, "a.0": 1, "a.1": 1, "b": 2})
