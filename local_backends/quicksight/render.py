"""Render a QuickSight dashboard ``Definition`` to one self-contained HTML page.

Each data set's columns are read through Athena (the data set's data source work group),
aggregated with pandas as the visual's field wells say, and drawn with plotly (its
JavaScript is inlined, so the page works offline). Visual types this renderer does not
draw are shown as a visible notice naming the type — never left out silently.
"""
from __future__ import annotations

import html
import time
from typing import Any

AGGREGATIONS = {"SUM": "sum", "AVERAGE": "mean", "MIN": "min", "MAX": "max", "COUNT": "count",
                "DISTINCT_COUNT": "nunique", "VAR": "var", "VARP": lambda s: s.var(ddof=0),
                "STDEV": "std", "STDEVP": lambda s: s.std(ddof=0), "MEDIAN": "median"}


class RenderError(RuntimeError):
    """A dashboard that cannot be rendered locally (the message says why)."""


def _athena_frame(athena, sql: str, workgroup: str):
    import pandas as pd

    qid = athena.start_query_execution(QueryString=sql, WorkGroup=workgroup)["QueryExecutionId"]
    deadline = time.monotonic() + 300
    while True:
        state = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
        if state["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            break
        if time.monotonic() > deadline:
            raise RenderError(f"Athena query {qid} did not finish in 300 s")
        time.sleep(0.05)
    if state["State"] != "SUCCEEDED":
        raise RenderError(f"Athena query failed: {state.get('StateChangeReason', state['State'])}")
    rows, columns, types = [], None, None
    for page in athena.get_paginator("get_query_results").paginate(QueryExecutionId=qid):
        data = page["ResultSet"]["Rows"]
        if columns is None:
            info = page["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
            columns = [c["Name"] for c in info]
            types = [c["Type"] for c in info]
            data = data[1:]  # the header row
        rows += [[d.get("VarCharValue") for d in r["Data"]] for r in data]
    df = pd.DataFrame(rows, columns=columns)
    for col, typ in zip(columns, types):
        if typ in ("integer", "bigint", "smallint", "tinyint", "double", "float", "real", "decimal"):
            df[col] = pd.to_numeric(df[col])
    return df


def _source_sql(table: dict, columns: list[str]) -> str:
    cols = ", ".join(f'"{c}"' for c in sorted(columns)) or "*"
    if "RelationalTable" in table:
        t = table["RelationalTable"]
        parts = [p for p in (t.get("Catalog"), t.get("Schema"), t["Name"]) if p]
        return f"SELECT {cols} FROM " + ".".join(f'"{p}"' for p in parts)
    return f"SELECT {cols} FROM ({table['CustomSql']['SqlQuery']}) AS q"


def _fields(obj: Any) -> list[dict]:
    """Every field (dimension or measure) nested in a field-wells structure."""
    found = []
    if isinstance(obj, dict):
        if "Column" in obj and "FieldId" in obj:
            found.append(obj)
        else:
            for v in obj.values():
                found += _fields(v)
    elif isinstance(obj, list):
        for v in obj:
            found += _fields(v)
    return found


def _unwrap(field: dict) -> dict:
    """A DimensionField/MeasureField union -> its one member."""
    if "Column" in field:
        return field
    (inner,) = field.values()
    return inner


def _measure(df, field: dict, group: list[str] | None):
    f = _unwrap(field)
    col = f["Column"]["ColumnName"]
    agg = f.get("AggregationFunction") or {}
    if isinstance(agg, str):  # CategoricalMeasureField: COUNT | DISTINCT_COUNT
        agg = {"SimpleNumericalAggregation": agg}
    name = agg.get("SimpleNumericalAggregation") or "SUM"
    if "PercentileAggregation" in agg:
        q = agg["PercentileAggregation"]["PercentileValue"] / 100
        fn: Any = lambda s: s.quantile(q)  # noqa: E731
        label = f"p{agg['PercentileAggregation']['PercentileValue']:g}({col})"
    else:
        fn = AGGREGATIONS.get(name)
        if fn is None:
            raise RenderError(f"aggregation {name} is not served by the local QuickSight renderer")
        label = f"{name.lower()}({col})"
    if group:
        return df.groupby(group, dropna=False)[col].agg(fn).rename(label).reset_index(), label
    return df[col].agg(fn), label


def _dims(wells: dict, *names: str) -> list[str]:
    out = []
    for name in names:
        for f in wells.get(name) or []:
            out.append(_unwrap(f)["Column"]["ColumnName"])
    return out


def _figure(kind: str, conf: dict, df):
    import plotly.graph_objects as go

    wells = conf.get("FieldWells") or {}
    if kind == "BarChartVisual" or kind == "LineChartVisual":
        w = wells.get("BarChartAggregatedFieldWells") or wells.get("LineChartAggregatedFieldWells") or {}
        cats, colors = _dims(w, "Category"), _dims(w, "Colors")
        fig = go.Figure()
        for m in w.get("Values") or []:
            agg, label = _measure(df, m, cats + colors)
            groups = agg.groupby(colors) if colors else [(None, agg)]
            for key, part in groups:
                name = label if key is None else f"{label} · {key if not isinstance(key, tuple) else key[0]}"
                x = part[cats[0]].astype(str) if cats else [label]
                if kind == "BarChartVisual":
                    horizontal = conf.get("Orientation") == "HORIZONTAL"
                    fig.add_bar(x=part[label] if horizontal else x, y=x if horizontal else part[label], name=name,
                                orientation="h" if horizontal else "v")
                else:
                    fig.add_scatter(x=x, y=part[label], name=name, mode="lines+markers")
        return fig
    if kind == "PieChartVisual":
        w = wells.get("PieChartAggregatedFieldWells") or {}
        cats = _dims(w, "Category")
        agg, label = _measure(df, w["Values"][0], cats)
        return go.Figure(go.Pie(labels=agg[cats[0]].astype(str), values=agg[label], hole=0.4))
    if kind == "HistogramVisual":
        w = wells.get("HistogramAggregatedFieldWells") or {}
        col = _unwrap(w["Values"][0])["Column"]["ColumnName"]
        bins = ((conf.get("BinOptions") or {}).get("BinCount") or {}).get("Value")
        return go.Figure(go.Histogram(x=df[col], nbinsx=bins, name=col))
    if kind == "BoxPlotVisual":
        w = wells.get("BoxPlotAggregatedFieldWells") or {}
        groups = _dims(w, "GroupBy")
        fig = go.Figure()
        for m in w.get("Values") or []:
            col = _unwrap(m)["Column"]["ColumnName"]
            if groups:
                for key, part in df.groupby(groups[0], dropna=False):
                    fig.add_box(y=part[col], name=f"{col} · {key}")
            else:
                fig.add_box(y=df[col], name=col)
        return fig
    if kind == "ScatterPlotVisual":
        w = wells.get("ScatterPlotUnaggregatedFieldWells") or wells.get("ScatterPlotCategoricallyAggregatedFieldWells") or {}
        x = _unwrap(w["XAxis"][0])["Column"]["ColumnName"]
        y = _unwrap(w["YAxis"][0])["Column"]["ColumnName"]
        cat = _dims(w, "Category")
        fig = go.Figure()
        for key, part in (df.groupby(cat[0], dropna=False) if cat else [(None, df)]):
            fig.add_scattergl(x=part[x], y=part[y], mode="markers", name=str(key) if key is not None else y,
                              marker={"size": 5, "opacity": 0.6})
        fig.update_layout(xaxis_title=x, yaxis_title=y)
        return fig
    if kind == "HeatMapVisual":
        w = wells.get("HeatMapAggregatedFieldWells") or {}
        rows, cols = _dims(w, "Rows"), _dims(w, "Columns")
        agg, label = _measure(df, w["Values"][0], rows + cols)
        pivot = agg.pivot(index=rows[0], columns=cols[0], values=label)
        return go.Figure(go.Heatmap(z=pivot.values, x=[str(c) for c in pivot.columns],
                                    y=[str(i) for i in pivot.index], colorscale="Blues"))
    return None


def _table(conf: dict, df) -> str:
    wells = conf.get("FieldWells") or {}
    if "TableAggregatedFieldWells" in wells:
        w = wells["TableAggregatedFieldWells"]
        group = _dims(w, "GroupBy")
        out = None
        for m in w.get("Values") or []:
            agg, label = _measure(df, m, group)
            out = agg if out is None else out.merge(agg, on=group)
        frame = out if out is not None else df[group].drop_duplicates()
    else:
        cols = [_unwrap(f)["Column"]["ColumnName"] for f in wells.get("TableUnaggregatedFieldWells", {}).get("Values", [])]
        frame = df[cols]
    return frame.head(200).to_html(index=False, classes="qs-table", border=0, float_format=lambda v: f"{v:,.2f}")


def _kpi(conf: dict, df) -> str:
    w = (conf.get("FieldWells") or {})
    value, label = _measure(df, w["Values"][0], None)
    return f'<div class="kpi"><div class="kpi-value">{value:,.4g}</div><div class="kpi-label">{html.escape(label)}</div></div>'


def render_dashboard(name: str, definition: dict, datasets: dict, athena) -> str:
    """The HTML page of a dashboard definition; ``datasets`` maps identifiers to
    ``{"table": physical table, "workgroup": name}``."""
    import plotly.io as pio
    from plotly.offline import get_plotlyjs

    needed: dict[str, set[str]] = {}
    for sheet in definition.get("Sheets", []):
        for visual in sheet.get("Visuals", []):
            for f in _fields(visual):
                needed.setdefault(f["Column"]["DataSetIdentifier"], set()).add(f["Column"]["ColumnName"])
    frames = {}
    for ident, cols in needed.items():
        if ident not in datasets:
            raise RenderError(f"the data set identifier {ident!r} is not declared in DataSetIdentifierDeclarations")
        ds = datasets[ident]
        frames[ident] = _athena_frame(athena, _source_sql(ds["table"], list(cols)), ds["workgroup"])

    sections = []
    for sheet in definition.get("Sheets", []):
        cards = []
        for visual in sheet.get("Visuals", []):
            (kind, body), = visual.items()
            title = ((body.get("Title") or {}).get("FormatText") or {}).get("PlainText") or body.get("VisualId", kind)
            conf = body.get("ChartConfiguration") or {}
            fields = _fields(visual)
            df = frames[fields[0]["Column"]["DataSetIdentifier"]] if fields else None
            if df is None:
                content = '<p class="notice">This visual has no fields.</p>'
            elif kind == "TableVisual":
                content = _table(conf, df)
            elif kind == "KPIVisual":
                content = _kpi(conf, df)
            else:
                fig = _figure(kind, conf, df)
                if fig is None:
                    content = (f'<p class="notice">{html.escape(kind)} is not drawn by the local QuickSight '
                               f"renderer (served: bar, line, pie, histogram, box plot, scatter plot, heat map, "
                               f"table, KPI).</p>")
                else:
                    fig.update_layout(margin={"l": 50, "r": 20, "t": 30, "b": 50}, height=360,
                                      template="plotly_white", legend={"orientation": "h"})
                    content = pio.to_html(fig, include_plotlyjs=False, full_html=False,
                                          div_id=f"qs-{body.get('VisualId', kind)}")
            cards.append(f'<section class="card" data-visual="{html.escape(kind)}"><h3>{html.escape(title)}</h3>'
                         f"{content}</section>")
        sheet_name = sheet.get("Name") or sheet.get("Title") or sheet["SheetId"]
        sections.append(f'<h2>{html.escape(sheet_name)}</h2><div class="grid">{"".join(cards)}</div>')
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(name)}</title>
<script>{get_plotlyjs()}</script>
<style>
body {{ font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; background: #f4f6f8; color: #16191f; }}
header {{ background: #232f3e; color: white; padding: 14px 24px; }}
header h1 {{ margin: 0; font-size: 20px; }} header p {{ margin: 4px 0 0; opacity: .75; font-size: 13px; }}
main {{ padding: 16px 24px; }} h2 {{ font-size: 17px; margin: 18px 0 8px; }}
.grid {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(460px, 1fr)); gap: 14px; }}
.card {{ background: white; border-radius: 8px; padding: 10px 14px; box-shadow: 0 1px 3px rgba(0,0,0,.12); overflow: auto; }}
.card h3 {{ font-size: 14px; margin: 4px 0 8px; }}
.qs-table {{ border-collapse: collapse; font-size: 13px; width: 100%; }}
.qs-table th, .qs-table td {{ padding: 4px 8px; border-bottom: 1px solid #e5e7eb; text-align: right; }}
.kpi {{ text-align: center; padding: 40px 0; }} .kpi-value {{ font-size: 44px; font-weight: 600; }}
.kpi-label {{ color: #5f6b7a; }} .notice {{ color: #8a4b00; background: #fff4e5; padding: 10px; border-radius: 6px; }}
</style></head>
<body><header><h1>{html.escape(name)}</h1><p>Rendered locally by aws_ml from the QuickSight dashboard
definition, with data queried through Athena.</p></header><main>{''.join(sections)}</main></body></html>"""
