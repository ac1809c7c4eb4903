"""kabargen.yaml: defaults, every problem at once, exit 2."""

import pytest

from kabargen.config import load_config
from kabargen.errors import ConfigError

from conftest import run_cli, release


def test_defaults(make_site):
    root = make_site({"kabargen.yaml": "title: Situs\n"})
    config, warnings = load_config(root)
    assert config.title == "Situs"
    assert (config.language, config.timezone, config.per_page, config.feed_limit) == ("id", "Asia/Makassar", 10, 20)
    assert config.permalinks["release"] == "/rilis/{year}/{month}/{slug}/"
    assert config.base_path == "/" and warnings == []


def test_every_bad_key_reported_at_once(make_site):
    root = make_site({"kabargen.yaml": "base_url: ftp://x\ntimezone: Mars/Olympus\nper_page: banyak\ntitel: x\n"})
    with pytest.raises(ConfigError) as info:
        load_config(root)
    text = info.value.format_message()
    assert "kabargen.yaml:1:" in text and "base_url" in text
    assert "kabargen.yaml:2:" in text and "Mars/Olympus" in text
    assert "kabargen.yaml:3:" in text and "per_page" in text
    assert "'title' is required" in text
    assert "did you mean 'title'" in text


def test_sub_path_base_url(make_site):
    root = make_site({"kabargen.yaml": "title: x\nbase_url: https://contoh.github.io/siaran-pers\n"})
    config, _ = load_config(root)
    assert config.base_path == "/siaran-pers/"
    assert config.base_url == "https://contoh.github.io/siaran-pers/"


def test_config_error_exits_2_with_line(make_site):
    root = make_site({"kabargen.yaml": "title: x\ntimezone: Nowhere/Town\n", "content/a.md": release()})
    result = run_cli("build", "--source", str(root))
    assert result.returncode == 2
    assert "kabargen.yaml:2:" in result.stderr


def test_missing_config_exits_2(tmp_path):
    result = run_cli("build", "--source", str(tmp_path))
    assert result.returncode == 2
    assert "kabargen init" in result.stderr
