"""The data-evaluation dashboard: one self-contained HTML file (the local QuickSight).

Rendered from ``DataEvaluationReport.to_dict()`` alone, so a saved ``report.json`` can be
drawn again. plotly.js (from the ``plotly`` package, about 4.8 MB) is embedded inline: the
file opens offline, from S3 or from disk, with no request to any server. The figures are
built as plain plotly.js JSON by :mod:`aws_ml.evaluation.charts`. Needs the ``report``
extra (``plotly``).
"""
from __future__ import annotations

import html
import json
import math
from typing import Any

from aws_ml.html_page import render_page
from . import charts as ch

PLOT_CONFIG = {"displaylogo": False, "responsive": True,
               "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d"]}


def plotly_js() -> str:
    """The plotly.js bundle shipped with the ``plotly`` package."""
    try:
        from plotly.offline import get_plotlyjs
    except ImportError as exc:
        raise ImportError("The HTML dashboard embeds plotly.js from the plotly package: "
                          "pip install 'aws-ml[report]'") from exc
    return get_plotlyjs()


# -- number formatting ---------------------------------------------------------------------
def fmt(x: Any, digits: int = 2) -> str:
    """A readable number: thousands separators, no needless decimals, — for missing."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int):
        return f"{x:,}"
    if isinstance(x, float):
        if x.is_integer() and abs(x) < 1e15:
            return f"{int(x):,}"
        if abs(x) >= 1000:
            return f"{x:,.0f}"
        if abs(x) >= 1:
            return f"{x:,.{digits}f}"
        return f"{x:.{digits + 1}g}" if x != 0 else "0"
    return html.escape(str(x))


def fmt_of(column: str):
    """The formatter of a column's values: years print without a thousands separator."""
    if "year" in column.lower():
        return lambda x, digits=2: (str(int(x)) if isinstance(x, (int, float)) and not isinstance(x, bool)
                                    and float(x).is_integer() and 1000 <= abs(x) < 10000 else fmt(x, digits))
    return fmt


