"""Small inline SVG sparklines, drawn on the server so the dashboard needs no JavaScript."""

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe


def sparkline(values: list[float | None], *, width: int = 96, height: int = 22,
              ceiling: float | None = None, floor: float = 0.0, label: str = "",
              css_class: str = "spark") -> SafeString:
    """A line through `values` (None leaves a gap), scaled to [floor, ceiling]."""
    known = [v for v in values if v is not None]
    title = f"<title>{escape(label)}</title>" if label else ""
    if not known:
        return mark_safe(
            f'<svg class="{css_class} spark-empty" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label or "no data")}">'
            f'{title}<line x1="0" y1="{height - 1}" x2="{width}" y2="{height - 1}"/></svg>'
        )
    top = ceiling if ceiling is not None else max(known)
    span = (top - floor) or 1.0
    step = width / max(len(values) - 1, 1)
    inner = height - 2
    parts: list[str] = []
    pen_down = False
    for index, value in enumerate(values):
        if value is None:
            pen_down = False
            continue
        x = index * step
        y = 1 + inner - (min(max(value, floor), top) - floor) / span * inner
        parts.append(f"{'L' if pen_down else 'M'}{x:.1f} {y:.1f}")
        pen_down = True
    if len(known) == 1 or all(p.startswith("M") for p in parts):
        # Lone points get a dot, or they would not show at all.
        dots = "".join(
            f'<circle cx="{p[1:].split()[0]}" cy="{p.split()[1]}" r="1.5"/>' for p in parts
        )
    else:
        dots = ""
    return mark_safe(
        f'<svg class="{css_class}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}">{title}'
        f'<path d="{" ".join(parts)}"/>{dots}</svg>'
    )
