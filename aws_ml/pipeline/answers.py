"""The course note's questions for each section ("Algorithme de réflexion"), answered with
the evidence a run produced.

Each ``answer_<step>(outputs, spec)`` returns one answer per question, in order; a
section that did not produce outputs answers every question with why not.
"""
from __future__ import annotations

from typing import Any, Callable

QUESTIONS: dict[int, list[tuple[str, str]]] = {
    1: [("Quel est le problème métier exact que l'on cherche à résoudre ?", "What exactly is the business problem?"),
        ("Quelles données sont pertinentes pour résoudre ce problème ? Sont-elles suffisantes ?",
         "Which data are relevant? Are they enough?"),
        ("Comment traduire le problème métier en une question à laquelle un modèle de machine learning peut répondre ?",
         "How does the business problem become a question a model can answer?")],
    2: [("Où trouver les données nécessaires ?", "Where are the data?"),
        ("Quelles données sont pertinentes pour le problème ? Quels sont les critères d'inclusion et d'exclusion ?",
         "Which data are kept, which are left out?"),
        ("Étiquetage manuel, crowdsourcing, apprentissage semi-supervisé ?", "How are the data labelled?"),
        ("Les données sont-elles propres, cohérentes et représentatives ?", "Are the data clean, consistent and representative?")],
    3: [("Moyennes, écarts-types, distributions...", "Descriptive statistics"),
        ("Histogrammes, boîtes à moustaches, nuages de points...", "Visualisation"),
        ("Les données sont-elles équilibrées ? Y a-t-il des valeurs aberrantes ?", "Are the data balanced? Are there outliers?"),
        ("Les données permettent-elles de répondre à la question posée ?", "Can the data answer the question?")],
    4: [("Quelles caractéristiques sont fortement corrélées ?", "Which features are strongly correlated?"),
        ("Quelles caractéristiques apportent le plus d'information pour prédire la cible ?",
         "Which features carry the most information about the target?"),
        ("Peut-on créer de nouvelles caractéristiques en combinant les existantes ?", "Which new features were created?"),
        ("Les données doivent-elles être normalisées ou standardisées ?", "Are the data normalised or standardised?")],
    5: [("Quel algorithme est le plus adapté au type de problème et aux données ?", "Which algorithm, and why?"),
        ("Quels sont les meilleurs hyperparamètres pour l'algorithme choisi ?", "Which hyperparameters?"),
        ("Comment évaluer les performances du modèle de manière fiable ?", "How is the model validated?"),
        ("Comment trouver les meilleurs hyperparamètres ?", "How are the best hyperparameters found?")],
    6: [("Où déployer le modèle ? Serveur local, cloud, edge ?", "Where is the model deployed?"),
        ("Comment rendre le modèle accessible aux autres applications ?", "How do applications reach the model?"),
        ("Comment suivre les performances du modèle en production ?", "How are its performances followed in production?"),
        ("Comment mettre à jour le modèle lorsque de nouvelles données sont disponibles ?",
         "How is the model updated when new data arrive?")],
    7: [("Quelles métriques sont les plus pertinentes pour évaluer le modèle ?", "Which metrics matter?"),
        ("Le modèle est-il meilleur qu'un modèle simple ?", "Does the model beat a trivial one?"),
        ("Quelles sont les erreurs les plus fréquentes du modèle ?", "What are the model's most frequent errors?"),
        ("Que signifient les résultats obtenus ?", "What do the results mean?")],
    8: [("Quelles sont les raisons des mauvaises performances du modèle ?", "Why does the model fall short, if it does?"),
        ("Collecter de nouvelles données, modifier l'algorithme, ajuster les hyperparamètres...", "Which corrective actions?"),
        ("Répéter les étapes d'entraînement et d'évaluation jusqu'à obtenir des résultats satisfaisants.",
         "Iterate until the results are good enough")],
}


