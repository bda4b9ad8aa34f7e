"""Page geometry of the PDF report: page sizes, margins, and how big a figure may be drawn."""

from __future__ import annotations

import math
from dataclasses import dataclass

from attrgraph_cli.errors import AttrgraphError
from attrgraph_cli.report.svg import SvgFigure
from attrgraph_cli.report.textmetrics import text_width

#: page sizes in mm (portrait)
PAGE_SIZES = {"a4": (210.0, 297.0), "letter": (215.9, 279.4)}
MARGIN_MM = 14.0
PX_PER_MM = 96 / 25.4


@dataclass(frozen=True)
class PageGeometry:
    name: str
    width_mm: float
    height_mm: float

    @property
    def content_width_mm(self) -> float:
        return self.width_mm - 2 * MARGIN_MM

    @property
    def content_height_mm(self) -> float:
        return self.height_mm - 2 * MARGIN_MM - 6  # 6 mm for the footer line


def page_geometry(page: str, landscape: bool) -> PageGeometry:
    try:
        w, h = PAGE_SIZES[page.lower()]
    except KeyError:
        raise AttrgraphError(f"unknown page size {page!r}: use one of {', '.join(PAGE_SIZES)}") from None
    return PageGeometry(page.lower(), *((h, w) if landscape else (w, h)))


def fit_figure(figure: SvgFigure, max_w_mm: float, max_h_mm: float) -> tuple[float, float]:
    """Size (mm) of the figure scaled to fit the box, never enlarged past 1.6x its natural size."""
    natural_w, natural_h = figure.width / PX_PER_MM, figure.height / PX_PER_MM
    scale = min(max_w_mm / natural_w, max_h_mm / natural_h, 1.6)
    return natural_w * scale, natural_h * scale


def header_height_mm(prompt: str, settings: list[tuple[str, str]], n_logits: int, width_mm: float) -> float:
    """Height of page 1 without the figure (title, prompt, settings, caption), estimated from the
    stylesheet's sizes so that the figure can take the rest of the page."""
    pt_to_mm = 25.4 / 72
    prompt_lines = math.ceil(text_width("Prompt  " + prompt, 10.5) * pt_to_mm / width_mm) if prompt else 0
    value_mm = width_mm - 95  # the settings' value column (keys and the logits table take the rest)
    setting_lines = sum(
        max(1, math.ceil(text_width(v, 8) * pt_to_mm / max(value_mm, 30))) for _, v in settings
    )
    rows_mm = max(setting_lines * 4.0, (n_logits + 1) * 4.2 if n_logits else 0)
    caption_mm = 3 * 3.5
    return 9 + prompt_lines * 5.0 + 3 + rows_mm + 5 + caption_mm + 6
