"""Section 7, model evaluation and monitoring: the built-in step."""
from __future__ import annotations

from dataclasses import asdict
from ..spec import PipelineSpec
from ..steps import STEPS, StepContext
from .common import _problem_dict


def _monitoring_config(spec: PipelineSpec, ctx: StepContext) -> dict | None:
    if spec.monitoring is None or not spec.monitoring.enabled:
        return None
    return {**_problem_dict(spec), "metric": spec.problem.metric, "threshold": spec.problem.threshold,
            **asdict(spec.monitoring), "alarm_topic_arn": spec.artifacts.alarm_topic_arn,
            "metrics_namespace": spec.artifacts.metrics_namespace,
            "metrics_dimensions": dict(spec.artifacts.metrics_dimensions) or {"Pipeline": spec.name}}


@STEPS.register("monitoring", section=7, title="Model evaluation and monitoring", config=_monitoring_config,
                needs=("features",), after=("deployment",), requires=("aws_ml.monitoring",))
def monitoring_step(ctx: StepContext, config: dict) -> dict:
    """The model-monitor baseline of the training features; with a deployed model, the
    model's quality on the test set through the endpoint (CSV rows of features, or JSON
    sentences for BlazingText), drift of the captured traffic, CloudWatch metrics and
    alarms (:mod:`aws_ml.monitoring`)."""
    import numpy as np

    from aws_ml import monitoring

    f = ctx.inputs["features"]
    train_features = ctx.read_table(f["artifacts"]["train_features"])
    baseline = monitoring.suggest_baseline(train_features, session=ctx.session,
                                           output_uri=ctx.uri("monitoring/baseline"))
    out: dict = {"baseline": {"statistics": ctx.uri("monitoring/baseline/statistics.json"),
                              "constraints": ctx.uri("monitoring/baseline/constraints.json"),
                              "features": len(baseline.feature_names)}, "evaluated": False}
    deployed = ctx.inputs.get("deployment")
    if not deployed:
        reason = ctx.statuses.get("deployment", "not run")
        ctx.note(f"Model evaluation needs a deployed model; section 6 is {reason}. "
                 "Only the monitoring baseline was computed.")
        out["headline"] = {"baseline features": len(baseline.feature_names)}
        return out
    from aws_ml import serving

    blazingtext = deployed.get("algorithm") == "blazingtext"      # the endpoint serves BlazingText
    runtime = ctx.session.client("sagemaker-runtime")
    if blazingtext:
        truth, scores = _blazingtext_scores(ctx, f, deployed["endpoint_name"], config["requests"])
    else:
        lines = ctx.get_bytes(f["artifacts"]["test"]).decode().splitlines()[:config["requests"]]
        truth = np.array([float(l.split(",", 1)[0]) for l in lines])
        scores = []
        for chunk in range(0, len(lines), 50):
            body = "\n".join(l.split(",", 1)[1] for l in lines[chunk:chunk + 50])
            answer = runtime.invoke_endpoint(EndpointName=deployed["endpoint_name"], Body=body.encode(),
                                             ContentType="text/csv")["Body"].read().decode()
            scores.extend(float(v) for v in answer.replace("\n", ",").split(",") if v.strip())
    test_raw = ctx.read_table(f["artifacts"]["test_raw"]).iloc[:len(truth)]    # the rows sent
    ev = monitoring.evaluate_model(truth.astype(int) if f["task"] == "classification" else truth,
                                   y_score=np.array(scores) if f["task"] == "classification" else None,
                                   y_pred=np.array(scores) if f["task"] != "classification" else None,
                                   features=test_raw.drop(columns=[config["target"]], errors="ignore"),
                                   title=f"Model evaluation — {ctx.spec.name}", model_name=deployed["endpoint_name"])
    uris = ev.save(ctx.session, ctx.uri("reports/model/"))
    serving.flush(ctx.session)
    dims = config["metrics_dimensions"]
    namespace = config["metrics_namespace"] or monitoring.DEFAULT_NAMESPACE
    published = monitoring.publish(ctx.session, ev, dimensions=dims, namespace=namespace)
    drift = None
    if deployed.get("data_capture"):
        capture = deployed["data_capture"] + "/" + deployed["endpoint_name"]
        current = _captured_text_features(ctx, f, capture) if blazingtext else capture
        if current is not None:
            drift = monitoring.check_drift(baseline, current, session=ctx.session,
                                           psi_threshold=config["psi_threshold"])
            published += monitoring.publish(ctx.session, drift, dimensions=dims, namespace=namespace)
    topic = [config["alarm_topic_arn"]] if config["alarm_topic_arn"] else []
    alarms = monitoring.create_quality_alarms(ctx.session, dimensions=dims, namespace=namespace,
                                              metric=config["metric"],
                                              threshold=config["threshold"], alarm_actions=topic,
                                              ok_actions=topic) if config["alarms"] and \
        config["threshold"] is not None else []
    d = ev.to_dict()
    out.update({"evaluated": True, "n": ev.n, "metrics": {k: v for k, v in d["metrics"].items()
                                                           if isinstance(v, (int, float))},
                "comparison": d["comparison"], "worst_slices": (d["slices"] or {}).get("segments", [])[:5],
                "confusion_matrix": d["metrics"].get("confusion_matrix"),
                "drift": {"violations": len(drift.violations), "drifted": drift.drifted_features,
                          **({"of": "the captured sentences turned into section 4's features by its fitted "
                                    "transformation"} if blazingtext else {})} if drift else None,
                "requests_format": "application/json (BlazingText)" if blazingtext else "text/csv",
                "cloudwatch": {"namespace": namespace, "dimensions": dims, "metrics": published, "alarms": alarms},
                "artifacts": {"report": uris.get("report.html"), "json": uris.get("evaluation.json")},
                "headline": {k: v for k, v in ev.headline.items() if isinstance(v, (int, float))}})
    return out


