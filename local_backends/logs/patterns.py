"""CloudWatch Logs filter patterns, compiled to a predicate over an event's message.

Three syntaxes, as AWS documents them (matching is case-sensitive):

* terms: ``ERROR Exception`` (every term), ``"phrase with spaces"``, ``?ERROR ?WARN`` (any of
  the ``?`` terms), ``-DEBUG`` (none of the ``-`` terms), ``%regex%``; an empty pattern
  matches everything;
* JSON: ``{ $.level = "ERROR" && ($.latency > 100 || $.user.id = 4*) }`` with ``= != < <= >
  >=``, ``*`` wildcards in strings, ``IS TRUE / FALSE / NULL``, ``EXISTS`` / ``NOT EXISTS``,
  selectors ``$.a.b[0].c``; a message that is not a JSON object does not match;
* space-delimited: ``[ip, user, ..., status = 404, bytes > 1000]`` over the message's
  whitespace-separated fields (``"..."`` and ``[...]`` group), ``...`` matching any number.
"""
from __future__ import annotations

import fnmatch
import json
import re
from typing import Any, Callable

from . import errors

Predicate = Callable[[str], bool]


def compile_pattern(pattern: str | None) -> Predicate:
    """A predicate over messages; ``InvalidParameterException`` for a malformed pattern."""
    text = (pattern or "").strip()
    if not text:
        return lambda message: True
    try:
        if text.startswith("{"):
            return _JsonParser(text).parse()
        if text.startswith("["):
            return _space_delimited(text)
        return _terms(text)
    except _Bad as bad:
        raise errors.InvalidParameterException(f"Invalid filter pattern: {pattern!r} ({bad})") from None


class _Bad(Exception):
    pass


# -- terms ------------------------------------------------------------------------------
_TERM = re.compile(r'\s*([?-]?)("(?:[^"\\]|\\.)*"|%[^%]*%|[^\s"]+)')


def _term_matcher(token: str) -> Predicate:
    if token.startswith('"'):
        phrase = token[1:-1].replace('\\"', '"')
        return lambda m: phrase in m
    if len(token) > 1 and token.startswith("%") and token.endswith("%"):
        try:
            rx = re.compile(token[1:-1])
        except re.error as exc:
            raise _Bad(f"bad regular expression: {exc}") from None
        return lambda m: rx.search(m) is not None
    return lambda m: token in m


def _terms(text: str) -> Predicate:
    required, optional, excluded = [], [], []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TERM.match(text, pos)
        if not m:
            raise _Bad(f"unexpected text at {pos}")
        sign, token = m.groups()
        matcher = _term_matcher(token)
        {"": required, "?": optional, "-": excluded}[sign].append(matcher)
        pos = m.end()

    def match(message: str) -> bool:
        return (all(t(message) for t in required)
                and (not optional or any(t(message) for t in optional))
                and not any(t(message) for t in excluded))
    return match


# -- comparisons shared by JSON and space-delimited patterns ------------------------------
def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _compare(actual: Any, op: str, expected: tuple[str, Any]) -> bool:
    kind, value = expected
    if kind == "number":
        got = _number(actual)
        if got is None:
            return False
        return {"=": got == value, "!=": got != value, "<": got < value, "<=": got <= value,
                ">": got > value, ">=": got >= value}[op]
    if actual is None or isinstance(actual, (dict, list)):
        return False
    text = actual if isinstance(actual, str) else json.dumps(actual)
    if kind == "regex":
        hit = value.search(text) is not None
    elif "*" in value:
        hit = fnmatch.fnmatchcase(text, value.replace("[", "[[]").replace("?", "[?]"))
    else:
        hit = text == value
    if op == "=":
        return hit
    if op == "!=":
        return not hit
    raise _Bad(f"operator {op} needs a number")


# -- JSON ---------------------------------------------------------------------------------
_JSON_TOKEN = re.compile(r"""\s*(
    \$[.\[][^\s=!<>()&|}]* |
    &&|\|\||!=|<=|>=|=|<|> |
    [(){}] |
    "(?:[^"\\]|\\.)*" |
    %[^%]*% |
    [^\s=!<>()&|{}"]+
)""", re.VERBOSE)
_MISSING = object()


def _select(doc: Any, selector: str) -> Any:
    path = selector[1:]
    for part in re.findall(r"\.([^.\[]+)|\[(\d+)\]", path):
        key, index = part
        if key:
            if not isinstance(doc, dict) or key not in doc:
                return _MISSING
            doc = doc[key]
        else:
            i = int(index)
            if not isinstance(doc, list) or i >= len(doc):
                return _MISSING
            doc = doc[i]
    return doc


