"""The run report: one self-contained HTML page (and the same as JSON) per run.

The eight sections in order, each with its status and timing, the course note's
questions answered with the evidence the run produced (:mod:`.answers`), the artefacts it
made (S3 URIs, job, endpoint and feature group names, CloudWatch alarms — console links
on AWS; the HTML dashboards copied beside the report on ``local``), a chart of the
timings, the evidence charts (inline SVG: no script, no network), and a comparison with
the previous run of the same pipeline.
"""
from __future__ import annotations

import html
import json
from typing import Any

from .answers import answers_for

STATUS_TEXT = {"done": "run", "cached": "cached", "skipped": "not in the file", "unavailable": "not available",
               "blocked": "blocked", "failed": "failed", "not run": "not run"}
NAMED = {"feature_group": "feature group", "feature_group_arn": "feature group ARN", "job_name": "job",
         "endpoint_name": "endpoint", "url": "endpoint URL (local)", "dataset_uri": "curated table"}


# -- evidence extraction ---------------------------------------------------------------
def artifacts_of(outputs: dict) -> list[dict[str, str]]:
    """The artefacts a step's outputs name: every ``s3://`` URI and the named resources."""
    found: list[dict[str, str]] = []
    seen: set[str] = set()

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                if k in ("traceback", "trials", "findings", "answers"):
                    continue
                walk(v, f"{path}.{k}" if path else k)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{path}[{i}]")
        elif isinstance(value, str):
            last = path.rsplit(".", 1)[-1]
            if value.startswith("s3://") and value not in seen:
                seen.add(value)
                found.append({"kind": "s3", "label": path, "value": value})
            elif last in NAMED and value not in seen:
                seen.add(value)
                found.append({"kind": last, "label": NAMED[last], "value": value})

    walk(outputs, "")
    for alarm in (outputs.get("cloudwatch") or {}).get("alarms", []):
        found.append({"kind": "alarm", "label": "CloudWatch alarm", "value": alarm})
    return found


def console_link(artifact: dict, backend: str, region: str) -> str | None:
    """An AWS console URL for an artefact (``aws`` backend only)."""
    if backend != "aws":
        return None
    base = f"https://{region}.console.aws.amazon.com"
    v = artifact["value"]
    if artifact["kind"] == "s3":
        bucket, _, key = v[5:].partition("/")
        return f"https://s3.console.aws.amazon.com/s3/object/{bucket}?region={region}&prefix={key}"
    if artifact["kind"] == "endpoint_name":
        return f"{base}/sagemaker/home?region={region}#/endpoints/{v}"
    if artifact["kind"] == "job_name":
        return f"{base}/sagemaker/home?region={region}#/jobs/{v}"
    if artifact["kind"] == "feature_group":
        return f"{base}/sagemaker/home?region={region}#/feature-store/feature-groups/{v}"
    if artifact["kind"] == "alarm":
        return f"{base}/cloudwatch/home?region={region}#alarmsV2:alarm/{v}"
    return None


def comparison(run: dict, previous: dict | None) -> list[dict[str, Any]]:
    """Per step: status and time then and now, whether it was recomputed, headline changes."""
    if previous is None:
        return []
    before = {s["name"]: s for s in previous.get("steps", [])}
    rows = []
    for s in run["steps"]:
        p = before.get(s["name"], {})
        ph, nh = (p.get("outputs") or {}).get("headline") or {}, (s.get("outputs") or {}).get("headline") or {}
        changes = {k: [ph.get(k), nh.get(k)] for k in sorted(set(ph) | set(nh)) if ph.get(k) != nh.get(k)}
        rows.append({"name": s["name"], "section": s["section"], "previous_status": p.get("status"),
                     "previous_seconds": p.get("seconds"), "status": s["status"], "seconds": s["seconds"],
                     "same_inputs": None if not (s.get("key") or p.get("key")) else s.get("key") == p.get("key"),
                     "changes": changes})
    return rows


