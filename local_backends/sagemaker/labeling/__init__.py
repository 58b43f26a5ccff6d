"""Local Amazon SageMaker Ground Truth: work teams, labelling jobs, programmatic workers,
consolidation, automated data labelling and a worker portal (:mod:`.portal`).

* :mod:`.workforce` — the private workforce, work teams and locally registered workers;
* :mod:`.jobs` — the labelling-job operations (the :class:`LabelingJobs` mixin);
* :mod:`.engine` — how a job moves on (tasks, answers, automated labelling, output files),
  on the shared state of :mod:`.store`;
* :mod:`.tasks` — the built-in task types, Ground Truth's Lambda ARNs per region, default UIs;
* :mod:`.templates` — Liquid worker templates with Ground Truth's filters;
* :mod:`.manifest` and :mod:`.answers` — input/output manifests, annotation files and label
  formats as AWS lays them out;
* :mod:`.consolidation` — majority vote, Dawid–Skene, IoU box clustering, span voting,
  agreement (Fleiss' kappa, Krippendorff's alpha, Cohen's kappa);
* :mod:`.workers` — programmatic and simulated workers; :mod:`.automated` — the model.

Everything is reached through boto3 (``session.client("sagemaker").create_labeling_job(...)``);
what AWS keeps elsewhere (workers in Amazon Cognito, people in a browser) has local entry
points on the backend, e.g.::

    backend = local_labeling(session)
    worker = backend.add_worker("my-team", "Ada", "ada@example.com")       # a portal user
    backend.work_on_labeling_job("my-job", [RuleWorker({"great": "POSITIVE"}, "NEGATIVE")])
    backend.label_quality_report("my-job")
"""
from .jobs import LabelingJobs, UnsupportedLabelingJob
from .workers import CallableWorker, RuleWorker, SimulatedWorker


def local_labeling(session):
    """The local SageMaker backend of a :class:`aws_ml.Session` (its Ground Truth helpers:
    ``add_worker``, ``work_on_labeling_job``, ``wait_for_labeling_job``,
    ``label_quality_report``); SageMaker must be routed to ``local``."""
    if session.backend_for("sagemaker") != "local":
        raise ValueError("SageMaker is not served locally in this session; use "
                         "Session(..., services={'sagemaker': 'local'})")
    return session.router.backend("sagemaker", session.region)


__all__ = ["LabelingJobs", "UnsupportedLabelingJob", "CallableWorker", "RuleWorker", "SimulatedWorker",
           "local_labeling"]
