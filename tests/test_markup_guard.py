"""The inline-pattern guard in markup only skips searches that could not match."""

from hypothesis import given, settings, strategies as st

from kabargen.markup import Converter, _TriggerGuard

PIECES = ["kata", " ", "\n", "\n\n", "*", "**", "_", "`", "``", "[", "]", "(", ")", "[[", "]]", "|", "![", "[^1]", "[^1]: catatan",
          "<", ">", "<b>", "</b>", "&", "&amp;", "&#123;", "\\", "  \n", "http://contoh.go.id", "<https://contoh.go.id>",
          "<surat@contoh.go.id>", "# ", "- ", "1. ", "> ", "    ", "{: .kelas}", "```", "~~~", ":", "Baca Juga: ", "é", "“"]


def unguarded() -> Converter:
    converter = Converter("/", ())
    for item in converter.md.inlinePatterns._priority:
        pattern = converter.md.inlinePatterns[item.name]
        if isinstance(pattern.compiled_re, _TriggerGuard):
            pattern.compiled_re = pattern.compiled_re.regex
    return converter


def test_every_inline_pattern_of_the_converter_is_guarded():
    # A pattern added to Python-Markdown or to kabargen without a trigger still works (it is
    # simply always run); this lists the ones that are, so a rename upstream is noticed.
    converter = Converter("/", ())
    guarded = {item.name for item in converter.md.inlinePatterns._priority if isinstance(converter.md.inlinePatterns[item.name].compiled_re, _TriggerGuard)}
    assert {"backtick", "kabargen-xref", "link", "html", "entity", "em_strong"} <= guarded


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40))
def test_guarded_conversion_equals_unguarded(pieces):
    body = "".join(pieces)
    assert Converter("/", ()).convert(body, "rilis/a.md") == unguarded().convert(body, "rilis/a.md")