def report_data(run: dict, previous: dict | None) -> dict[str, Any]:
    """The report as JSON: the run, each section's answers and artefacts, the comparison."""
    spec = dict(run.get("spec") or {})
    spec["_backend"] = run["backend"]
    sections = []
    for s in run["steps"]:
        arts = artifacts_of(s.get("outputs") or {}) if s["status"] in ("done", "cached") else []
        for a in arts:
            link = console_link(a, run["backend"], run["region"])
            if link:
                a["href"] = link
        sections.append({**{k: s[k] for k in ("name", "section", "title", "status", "seconds", "message", "notes",
                                              "computed_seconds", "computed_in_run", "key")},
                         "answers": answers_for(s, spec), "artifacts": arts,
                         "iterations": (s.get("outputs") or {}).get("iterations") if s["status"] in ("done", "cached")
                         else None,
                         "headline": (s.get("outputs") or {}).get("headline") or {}})
    return {"run_id": run["run_id"], "pipeline": run["pipeline"], "source": run["source"],
            "backend": run["backend"], "region": run["region"], "started_at": run["started_at"],
            "seconds": run["seconds"], "ok": run.get("ok", True), "state": run["state"],
            "artifacts_prefix": f"s3://{run['bucket']}/{run['prefix']}/", "previous_run_id": run.get("previous_run_id"),
            "sections": sections, "comparison": comparison(run, previous), "charts": _chart_data(run, previous)}


def _chart_data(run: dict, previous: dict | None) -> dict[str, list]:
    steps = {s["name"]: s for s in run["steps"]}
    charts: dict[str, list] = {}
    charts["timings"] = [(f"{s['section']} {s['name']}" + (" (cached)" if s["status"] == "cached" else ""),
                          round((s.get("computed_seconds") or 0) if s["status"] == "cached" else s["seconds"], 3),
                          s["status"]) for s in run["steps"]]
    if previous:
        prev = {s["name"]: s for s in previous.get("steps", [])}
        charts["previous-timings"] = [(f"{s['section']} {s['name']}", round(prev.get(s["name"], {}).get("seconds") or 0, 3),
                                       "previous") for s in run["steps"]]
    out = lambda n: (steps.get(n) or {}).get("outputs") or {}  # noqa: E731
    balance = (out("evaluation").get("balance") or {}).get("classes")
    if balance:
        charts["class-balance"] = [(str(c["label"]), c["count"], "class") for c in balance]
    elif out("problem").get("class_counts"):
        charts["class-balance"] = [(k, v, "class") for k, v in out("problem")["class_counts"].items()]
    info = out("features").get("informative")
    if info:
        charts["informative-features"] = [(i["feature"], i["mutual_information"], "feature") for i in info[:10]]
    training = out("training")
    if training.get("metrics"):
        items = []
        for k, v in training["metrics"].items():
            items.append((k, round(v, 4), "model"))
            if k in training.get("baselines", {}):
                items.append((f"{k} (baseline)", round(training["baselines"][k], 4), "baseline"))
        charts["training-metrics"] = items
    mon = out("monitoring")
    if mon.get("comparison"):
        items = []
        for c in mon["comparison"]:
            if c.get("model") is None:
                continue
            items.append((c["metric"], round(c["model"], 4), "model"))
            for name, v in c["baselines"].items():
                if v is not None:
                    items.append((f"{c['metric']} ({name})", round(v, 4), "baseline"))
        if items:
            charts["model-vs-baselines"] = items
    tuning = out("tuning")
    if tuning.get("iterations"):
        items = [("initial", round(tuning["initial"]["value"], 4), "model")]
        items += [(f"{it['iteration']}. {it['action']}", round(it["value_after"], 4),
                   "model" if it["improved"] else "baseline") for it in tuning["iterations"]
                  if it.get("value_after") is not None]
        charts["corrective-iterations"] = items
    trials = [t for t in out("tuning").get("trials", []) if t.get("objective") is not None]
    if trials:
        charts["tuning-trials"] = [(t["name"][-12:], round(t["objective"], 4), "trial") for t in trials]
    return charts


# -- rendering -------------------------------------------------------------------------------
COLORS = {"done": "#2e7d32", "cached": "#0277bd", "failed": "#c62828", "previous": "#9e9e9e", "model": "#2e7d32",
          "baseline": "#9e9e9e", "class": "#6a1b9a", "feature": "#00838f", "trial": "#ef6c00"}


