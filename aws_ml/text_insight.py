"""Section 1, problem formulation: what a body of text is about, through Amazon Comprehend.

>>> from aws_ml import Session, datasets
>>> from aws_ml.text_insight import text_insight
>>> reviews = datasets.load("reviews/imdb_sentences")
>>> with Session() as session:                                       # doctest: +SKIP
...     insight = text_insight(session, reviews.text)
...     insight.languages, insight.sentiment, insight.key_phrases[:3]
...     insight.to_html("reviews.html")

:func:`text_insight` calls the ``comprehend`` client of the session (the same code on the local
backend and on AWS) with the batch operations, 25 documents a call: the dominant language of
every text (unless ``language`` is given), then sentiment, entities and key phrases per
language. AWS's limits are respected on the client side: a batch document holds at most
5,000 UTF-8 bytes, so a longer text is cut at a character boundary for sentiment (the result
says how many were), and is analysed alone by ``DetectDominantLanguage``, ``DetectEntities``
and ``DetectKeyPhrases`` (100 KB each). Texts in a language Comprehend does not analyse (or,
on the local backend, one it has no model for) are counted as skipped, never guessed.
"""
from __future__ import annotations

import html
import json
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable

BATCH_SIZE = 25                 # documents per Batch* call
BATCH_DOCUMENT_BYTES = 5_000    # every document of a batch; DetectSentiment / DetectSyntax alone
SINGLE_DOCUMENT_BYTES = 100_000  # DetectDominantLanguage, DetectEntities, DetectKeyPhrases alone
# Languages Comprehend analyses (developer guide, "Supported languages")
SUPPORTED = ("en", "es", "fr", "de", "it", "pt", "ar", "hi", "ja", "ko", "zh", "zh-TW")
SENTIMENTS = ("POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED")
TOP = 20


