"""The model report's charts, as plotly figures built from ``ModelEvaluation.to_dict()``.

Each function returns a ``plotly.graph_objects.Figure`` or ``None`` when the evaluation
has nothing to draw. Needs the ``report`` extra (plotly).
"""
from __future__ import annotations

import math
from typing import Any

MODEL = "#3b73b9"
ALERT = "#d6453d"
OK = "#2a9d8f"
GREY = "#8a96a3"
BASELINE = "#e9a23b"
FONT = "Inter, 'Segoe UI', 'Helvetica Neue', Arial, 'Liberation Sans', sans-serif"


def _go():
    try:
        import plotly.graph_objects as go
    except ImportError as exc:
        raise ImportError("the HTML report draws its charts with plotly: pip install 'aws-ml[report]'") from exc
    return go


def _layout(fig, height: int, **kw: Any):
    axis = {"gridcolor": "#e8edf3", "zerolinecolor": "#d3dae3", "linecolor": "#c9d1db", "automargin": True}
    margin = {"l": 60, "r": 20, "t": 30, "b": 50, **kw.pop("margin", {})}
    fig.update_layout(height=height, margin=margin, template="plotly_white",
                      font={"family": FONT, "size": 12, "color": "#2a3440"}, paper_bgcolor="#ffffff",
                      plot_bgcolor="#ffffff", legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
                      **kw)
    fig.update_xaxes(**axis)
    fig.update_yaxes(**axis)
    return fig


def _label_line(fig, x: float, text: str, color: str = "#1f2933") -> None:
    """A label above the plot area at ``x`` (for a vertical reference line)."""
    fig.add_annotation(x=x, y=1, xref="x", yref="paper", yanchor="bottom", text=text, showarrow=False,
                       font={"size": 11, "color": color})


def roc(ev: dict) -> Any:
    curve = ev["curves"].get("roc")
    if not curve:
        return None
    go = _go()
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="chance (AUC 0.5)",
                             line={"color": GREY, "dash": "dash", "width": 1}, hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=curve["fpr"], y=curve["tpr"], mode="lines",
                             name=f"model (AUC {ev['metrics']['roc_auc']:.3f})",
                             line={"color": MODEL, "width": 2.5}, fill="tozeroy", fillcolor="rgba(59,115,185,0.08)",
                             customdata=curve["threshold"],
                             hovertemplate="FPR %{x:.3f}<br>TPR %{y:.3f}<br>threshold %{customdata:.3f}<extra></extra>"))
    return _layout(fig, 380, xaxis_title="False positive rate", yaxis_title="True positive rate (recall)",
                   xaxis_range=[-0.01, 1.01], yaxis_range=[-0.01, 1.02])


def pr(ev: dict) -> Any:
    curve = ev["curves"].get("pr")
    if not curve:
        return None
    go = _go()
    fig = go.Figure()
    prevalence = curve.get("prevalence") or 0.0
    fig.add_trace(go.Scatter(x=[0, 1], y=[prevalence, prevalence], mode="lines",
                             name=f"chance (prevalence {prevalence:.1%})",
                             line={"color": GREY, "dash": "dash", "width": 1}, hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=curve["recall"], y=curve["precision"], mode="lines",
                             name=f"model (AP {ev['metrics']['pr_auc']:.3f})", line={"color": MODEL, "width": 2.5},
                             hovertemplate="recall %{x:.3f}<br>precision %{y:.3f}<extra></extra>"))
    m = ev["metrics"]
    if ev.get("threshold") is not None:
        fig.add_trace(go.Scatter(x=[m["recall"]], y=[m["precision"]], mode="markers",
                                 name=f"threshold {ev['threshold']:g}",
                                 marker={"color": ALERT, "size": 11, "line": {"color": "#fff", "width": 1.5}},
                                 hovertemplate="recall %{x:.3f}<br>precision %{y:.3f}<extra>operating point</extra>"))
    return _layout(fig, 380, xaxis_title="Recall", yaxis_title="Precision", xaxis_range=[-0.01, 1.01],
                   yaxis_range=[-0.01, 1.02])


