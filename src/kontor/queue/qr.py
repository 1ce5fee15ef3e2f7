"""QR codes as inline SVG, so a ticket's slip and card carry the link to its page without an image request.

The SVG goes straight into the HTML: it prints sharply on a receipt printer at any resolution and needs
no file or data URI. It is made the same way every time for the same address, which is what lets tests
check it by making it again.
"""

from __future__ import annotations

import segno
from markupsafe import Markup

__all__ = ["qr_svg"]

# Medium error correction survives a crumpled or smudged slip; segno raises it for free when it fits.
_ERROR = "m"
# Module size in SVG user units; the CSS decides the printed size (the SVG has a viewBox only).
_SCALE = 4


def qr_svg(data: str, *, label: str) -> Markup:
    """``data`` (usually an absolute URL) as an inline ``<svg>`` QR code, safe to put in a template.

    ``label`` names the image for screen readers (its ``<title>``, escaped by segno). The SVG has no
    width or height of its own, only a viewBox, so the page's CSS sizes it.
    """
    code = segno.make(data, error=_ERROR, micro=False)
    svg = code.svg_inline(scale=_SCALE, title=label, svgclass="qr-code", lineclass=None, omitsize=True)
    # role="img" makes screen readers announce the title instead of walking into the drawing.
    return Markup(svg.replace("<svg ", '<svg role="img" focusable="false" ', 1))  # noqa: S704 - segno's own output
