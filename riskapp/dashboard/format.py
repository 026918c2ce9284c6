"""Display helpers: user text shown as plain text, never as Markdown or HTML.

`plain` lives in `riskapp.text` so that the application layer (what-if tables) can use it
without importing the dashboard; the pages keep importing it from here.
"""

from __future__ import annotations

from riskapp.text import plain

__all__ = ["plain"]
