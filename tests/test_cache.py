"""The build cache: what it keeps, that damaged or foreign caches are ignored, that check writes none."""

import json
from pathlib import Path

import pytest

from conftest import build_site, read_tree, run_cli
from kabargen import cache as cache_module
from kabargen.cache import CACHE_DIR, MAGIC, pack, unpack
from test_incremental import NOW, cold_tree, site  # noqa: F401 - site is a fixture


def cache_files(root: Path) -> list[Path]:
    return sorted(p for p in (root / CACHE_DIR).rglob("*.bin"))


def test_a_build_writes_a_cache_marked_as_one(site):
    assert build_site(site, now=NOW).ok
    folder = site / CACHE_DIR
    assert (folder / "CACHEDIR.TAG").read_bytes().startswith(b"Signature: 8a477f597d28d172789f06886806bc55")
    names = {p.relative_to(folder).as_posix() for p in cache_files(site)}
    assert "output.bin" in names and "cards.bin" in names and "checked.bin" in names and any(n.startswith("sources/") for n in names)
    # Every cache file names what it is and which kabargen wrote it.
    for path in cache_files(site):
        blob = path.read_bytes()
        assert blob.startswith(MAGIC)
        size = int.from_bytes(blob[len(MAGIC) : len(MAGIC) + 4], "big")
        header = json.loads(blob[len(MAGIC) + 4 : len(MAGIC) + 4 + size])
        assert header["version"] and header["code"] and header["format"] == cache_module.FORMAT


@pytest.mark.parametrize("damage", ["truncate", "garbage", "flip", "empty", "foreign"])
def test_a_damaged_or_foreign_cache_is_ignored(site, tmp_path, damage):
    assert build_site(site, now=NOW).ok
    for path in cache_files(site):
        blob = path.read_bytes()
        if damage == "truncate":
            path.write_bytes(blob[: len(blob) // 2])
        elif damage == "garbage":
            path.write_bytes(b"\x80\x05garbage" * 50)
        elif damage == "flip":
            path.write_bytes(blob[:-10] + bytes(b ^ 0xFF for b in blob[-10:]))
        elif damage == "empty":
            path.write_bytes(b"")
        else:
            size = int.from_bytes(blob[len(MAGIC) : len(MAGIC) + 4], "big")
            header = json.loads(blob[len(MAGIC) + 4 : len(MAGIC) + 4 + size])
            header["version"] = "0.0.0-lain"
            new = json.dumps(header, sort_keys=True).encode()
            path.write_bytes(MAGIC + len(new).to_bytes(4, "big") + new + blob[len(MAGIC) + 4 + size :])
    # Also change content, so that trusting stale entries would show.
    page = site / "content/rilis/2025/05/rapat-anggaran.md"
    page.write_text(page.read_text(encoding="utf-8").replace("anggaran", "belanja"), encoding="utf-8")
    result = build_site(site, now=NOW)
    assert result.ok
    assert read_tree(site / "public") == cold_tree(site, tmp_path)
    # The damaged files were replaced by good ones.
    for path in cache_files(site):
        assert path.read_bytes().startswith(MAGIC)


def test_a_cache_holding_code_is_refused():
    class Boom:
        def __reduce__(self):
            return (print, ("never printed",))

    blob = pack("cards", "", {"x": Boom()})
    assert unpack(blob, "cards", "") is None
    assert unpack(pack("cards", "", {"x": ("plain", 1, None)}), "cards", "") == {"x": ("plain", 1, None)}
    assert unpack(pack("cards", "a", {}), "cards", "b") is None
    assert unpack(pack("cards", "", {}), "output", "") is None


def test_check_reads_the_cache_but_writes_nothing(site):
    result = run_cli("check", "--source", str(site), "--now", NOW)
    assert result.returncode == 0, result.stderr
    assert not (site / CACHE_DIR).exists() and not (site / "public").exists()
    assert build_site(site, now=NOW).ok
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (site / CACHE_DIR).rglob("*") if p.is_file()}
    page = site / "content/rilis/2025/05/rapat-anggaran.md"
    page.write_text(page.read_text(encoding="utf-8") + "\nParagraf baru.\n", encoding="utf-8")
    result = run_cli("check", "--source", str(site), "--now", NOW)
    assert result.returncode == 0, result.stderr
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (site / CACHE_DIR).rglob("*") if p.is_file()}
    assert after == before


def test_no_cache_neither_reads_nor_writes_it(site, tmp_path):
    result = run_cli("build", "--source", str(site), "--now", NOW, "--no-cache")
    assert result.returncode == 0, result.stderr
    assert not (site / CACHE_DIR).exists()
    assert build_site(site, now=NOW).ok
    for path in cache_files(site):
        path.write_bytes(b"rusak")
    result = run_cli("build", "--source", str(site), "--now", NOW, "--no-cache")
    assert result.returncode == 0, result.stderr
    assert all(p.read_bytes() == b"rusak" for p in cache_files(site))
    assert read_tree(site / "public") == cold_tree(site, tmp_path)


def test_an_unchanged_file_is_not_converted_again(site, monkeypatch):
    assert build_site(site, now=NOW).ok
    converted = []
    real = cache_module.BuildCache.put_source

    def spy(self, digest, rel, entry):
        converted.append(rel)
        return real(self, digest, rel, entry)

    monkeypatch.setattr(cache_module.BuildCache, "put_source", spy)
    page = site / "content/rilis/2025/05/rapat-anggaran.md"
    page.write_text(page.read_text(encoding="utf-8") + "\nParagraf baru.\n", encoding="utf-8")
    assert build_site(site, now=NOW).ok
    assert converted == ["rilis/2025/05/rapat-anggaran.md"]


def test_a_preview_after_a_build_has_every_page(site):
    # kabargen serve and check build without writing: pages the output folder already holds
    # must still come with their bytes, since a preview serves them from memory.
    built = build_site(site, now=NOW)
    assert built.ok
    preview = build_site(site, now=NOW, write=False)
    assert preview.ok
    assert [p.output_path for p in preview.pages] == [p.output_path for p in built.pages]
    assert all(p.data for p in preview.pages)
    public = read_tree(site / "public")
    assert {p.output_path: p.data for p in preview.pages} == {p.output_path: public[p.output_path] for p in preview.pages}


def test_cards_of_unchanged_releases_stay_in_the_cache(site, monkeypatch):
    # List pages kept by their inputs key look up no card; the cards file keeps them anyway,
    # so that a later build re-rendering many list pages need not render every card again.
    # (Without the check of kept pages, which looks their cards up.)
    monkeypatch.setenv("KABARGEN_VERIFY_REUSE", "0")
    def cards() -> dict:
        path = site / CACHE_DIR / "cards.bin"
        blob = path.read_bytes()
        size = int.from_bytes(blob[len(MAGIC) : len(MAGIC) + 4], "big")
        header = json.loads(blob[len(MAGIC) + 4 : len(MAGIC) + 4 + size])
        return unpack(blob, "cards", header["scope"])

    assert build_site(site, now=NOW).ok
    before = cards()
    assert len(before) == 3  # the listed releases
    page = site / "content/rilis/2025/05/rapat-anggaran.md"
    page.write_text(page.read_text(encoding="utf-8") + "\nParagraf baru.\n", encoding="utf-8")
    assert build_site(site, now=NOW).ok
    after = cards()
    # One card changed (the edited release's); every other one is still there.
    assert len(after) == len(before)
    assert len(set(after) - set(before)) == 1
