"""Text of an HTML reply in one linear pass, quoted parts left out.

Not `html.parser.HTMLParser`: it rescans the rest of the input at each unclosed
`<`, so 80 KB of `<a` took seconds (quadratic), and it raises on some markup
(`<![ x`). Here every tag match stops at the next `<` or `>`, comments and
declarations jump to their end, and the input is capped, so the work is linear in
at most MAX_HTML characters.
"""

from __future__ import annotations

import re
from html import unescape

MAX_HTML = 1_000_000  # characters; a reply's own text is at the top
_TAG = re.compile(r"(/?)([A-Za-z][A-Za-z0-9:-]*+)((?:[\s/][^<>]*+)?)>")
_BREAKS = frozenset({"p", "div", "li", "tr", "h1", "h2", "h3"})
_VOID = frozenset({"br", "img", "hr", "meta", "link", "input", "wbr", "col", "area", "base"})
_SKIPPED = frozenset({"blockquote", "style", "script", "head"})


def html_text(markup: str) -> str:
    """Visible text: line breaks for block tags and `<br>`; blockquotes, Gmail's quote div,
    style, script and head left out."""
    markup = markup[:MAX_HTML]
    chunks: list[str] = []
    skip_depth = 0
    pos = 0
    while pos < len(markup):
        start = markup.find("<", pos)
        if start < 0:
            start = len(markup)
        if start > pos and not skip_depth:
            chunks.append(unescape(markup[pos:start]))
        if start >= len(markup):
            break
        tag = _TAG.match(markup, start + 1)
        if tag is None:
            pos = _skip_other(markup, start, chunks, skip_depth)
            continue
        pos = tag.end()
        skip_depth = _on_tag(tag.group(2).lower(), closing=bool(tag.group(1)), attrs=tag.group(3),
                             chunks=chunks, skip_depth=skip_depth)
    return "".join(chunks)


def _skip_other(markup: str, start: int, chunks: list[str], skip_depth: int) -> int:
    """After a `<` that opens no tag: a comment or declaration is dropped, else `<` is text."""
    if markup.startswith("<!--", start):
        end = markup.find("-->", start + 4)
        return len(markup) if end < 0 else end + 3
    if markup.startswith(("<!", "<?", "</"), start):
        end = markup.find(">", start + 2)
        return len(markup) if end < 0 else end + 1
    if not skip_depth:
        chunks.append("<")
    return start + 1


def _on_tag(name: str, *, closing: bool, attrs: str, chunks: list[str], skip_depth: int) -> int:
    if name in _VOID:
        if name == "br" and not closing and not skip_depth:
            chunks.append("\n")
        return skip_depth
    if closing:
        if skip_depth:
            return skip_depth - 1
    else:
        quoted = name == "div" and "gmail_quote" in attrs and "class" in attrs.lower()
        if skip_depth or name in _SKIPPED or quoted:
            return skip_depth + 1
    if name in _BREAKS:
        chunks.append("\n")
    return skip_depth
