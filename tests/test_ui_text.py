"""Text is text in the browser: ``ui.text`` escapes user text for markdown and Plotly, and
every value the pages and ui put into a call that Streamlit renders as markdown (markdown,
captions, alerts, toasts, button, expander and checkbox labels, help tooltips) goes through
it. The second test reads the source, so a new call that forgets ``md`` fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from ui.text import code, html, md

ROOT = Path(__file__).resolve().parent.parent
MARKDOWN_CALLS = {
    "markdown",
    "caption",
    "error",
    "warning",
    "info",
    "success",
    "toast",
    "button",
    "expander",
    "subheader",
    "header",
    "title",
    "checkbox",
    "toggle",
    "radio",
    "form_submit_button",
    "popover",
}
ESCAPERS = {"md", "code", "len"}
# Text the project itself writes (the catalogue's and settings' help and labels, written
# in markdown on purpose), never a user's.
DEVELOPER_TEXT = {
    "entry['help']",
    "settings.LOSSES[loss]['help']",
    "label",  # ui/forms.py: the catalogue's label of a parameter
    "TEMPLATES_NOTE",  # ui/layer_form.py: a fixed sentence
    "_recommended(rec)",  # pages/data.py: Keras names, each escaped inside
}


def _unescaped(node: ast.AST) -> list[str]:
    """The parts of an argument that reach markdown without an escaper."""
    if isinstance(node, ast.Constant):
        return []
    if isinstance(node, ast.Call):
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", "")
        if name in ESCAPERS:
            return []
        if name == "map" and getattr(node.args[0], "id", "") in ESCAPERS:
            return []  # map(md, names)
        if name == "join" and isinstance(node.func, ast.Attribute):
            return _unescaped(node.func.value) + [p for a in node.args for p in _unescaped(a)]
    if isinstance(node, ast.JoinedStr):
        return [p for v in node.values for p in _unescaped(v)]
    if isinstance(node, ast.FormattedValue):
        if node.format_spec is not None and node.conversion == -1:
            return []  # a number with its format
        return _unescaped(node.value) if node.conversion == -1 else [ast.unparse(node)]
    if isinstance(node, ast.BinOp):
        return _unescaped(node.left) + _unescaped(node.right)
    if isinstance(node, ast.IfExp):
        return _unescaped(node.body) + _unescaped(node.orelse)
    if isinstance(node, (ast.GeneratorExp, ast.ListComp)):
        return _unescaped(node.elt)
    source = ast.unparse(node)
    return [] if source in DEVELOPER_TEXT else [source]


def _findings() -> list[str]:
    found = []
    files = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]
    files += [p for p in sorted((ROOT / "ui").glob("*.py")) if p.name != "text.py"]
    for path in files:
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in MARKDOWN_CALLS
            ):
                continue
            if "# escaped:" in lines[node.lineno - 1]:
                continue  # escaped piece by piece where the text was built
            args = list(node.args[:1]) + [
                k.value for k in node.keywords if k.arg in ("label", "body", "help")
            ]
            for arg in args:
                for part in _unescaped(arg):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {part}")
    return found


def test_every_value_in_a_markdown_call_is_escaped():
    assert _findings() == []


@pytest.mark.parametrize(
    "text",
    [
        "![i](http://127.0.0.1:9/x.png)",
        "<img src=x onerror=alert(1)>",
        "[lnk](javascript:alert(1)) **b** :red[x] $x$ `c`",
    ],
)
def test_md_and_code_render_as_the_text_itself(text):
    import markdown_it

    parser = markdown_it.MarkdownIt("commonmark")
    for escaped in (md(text), code(text)):
        rendered = parser.render(escaped)
        assert "<img" not in rendered and "<a " not in rendered and "<strong" not in rendered
    assert parser.render(code(text)).count("<code>") == 1


def test_md_keeps_line_breaks_and_html_escapes_tags():
    assert md("a\nb").count("\n") == 1
    assert html("<a href='x'>t</a> & b") == "&lt;a href='x'&gt;t&lt;/a&gt; &amp; b"
