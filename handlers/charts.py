"""Charts as PNG bytes (matplotlib, object API, no pyplot: safe in a worker thread)."""

from __future__ import annotations

import io
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

FONT_PATHS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)


@lru_cache
def _font_family() -> str | None:
    from matplotlib import font_manager

    for path in FONT_PATHS:
        if Path(path).exists():
            font_manager.fontManager.addfont(path)
            return font_manager.FontProperties(fname=path).get_name()
    return None


def aging_chart(buckets: dict[str, Decimal], debtors: list[tuple[str, Decimal]], title: str) -> bytes:
    """Two panels: receivables by aging bucket, and the top debtors."""
    from matplotlib.figure import Figure

    family = _font_family()
    rc = {"font.family": family} if family else {}
    import matplotlib

    with matplotlib.rc_context(rc):
        fig = Figure(figsize=(9, 4.5), dpi=100)
        ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.2]})
        names = list(buckets)
        values = [float(v) for v in buckets.values()]  # plotting only; the figures shown are Decimal
        colours = ["#4caf50", "#ffc107", "#ff9800", "#f44336", "#b71c1c"][: len(names)]
        ax1.bar(names, values, color=colours)
        ax1.set_title("账龄分布（元）")
        ax1.tick_params(axis="x", labelrotation=30)
        for i, v in enumerate(buckets.values()):
            ax1.annotate(f"{v:,.0f}", (i, float(v)), ha="center", va="bottom", fontsize=8)
        if debtors:
            labels = [n[:10] for n, _ in reversed(debtors)]
            ax2.barh(labels, [float(a) for _, a in reversed(debtors)], color="#1976d2")
        ax2.set_title("欠款最多的客户（元）")
        fig.suptitle(title)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
    return buf.getvalue()
