"""User text shown by Streamlit is text: the one escaping helper of the pages and ui.

Streamlit renders markdown in ``st.markdown``, captions, alerts, toasts, button and
expander labels and help tooltips: a project name holding ``![i](http://host/x.png)`` would
make the browser fetch that address, and ``**``, ``:red[...]`` or ``$...$`` would restyle
it. ``md(text)`` escapes every markdown and HTML character (``builder.codegen.markdown``,
the notebook export's helper too) and keeps line breaks. ``html(text)`` does the same for
Plotly, whose titles, legends and tick labels read a subset of HTML (``<a href>``).

tests/test_ui_text.py reads pages/, ui/ and app.py and fails on any value put into a
markdown call without ``md`` (or ``code``, for a code span).
"""

from __future__ import annotations

import html as _html
import re

from builder import codegen

_BACKTICKS = re.compile("`+")


def md(text) -> str:
    """``text`` (anything: str() is taken) for a markdown context, shown as written."""
    return "\n".join(codegen.markdown(line) for line in str(text).split("\n"))


def html(text) -> str:
    """``text`` for Plotly's HTML-like labels: ``<``, ``>`` and ``&`` as entities."""
    return _html.escape(str(text), quote=False)


def code(text) -> str:
    """``text`` as a markdown code span, shown exactly: fenced by more backticks than it
    holds in a row (CommonMark), on one line; inside a code span nothing is markup."""
    text = " ".join(str(text).split())
    run = max((len(m) for m in _BACKTICKS.findall(text)), default=0)
    fence = "`" * (run + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}" if text else "` `"