def svg_bars(name: str, title: str, items: list, unit: str = "") -> str:
    """A horizontal bar chart as inline SVG (one ``rect.bar`` per item)."""
    width, label_w, row_h = 760, 300, 22
    top = max((abs(v) for _, v, _ in items), default=0) or 1
    height = row_h * len(items) + 10
    rows = []
    for i, (label, value, kind) in enumerate(items):
        label = label if len(str(label)) <= 44 else "…" + str(label)[-43:]
        y = 5 + i * row_h
        w = max(1.0, (width - label_w - 90) * abs(value) / top)
        rows.append(f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end">{html.escape(str(label))}</text>'
                    f'<rect class="bar" data-kind="{html.escape(kind)}" x="{label_w}" y="{y + 3}" width="{w:.1f}" '
                    f'height="{row_h - 6}" fill="{COLORS.get(kind, "#546e7a")}"><title>{html.escape(str(label))}: '
                    f'{value}{unit}</title></rect>'
                    f'<text x="{label_w + w + 6:.1f}" y="{y + 15}">{value:g}{unit}</text>')
    return (f'<figure class="chart" data-chart="{name}"><figcaption>{html.escape(title)}</figcaption>'
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
            f'aria-label="{html.escape(title)}">{"".join(rows)}</svg></figure>')


CHART_TITLES = {"timings": ("Time per section: green, computed in this run; blue, reused from the cache "
                            "(the time it took when it was computed)", " s"),
                "previous-timings": ("Time per section, previous run", " s"),
                "class-balance": ("Rows per class of the target", ""),
                "informative-features": ("Mutual information with the target (training rows)", ""),
                "training-metrics": ("Training job metrics vs the trivial baseline", ""),
                "model-vs-baselines": ("The deployed model vs trivial models (test set)", ""),
                "tuning-trials": ("Tuning trials: objective per training job", ""),
                "corrective-iterations": ("The problem's metric on the test set, per corrective iteration "
                                          "(green: better, kept; grey: no better)", "")}
CHART_SECTION = {"class-balance": 3, "informative-features": 4, "training-metrics": 5, "model-vs-baselines": 7,
                 "tuning-trials": 8, "corrective-iterations": 8}

CSS = """
body{font-family:system-ui,-apple-system,sans-serif;margin:0;color:#16191f;background:#f4f5f7}
header{background:#232f3e;color:#fff;padding:18px 28px} header h1{margin:0 0 6px;font-size:22px}
header .meta{color:#d5dbdb;font-size:13px} main{padding:18px 28px;max-width:1200px}
section.card{background:#fff;border-radius:8px;padding:16px 20px;margin:0 0 16px;box-shadow:0 1px 2px #0002}
h2{margin:0 0 8px;font-size:18px} .badge{display:inline-block;border-radius:10px;padding:1px 9px;font-size:12px;
margin-left:8px;color:#fff;vertical-align:middle} .s-done{background:#2e7d32}.s-cached{background:#0277bd}
.s-skipped,.s-not-run{background:#9e9e9e}.s-unavailable,.s-blocked{background:#ef6c00}.s-failed{background:#c62828}
table{border-collapse:collapse;width:100%;font-size:14px} th,td{text-align:left;vertical-align:top;padding:6px 8px;
border-bottom:1px solid #eaeded} th small{color:#5f6b7a;font-weight:normal} .muted{color:#5f6b7a;font-size:13px}
.note{background:#fff8e1;border-left:3px solid #ef6c00;padding:6px 10px;margin:8px 0;font-size:13px}
.error{background:#ffebee;border-left:3px solid #c62828;padding:6px 10px;font-size:13px}
code{font-size:12px;background:#f2f3f3;padding:1px 4px;border-radius:3px;word-break:break-all}
figure.chart{margin:10px 0} figcaption{font-size:13px;color:#5f6b7a;margin-bottom:4px} svg text{font-size:12px}
ul.arts{margin:6px 0;padding-left:18px;font-size:13px}
"""


