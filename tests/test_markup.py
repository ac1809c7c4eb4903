"""Markdown to sanitized HTML: cross-links, read-also callouts, links and raw HTML."""

from kabargen.markup import Converter


def convert(body, embed=(), base="/"):
    return Converter(base, embed).convert(body, "rilis/2025/05/a.md", 10)


def test_cross_links_are_placeholders_with_lines():
    m = convert("Lihat [[rilis-lain]] dan\n[[rilis-ketiga|teks ini]].")
    assert m.xrefs == (("rilis-lain", 10), ("rilis-ketiga", 11))
    assert '<a data-xref="rilis-ketiga">teks ini</a>' in m.html


def test_cross_link_syntax_shown_in_code_is_text_not_a_link():
    body = "Tulis `[[slug-contoh]]` untuk menaut.\n\n```\n[[di-blok-kode]]\n```\n\n    [[kode-menjorok]]\n\nLihat [[rilis-nyata]]."
    m = convert(body)
    assert m.xrefs == (("rilis-nyata", 18),)
    assert "<code>[[slug-contoh]]</code>" in m.html and "[[di-blok-kode]]" in m.html and "[[kode-menjorok]]" in m.html
    assert m.html.count("data-xref") == 1


def test_read_also_paragraph_becomes_callout():
    m = convert("Paragraf.\n\nBaca Juga: [[rilis-lain]]\n\nBaca juga [[x]] di dalam kalimat.")
    assert '<aside class="read-also"><strong>Baca Juga:</strong> <a data-xref="rilis-lain"></a></aside>' in m.html
    assert m.html.count("read-also") == 1


def test_extensions_tables_footnotes_toc_fenced():
    m = convert("## Bagian\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nCatatan[^1].\n\n[^1]: Sumber.\n\n```\nkode <b>\n```\n")
    assert '<h2 id="bagian">Bagian</h2>' in m.html
    assert "<table>" in m.html and 'class="footnote"' in m.html
    assert "kode &lt;b&gt;" in m.html


def test_scripts_handlers_and_bad_schemes_removed_with_warnings():
    m = convert('<script>alert(1)</script>\n\n<img src="x.jpg" alt="a" onerror="alert(1)">\n\n[klik](javascript:alert(1))')
    assert "<script" not in m.html and "onerror" not in m.html and "javascript:" not in m.html
    messages = [(line, msg) for line, _sev, msg in m.problems]
    assert any(line == 10 and "<script>" in msg for line, msg in messages)
    assert any(line == 12 and "onerror" in msg for line, msg in messages)
    assert any(line == 14 and "scheme" in msg for line, msg in messages)


def test_iframes_only_from_embed_hosts():
    body = '<iframe src="https://www.youtube-nocookie.com/embed/abc" title="Video"></iframe>\n\n<iframe src="https://jahat.example/x"></iframe>'
    allowed = convert(body, embed=("www.youtube-nocookie.com",))
    assert 'src="https://www.youtube-nocookie.com/embed/abc"' in allowed.html
    assert "jahat.example" not in allowed.html
    assert any("jahat.example" in msg for _l, _s, msg in allowed.problems)
    none = convert(body)
    assert "youtube" not in none.html


def test_relative_links_resolve_against_the_file_and_base_path():
    m = convert("![Foto](../../../media/a.jpg)\n\n[Dok](/media/b.pdf)\n\n[Rilis](lain.md)", base="/siaran-pers/")
    assert 'src="/siaran-pers/media/a.jpg"' in m.html
    assert 'href="/siaran-pers/media/b.pdf"' in m.html
    assert m.files == (("media/a.jpg", 10), ("media/b.pdf", 12))
    assert ("@rilis/2025/05/lain.md", 14) in m.xrefs


def test_link_climbing_out_of_content_is_an_error():
    m = convert("[x](../../../../../etc/passwd.txt)")
    assert any(sev == "error" and "outside content" in msg for _l, sev, msg in m.problems)
    assert "passwd" not in m.html


def test_first_paragraph_for_summary():
    m = convert("Kalimat *pertama* di sini.\n\nKedua.")
    assert m.first_paragraph == "Kalimat pertama di sini."
