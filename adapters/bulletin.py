"""The monthly bulletin (通报): one HTML page, a CSV file per table, and a PDF when a headless
Chromium is installed.

Tables: the league table of streets and of districts by the service index (with the change
since the last period), the unit's indicators with numerators and denominators, its index
breakdown, hotspots with a bar chart, and the longest-overdue obligations. The HTML is plain
(escaped text, inline SVG bars, no script), so it prints and archives as it is.
"""

from __future__ import annotations

import csv
import html
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHROMIUM = ("chromium", "chromium-browser", "google-chrome")


@dataclass(frozen=True)
class Table:
    name: str  # the CSV file's stem
    title: str
    columns: tuple[str, ...]
    rows: list[Sequence[Any]]
    chart: tuple[str, str] | None = None  # (label column, value column) for a bar chart


def write_bulletin(out: Path, title: str, notes: list[str], tables: list[Table]) -> list[Path]:
    """Writes ``bulletin.html``, one CSV per table and, if Chromium is found, ``bulletin.pdf``."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for table in tables:
        path = out / f"{table.name}.csv"
        with path.open("w", newline="", encoding="utf-8-sig") as handle:  # BOM: Excel reads UTF-8
            writer = csv.writer(handle)
            writer.writerow(table.columns)
            writer.writerows([["" if v is None else v for v in row] for row in table.rows])
        written.append(path)
    page = out / "bulletin.html"
    page.write_text(_html(title, notes, tables), encoding="utf-8")
    written.append(page)
    pdf = print_pdf(page)
    if pdf is not None:
        written.append(pdf)
    return written


def print_pdf(page: Path) -> Path | None:
    """The page printed by headless Chromium, or ``None`` when none is installed or it fails
    (the HTML and CSV files stand on their own)."""
    binary = next((found for name in CHROMIUM if (found := shutil.which(name))), None)
    if binary is None:
        return None
    pdf = page.with_suffix(".pdf")
    try:
        subprocess.run([binary, "--headless", "--no-sandbox", "--disable-gpu",
                        "--no-pdf-header-footer", f"--print-to-pdf={pdf}",
                        page.resolve().as_uri()],
                       check=True, capture_output=True, timeout=120)
    except (OSError, subprocess.SubprocessError):
        return None
    return pdf if pdf.exists() and pdf.stat().st_size > 0 else None


_STYLE = """body{font-family:"Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;margin:2em;
color:#222}h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #999}
table{border-collapse:collapse;font-size:.85em}td,th{border:1px solid #bbb;padding:.2em .5em;
text-align:left}th{background:#eee}p.note{font-size:.85em;color:#555}"""


def _html(title: str, notes: list[str], tables: list[Table]) -> str:
    parts = [f"<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
             f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>",
             f"<h1>{_e(title)}</h1>"]
    parts += [f"<p class='note'>{_e(n)}</p>" for n in notes]
    for table in tables:
        parts.append(f"<h2>{_e(table.title)}</h2>")
        if table.chart and table.rows:
            parts.append(_bars(table))
        if not table.rows:
            parts.append("<p class='note'>(none)</p>")
            continue
        parts.append("<table><tr>" + "".join(f"<th>{_e(c)}</th>" for c in table.columns)
                     + "</tr>")
        parts += ["<tr>" + "".join(f"<td>{_e(v)}</td>" for v in row) + "</tr>"
                  for row in table.rows]
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _bars(table: Table) -> str:
    """A horizontal bar chart of one column, as inline SVG (no script, prints as drawn)."""
    label, value = (table.columns.index(c) for c in table.chart or ())
    rows = [(str(r[label]), float(r[value])) for r in table.rows[:15]
            if isinstance(r[value], int | float)]
    if not rows:
        return ""
    top = max(v for _, v in rows) or 1.0
    height = 18 * len(rows) + 4
    bars = "".join(
        f"<text x='0' y='{18 * i + 14}' font-size='12'>{_e(name[:24])}</text>"
        f"<rect x='200' y='{18 * i + 3}' width='{300 * v / top:.1f}' height='13' fill='#4a7'/>"
        f"<text x='{205 + 300 * v / top:.1f}' y='{18 * i + 14}' font-size='11'>{v:g}</text>"
        for i, (name, v) in enumerate(rows))
    return f"<svg width='560' height='{height}' role='img'>{bars}</svg>"


def _e(value: Any) -> str:
    return "" if value is None else html.escape(str(value))