def _score(x: Any) -> str:
    return "—" if x is None else f"{x:.3f}" if isinstance(x, float) else _e(x)


def _e(x: Any) -> str:
    return html.escape("" if x is None else str(x))


def render_html(data: dict[str, Any], local_copies: dict[str, str] | None = None) -> str:
    """The report page from :func:`report_data`'s dict."""
    local_copies = local_copies or {}
    charts = data["charts"]
    ok = "succeeded" if data["ok"] else "FAILED"
    head = (f"<header><h1>Pipeline {_e(data['pipeline'])} — run {_e(data['run_id'])}</h1><div class='meta'>"
            f"{ok} in {data['seconds']:.2f} s on backend <b>{_e(data['backend'])}</b> ({_e(data['region'])}) · started "
            f"{_e(data['started_at'])} · file {_e(data['source'])} · artefacts <code>{_e(data['artifacts_prefix'])}</code>"
            f" · state {_e(data['state'])}</div></header>")
    summary_rows = "".join(
        f"<tr><td>{s['section']}</td><td>{_e(s['title'])}</td><td><span class='badge s-{s['status'].replace(' ', '-')}'>"
        f"{_e(STATUS_TEXT.get(s['status'], s['status']))}</span></td><td>{s['seconds']:.2f} s"
        + (f" <span class='muted'>(computed in {s['computed_seconds']:.2f} s by run {_e(s['computed_in_run'])})</span>"
           if s["status"] == "cached" and s.get("computed_seconds") is not None else "")
        + f"</td><td class='muted'>{_e(s['message'])}</td></tr>" for s in data["sections"])
    overview = (f"<section class='card' id='overview'><h2>Sections</h2><table><tr><th>#</th><th>section</th>"
                f"<th>status</th><th>time</th><th></th></tr>{summary_rows}</table>"
                + svg_bars("timings", *CHART_TITLES["timings"][:1], charts["timings"], " s") + "</section>")
    cards = []
    for s in data["sections"]:
        qa = "".join(f"<tr><th>{_e(a['en'])}<br><small>{_e(a['question'])}</small></th><td>{_e(a['answer'])}</td></tr>"
                     for a in s["answers"])
        notes = "".join(f"<div class='note'>{_e(n)}</div>" for n in s.get("notes") or [])
        if s["status"] in ("unavailable", "blocked", "skipped", "not run"):
            notes = f"<div class='note'>{_e(s['message'])}</div>" + notes
        if s["status"] == "failed":
            notes = f"<div class='error'>{_e(s['message'])}</div>" + notes
        arts = []
        for a in s["artifacts"]:
            value = f"<code>{_e(a['value'])}</code>"
            if a.get("href"):
                value = f"<a href='{_e(a['href'])}'>{value}</a>"
            if a["value"] in local_copies:
                value += f" · <a href='{_e(local_copies[a['value']])}'>open the local copy</a>"
            arts.append(f"<li>{_e(a['label'])}: {value}</li>")
        if s.get("iterations"):
            rows = "".join(
                f"<tr><td>{it['iteration']}</td><td>{_e(it['reason'])}</td><td>{_e(it['diagnosis_summary'])}"
                + (" <span class='muted'>(learning curve, rows → train / validation: "
                   + ", ".join(f"{p['rows']:,} → {p['train']} / {p['validation']}" for p in it["diagnosis"]["learning_curve"])
                   + ")</span>" if it["diagnosis"].get("learning_curve") else "")
                + f"</td><td><b>{_e(it['action'])}</b>: {_e(it['detail'])}</td><td>{_score(it['value_before'])} → "
                f"{_score(it['value_after'])}</td><td>{'kept' if it['improved'] else 'failed' if it.get('failed') else 'dropped'}</td></tr>"
                for it in s["iterations"])
            qa += ("</table><h3>Corrective iterations</h3><table class='iterations'><tr><th>#</th><th>why</th>"
                   f"<th>diagnosis</th><th>action</th><th>test score</th><th></th></tr>{rows}")
        chart_html = "".join(svg_bars(name, CHART_TITLES[name][0], charts[name], CHART_TITLES[name][1])
                             for name, sec in CHART_SECTION.items() if sec == s["section"] and name in charts)
        timing = (f"{s['seconds']:.2f} s" if s["status"] != "cached" else
                  f"cached (computed in {s['computed_seconds'] or 0:.2f} s)")
        cards.append(f"<section class='card' id='section-{s['section']}'><h2>{s['section']}. {_e(s['title'])}"
                     f"<span class='badge s-{s['status'].replace(' ', '-')}'>{_e(STATUS_TEXT.get(s['status'], s['status']))}"
                     f"</span> <span class='muted'>{timing}</span></h2>{notes}<table>{qa}</table>{chart_html}"
                     + (f"<h3 class='muted'>Artefacts</h3><ul class='arts'>{''.join(arts)}</ul>" if arts else "")
                     + "</section>")
    comp = data["comparison"]
    if comp:
        rows = "".join(
            f"<tr><td>{c['section']} {_e(c['name'])}</td><td>{_e(c['previous_status'])} "
            f"({(c['previous_seconds'] or 0):.2f} s)</td><td>{_e(c['status'])} ({c['seconds']:.2f} s)</td>"
            f"<td>{'—' if c['same_inputs'] is None else 'same' if c['same_inputs'] else 'changed'}</td><td>"
            + ", ".join(f"{_e(k)}: {_e(v[0])} → {_e(v[1])}" for k, v in c["changes"].items()) + "</td></tr>"
            for c in comp)
        prev_chart = svg_bars("previous-timings", CHART_TITLES["previous-timings"][0], charts["previous-timings"], " s")
        comparison_html = (f"<section class='card' id='comparison'><h2>Compared with the previous run "
                           f"{_e(data['previous_run_id'])}</h2><table><tr><th>section</th><th>previous</th><th>this run</th>"
                           f"<th>inputs</th><th>headline changes</th></tr>{rows}</table>{prev_chart}</section>")
    else:
        comparison_html = ("<section class='card' id='comparison'><h2>Compared with the previous run</h2>"
                           "<p class='muted'>This is the first run of this pipeline.</p></section>")
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Pipeline {_e(data['pipeline'])} — "
            f"run {_e(data['run_id'])}</title><style>{CSS}</style></head><body>{head}<main>{overview}"
            f"{''.join(cards)}{comparison_html}</main></body></html>")


