"""Server-side SVG sparklines."""

import re

from lib.sparklines import sparkline


def points(svg: str) -> list[tuple[str, float, float]]:
    path = re.search(r'<path d="([^"]*)"', svg).group(1)
    return [(m[0], float(m[1]), float(m[2])) for m in re.findall(r"([ML])([\d.]+) ([\d.]+)", path)]


def test_a_series_without_data_draws_an_empty_baseline_not_a_zero_line():
    svg = sparkline([None, None, None], label="lag")
    assert "spark-empty" in svg and "<path" not in svg


def test_a_gap_in_the_data_lifts_the_pen_and_a_lone_point_gets_a_dot():
    svg = sparkline([1.0, 2.0, None, 3.0, None, 4.0, 5.0], width=60, height=22)
    assert [op for op, _, _ in points(svg)] == ["M", "L", "M", "M", "L"]
    assert svg.count("<circle") == 1 and 'cx="30.0"' in svg


def test_values_are_scaled_into_the_box_with_the_ceiling_at_the_top():
    svg = sparkline([0.0, 0.5, 1.0, 2.0], width=30, height=22, ceiling=1.0)
    ys = [y for _, _, y in points(svg)]
    assert ys[0] == 21.0 and ys[2] == 1.0 and ys[3] == 1.0 and 10 < ys[1] < 12


def test_the_label_is_escaped_into_the_title():
    svg = sparkline([1.0, 2.0], label="<b>eu-west-1</b>")
    assert "<title>&lt;b&gt;eu-west-1&lt;/b&gt;</title>" in svg