def _n(x: Any, digits: int = 3) -> str:
    if x is None:
        return "n/a"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return f"{x:,}"
    if isinstance(x, float):
        return f"{x:,.{digits}f}" if abs(x) < 1000 else f"{x:,.0f}"
    return str(x)


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1%}"


def answer_problem(o: dict, spec: dict) -> list[str]:
    by_topic = {a["en"]: a["answer"] for a in o.get("answers", [])}
    problems = "; ".join(o.get("problems", []))
    third = list(by_topic.values())[2] if len(by_topic) > 2 else ""
    if not o.get("metric_ok", True):
        third += f" Note: {o.get('metric_note')}"
    return [spec["problem"]["objective"] + (f" (problems found: {problems})" if problems else ""),
            list(by_topic.values())[1] if len(by_topic) > 1 else "", third]


def answer_data(o: dict, spec: dict) -> list[str]:
    sources = ", ".join(f"{name} → {uri}" for name, uri in o["sources"].items())
    rows = ", ".join(f"{n}: {_n(r)} rows" for n, r in o["rows_per_source"].items())
    join = spec["data"].get("join_on")
    dropped = {k: v for k, v in o.get("dropped_by_join", {}).items() if v}
    kept = (f"{rows}; joined on {join}: {_n(o['rows'])} rows × {len(o['columns'])} columns"
            if join else f"{_n(o['rows'])} rows × {len(o['columns'])} columns")
    kept += (f"; rows without a match left out: {dropped}" if dropped else "; no row lost by the join" if join else "")
    lab = o["labeling"]
    if lab["status"] == "not needed":
        label = (f"No labelling needed: all {_n(lab['labelled_rows'])} rows carry the label "
                 f"'{spec['problem']['target']}' (historical outcomes).")
    elif lab["status"] == "needed":
        label = (f"{_n(lab['unlabelled_rows'])} rows have no label: they need a labelling job "
                 f"(add data.labeling to the pipeline file); they were left out of training.")
    elif lab["status"] == "done":
        c = lab.get("label_counters") or {}
        label = (f"Ground Truth labelling job {lab['job_name']} ({lab['task']}, labels "
                 f"{', '.join(map(str, lab['categories']))}){' — reused from an earlier run' if lab.get('reused_job') else ''}: "
                 f"{_n(lab['items_sent'])} items sent to {lab['workers']}; {_n(c.get('TotalLabeled'))} labelled"
                 + (f", {_n(c['FailedNonRetryableError'])} failed" if c.get("FailedNonRetryableError") else "")
                 + f"; mean confidence of the consolidated labels {_n(lab['mean_confidence'], 2)}"
                 + (f"; {_pct(lab['agreement_with_truth'])} of them equal the true label"
                    if lab.get("agreement_with_truth") is not None else "")
                 + f". {_n(lab['labelled_rows'])} rows now carry '{spec['problem']['target']}', "
                 f"{_n(lab['unlabelled_rows'])} remain unlabelled"
                 + (f" (pool: {lab['pool_uri']})" if lab["unlabelled_rows"] else "") + ".")
    else:
        label = (f"A Ground Truth labelling job was asked for {_n(lab['unlabelled_rows'])} unlabelled rows: "
                 f"{lab['status']}.")
    miss = o.get("columns_with_missing", {})
    clean = (f"{_n(o['duplicate_rows'])} duplicate rows; {_n(o['missing_cells'])} missing cells"
             + (f" (in {', '.join(f'{k}: {v:,}' for k, v in list(miss.items())[:6])})" if miss else "")
             + ". Representativeness and bias: see section 3.")
    return [f"{len(o['sources'])} source(s) uploaded to S3: {sources}. Curated table: {o['dataset_uri']}.",
            kept + ".", label, clean]


