"""Plotly for the pages, imported with pandas complete beforehand.

Plotly looks pandas up with ``sys.modules.get("pandas")`` (to tell a Series from a list
when it validates a trace's values, and when it turns a figure into JSON), which hands
back pandas *half imported* while another thread of the server is importing it:
``AttributeError: partially initialized module 'pandas' has no attribute 'Series'`` on
Compare, seen once in a browser test right after a run ended. Importing pandas here first
(an import waits for one in progress in another thread) means every figure the pages build
finds it whole. Every page and ``ui`` module that draws with Plotly imports ``go`` from here.
"""

from __future__ import annotations

import pandas  # noqa: F401  (before plotly: see the module docstring)
import plotly.graph_objects as go

__all__ = ["go"]
