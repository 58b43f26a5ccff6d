"""Worker task templates: Liquid (rendered with python-liquid) with Ground Truth's filters.

As on Ground Truth, output is HTML-escaped by default; the extra filters are ``escape``
(explicit), ``escape_once``, ``skip_autoescape`` (and its alias ``skip_encoding``),
``to_json`` and ``grant_read_access`` (an ``s3://`` URI -> a presigned HTTPS URL, here one the
local S3's presign server answers). The page loads AWS's ``crowd-html-elements.js``; the
portal rewrites that script to its own offline implementation (:data:`CROWD_JS_URL`).
"""
from __future__ import annotations

import json
from typing import Any, Callable

from markupsafe import Markup

CROWD_JS_URL = "https://assets.crowd.aws/crowd-html-elements.js"


class TemplateError(ValueError):
    """A template Liquid cannot parse or render."""


def environment(presign: Callable[[str], str] | None):
    from liquid import Environment
    env = Environment(autoescape=True)

    def grant_read_access(value: Any) -> str:
        text = str(value)
        if presign is None or not text.startswith("s3://"):
            return text
        return presign(text)

    env.filters["to_json"] = lambda value: json.dumps(value, ensure_ascii=False)
    env.filters["skip_autoescape"] = lambda value: Markup(str(value))
    env.filters["skip_encoding"] = env.filters["skip_autoescape"]
    env.filters["grant_read_access"] = grant_read_access
    env.filters["s3_presign"] = grant_read_access   # the older name Ground Truth still accepts
    return env


def render(template: str, task_input: dict, presign: Callable[[str], str] | None = None) -> str:
    """The worker page of one task: ``task.input`` is the pre-annotation output."""
    try:
        compiled = environment(presign).from_string(template)
        return compiled.render(task={"input": task_input})
    except Exception as exc:  # liquid's errors have many classes; all mean "bad template"
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        raise TemplateError(f"The worker task template cannot be rendered: {exc}") from exc