def pct(x: Any, digits: int = 1, ratio: bool = True) -> str:
    """``0.033`` -> ``3.3%`` (``ratio=False``: ``3.3`` -> ``3.3%``)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    value = 100.0 * x if ratio else x
    return f"{value:,.{digits}f}%"


def signed(x: Any, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    return f"{x:+.{digits}f}"


# -- the page --------------------------------------------------------------------------------
class _Page:
    """Collects the figures of the page and renders each as a div plus a newPlot call."""

    def __init__(self) -> None:
        self.charts: list[str] = []

    def figure(self, fig: ch.Figure | None) -> str:
        if fig is None:
            return ""
        self.charts.append(fig.name)
        spec = fig.spec()
        payload = json.dumps([spec["data"], spec["layout"], PLOT_CONFIG], separators=(",", ":"),
                             allow_nan=False).replace("</", "<\\/")
        div_id = f"chart-{fig.name}"
        return (f'<div class="chart" data-chart="{html.escape(fig.name)}">'
                f'<div id="{div_id}" class="plotly-graph-div" style="height:{fig.height}px;width:100%"></div>'
                f'<script>(function(){{var a={payload};Plotly.newPlot("{div_id}",a[0],a[1],a[2]);}})();</script>'
                f'</div>')


def render_html(report: dict[str, Any]) -> str:
    """The dashboard of a report dict (``DataEvaluationReport.to_dict()``) as HTML text."""
    page = _Page()
    colors = ch.class_colors(report)
    sections = [
        _overview(report),
        _findings(report),
        _row(_card("Class balance", _balance_note(report), page.figure(ch.class_balance(report, colors))),
             _card("Missing values", _missing_note(report),
                   page.figure(ch.missing_values(report)) or '<p class="empty">✓ Every value is present.</p>')),
        _row(_card("Association with the target", _association_note(report),
                   page.figure(ch.target_association(report))),
             _card("Scatter of two features associated with the target", _scatter_note(report),
                   page.figure(ch.scatter(report, colors)))),
        _card("Distributions of the numeric columns", _distribution_note(report, colors),
              page.figure(ch.histograms(report, colors)), wide=True),
        _card("Distributions of the categorical columns", _distribution_note(report, colors),
              page.figure(ch.categories(report, colors)), wide=True),
        _card("Box plots" + (" by class" if colors else ""),
              "Boxes span the quartiles; whiskers reach the most extreme values within 1.5 × IQR; "
              "dots are outliers beyond them (the most extreme ones); the dashed line marks the mean.",
              page.figure(ch.box_plots(report, colors)), wide=True),
        _card("Outliers", "IQR rule (Tukey's fences, 1.5 × IQR) and z-score (|z| > 3) per numeric column.",
              _outlier_table(report), wide=True),
        _card("Correlation matrix", "Pearson r between numeric columns, Cramér's V between categorical "
              "ones, correlation ratio η between a numeric and a categorical column.",
              page.figure(ch.heatmap(report)), wide=True),
        _bias(page, report),
        _card("Leakage hints", "Features that predict the target suspiciously well alone, and "
              "identifier-like columns.", _leakage(report), wide=True),
        _card("Column statistics", "", _statistics_table(report), wide=True),
    ]
    title = html.escape(report.get("title") or "Data evaluation")
    body = "\n".join(s for s in sections if s)
    return render_page(title=title, subtitle=_subtitle(report), body=body, css=_CSS,
                       charts=html.escape(json.dumps(page.charts)), generator="aws_ml.evaluation",
                       head=f'<script type="text/javascript">{plotly_js()}</script>\n',
                       footer="aws_ml data evaluation · self-contained report (plotly.js inline, works offline)")


def _subtitle(report: dict) -> str:
    source = report.get("source", {})
    where = {"dataframe": "pandas DataFrame", "s3": source.get("uri", "S3")}.get(source.get("kind"))
    if where is None:
        where = "Athena query " + html.escape(source.get("query_execution_id", ""))
    backend = f" · backend {html.escape(source['backend'])}" if source.get("backend") else ""
    sampled = ""
    if report["n_rows"] != report["n_rows_total"]:
        sampled = f" · sample of {report['n_rows']:,} of {report['n_rows_total']:,} rows"
    return f"{html.escape(where)}{backend}{sampled} · generated {html.escape(report.get('generated_at', ''))}"


def _card(title: str, note: str, content: str, wide: bool = False) -> str:
    if not content:
        return ""
    cls = "card wide" if wide else "card"
    note_html = f'<p class="note">{note}</p>' if note else ""
    return f'<section class="{cls}"><h2>{html.escape(title)}</h2>{note_html}{content}</section>'


def _row(*cards: str) -> str:
    cards = tuple(c for c in cards if c)
    return f'<div class="row">{"".join(cards)}</div>' if cards else ""


def _overview(report: dict) -> str:
    b = report["balance"]
    missing_cells = sum(m["missing"] for m in report["missing"])
    cells = report["n_rows"] * max(report["n_columns"], 1)
    warnings = sum(1 for f in report["findings"] if f["severity"] == "warning")
    tiles = [("Rows", fmt(report["n_rows"]), "evaluated" if report["n_rows"] == report["n_rows_total"]
              else f"sample of {fmt(report['n_rows_total'])}"),
             ("Columns", fmt(report["n_columns"]), f"target: {html.escape(report['target'])}")]
    if b["task"] == "binary" and b.get("positive_share") is not None:
        tiles.append(("Positive class", pct(b["positive_share"]),
                      f"{fmt(b['positive_count'])} rows are {html.escape(str(b['positive_label']))} · {b['verdict']}"))
    elif b["task"] == "multiclass":
        tiles.append(("Smallest class", pct(b["minority_share"]), b["verdict"]))
    else:
        tiles.append(("Task", "regression", "continuous target"))
    tiles.append(("Missing cells", pct(missing_cells / cells if cells else 0.0),
                  f"{fmt(missing_cells)} of {fmt(cells)}"))
    notes = len(report["findings"]) - warnings
    tiles.append(("Warnings", fmt(warnings), f"{notes} note{'' if notes == 1 else 's'}"))
    inner = "".join(f'<div class="tile"><div class="label">{label}</div><div class="value">{value}</div>'
                    f'<div class="sub">{sub}</div></div>' for label, value, sub in tiles)
    return f'<div class="tiles">{inner}</div>'


def _findings(report: dict) -> str:
    def item(f: dict) -> str:
        badge = "warn" if f["severity"] == "warning" else "info"
        return (f'<li class="{badge}"><span class="badge {badge}">{html.escape(f["topic"])}</span>'
                f'{html.escape(f["message"])}</li>')

    warnings = [item(f) for f in report["findings"] if f["severity"] == "warning"]
    notes = [item(f) for f in report["findings"] if f["severity"] != "warning"]
    if not warnings and not notes:
        return ""
    content = f'<ul class="findings">{"".join(warnings)}</ul>' if warnings else \
        '<p class="empty">✓ Nothing to worry about.</p>'
    if notes:
        content += (f'<details><summary>{len(notes)} more note{"s" if len(notes) > 1 else ""}</summary>'
                    f'<ul class="findings">{"".join(notes)}</ul></details>')
    recs = "".join(f"<li>{html.escape(r)}</li>" for r in report["balance"].get("recommendations", []))
    heading = "About the target" if report["balance"]["task"] == "regression" else \
        "What to do about the class balance"
    content += f'<h3>{heading}</h3><ul class="recs">{recs}</ul>' if recs else ""
    return _card("Findings", "Warnings first; each one names the column to look at.", content, wide=True)


# -- charts ----------------------------------------------------------------------------------
def _balance_note(report: dict) -> str:
    b = report["balance"]
    if b["task"] == "regression":
        return "The target is continuous: see its distribution below."
    return (f"Verdict: <b>{html.escape(b['verdict'])}</b> — the smallest class has "
            f"{pct(b['minority_share'])} of the rows; always predicting the majority class scores "
            f"{pct(b['baseline_accuracy'])} accuracy.")


def _missing_note(report: dict) -> str:
    with_missing = [m for m in report["missing"] if m["missing"] > 0]
    if not with_missing:
        return "No column has missing values."
    return f"{len(with_missing)} of {report['n_columns']} columns have missing values."


def _association_note(report: dict) -> str:
    if not report["target_correlations"]:
        return ""
    task = report["balance"]["task"]
    if task == "binary":
        return ("Strength of each feature's association with the target (|point-biserial r| for a "
                "numeric feature, Cramér's V for a categorical one). Hover for the AUC of the feature alone.")
    if task == "regression":
        return ("Strength of each feature's association with the target (|Pearson r| for a numeric "
                "feature, correlation ratio η for a categorical one).")
    return ("Strength of each feature's association with the target (correlation ratio η for a "
            "numeric feature, Cramér's V for a categorical one).")


def _scatter_note(report: dict) -> str:
    s = report["charts"].get("scatter")
    if not s:
        return ""
    note = f"{html.escape(s['x'])} against {html.escape(s['y'])}"
    if s.get("color"):
        note += f", coloured by {html.escape(s['color'])}"
    return note + f" ({s['n']:,} points)."


def _distribution_note(report: dict, colors: dict) -> str:
    if colors:
        return (f"Share of each class's rows per bin, classes of {html.escape(report['target'])} "
                "overlaid: where the bars differ, the column separates the classes.")
    return "Rows per bin."


def _bias(page: _Page, report: dict) -> str:
    parts = []
    for i, b in enumerate(report.get("bias", [])):
        metrics = [m for m in ("CI", "DPL", "KL", "JS", "LP", "TVD", "KS", "CDDL")
                   if any(m in g for g in b["groups"])]
        head = "".join(f'<th title="{html.escape(b["descriptions"].get(m, ""))}">{m}</th>' for m in metrics)
        body = []
        for g in b["groups"]:
            cells = "".join(f'<td class="num {_bias_class(m, g.get(m))}">{signed(g.get(m))}</td>' for m in metrics)
            body.append(f'<tr><th>{html.escape(g["group"])}</th><td class="num">{fmt(g["n_d"])}</td>'
                        f'<td class="num">{fmt(g["n_a"])}</td><td class="num">{pct(g["q_d"], 2)}</td>'
                        f'<td class="num">{pct(g["q_a"], 2)}</td>{cells}</tr>')
        notes = "".join(f"<li>{html.escape(k)}: {html.escape(v)}</li>" for k, v in
                        list(b.get("notes", {}).items()) + list(b.get("errors", {}).items()))
        table = (f'<table class="data"><thead><tr><th>facet d</th><th>n_d</th><th>n_a</th><th>q_d</th><th>q_a</th>'
                 f'{head}</tr></thead><tbody>{"".join(body)}</tbody></table>')
        table += f'<ul class="small">{notes}</ul>' if notes else ""
        chart = page.figure(ch.bias_rates(report, b, i))
        parts.append(_card(f"Pre-training bias — facet {b['facet']}",
                           f"SageMaker Clarify's metrics with facet d = each row's group and facet a = "
                           f"every other row; label {html.escape(b['label'])} = "
                           f"{html.escape(str(b['positive_label']))} is positive. q = positive-label rate. "
                           "CI > 0: d is under-represented; DPL > 0: d gets fewer positive labels. "
                           "Hover a metric's name for its definition.",
                           f'<div class="split"><div>{table}</div><div>{chart}</div></div>', wide=True))
    return "\n".join(parts)


def _bias_class(metric: str, value: Any) -> str:
    if value is None:
        return ""
    if metric == "CI" and abs(value) >= 0.8:
        return "hot"
    if metric in ("DPL", "CDDL") and abs(value) >= 0.1:
        return "hot"
    return ""


# -- tables ----------------------------------------------------------------------------------
def _outlier_table(report: dict) -> str:
    rows = report["outliers"]
    if not rows:
        return ""
    body = []
    for r in rows:
        f_ = fmt_of(r["column"])
        flag = "hot" if r["column"] in {f["column"] for f in report["findings"]
                                        if f["topic"] == "outliers" and f["severity"] == "warning"} else ""
        body.append(f'<tr class="{flag}"><th>{html.escape(r["column"])}</th>'
                    f'<td class="num">{f_(r["q1"])}</td><td class="num">{f_(r["q3"])}</td>'
                    f'<td class="num">{f_(r["lower_fence"])} … {f_(r["upper_fence"])}</td>'
                    f'<td class="num">{fmt(r["iqr_outliers"])}</td><td class="num">{pct(r["iqr_pct"], ratio=False)}</td>'
                    f'<td class="num">{fmt(r["z_outliers"])}</td><td class="num">{pct(r["z_pct"], ratio=False)}</td>'
                    f'<td class="num">{f_(r["min"])} … {f_(r["max"])}</td></tr>')
    examples = []
    for column, records in list(report.get("outlier_examples", {}).items())[:6]:
        values = ", ".join(f"{fmt_of(column)(rec.get(column))} (row {rec['_row']}, z {rec['_z']:+.1f})" for rec in records)
        examples.append(f"<li><b>{html.escape(column)}</b>: {values}</li>")
    return ('<table class="data"><thead><tr><th>column</th><th>Q1</th><th>Q3</th><th>IQR fences</th>'
            '<th>IQR outliers</th><th>%</th><th>|z| &gt; 3</th><th>%</th><th>range</th></tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>'
            + (f'<h3>Most extreme values</h3><ul class="small">{"".join(examples)}</ul>' if examples else ""))


def _leakage(report: dict) -> str:
    if not report["leakage"]:
        return '<p class="empty">✓ No feature predicts the target suspiciously well on its own.</p>'
    items = "".join(f'<li><b>{html.escape(h["column"])}</b> — {html.escape(h["message"])}</li>'
                    for h in report["leakage"])
    return f'<ul class="findings">{items}</ul>'


def _statistics_table(report: dict) -> str:
    head = ["column", "kind", "count", "missing", "distinct", "mean", "std", "min", "median", "max",
            "skew", "top value"]
    body = []
    for r in report["statistics"]:
        f_ = fmt_of(r["column"])
        top = "" if r.get("top") is None else f"{f_(r['top'])} ({fmt(r.get('top_freq'))})"
        body.append("<tr>" + f"<th>{html.escape(r['column'])}</th><td>{html.escape(r['kind'])}</td>"
                    + "".join(f'<td class="num">{v}</td>' for v in (
                        fmt(r["count"]), f"{fmt(r['missing'])} ({pct(r['missing_pct'], ratio=False)})"
                        if r["missing"] else "0", fmt(r["unique"]), f_(r.get("mean")), fmt(r.get("std")),
                        f_(r.get("min")), f_(r.get("median")), f_(r.get("max")), fmt(r.get("skew")), top))
                    + "</tr>")
    return (f'<details open><summary>{len(body)} columns</summary><table class="data"><thead><tr>'
            + "".join(f"<th>{h}</th>" for h in head) + f'</tr></thead><tbody>{"".join(body)}</tbody></table></details>')


_CSS = """
:root { --warnbg:#fff3e8; --info:#3b73b9; --infobg:#eef4fb; }
.tiles { display:grid; grid-template-columns:repeat(auto-fit,minmax(180px,1fr)); gap:14px; margin-bottom:18px; }
.tile { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:12px 16px; }
.tile .label { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.04em; }
.tile .value { font-size:26px; font-weight:600; margin:2px 0; font-variant-numeric:tabular-nums; }
.tile .sub { color:var(--muted); font-size:12px; }
.row { display:grid; grid-template-columns:repeat(auto-fit,minmax(520px,1fr)); gap:18px; margin-bottom:18px; }
.findings { list-style:none; margin:0; padding:0; }
.findings li { padding:6px 10px; border-radius:6px; margin:4px 0; }
.findings li.warn { background:var(--warnbg); }
.findings li.info { background:var(--infobg); }
.badge { display:inline-block; min-width:78px; font-size:11px; font-weight:600; text-transform:uppercase;
         letter-spacing:.03em; margin-right:8px; }
.badge.warn { color:var(--warn); } .badge.info { color:var(--info); }
.recs { margin:0; padding-left:20px; color:var(--ink); }
.small { font-size:12.5px; color:var(--muted); }
.empty { color:#2a7d4f; font-weight:500; }
table.data { border-collapse:collapse; width:100%; font-size:12.5px; font-variant-numeric:tabular-nums; }
table.data th, table.data td { padding:5px 8px; border-bottom:1px solid var(--line); text-align:left;
                               white-space:nowrap; }
table.data thead th { background:#f7f9fb; color:var(--muted); font-weight:600; position:sticky; top:0; }
table.data td.num { text-align:right; }
table.data tr.hot th, td.hot { color:var(--warn); font-weight:600; }
.split { display:grid; grid-template-columns:minmax(0,3fr) minmax(0,2fr); gap:18px; align-items:start; }
.split > div { overflow-x:auto; }
details summary { cursor:pointer; color:var(--muted); margin-bottom:6px; }
.card > details, .card > table { overflow-x:auto; display:block; }
"""

