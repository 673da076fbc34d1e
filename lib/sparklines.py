"""Small inline SVG sparklines, drawn on the server so the dashboard needs no JavaScript."""

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe


def sparkline(values: list[float | None], *, width: int = 96, height: int = 22,
              ceiling: float | None = None, floor: float = 0.0, label: str = "",
              css_class: str = "spark") -> SafeString:
    """A line through `values` (None leaves a gap), scaled to [floor, ceiling]."""
    known = [v for v in values if v is not None]
    label = escape(label)
    head = (f'<svg class="{css_class}{"" if known else " spark-empty"}" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="{label or "no data"}">' + (f"<title>{label}</title>" if label else ""))
    if not known:
        return mark_safe(f'{head}<line x1="0" y1="{height - 1}" x2="{width}" '
                         f'y2="{height - 1}"/></svg>')
    top = ceiling if ceiling is not None else max(known)
    span = (top - floor) or 1.0
    step = width / max(len(values) - 1, 1)
    scale = (height - 2) / span
    bottom = height - 1
    # A dashboard has up to ~900 of these per render, so the loop stays plain.
    parts = []
    lone = []
    previous = None
    for index, value in enumerate(values):
        if value is None:
            if previous is not None and (index < 2 or values[index - 2] is None):
                lone.append(previous)
            previous = None
            continue
        clipped = top if value > top else (floor if value < floor else value)
        point = (index * step, bottom - (clipped - floor) * scale)
        parts.append(f"{'L' if previous is not None else 'M'}{point[0]:.1f} {point[1]:.1f}")
        previous = point
    if previous is not None and (len(values) < 2 or values[-2] is None):
        lone.append(previous)
    # A point with no neighbour draws no line; a dot shows it.
    dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="1.5"/>' for x, y in lone)
    return mark_safe(f'{head}<path d="{" ".join(parts)}"/>{dots}</svg>')