def confusion(ev: dict) -> Any:
    cm = ev["metrics"].get("confusion_matrix")
    if not cm:
        return None
    go = _go()
    labels = cm["labels"]
    z = cm["matrix"]
    rows = [sum(r) or 1 for r in z]
    share = [[v / rows[i] for v in r] for i, r in enumerate(z)]
    text = [[f"<b>{v:,}</b><br>{share[i][j]:.1%} of row" for j, v in enumerate(r)] for i, r in enumerate(z)]
    fig = go.Figure(go.Heatmap(z=share, x=[f"predicted {l}" for l in labels], y=[f"actual {l}" for l in labels],
                               text=text, texttemplate="%{text}", textfont={"size": 14},
                               colorscale=[[0, "#f4f7fb"], [1, "#1d4f91"]], zmin=0, zmax=1,
                               colorbar={"title": "row share", "tickformat": ".0%", "thickness": 12},
                               hovertemplate="%{y}, %{x}<br>%{text}<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, 380)


def calibration(ev: dict) -> Any:
    cal = ev["curves"].get("calibration")
    if not cal or not cal["mean_predicted"]:
        return None
    go = _go()
    top = min(1.0, max(max(cal["mean_predicted"]), max(cal["fraction_positive"]), 0.02) * 1.08)
    biggest = max(cal["count"]) or 1
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, top], y=[0, top], mode="lines", name="perfectly calibrated",
                             line={"color": GREY, "dash": "dash", "width": 1}, hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=cal["mean_predicted"], y=cal["fraction_positive"], mode="lines+markers",
                             name=f"model (Brier {ev['metrics'].get('brier', 0):.4f})",
                             line={"color": MODEL, "width": 2.5},
                             marker={"size": [8 + 10 * (c / biggest) ** 0.5 for c in cal["count"]],
                                     "line": {"color": "#fff", "width": 1}},
                             customdata=cal["count"],
                             hovertemplate="mean score %{x:.3f}<br>observed rate %{y:.3f}<br>%{customdata:,} rows"
                                           "<extra></extra>"))
    return _layout(fig, 380, xaxis_title="Mean predicted probability (equal-count bins)",
                   yaxis_title="Observed fraction positive", xaxis_range=[0, top], yaxis_range=[0, top])


def residuals(ev: dict) -> Any:
    res = ev["curves"].get("residuals")
    if not res:
        return None
    go = _go()
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, subplot_titles=("Residuals against predictions", "Predicted against actual"),
                        horizontal_spacing=0.1)
    fig.add_trace(go.Scatter(x=res["predicted"], y=res["residual"], mode="markers", name="residual",
                               marker={"color": MODEL, "size": 5, "opacity": 0.5},
                               hovertemplate="predicted %{x:.4g}<br>residual %{y:.4g}<extra></extra>"), row=1, col=1)
    fig.add_hline(y=0, line={"color": ALERT, "dash": "dash"}, row=1, col=1)
    lo = min(min(res["actual"]), min(res["predicted"]))
    hi = max(max(res["actual"]), max(res["predicted"]))
    fig.add_trace(go.Scatter(x=res["actual"], y=res["predicted"], mode="markers", name="prediction",
                               marker={"color": OK, "size": 5, "opacity": 0.5},
                               hovertemplate="actual %{x:.4g}<br>predicted %{y:.4g}<extra></extra>"), row=1, col=2)
    fig.add_trace(go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", name="perfect", line={"color": GREY, "dash": "dash"}),
                  row=1, col=2)
    _layout(fig, 400, showlegend=False)
    fig.update_layout(margin={"t": 40})
    fig.update_xaxes(title_text="Predicted", row=1, col=1)
    fig.update_yaxes(title_text="Actual − predicted", row=1, col=1)
    fig.update_xaxes(title_text="Actual", row=1, col=2)
    fig.update_yaxes(title_text="Predicted", row=1, col=2)
    return fig


