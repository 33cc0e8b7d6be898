"""Charts as inline SVG drawn on the server: no JavaScript, no chart library.

Each chart is a :class:`Series` (a title, a description and labelled values, each with an
optional link); :func:`bar_chart` draws horizontal bars (long category names), and
:func:`column_chart` vertical columns (years, bins). Every piece of text is escaped; the SVG
carries ``role="img"`` with ``<title>``/``<desc>`` and a ``<title>`` per bar, and pages show the
same numbers as a table under the chart.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from markupsafe import Markup, escape

_ids = itertools.count(1)


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    href: str | None = None


@dataclass(frozen=True)
class Series:
    key: str  # used in element ids: letters, digits and '-'
    title: str
    description: str
    bars: tuple[Bar, ...]
    unit: str = "datasets"

    @property
    def total(self) -> int:
        return sum(b.value for b in self.bars)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fmt(n: int) -> str:
    return f"{n:,}"


def _head(series: Series, width: int, height: int, kind: str) -> tuple[str, str]:
    uid = f"chart-{series.key}-{next(_ids)}"
    opening = (f'<svg class="chart {kind}" id="{uid}" xmlns="http://www.w3.org/2000/svg" '
               f'viewBox="0 0 {width} {height}" width="100%" role="img" '
               f'aria-labelledby="{uid}-t {uid}-d" preserveAspectRatio="xMinYMin meet">'
               f'<title id="{uid}-t">{escape(series.title)}</title>'
               f'<desc id="{uid}-d">{escape(series.description)}</desc>')
    return uid, opening


def _link(bar: Bar, inner: str) -> str:
    if not bar.href:
        return inner
    return f'<a href="{escape(bar.href)}">{inner}</a>'


def bar_chart(series: Series, *, width: int = 480, label_width: int = 185,
              row: int = 24) -> Markup:
    """Horizontal bars, one row per value, labels on the left and the value after the bar."""
    bars = series.bars
    height = max(1, len(bars)) * row + 8
    _, out = _head(series, width, height, "bars")
    parts = [out]
    top = max((b.value for b in bars), default=0) or 1
    room = width - label_width - 44
    for i, bar in enumerate(bars):
        y = 4 + i * row
        length = max(1.0, room * bar.value / top) if bar.value else 0.0
        tip = f"{bar.label}: {_fmt(bar.value)} {series.unit}"
        parts.append(_link(bar, (
            f'<g class="bar"><title>{escape(tip)}</title>'
            f'<text class="label" x="{label_width - 8}" y="{y + row * 0.68:.1f}" '
            f'text-anchor="end">{escape(_short(bar.label, 24))}</text>'
            f'<rect x="{label_width}" y="{y + 3}" width="{length:.1f}" height="{row - 8}" '
            f'rx="2"></rect>'
            f'<text class="value" x="{label_width + length + 6:.1f}" '
            f'y="{y + row * 0.68:.1f}">{_fmt(bar.value)}</text></g>')))
    if not bars:
        parts.append(f'<text class="label" x="8" y="{row * 0.7:.0f}">No data</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def column_chart(series: Series, *, width: int = 480, height: int = 230,
                 label_every: int | None = None) -> Markup:
    """Vertical columns along an ordered axis (years, bins), the axis labelled below."""
    bars = series.bars
    _, out = _head(series, width, height, "columns")
    parts = [out]
    left, right, top_pad, bottom = 44, 8, 18, 46
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    peak = max((b.value for b in bars), default=0) or 1
    step = plot_w / max(1, len(bars))
    every = label_every or max(1, math.ceil(len(bars) / 12))
    # labels wider than their column (about 6.5 px a character) alternate between two lines
    widest = max((len(_short(b.label, 10)) for b in bars), default=0)
    stagger = widest * 6.5 > step * every
    # a light axis with three gridlines
    for frac in (0, 0.5, 1):
        y = top_pad + plot_h * (1 - frac)
        parts.append(f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y:.1f}" '
                     f'y2="{y:.1f}"></line>'
                     f'<text class="axis" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
                     f'{_fmt(round(peak * frac))}</text>')
    for i, bar in enumerate(bars):
        h = plot_h * bar.value / peak
        x = left + i * step
        tip = f"{bar.label}: {_fmt(bar.value)} {series.unit}"
        label = ""
        if i % every == 0 or i == len(bars) - 1:
            cx = x + step / 2
            line = 14 * ((i // every) % 2) if stagger else 0
            label = (f'<text class="axis" x="{cx:.1f}" y="{height - bottom + 16 + line}" '
                     f'text-anchor="middle">{escape(_short(bar.label, 10))}</text>')
        value = ""
        if bar.value and step >= 22:
            value = (f'<text class="value" x="{x + step / 2:.1f}" y="{top_pad + plot_h - h - 4:.1f}" '
                     f'text-anchor="middle">{_fmt(bar.value)}</text>')
        parts.append(_link(bar, (
            f'<g class="bar"><title>{escape(tip)}</title>'
            f'<rect x="{x + step * 0.12:.1f}" y="{top_pad + plot_h - h:.1f}" '
            f'width="{step * 0.76:.1f}" height="{h:.1f}" rx="1"></rect>{value}{label}</g>')))
    parts.append("</svg>")
    return Markup("".join(parts))
