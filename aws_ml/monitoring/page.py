"""The model-evaluation report: one self-contained HTML file.

Rendered from ``ModelEvaluation.to_dict()`` alone. plotly.js is embedded inline once (the
first chart is written with ``include_plotlyjs=True``), so the file opens offline, from
disk or from S3, and fetches nothing from any server.
"""
from __future__ import annotations

import html
import json
from typing import Any

from aws_ml.html_page import render_page
from . import charts

PLOT_CONFIG = {"displaylogo": False, "responsive": True,
               "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d"]}
LABELS = {"accuracy": "Accuracy", "balanced_accuracy": "Balanced accuracy", "precision": "Precision",
          "recall": "Recall", "f1": "F1", "roc_auc": "ROC AUC", "pr_auc": "PR AUC", "log_loss": "Log loss",
          "brier": "Brier score", "rmse": "RMSE", "mae": "MAE", "r2": "R²", "mape": "MAPE"}


class _Charts:
    """Renders figures as divs; the first one carries plotly.js."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def __call__(self, name: str, fig: Any) -> str:
        if fig is None:
            return ""
        import plotly.io as pio

        div = pio.to_html(fig, include_plotlyjs=not self.names, full_html=False, config=PLOT_CONFIG,
                          div_id=f"chart-{name}", default_width="100%",
                          default_height=f"{int(fig.layout.height or 380)}px")
        self.names.append(name)
        return f'<div class="chart" data-chart="{html.escape(name)}">{div}</div>'


def fmt(x: Any, digits: int = 3) -> str:
    if x is None:
        return "—"
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int):
        return f"{x:,}"
    if isinstance(x, float):
        if abs(x) >= 1000:
            return f"{x:,.0f}"
        return f"{x:.{digits}f}" if abs(x) >= 0.001 or x == 0 else f"{x:.2e}"
    return html.escape(str(x))


def render_html(ev: dict[str, Any]) -> str:
    """The report of an evaluation dict as HTML text."""
    chart = _Charts()
    kind = ev["problem_type"]
    parts = [_tiles(ev)]
    if kind == "binary":
        parts.append(_row(_card("ROC curve", "True positive rate against false positive rate at every threshold.",
                                chart("roc", charts.roc(ev))),
                          _card("Precision–recall curve", "The curve to read on an imbalanced problem; the "
                                "dashed line is a model that ranks at random.", chart("pr", charts.pr(ev)))))
        parts.append(_row(_card("Confusion matrix", _confusion_note(ev), chart("confusion", charts.confusion(ev))),
                          _card("Calibration", _calibration_note(ev), chart("calibration", charts.calibration(ev)))))
    elif kind == "multiclass":
        parts.append(_row(_card("Confusion matrix", "Counts and share of each actual class's rows.",
                                chart("confusion", charts.confusion(ev))),
                          _card("Per class", "", _per_class(ev))))
    else:
        parts.append(_card("Residuals", _residual_note(ev), chart("residuals", charts.residuals(ev)), wide=True))
    parts.append(_card("Comparison with baseline models", _baseline_note(ev),
                       chart("baselines", charts.baselines(ev)) + _comparison_table(ev), wide=True))
    if ev.get("slices"):
        parts.append(_card("Error analysis by slice", _slice_note(ev),
                           (chart("slices", charts.slices(ev)) or '<p class="empty">No slice has enough rows.</p>')
                           + _slice_table(ev), wide=True))
    if ev.get("drift"):
        parts.append(_card("Drift per feature", _drift_note(ev),
                           chart("drift", charts.drift_psi(ev)) + chart("drift-distributions",
                                                                          charts.drift_distributions(ev))
                           + _violations(ev), wide=True))
    title = html.escape(ev.get("title") or "Model evaluation")
    sub = (f"{kind} · {ev['n']:,} rows" + (f" · positive class {html.escape(str(ev['positive_label']))}"
                                          if ev.get("positive_label") is not None else "")
           + (f" · threshold {ev['threshold']:g}" if ev.get("threshold") is not None else "")
           + f" · generated {html.escape(ev.get('generated_at', ''))}")
    return render_page(title=title, subtitle=sub, css=_CSS, body="\n".join(p for p in parts if p),
                       charts=html.escape(json.dumps(chart.names)), generator="aws_ml.monitoring",
                       footer="aws_ml model evaluation · self-contained report (plotly.js inline, works offline)")


def _card(title: str, note: str, content: str, wide: bool = False) -> str:
    if not content:
        return ""
    note_html = f'<p class="note">{note}</p>' if note else ""
    return f'<section class="card{" wide" if wide else ""}"><h2>{html.escape(title)}</h2>{note_html}{content}</section>'


def _row(*cards: str) -> str:
    cards = tuple(c for c in cards if c)
    return f'<div class="row">{"".join(cards)}</div>' if cards else ""


def _tiles(ev: dict) -> str:
    comp = {r["metric"]: r for r in ev["comparison"]}
    tiles = []
    for key, value in ev["headline"].items():
        row = comp.get(key, {})
        best = [v for v in row.get("baselines", {}).values() if v is not None]
        cls = ""
        sub = ""
        if best and value is not None:
            ref = max(best) if key not in ("log_loss", "brier", "rmse", "mae", "mape") else min(best)
            sub = f"best baseline {_percent(ref) if key == 'mape' else fmt(ref)}"
            cls = " good" if row.get("better_than_baselines") else " bad"
        shown = _percent(value) if key == "mape" else fmt(value)
        tiles.append(f'<div class="tile{cls}"><div class="label">{LABELS.get(key, key)}</div>'
                     f'<div class="value">{shown}</div><div class="sub">{sub}</div></div>')
    drift = ev.get("drift")
    if drift:
        n = len(drift["violations"])
        tiles.append(f'<div class="tile{" bad" if n else " good"}"><div class="label">Drift violations</div>'
                     f'<div class="value">{n}</div><div class="sub">{len(drift["drifted_features"])} drifted '
                     f'feature(s)</div></div>')
    return f'<div class="tiles">{"".join(tiles)}</div>'


def _confusion_note(ev: dict) -> str:
    m = ev["metrics"]
    return (f"{m['true_positives']:,} of {m['true_positives'] + m['false_negatives']:,} positives found "
            f"(recall {fmt(m['recall'])}); {m['false_positives']:,} false alarms (precision {fmt(m['precision'])}).")


def _calibration_note(ev: dict) -> str:
    cal = ev["curves"].get("calibration") or {}
    return (f"Observed positive rate against the mean score, on equal-count bins. Brier score "
            f"{fmt(ev['metrics'].get('brier'), 4)}, log loss {fmt(ev['metrics'].get('log_loss'), 4)}, "
            f"expected calibration error {fmt(cal.get('expected_calibration_error'), 4)}.")


def _residual_note(ev: dict) -> str:
    m = ev["metrics"]
    excluded = m.get("mape_rows_excluded")
    extra = f" MAPE leaves out {excluded:,} rows whose true value is 0." if excluded else ""
    return (f"Mean residual {fmt(m.get('mean_residual'))}: a mean far from 0 is a biased model; a funnel "
            f"shape is an error that grows with the prediction.{extra}")


def _baseline_note(ev: dict) -> str:
    names = ", ".join(html.escape(b["name"]) for b in ev["baselines"])
    beaten = [r for r in ev["comparison"] if r["better_than_baselines"] is not None]
    wins = sum(1 for r in beaten if r["better_than_baselines"])
    return f"Against {names}: the model does better on {wins} of {len(beaten)} metrics."


def _comparison_table(ev: dict) -> str:
    names = [b["name"] for b in ev["baselines"]]
    head = "".join(f"<th class='num'>{html.escape(n)}</th>" for n in names)
    rows = []
    for r in ev["comparison"]:
        show = _percent if r["metric"] == "mape" else fmt
        cells = "".join(f"<td class='num'>{show(r['baselines'].get(n))}</td>" for n in names)
        mark = {True: "<span class='yes'>✓ better</span>", False: "<span class='no'>✗ not better</span>",
                None: "—"}[r["better_than_baselines"]]
        rows.append(f"<tr><th>{LABELS.get(r['metric'], r['metric'])}</th><td class='num'><b>{show(r['model'])}</b>"
                    f"</td>{cells}<td>{mark}</td></tr>")
    return (f"<table class='data'><thead><tr><th>metric</th><th class='num'>model</th>{head}<th></th></tr>"
            f"</thead><tbody>{''.join(rows)}</tbody></table>")


def _percent(x: Any) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


def _per_class(ev: dict) -> str:
    rows = "".join(f"<tr><th>{html.escape(c['label'])}</th><td class='num'>{fmt(c['precision'])}</td>"
                   f"<td class='num'>{fmt(c['recall'])}</td><td class='num'>{fmt(c['f1'])}</td>"
                   f"<td class='num'>{c['support']:,}</td></tr>" for c in ev["metrics"].get("per_class", []))
    return ("<table class='data'><thead><tr><th>class</th><th class='num'>precision</th><th class='num'>recall"
            f"</th><th class='num'>F1</th><th class='num'>rows</th></tr></thead><tbody>{rows}</tbody></table>")


def _slice_note(ev: dict) -> str:
    sl = ev["slices"]
    what = "error rate" if sl["metric"] == "error_rate" else "mean absolute error"
    g = sl["global_error"]
    shown = f"{100 * g:.1f}%" if sl["metric"] == "error_rate" and g is not None else fmt(g)
    return (f"The segments with the highest {what} (global: {shown}); categorical columns by value, numeric "
            f"ones by quantile bin; segments under {sl['min_count']:,} rows are left out. Lift = segment "
            f"error ÷ global error.")


def _slice_table(ev: dict) -> str:
    sl = ev["slices"]
    pct = sl["metric"] == "error_rate"
    def error(value: float | None) -> str:
        return "—" if value is None else (f"{100 * value:.1f}%" if pct else fmt(value))

    rows = "".join(
        f"<tr{' class=hot' if (s['lift'] or 0) >= 1.5 else ''}><th>{html.escape(s['feature'])}</th>"
        f"<td>{html.escape(s['segment'])}</td><td class='num'>{s['count']:,}</td>"
        f"<td class='num'>{100 * s['share']:.1f}%</td><td class='num'>{error(s['error'])}</td>"
        f"<td class='num'>×{(s['lift'] or 0):.2f}</td></tr>" for s in sl["segments"])
    return ("<details open><summary>Table</summary><table class='data'><thead><tr><th>feature</th><th>segment</th>"
            "<th class='num'>rows</th><th class='num'>share</th><th class='num'>error</th><th class='num'>lift</th>"
            f"</tr></thead><tbody>{rows}</tbody></table></details>")


def _drift_note(ev: dict) -> str:
    d = ev["drift"]
    t = d["thresholds"]
    return (f"{d['item_count']:,} current rows against a baseline of {d['baseline_item_count']:,}. A feature "
            f"drifts when its PSI reaches {t['psi']:g}, or when the KS (numeric) or chi-squared (categorical) "
            f"test rejects at α = {t['ks_alpha']:g} and the distance exceeds {t['comparison']:g}.")


def _violations(ev: dict) -> str:
    v = ev["drift"]["violations"]
    if not v:
        return '<p class="empty">✓ No constraint violation.</p>'
    rows = "".join(f"<tr class='hot'><th>{html.escape(x['feature_name'])}</th><td>"
                   f"{html.escape(x['constraint_check_type'])}</td><td class='wrap'>{html.escape(x['description'])}"
                   f"</td></tr>" for x in v)
    return ("<h3>Constraint violations (constraint_violations.json)</h3><table class='data'><thead><tr>"
            f"<th>feature</th><th>check</th><th>description</th></tr></thead><tbody>{rows}</tbody></table>")


_CSS = """
:root { --good:#1f7a4d; --bad:#b3261e; }
.tiles { display:grid; grid-template-columns:repeat(auto-fit,minmax(150px,1fr)); gap:12px; margin-bottom:18px; }
.tile { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:10px 14px;
        border-top:3px solid var(--line); }
.tile.good { border-top-color:#2a9d8f; } .tile.bad { border-top-color:#d6453d; }
.tile .label { color:var(--muted); font-size:11.5px; text-transform:uppercase; letter-spacing:.04em; }
.tile .value { font-size:24px; font-weight:600; margin:2px 0; font-variant-numeric:tabular-nums; }
.tile .sub { color:var(--muted); font-size:12px; min-height:1em; }
.row { display:grid; grid-template-columns:repeat(auto-fill,minmax(520px,1fr)); gap:18px; margin-bottom:18px; }
.empty { color:var(--good); font-weight:500; }
.yes { color:var(--good); font-weight:600; } .no { color:var(--bad); font-weight:600; }
table.data { border-collapse:collapse; width:100%; font-size:12.5px; font-variant-numeric:tabular-nums; margin-top:8px; }
table.data th, table.data td { padding:5px 8px; border-bottom:1px solid var(--line); text-align:left; white-space:nowrap; }
table.data td.wrap { white-space:normal; }
table.data thead th { background:#f7f9fb; color:var(--muted); font-weight:600; }
table.data td.num, table.data th.num { text-align:right; }
table.data tr.hot th, table.data tr.hot td { color:var(--warn); }
details summary { cursor:pointer; color:var(--muted); margin:8px 0 4px; }
"""

