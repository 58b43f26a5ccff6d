"""The built-in Ground Truth task types, as AWS selects them.

A labelling job's task type is named by the AWS-owned Lambda functions it uses:
``HumanTaskConfig.PreHumanTaskLambdaArn`` (``arn:aws:lambda:<region>:<account>:function:PRE-<Type>``)
and ``AnnotationConsolidationConfig.AnnotationConsolidationLambdaArn`` (``ACS-<Type>``), where
``<account>`` is Ground Truth's account in that region (botocore's documentation of
``HumanTaskConfig`` lists them). The local backend does not call these Lambdas: it reproduces
what they do (build the task input, consolidate the answers) in Python.

Each type also has a default worker UI (a Liquid template with the crowd HTML elements), used
for ``HumanTaskUiArn`` (named-entity recognition) and offered to users who want one.
"""
from __future__ import annotations

from dataclasses import dataclass

# Ground Truth's Lambda account per region (botocore: HumanTaskConfig.PreHumanTaskLambdaArn).
LAMBDA_ACCOUNTS = {
    "us-east-1": "432418664414",
    "us-east-2": "266458841044",
    "us-west-2": "081040173940",
    "ca-central-1": "918755190332",
    "eu-west-1": "568282634449",
    "eu-west-2": "487402164563",
    "eu-central-1": "203001061592",
    "ap-northeast-1": "477331159723",
    "ap-northeast-2": "845288260483",
    "ap-south-1": "565803892007",
    "ap-southeast-1": "377565633583",
    "ap-southeast-2": "454466003867",
}
HUMAN_TASK_UI_ACCOUNT = "394669845002"       # arn:aws:sagemaker:<region>:394669845002:human-task-ui/...
ALGORITHM_ACCOUNT = "027400017018"           # ...:labeling-job-algorithm-specification/<kind>

# Task types AWS documents whose Lambdas exist but the local backend does not reproduce.
NOT_REPRODUCED = frozenset({
    "SemanticSegmentation", "VideoMultiClass", "VideoObjectDetection", "VideoObjectTracking",
    "Adjustment", "AdjustmentBoundingBox", "AdjustmentSemanticSegmentation",
    "AdjustmentVideoObjectDetection", "AdjustmentVideoObjectTracking", "VerificationBoundingBox",
    "VerificationSemanticSegmentation", "PassThrough",
})


@dataclass(frozen=True)
class TaskType:
    """One built-in task type."""

    name: str              # the suffix of PRE-/ACS- (``TextMultiClass``)
    output_type: str       # the ``type`` of the output metadata (``groundtruth/text-classification``)
    kind: str              # classification | multilabel | boundingbox | ner
    media: str             # text | image
    element: str           # the crowd element the default template uses (its answer key)
    min_labels: int        # the least number of label categories the job needs
    algorithm: str | None  # the automated-labelling algorithm AWS offers for it

    def pre_arn(self, region: str) -> str:
        return f"arn:aws:lambda:{region}:{LAMBDA_ACCOUNTS[region]}:function:PRE-{self.name}"

    def acs_arn(self, region: str) -> str:
        return f"arn:aws:lambda:{region}:{LAMBDA_ACCOUNTS[region]}:function:ACS-{self.name}"


TASK_TYPES: dict[str, TaskType] = {t.name: t for t in (
    TaskType("TextMultiClass", "groundtruth/text-classification", "classification", "text",
             "crowd-classifier", 2, "text-classification"),
    TaskType("TextMultiClassMultiLabel", "groundtruth/text-classification-multilabel", "multilabel",
             "text", "crowd-classifier-multi-select", 2, None),
    TaskType("ImageMultiClass", "groundtruth/image-classification", "classification", "image",
             "crowd-image-classifier", 2, "image-classification"),
    TaskType("ImageMultiClassMultiLabel", "groundtruth/image-classification-multilabel", "multilabel",
             "image", "crowd-image-classifier-multi-select", 2, None),
    TaskType("BoundingBox", "groundtruth/object-detection", "boundingbox", "image",
             "crowd-bounding-box", 1, "object-detection"),
    TaskType("NamedEntityRecognition", "groundtruth/text-span", "ner", "text",
             "crowd-entity-annotation", 1, None),
)}


class TaskTypeError(ValueError):
    """A Lambda ARN that names no built-in task type (the caller words the AWS error)."""