def _blazingtext_scores(ctx: StepContext, f: dict, endpoint: str, requests: int):
    """The first ``requests`` test sentences sent to a BlazingText endpoint as JSON (50 a
    request, ``k`` = the number of classes): ``(truth, scores)``, scores the probability
    of the positive class (binary) or one column per class."""
    import json

    import numpy as np

    from .. import correction

    classes = len(f.get("classes") or [0, 1])
    pairs = [correction.split_line(line) for line in
             ctx.get_bytes(f["artifacts"]["text_test"]).decode().splitlines()[:requests]]
    runtime = ctx.session.client("sagemaker-runtime")
    answers: list[dict] = []
    for chunk in range(0, len(pairs), 50):
        body = json.dumps({"instances": [t for _, t in pairs[chunk:chunk + 50]], "configuration": {"k": classes}})
        answer = runtime.invoke_endpoint(EndpointName=endpoint, Body=body.encode(),
                                         ContentType="application/json")["Body"].read().decode()
        answers.extend(json.loads(answer))
    if len(answers) != len(pairs):
        raise RuntimeError(f"endpoint {endpoint} answered {len(answers)} predictions for {len(pairs)} sentences")
    return np.array([y for y, _ in pairs], dtype=float), correction.blazingtext_matrix(answers, classes)


def _captured_text_features(ctx: StepContext, f: dict, capture: str):
    """The sentences captured at a BlazingText endpoint, turned into section 4's features
    by its fitted transformation (TF-IDF and SVD of the text): what the monitoring
    baseline describes, so drift compares like with like. ``None`` (with a note saying
    why) when the transformation needs columns the endpoint never receives."""
    import json
    import pickle

    import pandas as pd

    from aws_ml.monitoring.capture import decode_payload, list_capture_files

    column = (f.get("text_channels") or {}).get("column")
    if f.get("numeric") or f.get("categorical") or column is None:
        ctx.note("Drift of the captured traffic was not computed: the monitoring baseline describes section 4's "
                 "features, which need columns besides the text the BlazingText endpoint receives.")
        return None
    texts: list[str] = []
    for key in list_capture_files(ctx.session, capture):
        bucket = capture[5:].split("/", 1)[0]
        for line in ctx.s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode().splitlines():
            if not line.strip():
                continue
            data = json.loads(line)["captureData"].get("endpointInput")
            if data is None:
                continue
            ctype, text = decode_payload(data)
            if ctype == "application/json":
                texts += [str(t) for t in json.loads(text).get("instances", [])]
    if not texts:
        ctx.note("Drift of the captured traffic was not computed: the capture holds no JSON request.")
        return None
    pipe = pickle.loads(ctx.get_bytes(f["artifacts"]["transform"]))   # noqa: S301 - written by section 4
    return pipe.transform(pd.DataFrame({column: texts}))