def answer_evaluation(o: dict, spec: dict) -> list[str]:
    stats = "; ".join(f"{s['column']}: mean {_n(s['mean'], 2)}, std {_n(s['std'], 2)}" for s in o["statistics"][:5])
    athena = o.get("athena")
    if athena:
        stats = (f"Read with Athena from the Glue table {athena['table']} (work group {athena['workgroup']}, "
                 f"query {athena['query_execution_id']}). " + stats)
    b = o["balance"]
    if b["task"] == "regression":
        balance = "A continuous target: no classes to balance."
    else:
        classes = ", ".join(f"{c['label']}: {_n(c['count'])} ({_pct(c['share'])})" for c in b["classes"])
        pos = b.get("positive_count")
        head = ("No" if b["is_imbalanced"] else "Yes") + (
            f": {_n(pos)} rows with {b['target']} = {b['positive_label']!s} in "
            f"{_n(sum(c['count'] for c in b['classes']))} ({_pct(b['positive_share'])})" if pos is not None
            else f" ({classes})")
        balance = f"{head} — {b['verdict']}."
    outliers = o.get("outliers") or []
    balance += f" Outliers: {len(outliers)} column(s) flagged" + (f", e.g. {outliers[0]}" if outliers else ".")
    corr = o.get("target_correlations") or []
    top = ", ".join(f"{c['feature']}" for c in corr[:4])
    leakage = o.get("leakage") or []
    relevance = (f"The features most associated with '{spec['problem']['target']}' are {top}."
                 if top else "No feature is associated with the target.")
    relevance += (f" Leakage hints: {'; '.join(h['message'] for h in leakage[:3])}." if leakage
                  else " No leakage hint.")
    bias = o.get("bias") or []
    if bias:
        relevance += f" Bias checked on facet(s) {', '.join(x['facet'] for x in bias)} (see the dashboard)."
    return [f"{o['rows']:,} rows × {o['columns']} columns. {stats}.",
            f"Histograms, box plots, a scatter plot of the two most associated features and a correlation "
            f"heatmap: the dashboard {o['artifacts']['dashboard']}.", balance, relevance]


def answer_features(o: dict, spec: dict) -> list[str]:
    pairs = o.get("correlated_pairs") or []
    corr = ("; ".join(f"{p['a']} ~ {p['b']} (|r| = {p['r']:.2f})" for p in pairs[:5])
            if pairs else "No pair of numeric features with |r| ≥ 0.7.")
    info = o.get("informative") or []
    top = (", ".join(f"{i['feature']} ({i['mutual_information']:.3f})" for i in info[:6])
           if info else "not measured for this task")
    sel = f" Selection: {o['selection']}, {o['features_out']} features kept." if o.get("selection") else ""
    ratios = o.get("ratios") or []
    new = (f"{o['features_in']} input columns → {o['features_out']} features: {len(o['categorical'])} categorical "
           f"columns one-hot encoded" + (f", ratios {', '.join(f'{a}/{b}' for a, b in ratios)}" if ratios else "")
           + ".")
    rng = o.get("scale_range")
    norm = ("Yes: numeric features are imputed (median) and standardised (zero mean, unit variance)"
            + (f"; their standard deviations ranged from {_n(rng[0], 2)} to {_n(rng[1], 2)} before" if rng else "")
            + ". The fitted transformation is saved with the sets: " + o["artifacts"]["transform"] + ".")
    text = o.get("text_channels")
    if text:
        new += (f" For BlazingText, the text of '{text['column']}' itself, lower-cased and tokenised, one "
                f"__label__<class> line per row of the same split: {text['prefix']} (train, validation, test); "
                f"the features above serve the monitoring baseline.")
        norm += " BlazingText reads the tokens, not these features: it learns its own word and word-pair vectors."
    return [corr, f"By mutual information with the target: {top}.{sel}", new, norm]


