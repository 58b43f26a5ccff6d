"""Filter patterns of the local Logs backend (all three syntaxes)."""
from __future__ import annotations

import json

import pytest

from local_backends.core.errors import AwsError
from local_backends.logs.patterns import compile_pattern, extract


@pytest.mark.parametrize("pattern, message, expected", [
    ("", "anything", True),
    ("ERROR", "an ERROR here", True),
    ("ERROR", "an error here", False),
    ("ERROR Exception", "ERROR: Exception", True),
    ("ERROR Exception", "ERROR only", False),
    ('"disk full"', "ERROR disk full", True),
    ('"disk full"', "disk is full", False),
    ("?ERROR ?WARN", "WARN x", True),
    ("?ERROR ?WARN", "INFO x", False),
    ("ERROR -retry", "ERROR will retry", False),
    ("ERROR -retry", "ERROR fatal", True),
    ("-DEBUG", "INFO x", True),
    ("%ERR(OR)?\\b%", "ERR: x", True),
])
def test_terms(pattern, message, expected):
    assert compile_pattern(pattern)(message) is expected


DOC = json.dumps({"level": "ERROR", "latency": 250, "ok": True, "none": None,
                  "user": {"id": 42, "name": "alice"}, "tags": ["a", "b"]})


@pytest.mark.parametrize("pattern, expected", [
    ('{ $.level = "ERROR" }', True),
    ("{ $.level = ERROR }", True),
    ('{ $.level != "ERROR" }', False),
    ("{ $.latency > 100 }", True),
    ("{ $.latency <= 100 }", False),
    ('{ $.user.name = "ali*" }', True),
    ("{ $.user.id = 42 && $.latency >= 250 }", True),
    ("{ $.user.id = 7 || ($.latency > 200 && $.ok IS TRUE) }", True),
    ("{ $.none IS NULL }", True),
    ("{ $.ok IS FALSE }", False),
    ("{ $.missing NOT EXISTS }", True),
    ("{ $.missing = 1 }", False),
    ('{ $.tags[1] = "b" }', True),
])
def test_json(pattern, expected):
    assert compile_pattern(pattern)(DOC) is expected


def test_json_pattern_does_not_match_plain_text():
    assert compile_pattern('{ $.level = "ERROR" }')("ERROR not json") is False


def test_space_delimited_and_extraction():
    p = compile_pattern("[ip, user, ..., status = 4*, bytes > 100]")
    line = '10.0.0.1 bob [25/Nov/2026:10:00:00] "GET /x HTTP/1.1" 404 512'
    assert p(line)
    assert not p('10.0.0.1 bob "GET /" 200 512')
    assert extract(p, line, "$bytes") == "512"
    assert extract(compile_pattern("{ $.a = 1 }"), '{"a": 1, "b": {"c": 2.5}}', "$.b.c") == 2.5
    assert extract(p, line, "1") == "1"


@pytest.mark.parametrize("bad", ["{ $.a = ", "{ level = 1 }", "[a, b", "{ $.a ~ 1 }"])
def test_malformed_patterns_are_invalid_parameters(bad):
    with pytest.raises(AwsError) as exc:
        compile_pattern(bad)
    assert exc.value.code == "InvalidParameterException"
