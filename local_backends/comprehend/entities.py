"""Named entities: the language model's entities plus a gazetteer and patterns.

The gazetteer (AWS service names, organisations, and the 645 people/places/organisations
that textblob ships in ``en-entities.txt``) and the date/quantity patterns take precedence
over the model's entities they overlap. English has no statistical NER model here: its
other entities are runs of proper nouns (tagged by the pattern tagger), typed PERSON after
an honorific and OTHER otherwise.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

from . import nlp

AWS_PRODUCTS = [
    "SageMaker Ground Truth Plus", "SageMaker Ground Truth", "SageMaker Feature Store",
    "SageMaker Autopilot", "SageMaker Endpoint", "SageMaker Pipelines", "SageMaker Clarify",
    "SageMaker Model Monitor", "SageMaker Data Wrangler", "SageMaker Studio", "SageMaker Canvas",
    "SageMaker JumpStart", "SageMaker Debugger", "SageMaker Experiments", "SageMaker Neo",
    "SageMaker", "S3", "Athena", "QuickSight", "Comprehend", "CloudWatch", "CloudFormation",
    "Glue", "Glue DataBrew", "Step Functions", "Lambda", "EC2", "EMR", "Redshift", "Kinesis",
    "Rekognition", "Textract", "Transcribe", "Translate", "Polly", "Lex", "Forecast",
    "Personalize", "Bedrock", "DynamoDB", "RDS", "IAM", "SNS", "SQS", "Lake Formation",
    "Augmented AI", "Mechanical Turk", "Elastic Inference",
]
ORGANIZATIONS = ["Amazon Web Services", "Amazon", "AWS", "Google", "Microsoft", "Apple", "Meta",
                 "Facebook", "IBM", "Netflix", "IMDb", "OpenAI", "NVIDIA", "Intel", "Oracle"]
HONORIFICS = {"mr", "mr.", "mrs", "mrs.", "ms", "ms.", "dr", "dr.", "prof", "prof.", "sir",
              "m.", "mme", "mme.", "mlle", "monsieur", "madame"}
SCORES = {"gazetteer": 0.95, "pattern": 0.9, "proper-noun run": 0.6}

MONTHS = (r"(?:January|February|March|April|May|June|July|August|September|October|November|"
          r"December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|janvier|février|mars|"
          r"avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre)")
DATE_RE = re.compile(
    rf"\b(?:\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}/\d{{1,2}}/\d{{2,4}}|"
    rf"(?:\d{{1,2}}(?:er)?\s+)?{MONTHS}\.?(?:\s+\d{{1,2}}(?:st|nd|rd|th)?)?,?\s+\d{{4}}|"
    rf"\d{{1,2}}(?:er)?\s+{MONTHS}|{MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?)\b", re.IGNORECASE)
QUANTITY_RE = re.compile(
    r"(?<![\w.])\d+(?:[.,]\d+)?\s?(?:%|percent|pour\s?cent|[kKMGT]?B\b|[kKMGT]o\b|"
    r"(?:ms|s|sec|seconds?|secondes?|minutes?|min|hours?|heures?|h|days?|jours?|km|m|kg|g|"
    r"€|\$|USD|EUR|dollars?|euros?|documents?|rows?|lignes?|instances?)\b)", re.IGNORECASE)


@functools.cache
def _gazetteer() -> tuple[re.Pattern, dict[str, str]]:
    types: dict[str, str] = {}
    for name in AWS_PRODUCTS:
        for prefix in ("Amazon ", "AWS "):
            types[prefix + name] = "COMMERCIAL_ITEM"
        if name.startswith("SageMaker") or name in ("QuickSight", "CloudWatch", "CloudFormation",
                                                     "DynamoDB", "Rekognition", "Textract"):
            types[name] = "COMMERCIAL_ITEM"  # distinctive without the prefix
    for name in ORGANIZATIONS:
        types[name] = "ORGANIZATION"
    import textblob.en
    listed = Path(textblob.en.__file__).with_name("en-entities.txt")
    kinds = {"PERS": "PERSON", "LOC": "LOCATION", "ORG": "ORGANIZATION"}
    for line in listed.read_text(encoding="utf-8").splitlines():
        name, _, kind = line.rpartition(" ")
        if name and kind in kinds and len(name) > 2:
            types.setdefault(name, kinds[kind])
    names = sorted(types, key=len, reverse=True)
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(n) for n in names) + r")(?!\w)")
    return pattern, types


def _overlaps(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return any(span[0] < end and begin < span[1] for begin, end in taken)


def _proper_noun_runs(analysis: nlp.Analysis) -> list[tuple[int, int, str]]:
    runs, i, tokens = [], 0, analysis.tokens
    while i < len(tokens):
        if tokens[i].tag == "PROPN" and tokens[i].text.lower() not in HONORIFICS:
            j = i
            while j + 1 < len(tokens) and tokens[j + 1].tag == "PROPN":
                j += 1
            person = i > 0 and tokens[i - 1].text.lower() in HONORIFICS
            begin = tokens[i - 1].begin if person else tokens[i].begin
            runs.append((begin, tokens[j].end, "PERSON" if person else "OTHER"))
            i = j + 1
        else:
            i += 1
    return runs


def entities(text: str, language: str) -> list[dict]:
    """AWS's ``Entities`` for ``text``, in order of their offsets."""
    found: list[tuple[int, int, str, float]] = []
    pattern, types = _gazetteer()
    for m in pattern.finditer(text):
        found.append((m.start(), m.end(), types[m.group(0)], SCORES["gazetteer"]))
    for regex, kind in ((DATE_RE, "DATE"), (QUANTITY_RE, "QUANTITY")):
        for m in regex.finditer(text):
            span = (m.start(), m.end())
            if not _overlaps(span, [(b, e) for b, e, *_ in found]):
                found.append((*span, kind, SCORES["pattern"]))
    analysis = nlp.analyse(text, language)
    if language == "fr":
        model = [(b, e, k, analysis.entity_score) for b, e, k in analysis.entities]
    else:
        model = [(b, e, k, SCORES["proper-noun run"]) for b, e, k in _proper_noun_runs(analysis)]
    for begin, end, kind, score in model:
        if not _overlaps((begin, end), [(b, e) for b, e, *_ in found]):
            found.append((begin, end, kind, score))
    found.sort()
    return [{"Score": score, "Type": kind, "Text": text[begin:end],
             "BeginOffset": begin, "EndOffset": end}
            for begin, end, kind, score in found if text[begin:end].strip()]