def answer_training(o: dict, spec: dict) -> list[str]:
    metrics = ", ".join(f"{k} {_n(v)}" for k, v in o["metrics"].items())
    base = ", ".join(f"{k} {_n(v)}" for k, v in o.get("baselines", {}).items())
    hps = ", ".join(f"{k}={v}" for k, v in o["hyperparameters"].items() if not k.startswith("_"))
    why = ("BlazingText in supervised mode (fastText): word and word-pair vectors averaged into a linear "
           "classifier, trained on the tokenised sentences themselves; it suits short texts and trains in "
           "seconds on a CPU." if o.get("algorithm") == "blazingtext" else
           "gradient-boosted trees suit tabular data with mixed scales and a rare class.")
    return [f"{o['algorithm']} (training job {o['job_name']}, image {o['image']}): {why}",
            f"Hyperparameters: {hps}.",
            f"Measured on the {o['validation']}: {metrics}" + (f"; a trivial model scores {base}" if base else "") + ".",
            "With a tuning job: see section 8."]


def answer_deployment(o: dict, spec: dict) -> list[str]:
    where = {"local": "a local model-server process", "moto": "a local model server (moto records the endpoint)",
             "aws": "a SageMaker real-time endpoint"}.get(spec.get("_backend", ""), "a SageMaker endpoint")
    url = f" ({o['url']}/invocations)" if o.get("url") else ""
    io = ("JSON of tokenised sentences in ({\"instances\": [...], \"configuration\": {\"k\": n}}), labels and "
          "probabilities out" if o.get("algorithm") == "blazingtext" else "CSV in, score out")
    return [f"Endpoint {o['endpoint_name']} on {o['instance_count']} × {o['instance_type']}: {where}.",
            f"An HTTPS API: InvokeEndpoint (sagemaker-runtime){url}, {io}; the smoke test answered "
            f"{o['smoke_test']['prediction']!r} in {o['smoke_test']['latency_ms']} ms.",
            ("Data capture of every request and response to " + o["data_capture"] + ", endpoint metrics in CloudWatch; "
             "drift and quality in section 7.") if o.get("data_capture") else "Endpoint metrics in CloudWatch (no data capture).",
            "Re-run the pipeline: changed data or settings re-run training and replace the endpoint's model "
            "(the endpoint keeps its name)."]


def answer_monitoring(o: dict, spec: dict) -> list[str]:
    if not o.get("evaluated"):
        b = o["baseline"]
        msg = (f"Not evaluated: no deployed model in this run. The monitoring baseline of {b['features']} features "
               f"is ready: {b['statistics']}.")
        return [msg, msg, msg, msg]
    metric = spec["problem"].get("metric", "f1")
    m = o["metrics"]
    shown = ", ".join(f"{k} {_n(m[k])}" for k in ("f1", "precision", "recall", "roc_auc", "pr_auc", "rmse", "r2")
                      if k in m)
    comp = o.get("comparison") or []
    judged = [c for c in comp if c["metric"] == metric] or comp[:1]
    beats = bool(judged) and bool(judged[0].get("better_than_baselines"))
    ordered = judged + [c for c in comp if c not in judged]
    comparison = "; ".join(f"{c['metric']} {_n(c['model'])} vs " + ", ".join(f"{k} {_n(v)}" for k, v in c['baselines'].items())
                           for c in ordered[:3])
    worst = o.get("worst_slices") or []
    cm = o.get("confusion_matrix")
    errors = (f"Confusion matrix {cm}. " if cm else "") + (
        "Worst slices: " + "; ".join(f"{w['feature']} = {w['segment']} (error {_n(w['error'])}, {w['count']} rows)"
                                     for w in worst[:3]) if worst else "")
    threshold = spec["problem"].get("threshold")
    value = m.get(metric)
    meaning = (f"{metric} = {_n(value)} on {o['n']} test rows sent to the endpoint"
               + (f", {'above' if value is not None and value >= threshold else 'below'} the target {threshold}"
                  if threshold is not None else "") + ". ")
    drift = o.get("drift")
    if drift:
        meaning += ("Drift of the captured traffic"
                    + (f" ({drift['of']})" if drift.get("of") else "") + f": {drift['violations']} violation(s). ")
    cw = o.get("cloudwatch") or {}
    meaning += f"{len(cw.get('metrics', []))} metrics published to CloudWatch; alarms: {', '.join(cw.get('alarms', [])) or 'none'}."
    return [f"{metric} (the problem's success metric); also {shown}.",
            ("Yes" if beats else "No") + (f" on {judged[0]['metric']}" if judged else "") + f": {comparison}.",
            errors or "n/a", meaning]