LABELS = {"accuracy": "Accuracy", "balanced_accuracy": "Balanced accuracy", "precision": "Precision",
          "recall": "Recall", "f1": "F1", "roc_auc": "ROC AUC", "pr_auc": "PR AUC", "log_loss": "Log loss",
          "brier": "Brier score", "rmse": "RMSE", "mae": "MAE", "r2": "R²", "mape": "MAPE"}
LOWER_IS_BETTER = {"log_loss", "brier", "rmse", "mae", "mape"}


def baselines(ev: dict, columns: int = 5) -> Any:
    """Small multiples: one panel per headline metric, the model beside each baseline."""
    rows_ = [r for r in ev["comparison"] if r["model"] is not None]
    if not rows_ or not ev["baselines"]:
        return None
    go = _go()
    from plotly.subplots import make_subplots

    cols = min(columns, len(rows_))
    nrows = (len(rows_) + cols - 1) // cols
    titles = [f"{LABELS.get(r['metric'], r['metric'])} {'↓' if r['metric'] in LOWER_IS_BETTER else '↑'}"
              for r in rows_]
    fig = make_subplots(rows=nrows, cols=cols, subplot_titles=titles, horizontal_spacing=0.05,
                        vertical_spacing=0.32 / nrows)
    names = ["model"] + [b["name"] for b in ev["baselines"]]
    palette = [MODEL, BASELINE, GREY, "#8e6bbf", "#a0c15a"]
    for i, r in enumerate(rows_):
        rr, cc = i // cols + 1, i % cols + 1
        values = [r["model"]] + [r["baselines"].get(n) for n in names[1:]]
        big = max(abs(v) for v in values if v is not None) if any(v is not None for v in values) else 0
        fmt = ",.0f" if big >= 100 else ".3f"
        fig.add_trace(go.Bar(x=names, y=values, marker_color=palette[:len(names)], showlegend=False,
                             text=["—" if v is None else format(v, fmt) for v in values], textposition="outside",
                             cliponaxis=False,
                             hovertemplate="%{x}: %{y:" + fmt + "}<extra>" + titles[i] + "</extra>"), row=rr, col=cc)
        fig.update_xaxes(showticklabels=True, tickfont={"size": 10}, row=rr, col=cc)
        fig.update_yaxes(showticklabels=False, row=rr, col=cc,
                         range=[min(0, *(v for v in values if v is not None)) * 1.6, (big or 1) * 1.25])
    _layout(fig, 80 + 230 * nrows, showlegend=False, bargap=0.25)
    fig.update_layout(margin={"l": 20, "r": 20, "t": 40, "b": 30})
    return fig


def slices(ev: dict) -> Any:
    sl = ev.get("slices")
    if not sl or not sl["segments"]:
        return None
    go = _go()
    segs = list(reversed(sl["segments"]))
    names = [f"{s['feature']} = {s['segment']}" for s in segs]
    g = sl["global_error"] or 0.0
    colors = [ALERT if (s["lift"] or 0) >= 1.5 else (BASELINE if (s["lift"] or 0) > 1 else MODEL) for s in segs]
    label = "error rate" if sl["metric"] == "error_rate" else "mean absolute error"
    fmt = ".1%" if sl["metric"] == "error_rate" else (",.0f" if g >= 100 else ".3g")
    fig = go.Figure(go.Bar(
        x=[s["error"] for s in segs], y=names, orientation="h", marker_color=colors,
        text=[f"n={s['count']:,} · ×{(s['lift'] or 0):.2f}" for s in segs], textposition="auto",
        customdata=[[s["count"], s["lift"] or 0] for s in segs],
        hovertemplate="%{y}<br>" + label + " %{x:" + fmt + "}<br>%{customdata[0]:,} rows · "
                      "lift ×%{customdata[1]:.2f}<extra></extra>"))
    fig.add_vline(x=g, line={"color": "#1f2933", "dash": "dash"}, layer="below")
    _label_line(fig, g, f"global {format(g, fmt)}")
    return _layout(fig, 120 + 34 * len(segs), xaxis_title=label, xaxis_tickformat=fmt,
                   margin={"l": 20, "r": 30, "t": 40, "b": 50})


