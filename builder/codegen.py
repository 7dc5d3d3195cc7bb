"""The one way user text reaches generated code (scripts, notebooks, Ray Tune scripts).

Generated code is built from values, never formatted from user text:

- ``literal(value)``: Python source for a plain JSON-like value (``repr`` of str, int,
  float, bool, None and lists, tuples and dicts of those). A string holding quotes, newlines,
  backslashes, NUL or lone surrogates stays one string literal.
- ``inline(text)``: user text inside a comment or a (non-raw) docstring, on one line, with
  every character that could end the comment or docstring, or start an escape, escaped
  (``\\``, quotes, line breaks, control characters, NUL, surrogates). In a docstring it
  reads back as exactly the user's text.
- ``markdown(text)``: user text inside markdown (a notebook cell, and through ``ui.text``
  the app's pages): one line, what starts HTML or markdown escaped, so it renders as the
  text itself.
- ``variables(names, reserved)``: a Python variable per user name (a layer or input name);
  a keyword, ``__debug__``, a builtin or a name the generated code uses becomes ``name_``,
  while Keras' ``name=`` keeps the user's name (written with ``literal``).

No TensorFlow here, and no project imports.
"""

from __future__ import annotations

import builtins
import keyword
import math
import re

from builder.errors import ProjectError

# Names no generated assignment may take: keywords, ``__debug__`` (a constant Python
# refuses to assign), and every builtin (a layer named ``print`` or ``len`` would shadow
# the one the script calls).
PYTHON_RESERVED = frozenset(keyword.kwlist) | {"__debug__"} | frozenset(dir(builtins))


def literal(value) -> str:
    """Python source for a plain JSON-like value; anything else is refused (ProjectError).

    >>> literal({"a": (1,), "b": [None, 2.5]})
    "{'a': (1,), 'b': [None, 2.5]}"
    """
    if value is None or isinstance(value, (bool, int, str)):
        return repr(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ProjectError(f"{value!r} cannot be exported: use a finite number.")
        return repr(value)
    if isinstance(value, tuple):
        return "(" + ", ".join(literal(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(str(k))}: {literal(v)}" for k, v in value.items()) + "}"
    raise ProjectError(f"a value of type {type(value).__name__} cannot be exported.")


def inline(text) -> str:
    r"""User text for a ``#`` comment or inside a non-raw triple-quoted docstring: ASCII on one
    line, backslashes, quotes and every non-printable character written as escapes.

    >>> print(inline('say "hi"\n'))
    say \"hi\"\n
    """
    escaped = str(text).encode("unicode_escape").decode("ascii")
    return escaped.replace('"', '\\"').replace("'", "\\'")


# The characters that start markup anywhere in a line: escapes, code, emphasis, links and
# images (``[``; ``![i](url)`` is then text), HTML tags and entities, headings, tables,
# strikethrough and Streamlit's ``$`` maths (``:red[...]`` needs ``[``). Plain punctuation
# (parentheses, dots, colons, quotes) stays as it is, so the text reads unchanged.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~$&])")
# What starts a block at the beginning of a line: a list item (``-``, ``+``, ``1.``,
# ``1)``) or a heading underline (``=``).
_BLOCK_START = re.compile(r"\A([-+=]|\d+(?=[.)]))")
# GitHub-flavoured markdown (Streamlit's) turns a bare address into a link: "scheme://" and
# "www." lose that meaning once their ":" or "." is escaped.
_AUTOLINK = re.compile(r"(?<=[A-Za-z]):(?=//)|(?<=\bwww)\.", re.IGNORECASE)


def markdown(text) -> str:
    r"""User text safe inside markdown (notebook cells, Streamlit's ``st.markdown``): one
    line, every character that starts markdown or HTML backslash-escaped, so links,
    images, tags, emphasis and list markers render as the characters themselves.

    >>> print(markdown('![i](x.png) <b> 1. *a*'))
    !\[i\](x.png) \<b\> 1. \*a\*
    """
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))
    text = _AUTOLINK.sub(lambda m: "\\" + m.group(0), text)
    match = _BLOCK_START.match(text)
    if match:  # escape the list marker's punctuation: "1." -> "1\.", "-" -> "\-"
        end = match.end()
        text = text[:end] + "\\" + text[end:] if match.group(1)[0].isdigit() else "\\" + text
    return text


def variables(names: list[str], reserved: set[str] | frozenset[str] = frozenset()) -> dict:
    """A Python variable per name: the name itself, unless it is reserved (a keyword,
    ``__debug__``, a builtin, or one of ``reserved``), then ``name_`` (more ``_`` until it
    is free)."""
    blocked = PYTHON_RESERVED | set(reserved)
    taken = set(names) | blocked
    result = {}
    for name in names:
        var = name
        if var in blocked or not var.isidentifier():
            var = (name if name.isidentifier() else "v") + "_"
            while var in taken:
                var += "_"
            taken.add(var)
        result[name] = var
    return result
