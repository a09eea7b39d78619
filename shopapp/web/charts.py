"""The dashboard's charts: server-rendered inline SVG (no chart library, no script), so they stay
readable when Shopify's CDN does not load and can be swapped in whole by the page's live refresh.

A chart is a count per time bucket, oldest first, the last bucket the one under way. It has a
y axis in the series' unit (0, half, top: a 1-2-4-6-8 step, so counts get whole-number ticks), a
time axis in UTC (the dashboard's times are UTC) ending at "now", the current bucket's value
labelled at the line's end, and every bucket's value in a tooltip. A series with nothing in it is
not drawn as a flat line that reads as "zero, all is well": it says what to do to fill it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH, HEIGHT = 520, 190
# Room for the tick labels (left, bottom), the unit (top) and the current value (right).
LEFT, RIGHT, TOP, BOTTOM = 40, 88, 24, 30
# Tick labels closer than this to "now" are dropped, so the two never overlap.
TICK_GAP_PX = 48


@dataclass(frozen=True, slots=True)
class TimeSeries:
    values: Sequence[float]  # oldest first; the last is the bucket under way
    step_s: int  # seconds per bucket: 60 (per minute), 3600 (per hour)
    now: float  # unix time, inside the last bucket
    unit: str  # the y axis: "events / min"
    current: str  # the last bucket, in words: "this minute"
    tick_every_s: int  # a labelled tick at every multiple of this (UTC)


def nice_top(peak: float) -> float:
    """The y axis' top: the smallest 1, 2, 4, 6 or 8 times a power of ten at or above `peak`."""
    if peak <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(peak))
    for multiple in (1, 2, 4, 6, 8, 10):
        if multiple * power >= peak:
            return float(multiple * power)
    return float(10 * power)  # pragma: no cover (the loop ends at 10)


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _px(value: float) -> str:
    return f"{value:.1f}"


def _clock(ts: float) -> str:
    return time.strftime("%H:%M", time.gmtime(ts))


def time_chart(*, series: TimeSeries, label: str, empty: str) -> SafeString:
    """A figure: `label` as its caption, the chart, or `empty` when the series holds nothing."""
    values = [float(v) for v in series.values]
    if not any(values):
        return format_html(
            '<figure class="chart chart--empty"><figcaption>{}</figcaption>'
            '<p class="chart__empty" role="note">{}</p></figure>',
            label,
            empty,
        )
    return format_html(
        '<figure class="chart"><figcaption>{}</figcaption>{}</figure>', label, _svg(series, label)
    )


def _svg(series: TimeSeries, label: str) -> SafeString:
    values = [float(v) for v in series.values]
    top = nice_top(max(values))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(1, len(values) - 1)
    xs = [LEFT + i * step for i in range(len(values))]
    ys = [TOP + plot_h - (v / top) * plot_h for v in values]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
    base = TOP + plot_h
    area = f"{xs[0]:.1f},{base:.1f} {line} {xs[-1]:.1f},{base:.1f}"
    summary = (
        f"{label}: from 0 to {_number(max(values))} {series.unit}; "
        f"{_number(values[-1])} {series.current}"
    )
    return format_html(
        '<svg class="chart__svg" role="img" aria-label="{}" viewBox="0 0 {} {}" '
        'preserveAspectRatio="xMinYMin meet">'
        '<text class="chart__unit" x="0" y="12">{}</text>{}{}'
        '<polygon class="chart__area" points="{}"/>'
        '<polyline class="chart__line" fill="none" points="{}"/>'
        '<circle class="chart__now" cx="{}" cy="{}" r="4"/>'
        '<text class="chart__current" x="{}" y="{}">'
        '<tspan class="chart__current-value">{}</tspan>'
        '<tspan x="{}" dy="15">{}</tspan></text>{}</svg>',
        summary,
        WIDTH,
        HEIGHT,
        series.unit,
        _y_axis(top, plot_w, plot_h),
        _x_axis(series, xs, base),
        area,
        line,
        _px(xs[-1]),
        _px(ys[-1]),
        _px(xs[-1] + 10),
        _px(max(TOP + 10, ys[-1] - 2)),
        _number(values[-1]),
        _px(xs[-1] + 10),
        series.current,
        _tooltips(series, values, xs, step),
    )


