"""Every page runs inside the app's frame (``app.py``: the page list, the project's name,
Projects, New / Open / Save).

- ``run(page)``: how ``app.py`` runs the page ``st.navigation`` chose.
- ``end()``: a page with nothing more to show ends there. ``st.stop()`` would end the
  whole script run, so what ``app.py`` draws after the page (the sidebar) would be missing
  and Streamlit would drop those widgets' state. Outside ``run`` (AppTest's
  ``switch_page`` runs a page file on its own) it is ``st.stop()``.
- ``enter()``: called first by every page. Until a server process has run ``app.py``
  once, Streamlit still treats ``pages/`` as an old-style page folder and runs a page
  asked for by its URL (a reload on /train after a restart) on its own, with no sidebar
  and no page list. ``enter()`` ends that old-style handling and reruns, now through
  ``app.py``, on the same page.
"""

from __future__ import annotations

import threading
from typing import Any, NoReturn

import streamlit as st

_inside = threading.local()  # set while this thread's script run is in run(page)


class PageEnd(Exception):
    """Raised by ``end()``: the page has nothing more to draw."""


def enter() -> None:
    """Rerun through ``app.py`` if Streamlit ran this page file on its own as an old-style
    ``pages/`` page (see the module docstring)."""
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory and not getattr(_inside, "page", False):
        PagesManager.uses_pages_directory = False  # as app.py's st.navigation would set it
        st.rerun()


def end() -> NoReturn:
    """End this page here; the app goes on to draw the sidebar."""
    if getattr(_inside, "page", False):
        raise PageEnd
    st.stop()


def run(page: Any) -> None:
    """Run a ``st.navigation`` page (its ``run()``) to its end or to its ``end()``."""
    _inside.page = True
    try:
        page.run()
    except PageEnd:
        pass
    finally:
        _inside.page = False
