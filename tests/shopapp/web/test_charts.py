"""The dashboard's charts (shopapp/web/charts.py): axes with units, a UTC time scale ending at
"now", the current value labelled, and an empty state that says what to do."""

from __future__ import annotations

import re

import pytest

from shopapp.web.charts import TimeSeries, nice_top, overview_charts, time_chart

NEW_YEAR = 1_767_225_600.0  # 2026-01-01 00:00:00 UTC


def _texts(svg: str, cls: str) -> list[str]:
    return re.findall(rf'<text class="[^"]*\b{cls}\b[^"]*"[^>]*>([^<]*)</text>', svg)


@pytest.mark.parametrize(
    ("peak", "top"),
    [(0, 1), (1, 1), (3, 4), (5, 6), (7, 8), (9, 10), (12, 20), (45, 60), (801, 1000)],
)
def test_the_y_axis_tops_out_at_a_round_number(peak: float, top: float) -> None:
    assert nice_top(peak) == top


def test_events_per_minute_have_a_unit_a_utc_time_scale_and_the_current_value() -> None:
    charts = overview_charts(
        events_per_minute=[0] * 58 + [3, 7], served_per_hour=[0] * 24, now=NEW_YEAR + 30
    )
    svg = str(charts["events"])
    assert _texts(svg, "chart__unit") == ["events / min"]
    assert _texts(svg, "chart__tick--y") == ["0", "4", "8"]
    # Minutes 23:01 to 00:00; 00:00 is the minute under way, labelled "now".
    assert _texts(svg, "chart__tick--x") == ["23:15", "23:30", "23:45", "now"]
    assert _texts(svg, "chart__tz") == ["UTC"]
    assert re.findall(r"<tspan[^>]*>([^<]*)</tspan>", svg) == ["7", "this minute"]
    assert "<title>23:59 UTC: 3 events / min</title>" in svg
    assert "<title>00:00 UTC: 7 events / min</title>" in svg
    assert (
        'aria-label="Events per minute, last hour: from 0 to 7 events / min; 7 this minute"' in svg
    )


def test_lists_served_per_hour_are_labelled_every_six_hours() -> None:
    chart = time_chart(
        series=TimeSeries(
            values=[1] * 24,
            step_s=3600,
            now=NEW_YEAR + 600,
            unit="lists / hour",
            current="this hour",
            tick_every_s=6 * 3600,
        ),
        label="Lists",
        empty="",
    )
    # Hours 01:00 (yesterday) to 00:00 (under way).
    assert _texts(str(chart), "chart__tick--x") == ["06:00", "12:00", "18:00", "now"]
    assert _texts(str(chart), "chart__tick--y") == ["0", "1"]


def test_an_empty_series_says_what_to_do_instead_of_drawing_a_flat_line() -> None:
    charts = overview_charts(events_per_minute=[0] * 60, served_per_hour=[0] * 24, now=NEW_YEAR)
    for name, step in (("events", "step 1"), ("served", "step 2")):
        html = str(charts[name])
        assert "<svg" not in html
        assert 'class="chart__empty"' in html
        assert f"(Getting started, {step})" in html
    assert "Turn on the Slipstream tracker in your theme" in str(charts["events"])
    assert "Add the recommendations block to your product page" in str(charts["served"])


def test_labels_are_escaped() -> None:
    chart = time_chart(
        series=TimeSeries(
            values=[1, 2], step_s=60, now=NEW_YEAR, unit="<b>", current="x", tick_every_s=60
        ),
        label="<script>",
        empty="",
    )
    assert "<script>" not in str(chart)
    assert "<b>" not in str(chart)