def parse_lambda_arn(arn: str, region: str, prefix: str) -> str:
    """The task-type name of a Ground Truth ``PRE-``/``ACS-`` Lambda ARN in ``region``.

    Raises :class:`TaskTypeError` for an ARN of another account or region, or an unknown name,
    and ``NotImplementedError`` for a type AWS has but the local backend does not reproduce.
    """
    parts = arn.split(":")
    if len(parts) != 7 or parts[2] != "lambda" or parts[5] != "function":
        raise TaskTypeError(f"{arn} is not a Lambda function ARN")
    arn_region, account, function = parts[3], parts[4], parts[6]
    if arn_region != region:
        raise TaskTypeError(f"The Lambda function {arn} is not in the labeling job's region {region}")
    if LAMBDA_ACCOUNTS.get(region) != account:
        raise NotImplementedError(
            f"{arn} is a custom labeling workflow Lambda; the local backend runs only the built-in "
            f"task types (Ground Truth's functions in account {LAMBDA_ACCOUNTS.get(region, '?')})")
    if not function.startswith(prefix + "-"):
        raise TaskTypeError(f"{arn} is not a Ground Truth {prefix} function")
    name = function[len(prefix) + 1:]
    if name in TASK_TYPES:
        return name
    if name in NOT_REPRODUCED:
        raise NotImplementedError(f"the {name} task type is not reproduced by the local backend")
    raise TaskTypeError(f"{arn} is not a Ground Truth built-in task type")


def human_task_ui_arn(region: str, name: str = "NamedEntityRecognition") -> str:
    return f"arn:aws:sagemaker:{region}:{HUMAN_TASK_UI_ACCOUNT}:human-task-ui/{name}"


def algorithm_arn(region: str, kind: str) -> str:
    return f"arn:aws:sagemaker:{region}:{ALGORITHM_ACCOUNT}:labeling-job-algorithm-specification/{kind}"


# -- default worker UIs (Liquid + crowd HTML elements) ----------------------------------------
_HEAD = '<script src="https://assets.crowd.aws/crowd-html-elements.js"></script>\n'

TEMPLATES = {
    "TextMultiClass": _HEAD + """<crowd-form>
  <crowd-classifier name="crowd-classifier" categories="{{ task.input.labels | to_json | escape }}"
                    header="{{ task.input.header | default: 'Choose the category that fits the text best' }}">
    <classification-target>{{ task.input.taskObject }}</classification-target>
    <full-instructions header="Instructions"><p>Read the text, then choose one category.</p></full-instructions>
    <short-instructions><p>Choose one category.</p></short-instructions>
  </crowd-classifier>
</crowd-form>
""",
    "TextMultiClassMultiLabel": _HEAD + """<crowd-form>
  <crowd-classifier-multi-select name="crowd-classifier-multi-select"
      categories="{{ task.input.labels | to_json | escape }}" header="Choose every category that applies">
    <classification-target>{{ task.input.taskObject }}</classification-target>
    <full-instructions header="Instructions"><p>Choose all the categories that apply.</p></full-instructions>
    <short-instructions><p>Choose all that apply.</p></short-instructions>
  </crowd-classifier-multi-select>
</crowd-form>
""",
    "ImageMultiClass": _HEAD + """<crowd-form>
  <crowd-image-classifier name="crowd-image-classifier" src="{{ task.input.taskObject | grant_read_access }}"
      categories="{{ task.input.labels | to_json | escape }}" header="Choose the category of the image">
    <full-instructions header="Instructions"><p>Choose one category.</p></full-instructions>
    <short-instructions><p>Choose one category.</p></short-instructions>
  </crowd-image-classifier>
</crowd-form>
""",
    "ImageMultiClassMultiLabel": _HEAD + """<crowd-form>
  <crowd-image-classifier-multi-select name="crowd-image-classifier-multi-select"
      src="{{ task.input.taskObject | grant_read_access }}"
      categories="{{ task.input.labels | to_json | escape }}" header="Choose every category that applies">
    <full-instructions header="Instructions"><p>Choose all that apply.</p></full-instructions>
    <short-instructions><p>Choose all that apply.</p></short-instructions>
  </crowd-image-classifier-multi-select>
</crowd-form>
""",
    "BoundingBox": _HEAD + """<crowd-form>
  <crowd-bounding-box name="boundingBox" src="{{ task.input.taskObject | grant_read_access }}"
      header="Draw a box around each object" labels="{{ task.input.labels | to_json | escape }}">
    <full-instructions header="Instructions"><p>Choose a label, then drag to draw a box.</p></full-instructions>
    <short-instructions><p>Drag to draw a tight box around each object.</p></short-instructions>
  </crowd-bounding-box>
</crowd-form>
""",
    "NamedEntityRecognition": _HEAD + """<crowd-form>
  <crowd-entity-annotation name="crowd-entity-annotation" header="Highlight the entities in the text"
      labels="{{ task.input.labels | to_json | escape }}" text="{{ task.input.taskObject | escape }}">
    <full-instructions header="Instructions"><p>Select a span of text, then choose its label.</p></full-instructions>
    <short-instructions><p>Highlight each entity and choose its label.</p></short-instructions>
  </crowd-entity-annotation>
</crowd-form>
""",
}


def default_template(task_type: str) -> str:
    """The worker UI Ground Truth's console would generate for ``task_type``."""
    return TEMPLATES[task_type]
