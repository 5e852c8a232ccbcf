"""HTML mail bodies to plain text: paragraphs kept, scripts dropped, blockquotes marked as quotes."""

from __future__ import annotations

import re
from typing import Any

_BLOCK_TAGS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "center",
        "dd",
        "details",
        "dialog",
        "dir",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "menu",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "thead",
        "tfoot",
        "tr",
        "ul",
        "caption",
    ]
)
_DROP_TAGS = ["script", "style", "head", "title", "noscript", "template", "svg", "object", "iframe"]
_PARAGRAPH_TAGS = frozenset(
    ["p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "dl", "pre", "hr"]
)
_QUOTE_OPEN = "\x02"
_QUOTE_CLOSE = "\x03"
_SPACES = re.compile(r"[ \t\r\n\f\v\u00a0\u200b]+")
_MANY_NEWLINES = re.compile(r"\n{3,}")


def in_pre(node: Any) -> bool:
    """Whether a text node sits inside <pre> (its line breaks are content)."""
    parent = node.parent
    for _ in range(8):
        if parent is None:
            return False
        if parent.tag == "pre":
            return True
        parent = parent.parent
    return False


def _walk(root: Any, out: list[str]) -> None:
    # Iterative: mail HTML nests deeply enough to hit the recursion limit.
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, leaving = stack.pop()
        tag = node.tag
        if leaving:
            if tag == "blockquote":
                out.append("\n" + _QUOTE_CLOSE + "\n")
            elif tag in _PARAGRAPH_TAGS:
                out.append("\n\n")
            elif tag in _BLOCK_TAGS:
                out.append("\n")
            elif tag in ("td", "th"):
                out.append(" ")
            continue
        if tag == "-text":
            text = node.text_content or ""
            out.append(text if in_pre(node) else _SPACES.sub(" ", text))
            continue
        if tag == "br":
            out.append("\n")
            continue
        if tag == "img":
            alt = node.attributes.get("alt")
            if alt:
                out.append(f" {alt} ")
            continue
        if tag.startswith("-"):  # comments, doctype
            continue
        if tag == "blockquote":
            out.append("\n" + _QUOTE_OPEN + "\n")
        elif tag in _PARAGRAPH_TAGS:
            out.append("\n\n")
        elif tag in _BLOCK_TAGS:
            out.append("\n")
        stack.append((node, True))
        children = []
        child = node.child
        while child is not None:
            children.append(child)
            child = child.next
        for child in reversed(children):
            stack.append((child, False))


def _mark_quotes(raw: str) -> str:
    lines: list[str] = []
    depth = 0
    for chunk in raw.split("\n"):
        opens, closes = chunk.count(_QUOTE_OPEN), chunk.count(_QUOTE_CLOSE)
        text = chunk.replace(_QUOTE_OPEN, "").replace(_QUOTE_CLOSE, "").strip()
        depth += opens
        if text:
            lines.append("> " * depth + text if depth else text)
        elif lines and lines[-1] != "":
            lines.append("")
        depth = max(0, depth - closes)
    return _MANY_NEWLINES.sub("\n\n", "\n".join(lines)).strip()


def html_to_text(html: str) -> str:
    """Render HTML as plain text; blockquoted history comes out as "> " lines."""
    from selectolax.lexbor import LexborHTMLParser  # keep cold start light

    tree = LexborHTMLParser(html)
    tree.strip_tags(_DROP_TAGS)
    root = tree.body or tree.root
    if root is None:
        return ""
    out: list[str] = []
    _walk(root, out)
    return _mark_quotes("".join(out))
