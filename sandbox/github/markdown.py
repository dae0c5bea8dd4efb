"""A small GitHub-flavoured Markdown to HTML renderer for the emulator's web pages: enough for
what people and the bot write in pull requests and comments (headings, paragraphs, lists with
task boxes, fenced and inline code, emphasis, links, quotes, rules; HTML comments hidden).

Everything is escaped first: no HTML from a body reaches the page (GitHub sanitizes too). It
is not a full CommonMark implementation and must not grow into one.
"""

from __future__ import annotations

import html
import re

_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d+[.)]\s+(.*)$")
_RULE = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_TASK = re.compile(r"^\[([ xX!])\]\s+")


def inline(text: str) -> str:
    """One line's inline Markdown to HTML: `code`, **bold**, *italic*/_italic_, ~~strike~~,
    [links](url) and bare http(s) URLs; the rest escaped."""
    held: list[str] = []

    def hold(fragment: str) -> str:
        held.append(fragment)
        return f"\x00{len(held) - 1}\x00"

    text = re.sub(r"`([^`]+)`", lambda m: hold(f"<code>{html.escape(m.group(1))}</code>"), text)
    text = re.sub(
        r"\[([^\]]+)\]\((https?://[^)\s]+)\)",
        lambda m: hold(f'<a href="{html.escape(m.group(2))}">{html.escape(m.group(1))}</a>'),
        text)
    text = re.sub(r"(?<![\"'=])\bhttps?://[^\s<>()]+",
                  lambda m: hold(f'<a href="{html.escape(m.group(0))}">'
                                 f"{html.escape(m.group(0))}</a>"), text)
    out = html.escape(text, quote=False)
    out = re.sub(r"\*\*(?=\S)(.+?)(?<=\S)\*\*", r"<strong>\1</strong>", out)
    out = re.sub(r"~~(?=\S)(.+?)(?<=\S)~~", r"<del>\1</del>", out)
    out = re.sub(r"(?<![\w*])\*(?=\S)([^*]+?)(?<=\S)\*(?![\w*])", r"<em>\1</em>", out)
    out = re.sub(r"(?<!\w)_(?=\S)([^_]+?)(?<=\S)_(?!\w)", r"<em>\1</em>", out)
    return re.sub(r"\x00(\d+)\x00", lambda m: held[int(m.group(1))], out)


def _item(text: str) -> str:
    task = _TASK.match(text)
    if task is None:
        return f"<li>{inline(text)}</li>"
    mark = task.group(1)
    box = {"x": "☑", "X": "☑", "!": "⚠", " ": "☐"}[mark]
    return f'<li class="task"><span class="box">{box}</span> {inline(text[task.end():])}</li>'


def render(source: str | None) -> str:
    """A body's Markdown to HTML blocks (empty input: an empty string)."""
    lines = _COMMENT.sub("", source or "").replace("\r\n", "\n").split("\n")
    out: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []
    kind = ""  # "ul" | "ol" while a list is open

    def close() -> None:
        nonlocal kind
        if paragraph:
            out.append("<p>" + "<br>".join(inline(p) for p in paragraph) + "</p>")
            paragraph.clear()
        if items:
            out.append(f"<{kind}>" + "".join(items) + f"</{kind}>")
            items.clear()
            kind = ""

    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if _FENCE.match(line):
            close()
            fence = _FENCE.match(line).group(1)  # type: ignore[union-attr]
            code: list[str] = []
            while index < len(lines) and not lines[index].strip().startswith(fence):
                code.append(lines[index])
                index += 1
            index += 1
            out.append(f"<pre><code>{html.escape(chr(10).join(code))}</code></pre>")
        elif not line.strip():
            close()
        elif heading := _HEADING.match(line):
            close()
            level = len(heading.group(1))
            out.append(f"<h{level}>{inline(heading.group(2))}</h{level}>")
        elif _RULE.match(line):
            close()
            out.append("<hr>")
        elif (bullet := _BULLET.match(line)) or (numbered := _NUMBERED.match(line)):
            wanted = "ul" if bullet else "ol"
            if paragraph or (kind and kind != wanted):
                close()
            kind = wanted
            items.append(_item((bullet or numbered).group(1)))  # type: ignore[union-attr]
        elif line.startswith(">"):
            close()
            out.append(f"<blockquote>{inline(line.lstrip('>').strip())}</blockquote>")
        elif items and line.startswith((" ", "\t")):
            items[-1] = items[-1][:-5] + " " + inline(line.strip()) + "</li>"
        else:
            if items:
                close()
            paragraph.append(line.strip())
    close()
    return "\n".join(out)
