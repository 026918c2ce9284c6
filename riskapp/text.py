"""Text helpers with no dependencies, shared by the application layer and the surfaces."""

from __future__ import annotations

import re

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def plain(text: str) -> str:
    """Escape Markdown so that user text (names, narratives) is shown literally."""
    return _MARKDOWN.sub(r"\\\1", text).replace("\n", "  \n")