class _JsonParser:
    def __init__(self, text: str) -> None:
        self.tokens: list[str] = []
        pos = 0
        while pos < len(text):
            if not text[pos:].strip():
                break
            m = _JSON_TOKEN.match(text, pos)
            if not m:
                raise _Bad(f"unexpected text at {pos}")
            self.tokens.append(m.group(1))
            pos = m.end()
        self.i = 0

    def peek(self) -> str | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        tok = self.peek()
        if tok is None or (expected is not None and tok != expected):
            raise _Bad(f"expected {expected or 'more'} but found {tok!r}")
        self.i += 1
        return tok

    def parse(self) -> Predicate:
        self.take("{")
        pred = self.disjunction()
        self.take("}")
        if self.peek() is not None:
            raise _Bad(f"unexpected {self.peek()!r} after the closing brace")

        def match(message: str) -> bool:
            try:
                doc = json.loads(message)
            except ValueError:
                return False
            return isinstance(doc, dict) and pred(doc)
        return match

    def disjunction(self):
        parts = [self.conjunction()]
        while self.peek() == "||":
            self.take()
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else (lambda doc: any(p(doc) for p in parts))

    def conjunction(self):
        parts = [self.atom()]
        while self.peek() == "&&":
            self.take()
            parts.append(self.atom())
        return parts[0] if len(parts) == 1 else (lambda doc: all(p(doc) for p in parts))

    def atom(self):
        if self.peek() == "(":
            self.take()
            inner = self.disjunction()
            self.take(")")
            return inner
        selector = self.take()
        if not selector.startswith("$"):
            raise _Bad(f"expected a selector ($.field) but found {selector!r}")
        op = self.take()
        if op.upper() == "IS":
            what = self.take().upper()
            wanted = {"TRUE": True, "FALSE": False, "NULL": None}
            if what not in wanted:
                raise _Bad(f"IS must be followed by TRUE, FALSE or NULL, not {what!r}")
            flag = wanted[what]
            return lambda doc: _select(doc, selector) is flag
        if op.upper() == "EXISTS":
            return lambda doc: _select(doc, selector) is not _MISSING
        if op.upper() == "NOT":
            if (self.peek() or "").upper() != "EXISTS":
                raise _Bad("NOT must be followed by EXISTS")
            self.take()
            return lambda doc: _select(doc, selector) is _MISSING
        if op not in ("=", "!=", "<", "<=", ">", ">="):
            raise _Bad(f"unknown operator {op!r}")
        expected = _value(self.take())

        def compare(doc: Any) -> bool:
            actual = _select(doc, selector)
            return actual is not _MISSING and _compare(actual, op, expected)
        return compare


def _value(token: str) -> tuple[str, Any]:
    if token.startswith('"'):
        return "string", token[1:-1].replace('\\"', '"')
    if len(token) > 1 and token.startswith("%") and token.endswith("%"):
        try:
            return "regex", re.compile(token[1:-1])
        except re.error as exc:
            raise _Bad(f"bad regular expression: {exc}") from None
    number = _number(token)
    if number is not None:
        return "number", number
    return "string", token


# -- space-delimited ----------------------------------------------------------------------
_FIELD = re.compile(r'"[^"]*"|\[[^\]]*\]|\S+')
_CONDITION = re.compile(r"\s*([\w.-]+)\s*(!=|<=|>=|=|<|>)\s*(.+?)\s*$")


def _space_delimited(text: str) -> "_SpaceDelimited":
    if not text.endswith("]"):
        raise _Bad("a space-delimited pattern ends with ]")
    specs = []
    for raw in text[1:-1].split(","):
        raw = raw.strip()
        if not raw:
            raise _Bad("empty field")
        if raw == "...":
            specs.append((None, "...", None))
            continue
        cond = _CONDITION.match(raw)
        if cond:
            name, op, value = cond.groups()
            specs.append((name, op, _value(value)))
        elif re.fullmatch(r"[\w.-]+", raw):
            specs.append((raw, "any", None))
        else:
            raise _Bad(f"bad field {raw!r}")
    return _SpaceDelimited(specs)


class _SpaceDelimited:
    """A space-delimited pattern: a predicate that can also name the message's fields."""

    def __init__(self, specs: list) -> None:
        self.specs = specs

    def __call__(self, message: str) -> bool:
        return self.bind(message) is not None

    def bind(self, message: str) -> dict[str, str] | None:
        """The named fields of ``message`` if it matches, else ``None``."""
        fields = [f[1:-1] if len(f) > 1 and f[:1] in '"[' and f[-1:] in '"]' else f
                  for f in _FIELD.findall(message)]
        bound: dict[str, str] = {}
        return bound if self._fits(fields, 0, 0, bound) else None

    def _fits(self, fields: list[str], i: int, j: int, bound: dict) -> bool:
        if i == len(self.specs):
            return j == len(fields)
        name, op, expected = self.specs[i]
        if op == "...":
            return any(self._fits(fields, i + 1, k, bound) for k in range(j, len(fields) + 1))
        if j == len(fields):
            return False
        if op != "any" and not _compare(fields[j], op, expected):
            return False
        bound[name] = fields[j]
        return self._fits(fields, i + 1, j + 1, bound)


def extract(pattern: Predicate, message: str, selector: str) -> Any:
    """The value a metric filter's ``metricValue`` (or a dimension) names for ``message``:
    a literal, ``$.json.path`` or ``$field`` of a space-delimited pattern; ``None`` if absent."""
    if not selector.startswith("$"):
        return selector
    if selector.startswith("$."):
        try:
            doc = json.loads(message)
        except ValueError:
            return None
        value = _select(doc, selector)
        return None if value is _MISSING else value
    if isinstance(pattern, _SpaceDelimited):
        return (pattern.bind(message) or {}).get(selector[1:])
    return None
