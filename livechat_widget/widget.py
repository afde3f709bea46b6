"""ChatWidget: the anywidget that draws the chat (placeholder until the widget issue lands)."""

from pathlib import Path

import anywidget
import traitlets

_STATIC = Path(__file__).parent / "static"


class ChatWidget(anywidget.AnyWidget):
    _esm = _STATIC / "widget.js"
    _css = _STATIC / "widget.css"

    title = traitlets.Unicode("Chat").tag(sync=True)