def _y_axis(top: float, plot_w: float, plot_h: float) -> SafeString:
    ticks = (0.0, top) if top < 2 else (0.0, top / 2, top)  # top: 1, 2, 4, 6, 8 x 10^k
    return format_html_join(
        "",
        '<line class="chart__grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
        '<text class="chart__tick chart__tick--y" x="{}" y="{}">{}</text>',
        (
            (LEFT, LEFT + plot_w, _px(y), _px(y), LEFT - 6, _px(y + 4), _number(tick))
            for tick in ticks
            for y in [TOP + plot_h - (tick / top) * plot_h]
        ),
    )


def _x_axis(series: TimeSeries, xs: list[float], base: float) -> SafeString:
    """Ticks at each multiple of `tick_every_s` (bucket starts, UTC), and "now" at the end."""
    last_start = series.now // series.step_s * series.step_s
    n = len(xs)
    ticks = [
        (x, _clock(start))
        for i, x in enumerate(xs)
        for start in [last_start - (n - 1 - i) * series.step_s]
        if start % series.tick_every_s == 0 and xs[-1] - x >= TICK_GAP_PX
    ]
    ticks.append((xs[-1], "now"))
    marks = format_html_join(
        "",
        '<line class="chart__mark" x1="{}" x2="{}" y1="{}" y2="{}"/>'
        '<text class="chart__tick chart__tick--x" x="{}" y="{}">{}</text>',
        (
            (_px(x), _px(x), _px(base), _px(base + 4), _px(x), _px(base + 18), text)
            for x, text in ticks
        ),
    )
    return format_html(
        '<line class="chart__axis" x1="{}" x2="{}" y1="{}" y2="{}"/>{}'
        '<text class="chart__tick chart__tz" x="{}" y="{}">UTC</text>',
        LEFT,
        _px(xs[-1]),
        _px(base),
        _px(base),
        marks,
        _px(xs[-1] + 22),
        _px(base + 18),
    )


def _tooltips(series: TimeSeries, values: list[float], xs: list[float], step: float) -> SafeString:
    """An invisible column per bucket whose title is its time and value (hover, screen readers)."""
    last_start = series.now // series.step_s * series.step_s
    n = len(values)
    return format_html_join(
        "",
        '<rect class="chart__hit" x="{}" y="{}" width="{}" height="{}">'
        "<title>{} UTC: {} {}</title></rect>",
        (
            (
                _px(x - step / 2),
                TOP,
                _px(step),
                HEIGHT - TOP - BOTTOM,
                _clock(last_start - (n - 1 - i) * series.step_s),
                _number(v),
                series.unit,
            )
            for i, (x, v) in enumerate(zip(xs, values, strict=True))
        ),
    )


def overview_charts(
    *, events_per_minute: Sequence[int], served_per_hour: Sequence[int], now: float
) -> dict[str, SafeString]:
    """The overview's two charts: events per minute over the last hour, and recommendation lists
    served per hour over the last day."""
    return {
        "events": time_chart(
            series=TimeSeries(
                values=events_per_minute,
                step_s=60,
                now=now,
                unit="events / min",
                current="this minute",
                tick_every_s=15 * 60,
            ),
            label="Events per minute, last hour",
            empty=(
                "No shopper events in the last hour yet. Turn on the Slipstream tracker in your "
                "theme (Getting started, step 1): each product view and add to cart appears here "
                "within a minute."
            ),
        ),
        "served": time_chart(
            series=TimeSeries(
                values=served_per_hour,
                step_s=3600,
                now=now,
                unit="lists / hour",
                current="this hour",
                tick_every_s=6 * 3600,
            ),
            label="Recommendation lists served per hour, last 24 hours",
            empty=(
                "No recommendation lists served in the last 24 hours yet. Add the recommendations "
                "block to your product page (Getting started, step 2): each list it shows a "
                "shopper is counted here."
            ),
        ),
    }
