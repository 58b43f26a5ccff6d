"""The page frame the HTML reports share (data evaluation, model evaluation): one
self-contained document, a header, cards in a main column, a footer; each report adds its
own CSS rules and ``<head>`` content (plotly.js inline, so that the page works offline)."""
from __future__ import annotations

BASE_CSS = """
:root { --ink:#1f2933; --muted:#617080; --line:#e3e8ef; --bg:#f4f6f9; --card:#fff; --warn:#b7410e; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
       font: 14px/1.45 Inter, 'Segoe UI', 'Helvetica Neue', Arial, 'Liberation Sans', sans-serif; }
header { background:linear-gradient(120deg,#1d3557,#2f5d8a); color:#fff; padding:22px 32px 18px; }
header h1 { margin:0 0 4px; font-size:22px; font-weight:600; }
header .sub { opacity:.85; font-size:13px; }
main { padding:20px 32px 40px; max-width:1500px; margin:0 auto; }
.row > .card { margin-bottom:0; }
.card { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:16px 18px;
        margin-bottom:18px; min-width:0; }
.card h2 { font-size:16px; margin:0 0 4px; }
.card h3 { font-size:13px; margin:14px 0 6px; color:var(--muted); }
.note { color:var(--muted); margin:0 0 8px; font-size:12.5px; }
footer { color:var(--muted); font-size:12px; text-align:center; padding:0 0 24px; }
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="{generator}">
<title>{title}</title>
<style>{css}</style>
{head}</head>
<body data-charts="{charts}">
<header><h1>{title}</h1><div class="sub">{subtitle}</div></header>
<main>
{body}
</main>
<footer>{footer}</footer>
</body>
</html>
"""


def render_page(*, title: str, subtitle: str, body: str, charts: str, generator: str, footer: str,
                css: str = "", head: str = "") -> str:
    """The whole document; ``title``, ``subtitle`` and ``charts`` must be HTML-escaped already."""
    return _PAGE.format(title=title, subtitle=subtitle, body=body, charts=charts, generator=generator,
                        footer=footer, css=BASE_CSS + css, head=head)
