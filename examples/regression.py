"""A regression pipeline end to end: scikit-learn's bundled diabetes data (442 patients),
the eight sections on the local backend — S3, Athena, a feature group, a built-in XGBoost
training job, an endpoint, CloudWatch metrics and alarms, a small tuning job — then the
model's RMSE against the problem's threshold and the path of the run report.

    python examples/regression.py                  # local backend (AWS_ML_BACKEND to change)

The pipeline file is aws_ml/pipeline/examples/diabetes_pipeline.yaml; the same runs as
``aws-ml run diabetes_pipeline.yaml``. Run it twice: the second run comes from the cache.
"""
from aws_ml import Session
from aws_ml.pipeline import example_path, load_pipeline, run

spec = load_pipeline(example_path("diabetes"))

with Session() as session:                   # state under AWS_ML_HOME (default ~/.aws_ml)
    result = run(spec, session, progress=False)
    for step in result.steps:
        print(f"section {step.section} {step.title}: {step.status}")
    if not result.ok:
        raise SystemExit(f"pipeline {spec.name} failed: "
                         + "; ".join(s.message for s in result.steps if s.status == "failed"))

    training = result.step("training").outputs
    print(f"training job {training['job_name']}: validation rmse {training['metrics']['validation:rmse']:.1f} "
          f"(predicting the mean: {training['baselines']['validation:rmse']:.1f})")
    monitoring = result.step("monitoring").outputs
    rmse, threshold = monitoring["metrics"]["rmse"], spec.problem.threshold
    print(f"endpoint {result.step('deployment').outputs['endpoint_name']}: test rmse {rmse:.1f} on "
          f"{monitoring['n']} rows, {'within' if rmse <= threshold else 'above'} the threshold {threshold}")
    tuning = result.step("tuning").outputs
    print(f"tuning job {tuning['job_name']}: best validation rmse {tuning['tuned_value']:.1f}")
    print(f"report: {result.report_html}")
