"""The built-in steps: the eight sections of the pipeline, each calling its facade module.

Every step is idempotent: run twice (or again after being killed half way) it leaves one
set of resources, named from the pipeline (the feature group, the endpoint) and written
to fixed keys under the artefact prefix. What a step returns is JSON: the evidence the
run report answers the course note's questions with, and the URIs and names of what it
made.
"""

from . import problem, data, evaluation, features, training, deployment, monitoring, tuning  # noqa: E402,F401 (in order: registration is the pipeline order)