def truncate_utf8(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes, at a character boundary."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[:limit].decode("utf-8", errors="ignore")


@dataclass
class TextInsight:
    """What :func:`text_insight` found.

    :ivar n_texts: texts analysed (empty ones included, and skipped as such).
    :ivar languages: dominant language code -> number of texts.
    :ivar sentiment: ``POSITIVE``/``NEGATIVE``/``NEUTRAL``/``MIXED`` -> number of texts.
    :ivar entities: the most frequent entities, ``{"text", "type", "count"}``.
    :ivar key_phrases: the most frequent key phrases (case-folded), ``{"text", "count"}``.
    :ivar results: one dict per text (``index``, ``text``, ``language``, ``language_score``,
        ``sentiment``, ``sentiment_scores``, ``entities``, ``key_phrases``, ``errors``).
    :ivar truncated: analysis -> texts cut to fit AWS's size limit for it.
    :ivar skipped: analysis -> {reason -> texts not analysed}.
    :ivar errors: the ``ErrorList`` entries of the batch responses, with the text's index.
    """

    n_texts: int
    language_given: str | None
    languages: dict[str, int]
    sentiment: dict[str, int]
    entities: list[dict]
    key_phrases: list[dict]
    results: list[dict]
    truncated: dict[str, int]
    skipped: dict[str, dict[str, int]]
    errors: list[dict]
    backend: str = ""
    generated_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    @property
    def dominant_language(self) -> str | None:
        """The most frequent language of the texts."""
        return max(self.languages, key=self.languages.get) if self.languages else None

    def sentiment_share(self) -> dict[str, float]:
        """Each sentiment's share of the texts that got one."""
        total = sum(self.sentiment.values())
        return {k: v / total for k, v in self.sentiment.items()} if total else {}

    def sentiment_agreement(self, labels: Iterable[Any]) -> float:
        """The share of texts whose detected sentiment equals their label (``POSITIVE``, ...;
        compared case-insensitively); texts without a sentiment count as disagreeing."""
        labels = list(labels)
        if len(labels) != self.n_texts:
            raise ValueError(f"The 'labels' parameter of sentiment_agreement must have one label per text "
                             f"({self.n_texts}). Got {len(labels)} instead.")
        if not labels:
            return float("nan")
        same = sum(1 for r, y in zip(self.results, labels)
                   if r["sentiment"] is not None and str(y).upper() == r["sentiment"])
        return same / len(labels)

    def to_dict(self) -> dict[str, Any]:
        """Everything, as JSON-ready plain data."""
        return asdict(self) | {"dominant_language": self.dominant_language}

    def to_frame(self):
        """One row per text (``pandas``): index, text, language, sentiment and its scores,
        entity and key-phrase counts."""
        import pandas as pd
        rows = [{"index": r["index"], "text": r["text"], "language": r["language"],
                 "sentiment": r["sentiment"],
                 **{f"score_{k.lower()}": (r["sentiment_scores"] or {}).get(k.capitalize()) for k in SENTIMENTS},
                 "entities": len(r["entities"]), "key_phrases": len(r["key_phrases"])} for r in self.results]
        return pd.DataFrame(rows).set_index("index")

    def to_html(self, path: str | Path, title: str = "Text insight") -> Path:
        """A self-contained HTML report (plotly.js inline; needs the ``report`` extra)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_html(self.to_dict(), title), encoding="utf-8")
        return path


# -- the calls --------------------------------------------------------------------------------
class _Run:
    """Per-text results being filled in by batched Comprehend calls."""

    def __init__(self, client, texts: list[str]) -> None:
        self.client = client
        self.texts = texts
        self.results = [{"index": i, "text": t, "language": None, "language_score": None, "sentiment": None,
                         "sentiment_scores": None, "entities": [], "key_phrases": [], "errors": []}
                        for i, t in enumerate(texts)]
        self.truncated: Counter = Counter()
        self.skipped: dict[str, Counter] = defaultdict(Counter)
        self.errors: list[dict] = []

    def batched(self, analysis: str, indices: list[int], call: Callable[[list[str]], dict],
                single: Callable[[str], dict] | None, store: Callable[[int, dict], None]) -> None:
        """Run ``call`` on batches of the texts at ``indices``; texts over the batch limit go to
        ``single`` (the 100 KB operation) if given, else are truncated for the batch."""
        batch: list[tuple[int, str]] = []
        for i in indices:
            text = self.texts[i]
            size = len(text.encode("utf-8"))
            if size > BATCH_DOCUMENT_BYTES and single is not None:
                if size > SINGLE_DOCUMENT_BYTES:
                    self.truncated[analysis] += 1
                store(i, single(truncate_utf8(text, SINGLE_DOCUMENT_BYTES)))
                continue
            if size > BATCH_DOCUMENT_BYTES:
                self.truncated[analysis] += 1
                text = truncate_utf8(text, BATCH_DOCUMENT_BYTES)
            batch.append((i, text))
            if len(batch) == BATCH_SIZE:
                self._flush(analysis, batch, call, store)
                batch = []
        if batch:
            self._flush(analysis, batch, call, store)

    def _flush(self, analysis: str, batch: list[tuple[int, str]], call, store) -> None:
        response = call([t for _, t in batch])
        for item in response["ResultList"]:
            store(batch[item["Index"]][0], item)
        for err in response["ErrorList"]:
            i = batch[err["Index"]][0]
            entry = {"index": i, "analysis": analysis, "code": err["ErrorCode"], "message": err["ErrorMessage"]}
            self.errors.append(entry)
            self.results[i]["errors"].append(entry)


def _texts(texts) -> list[str]:
    """A list, a pandas Series or a one-column DataFrame -> a list of str (NaN -> "")."""
    if hasattr(texts, "columns"):
        if len(texts.columns) != 1:
            raise ValueError("The 'texts' parameter of text_insight must be a list, a Series or a one-column "
                             f"DataFrame. Got a DataFrame with columns {list(texts.columns)} instead.")
        texts = texts.iloc[:, 0]
    if isinstance(texts, str):
        raise ValueError("The 'texts' parameter of text_insight must be a list of texts. Got a str instead.")
    out = []
    for t in texts:
        if t is None or (isinstance(t, float) and t != t):
            out.append("")
        elif not isinstance(t, str):
            raise ValueError(f"The 'texts' parameter of text_insight must hold str. Got {type(t).__name__} instead.")
        else:
            out.append(t)
    return out


def _not_served_error():
    """The exception the local backend raises for a language AWS serves but it has no model
    for (None when local_backends is not importable)."""
    try:
        from local_backends.core.errors import NotImplementedByBackend
    except ImportError:  # pragma: no cover - local_backends ships with aws_ml
        return None
    return NotImplementedByBackend


def text_insight(session, texts, *, language: str | None = None, top: int = TOP) -> TextInsight:
    """Languages, sentiment, entities and key phrases of ``texts`` through Comprehend.

    :param session: an :class:`aws_ml.Session` (its ``comprehend`` client is used).
    :param texts: a list of str, a pandas Series or a one-column DataFrame.
    :param language: the language code of every text (``"en"``, ``"fr"``, ...); ``None``
        detects each text's dominant language and analyses it in that language.
    :param top: how many entities and key phrases to keep in the summary.
    """
    texts = _texts(texts)
    if language is not None and language not in SUPPORTED:
        raise ValueError(f"The 'language' parameter of text_insight must be one of {list(SUPPORTED)} or None. "
                         f"Got {language!r} instead.")
    client = session.client("comprehend")
    run = _Run(client, texts)
    nonempty = [i for i, t in enumerate(texts) if t.strip()]
    empty = len(texts) - len(nonempty)
    if empty:
        for analysis in ("language", "sentiment", "entities", "key_phrases"):
            run.skipped[analysis]["empty text"] += empty

    # 1. languages
    if language is None:
        def store_language(i: int, item: dict) -> None:
            best = max(item["Languages"], key=lambda x: x["Score"], default=None)
            if best is not None:
                run.results[i]["language"], run.results[i]["language_score"] = best["LanguageCode"], best["Score"]
        run.batched("language", nonempty, lambda batch: client.batch_detect_dominant_language(TextList=batch),
                    lambda t: client.detect_dominant_language(Text=t), store_language)
    else:
        for i in nonempty:
            run.results[i]["language"] = language

    # 2. sentiment, entities, key phrases, per language
    by_language: dict[str, list[int]] = defaultdict(list)
    for i in nonempty:
        code = run.results[i]["language"]
        if code in SUPPORTED:
            by_language[code].append(i)
        else:
            for analysis in ("sentiment", "entities", "key_phrases"):
                reason = f"language {code} not supported by Comprehend" if code else "no language detected"
                run.skipped[analysis][reason] += 1

    def store_sentiment(i: int, item: dict) -> None:
        run.results[i]["sentiment"] = item["Sentiment"]
        run.results[i]["sentiment_scores"] = item["SentimentScore"]

    def store_entities(i: int, item: dict) -> None:
        run.results[i]["entities"] = [{"text": e["Text"], "type": e["Type"], "score": e["Score"]}
                                      for e in item["Entities"]]

    def store_phrases(i: int, item: dict) -> None:
        run.results[i]["key_phrases"] = [{"text": k["Text"], "score": k["Score"]} for k in item["KeyPhrases"]]

    not_served = _not_served_error()
    for code, indices in sorted(by_language.items()):
        steps = [
            ("sentiment", lambda b, c=code: client.batch_detect_sentiment(TextList=b, LanguageCode=c), None,
             store_sentiment),
            ("entities", lambda b, c=code: client.batch_detect_entities(TextList=b, LanguageCode=c),
             lambda t, c=code: client.detect_entities(Text=t, LanguageCode=c), store_entities),
            ("key_phrases", lambda b, c=code: client.batch_detect_key_phrases(TextList=b, LanguageCode=c),
             lambda t, c=code: client.detect_key_phrases(Text=t, LanguageCode=c), store_phrases),
        ]
        for analysis, call, single, store in steps:
            try:
                run.batched(analysis, indices, call, single, store)
            except Exception as exc:
                # the local backend has no model for this language (AWS serves it): counted,
                # named in the report, never guessed; any other error propagates
                if not_served is None or not isinstance(exc, not_served):
                    raise
                run.skipped[analysis][f"language {code} not served by the {session.backend_for('comprehend')} "
                                      f"backend"] += len(indices)

    languages = Counter(r["language"] for r in run.results if r["language"])
    sentiment = Counter(r["sentiment"] for r in run.results if r["sentiment"])
    entity_counts: Counter = Counter()
    for r in run.results:
        for e in r["entities"]:
            entity_counts[(e["text"], e["type"])] += 1
    phrase_counts: Counter = Counter()
    phrase_forms: dict[str, Counter] = defaultdict(Counter)
    for r in run.results:
        for k in r["key_phrases"]:
            key = " ".join(k["text"].casefold().split())
            phrase_counts[key] += 1
            phrase_forms[key][k["text"]] += 1
    return TextInsight(
        n_texts=len(texts), language_given=language,
        languages=dict(languages.most_common()),
        sentiment={s: sentiment[s] for s in SENTIMENTS if sentiment[s]},
        entities=[{"text": t, "type": ty, "count": n} for (t, ty), n in entity_counts.most_common(top)],
        key_phrases=[{"text": phrase_forms[k].most_common(1)[0][0], "count": n}
                     for k, n in phrase_counts.most_common(top)],
        results=run.results, truncated=dict(run.truncated),
        skipped={a: dict(c) for a, c in run.skipped.items()}, errors=run.errors,
        backend=session.backend_for("comprehend"))


def load_json(path: str | Path) -> TextInsight:
    """A :class:`TextInsight` saved with ``json.dump(insight.to_dict(), ...)``."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    data.pop("dominant_language", None)
    return TextInsight(**data)


# -- the HTML report ----------------------------------------------------------------------------
# two equal columns from the start: each chart is drawn while the page is parsed, at its final width
_EXTRA_CSS = ".row.two { grid-template-columns:repeat(2,minmax(0,1fr)); } .chart { min-width:0; }"
SENTIMENT_COLORS = {"POSITIVE": "#2a9d8f", "NEGATIVE": "#d6453d", "NEUTRAL": "#8a96a3", "MIXED": "#e9a23b"}


def _bar(name: str, labels: list[str], values: list[int], color, horizontal: bool = False,
         hover: list[str] | None = None):
    from .evaluation import charts as ch
    trace: dict[str, Any] = {"type": "bar", "marker": {"color": color}, "text": values,
                             "textposition": "outside", "textangle": 0, "cliponaxis": False,
                             "hovertemplate": "%{customdata}<extra></extra>",
                             "customdata": hover or [f"{lab}: {v:,}" for lab, v in zip(labels, values)]}
    if horizontal:     # most frequent at the top
        trace.update(x=values[::-1], y=labels[::-1], orientation="h", text=values[::-1],
                     customdata=(hover or [f"{lab}: {v:,}" for lab, v in zip(labels, values)])[::-1],
                     marker={"color": color[::-1] if isinstance(color, list) else color})
        height = 80 + 24 * max(len(labels), 1)
        layout = {"xaxis": {"title": {"text": "texts"}}, "margin": {"l": 180}}
    else:
        trace.update(x=labels, y=values)
        height = 320
        layout = {"yaxis": {"title": {"text": "texts"}}}
    return ch.Figure(name=name, height=height, data=[trace], layout=layout)


def render_html(report: dict[str, Any], title: str = "Text insight") -> str:
    """The report page of ``TextInsight.to_dict()``: one self-contained HTML text."""
    from .evaluation import charts as ch
    from .evaluation.dashboard import _CSS, PLOT_CONFIG, fmt, pct, plotly_js

    charts: list[str] = []

    def figure(fig) -> str:
        charts.append(fig.name)
        spec = fig.spec()
        payload = json.dumps([spec["data"], spec["layout"], PLOT_CONFIG], separators=(",", ":"),
                             allow_nan=False).replace("</", "<\\/")
        div = f"chart-{fig.name}"
        return (f'<div class="chart" data-chart="{fig.name}"><div id="{div}" class="plotly-graph-div" '
                f'style="height:{fig.height}px;width:100%"></div><script>(function(){{var a={payload};'
                f'Plotly.newPlot("{div}",a[0],a[1],a[2]);}})();</script></div>')

    def card(heading: str, note: str, content: str, wide: bool = False) -> str:
        note_html = f'<p class="note">{note}</p>' if note else ""
        return (f'<section class="card{" wide" if wide else ""}"><h2>{html.escape(heading)}</h2>'
                f'{note_html}{content}</section>')

    empty = '<p class="empty">Nothing found.</p>'
    n = report["n_texts"]
    langs, sent = report["languages"], report["sentiment"]
    n_sent = sum(sent.values())
    tiles = [("Texts", fmt(n), "analysed"),
             ("Dominant language", html.escape(report.get("dominant_language") or "—"),
              "given" if report["language_given"] else
              (pct(langs.get(report.get("dominant_language"), 0) / n) + " of the texts" if n else "")),
             ("Positive", pct(sent.get("POSITIVE", 0) / n_sent) if n_sent else "—", f"of {fmt(n_sent)} texts"),
             ("Negative", pct(sent.get("NEGATIVE", 0) / n_sent) if n_sent else "—", f"of {fmt(n_sent)} texts"),
             ("Truncated", fmt(sum(report["truncated"].values())), "cut to AWS's size limits")]
    body = ['<div class="tiles">' + "".join(
        f'<div class="tile"><div class="label">{a}</div><div class="value">{b}</div><div class="sub">{c}</div></div>'
        for a, b, c in tiles) + "</div>"]
    notes = []
    for analysis, count in report["truncated"].items():
        notes.append(f"{count:,} text(s) truncated for {analysis.replace('_', ' ')} (AWS's UTF-8 byte limit)")
    for analysis, reasons in report["skipped"].items():
        for reason, count in reasons.items():
            notes.append(f"{count:,} text(s) skipped for {analysis.replace('_', ' ')}: {reason}")
    if report["errors"]:
        notes.append(f"{len(report['errors']):,} error(s) in the batch responses, e.g. "
                     f"{report['errors'][0]['code']}: {report['errors'][0]['message']}")
    if notes:
        body.append(card("Notes", "", '<ul class="findings">' + "".join(
            f'<li class="info">{html.escape(x)}</li>' for x in notes) + "</ul>", wide=True))
    lang_fig = (figure(_bar("languages", list(langs), list(langs.values()), ch.PALETTE[0]))
                if langs else empty)
    sent_fig = (figure(_bar("sentiment", list(sent), list(sent.values()),
                            [SENTIMENT_COLORS[k] for k in sent])) if sent else empty)
    body.append('<div class="row two">' + card("Dominant languages", "DetectDominantLanguage: the most likely "
                                           "language of each text.", lang_fig)
                + card("Sentiment", "DetectSentiment: the sentiment of each text.", sent_fig) + "</div>")
    ents = report["entities"]
    types = sorted({e["type"] for e in ents})
    type_color = {t: ch.PALETTE[k % len(ch.PALETTE)] for k, t in enumerate(types)}
    ent_fig = (figure(_bar("entities", [f"{e['text']} ({e['type']})" for e in ents], [e["count"] for e in ents],
                           [type_color[e["type"]] for e in ents], horizontal=True)) if ents else empty)
    phrases = report["key_phrases"]
    kp_fig = (figure(_bar("key_phrases", [k["text"] for k in phrases], [k["count"] for k in phrases],
                          ch.PALETTE[2], horizontal=True)) if phrases else empty)
    body.append('<div class="row two">' + card("Top entities", "DetectEntities: texts naming each entity, "
                                           "coloured by type.", ent_fig)
                + card("Top key phrases", "DetectKeyPhrases: texts holding each phrase (case-folded).", kp_fig)
                + "</div>")
    rows = []
    for r in report["results"][:200]:
        rows.append(f'<tr><td class="num">{r["index"]}</td><td>{html.escape(r["language"] or "—")}</td>'
                    f'<td>{html.escape(r["sentiment"] or "—")}</td>'
                    f'<td>{html.escape(", ".join(e["text"] for e in r["entities"][:5]))}</td>'
                    f'<td style="white-space:normal">{html.escape(r["text"][:300])}</td></tr>')
    more = f" (the first 200 of {n:,})" if n > 200 else ""
    body.append(card("Texts", f"Per-text results{more}.", '<details><summary>show</summary><table class="data">'
                     "<thead><tr><th>#</th><th>language</th><th>sentiment</th><th>entities</th><th>text</th>"
                     f'</tr></thead><tbody>{"".join(rows)}</tbody></table></details>', wide=True))
    subtitle = (f"{n:,} texts · Amazon Comprehend ({html.escape(report.get('backend') or '?')} backend) · "
                f"generated {html.escape(report.get('generated_at', ''))}")
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<meta name="generator" content="aws_ml.text_insight">\n<title>{html.escape(title)}</title>\n'
            f'<style>{_CSS}{_EXTRA_CSS}</style>\n<script type="text/javascript">{plotly_js()}</script>\n</head>\n'
            f'<body data-charts="{html.escape(json.dumps(charts))}">\n<header><h1>{html.escape(title)}</h1>'
            f'<div class="sub">{subtitle}</div></header>\n<main>\n' + "\n".join(body)
            + "\n</main>\n</body>\n</html>\n")


__all__ = ["TextInsight", "text_insight", "truncate_utf8", "load_json", "render_html"]
