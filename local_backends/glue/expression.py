"""The filter ``Expression`` of ``GetPartitions``: a SQL-like predicate on partition keys.

Supported as Glue documents it: ``=``, ``<>``/``!=``, ``<``, ``<=``, ``>``, ``>=``,
``BETWEEN x AND y``, ``IN (...)``, ``LIKE`` (``%`` and ``_``), ``AND``, ``OR``, ``NOT`` and
parentheses; literals are quoted strings or numbers. Keys of a numeric type compare as
numbers, the others as strings.
"""
from __future__ import annotations

import re
from typing import Callable

from .errors import InvalidInputException

_TOKEN = re.compile(r"""\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<op><>|!=|<=|>=|=|<|>|\(|\)|,)
                     |(?P<word>[A-Za-z_][A-Za-z0-9_]*|`[^`]+`))""", re.VERBOSE)
_NUMERIC = ("tinyint", "smallint", "int", "integer", "bigint", "float", "double", "decimal")

Predicate = Callable[[dict], bool]


def _tokens(text: str) -> list[tuple[str, str]]:
    pos, out = 0, []
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise InvalidInputException(f"Unsupported expression '{text}'")
        kind = m.lastgroup
        value = m.group(kind)
        if kind == "str":
            value = value[1:-1].replace("''", "'")
        elif kind == "word" and value.startswith("`"):
            value = value[1:-1]
        out.append((kind, value))
        pos = m.end()
    return out


def compile_expression(text: str, key_types: dict[str, str]) -> Predicate:
    """A predicate over ``{key: value}`` (values are strings) for a Glue expression."""
    toks = _tokens(text)
    pos = 0

    def peek(word: str | None = None) -> bool:
        if pos >= len(toks):
            return False
        kind, value = toks[pos]
        return word is None or value.upper() == word

    def take(word: str | None = None) -> tuple[str, str]:
        nonlocal pos
        if pos >= len(toks) or (word is not None and toks[pos][1].upper() != word):
            raise InvalidInputException(f"Unsupported expression '{text}'")
        pos += 1
        return toks[pos - 1]

    def convert(key: str, raw: str):
        if (key_types.get(key) or "").split("(")[0].lower() in _NUMERIC:
            try:
                return float(raw)
            except ValueError:
                return None
        return raw

    def literal() -> str:
        kind, value = take()
        if kind not in ("str", "num"):
            raise InvalidInputException(f"Unsupported expression '{text}'")
        return value

    def comparison() -> Predicate:
        if peek("NOT"):
            take()
            inner = comparison()
            return lambda p: not inner(p)
        if peek("("):
            take()
            inner = disjunction()
            take(")")
            return inner
        kind, key = take()
        if kind != "word":
            raise InvalidInputException(f"Unsupported expression '{text}'")
        key = key.lower()
        if key not in key_types:
            raise InvalidInputException(f"Unknown column '{key}' in the expression '{text}'")
        negate = False
        if peek("NOT"):
            take()
            negate = True
        kind, op = take()
        op = op.upper()
        if op == "BETWEEN":
            lo = literal()
            take("AND")
            hi = literal()
            pred = lambda p: _between(convert(key, p[key]), convert(key, lo), convert(key, hi))  # noqa: E731
        elif op == "IN":
            take("(")
            items = [literal()]
            while peek(","):
                take()
                items.append(literal())
            take(")")
            pred = lambda p: convert(key, p[key]) in [convert(key, i) for i in items]  # noqa: E731
        elif op == "LIKE":
            pattern = re.compile("".join(".*" if c == "%" else "." if c == "_" else re.escape(c)
                                         for c in literal()), re.DOTALL)
            pred = lambda p: bool(pattern.fullmatch(p[key]))  # noqa: E731
        elif op in ("=", "<>", "!=", "<", "<=", ">", ">="):
            value = literal()
            pred = lambda p: _compare(op, convert(key, p[key]), convert(key, value))  # noqa: E731
        else:
            raise InvalidInputException(f"Unsupported expression '{text}'")
        return (lambda p: not pred(p)) if negate else pred

    def conjunction() -> Predicate:
        parts = [comparison()]
        while peek("AND"):
            take()
            parts.append(comparison())
        return lambda p: all(f(p) for f in parts)

    def disjunction() -> Predicate:
        parts = [conjunction()]
        while peek("OR"):
            take()
            parts.append(conjunction())
        return lambda p: any(f(p) for f in parts)

    result = disjunction()
    if pos != len(toks):
        raise InvalidInputException(f"Unsupported expression '{text}'")
    return result


def _compare(op: str, a, b) -> bool:
    if a is None or b is None:
        return False
    return {"=": a == b, "<>": a != b, "!=": a != b, "<": a < b, "<=": a <= b,
            ">": a > b, ">=": a >= b}[op]


def _between(a, lo, hi) -> bool:
    return a is not None and lo is not None and hi is not None and lo <= a <= hi