def write_report(result, store, previous: dict | None, session=None) -> None:
    """Write ``runs/<id>/report.html`` and ``report.json`` into the pipeline's state; on a
    local store, the sections' HTML dashboards are copied beside the report."""
    run = result.to_dict()
    data = report_data(run, previous)
    copies: dict[str, str] = {}
    from .cache import LocalStateStore

    if isinstance(store, LocalStateStore) and session is not None:
        copies = _copy_dashboards(result, store, data, session)
    base = f"runs/{result.run_id}"
    store.write(f"{base}/report.html", render_html(data, copies).encode("utf-8"))
    store.write_json(f"{base}/report.json", data)
    result.report_html = store.url(f"{base}/report.html")
    result.report_json = store.url(f"{base}/report.json")


def _copy_dashboards(result, store, data: dict, session) -> dict[str, str]:
    """HTML artefacts (dashboards, reports) downloaded next to the run report."""
    html_uris = [a["value"] for s in data["sections"] for a in s["artifacts"]
                 if a["kind"] == "s3" and a["value"].endswith(".html")]
    if not html_uris:
        return {}
    copies = {}
    s3 = session.client("s3")
    for i, uri in enumerate(html_uris):
        bucket, _, key = uri[5:].partition("/")
        try:
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except (s3.exceptions.NoSuchKey, s3.exceptions.NoSuchBucket):
            continue  # deleted since the step ran: the report still lists its URI
        name = f"artifacts/{i:02d}-{key.rsplit('/', 2)[-2]}-{key.rsplit('/', 1)[-1]}"
        store.write(f"runs/{result.run_id}/{name}", body)
        copies[uri] = name
    return copies


def load_report(store, run_id: str) -> dict | None:
    body = store.read(f"runs/{run_id}/report.json")
    return None if body is None else json.loads(body)
