"""One answer, on every page, to "can this project's data be loaded now?".

``builder.data.offline.availability`` decides; this module caches the network probe (a
missing file's server is asked at most once a minute) and draws the sentence the same way
on Data, Train and in the template menus.
"""

from __future__ import annotations

import streamlit as st

from builder.data import offline
from ui.text import md


@st.cache_data(ttl=60, show_spinner=False)
def _reachable(url: str) -> bool:
    return offline.origin_reachable(url)


def availability(dataset: str | None) -> offline.Availability:
    return offline.availability(str(dataset), reachable=_reachable)


def show(avail: offline.Availability) -> None:
    """Nothing when the data is ready; the download note, or the error that blocks it."""
    if avail.ready:
        return
    if avail.downloads:
        st.info(md(avail.message))
    else:
        st.error(md(avail.message))


def template_note(dataset: str | None) -> str:
    """' · needs a download (imdb.npz)' for a template whose data is not cached, else ''."""
    avail = offline.availability(str(dataset), reachable=lambda url: True)
    if avail.ready:
        return ""
    return f" · needs a download ({', '.join(avail.missing) or 'its data files'})"