def drift_psi(ev: dict) -> Any:
    dr = ev.get("drift")
    if not dr or not dr["features"]:
        return None
    go = _go()
    feats = sorted([f for f in dr["features"] if f.get("psi") is not None], key=lambda f: f["psi"])
    if not feats:
        return None
    t = dr["thresholds"]["psi"]
    fig = go.Figure(go.Bar(
        x=[f["psi"] for f in feats], y=[f["name"] for f in feats], orientation="h",
        marker_color=[ALERT if f["drift"] else OK for f in feats],
        text=[f"PSI {f['psi']:.3f} · {'KS' if f['test'] == 'ks' else 'L∞'} {f['distance']:.3f}" for f in feats],
        textposition="auto",
        customdata=[[f["distance"], f["p_value"] if f["p_value"] is not None else float("nan"),
                     "drift" if f["drift"] else "stable"] for f in feats],
        hovertemplate="%{y}: %{customdata[2]}<br>PSI %{x:.3f}<br>distance %{customdata[0]:.3f}"
                      "<br>p-value %{customdata[1]:.3g}<extra></extra>"))
    fig.add_vline(x=t, line={"color": ALERT, "dash": "dash"}, layer="below")
    lo, hi = min(f["psi"] for f in feats), max(max(f["psi"] for f in feats), t)
    axis: dict[str, Any] = {}
    if hi / max(lo, 1e-6) > 200:            # PSIs span decades: a log axis keeps the small ones visible
        ticks = [v for v in (1e-5, 1e-4, 1e-3, 0.01, 0.1, t, 1, 10, 100) if max(lo, 1e-6) / 3 <= v <= hi * 3]
        axis = {"xaxis_type": "log", "xaxis_tickvals": ticks, "xaxis_ticktext": [f"{v:g}" for v in ticks]}
    _label_line(fig, math.log10(t) if axis else t, f"PSI threshold {t:g}", ALERT)
    return _layout(fig, 120 + 26 * len(feats), xaxis_title="Population stability index (PSI)",
                   margin={"l": 20, "r": 30, "t": 40, "b": 50}, **axis)


def drift_distributions(ev: dict, most: int = 4) -> Any:
    dr = ev.get("drift")
    if not dr:
        return None
    feats = sorted([f for f in dr["features"] if f.get("bins")], key=lambda f: -(f["psi"] or 0))[:most]
    if not feats:
        return None
    go = _go()
    from plotly.subplots import make_subplots

    cols = 2 if len(feats) > 1 else 1
    rows = (len(feats) + cols - 1) // cols
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[
        f"{f['name']} · {'drift' if f['drift'] else 'stable'} (PSI {f['psi']:.3g})" for f in feats],
        horizontal_spacing=0.08, vertical_spacing=0.3 / rows)
    for i, f in enumerate(feats):
        r, c = i // cols + 1, i % cols + 1
        b = f["bins"]
        fig.add_trace(go.Bar(x=b["labels"], y=b["baseline"], name="baseline", marker_color=GREY,
                             showlegend=i == 0, legendgroup="baseline",
                             hovertemplate="%{x}<br>baseline %{y:.1%}<extra></extra>"), row=r, col=c)
        fig.add_trace(go.Bar(x=b["labels"], y=b["current"], name="current", marker_color=ALERT if f["drift"] else OK,
                             showlegend=i == 0, legendgroup="current",
                             hovertemplate="%{x}<br>current %{y:.1%}<extra></extra>"), row=r, col=c)
        fig.update_yaxes(tickformat=".0%", row=r, col=c)
        fig.update_xaxes(tickangle=-35, tickfont={"size": 10}, row=r, col=c)
    _layout(fig, 120 + 300 * rows, barmode="group", bargap=0.15)
    fig.update_layout(margin={"t": 70}, legend={"y": 1.0 + 40 / (300 * rows)})
    return fig