def answer_tuning(o: dict, spec: dict) -> list[str]:
    if "iterations" not in o:          # a record of the version without the corrective loop
        tuned, trained = o.get("tuned_value"), o.get("trained_value")
        why = (f"The trained model scores {o['objective']} {_n(trained)}; tuning reached {_n(tuned)}.")
        return [why, f"{o['strategy']} search: {len(o.get('trials') or [])} trials ({o['job_name']}).",
                "Change a setting in the pipeline file and run it again."]
    metric, threshold = o["metric"], o.get("threshold")
    initial, final, its = o["initial"], o["final"], o["iterations"]
    target = f"the target {threshold}" if threshold is not None else "no target (problem.threshold is not set)"
    start = f"The trained model ({initial['job']}) scores {metric} {_n(initial['value'])} on the {initial['evaluated_on']}"
    from .correction import meets

    if meets(metric, initial["value"], threshold):
        why = f"{start}: it meets {target}."
        diagnosed = [it for it in its if it.get("diagnosis_summary")]
        if diagnosed:
            why += f" Diagnosis all the same: {diagnosed[0]['diagnosis_summary']}."
    else:
        first = its[0]["diagnosis_summary"] if its else "not diagnosed (no iteration ran)"
        why = f"{start}, short of {target}. Why: {first}."
    if its:
        actions = " ".join(
            f"{it['iteration']}. {it['action']} ({it['reason']}): {it['detail']} → {metric} {_n(it['value_before'])} → "
            f"{_n(it['value_after'])}" + (" (better, kept)." if it["improved"] else
                                          " (the action failed)." if it.get("failed") else " (no better, dropped).")
            for it in its)
    else:
        actions = "None: the model met the target, nothing needed correcting."
    verdict = "meets" if final["meets_threshold"] else "still misses"
    loop = (f"{len(its)} iteration(s); stopped because {o['stopped_because']}. Best model: {final['job']} "
            f"({final['action']}), test {metric} {_n(final['value'])}, which {verdict} {target}.")
    if o.get("redeployed"):
        loop += f" The endpoint {o['redeployed']['endpoint_name']} now serves it (UpdateEndpoint)."
    return [why, actions, loop]


ANSWERS: dict[str, Callable[[dict, dict], list[str]]] = {
    "problem": answer_problem, "data": answer_data, "evaluation": answer_evaluation,
    "features": answer_features, "training": answer_training, "deployment": answer_deployment,
    "monitoring": answer_monitoring, "tuning": answer_tuning}


def answers_for(step: dict, spec: dict) -> list[dict[str, str]]:
    """``[{question, en, answer}]`` for a step of a run record (a dict)."""
    questions = QUESTIONS.get(step["section"], [])
    fn = ANSWERS.get(step["name"])
    if step["status"] in ("done", "cached") and fn is not None:
        try:
            texts = fn(step["outputs"], spec)
        except (KeyError, TypeError, IndexError, ValueError) as exc:
            texts = [f"(the outputs of this section could not be read: {type(exc).__name__}: {exc})"] * len(questions)
    else:
        reason = {"skipped": "Not answered: the section is not in the pipeline file.",
                  "unavailable": "Not answered: " + step.get("message", ""),
                  "blocked": "Not answered: this section " + step.get("message", ""),
                  "failed": "Not answered: the section failed — " + step.get("message", ""),
                  "not run": "Not answered: an earlier section failed."}.get(step["status"], step["status"])
        texts = [reason] * len(questions)
    texts = (texts + [""] * len(questions))[:len(questions)]
    return [{"question": q, "en": en, "answer": a} for (q, en), a in zip(questions, texts)]
