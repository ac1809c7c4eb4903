"""docs/security.md promises what the suite checks; its host headers match docs/publishing.md."""

import re

from conftest import REPO
from test_publish import documented_csp

DOC = REPO / "docs/security.md"


def test_security_doc_recommends_the_same_csp_as_the_publishing_doc():
    text = DOC.read_text(encoding="utf-8")
    assert re.findall(r"^Content-Security-Policy: (.+)$", text, re.M) == [documented_csp()]


def test_security_doc_names_the_limits_the_code_enforces():
    from kabargen import markup, slugs, yamlload

    text = DOC.read_text(encoding="utf-8")
    assert f"{yamlload.MAX_NODES:,}" in text and f"deeper than {yamlload.MAX_DEPTH} levels" in text
    assert f"at most {slugs.MAX_SLUG_BYTES} bytes" in text
    assert f"over {markup.PARAGRAPH_LIMIT:,} characters" in text
