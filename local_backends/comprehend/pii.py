"""Personally identifiable information by pattern (AWS serves PII in English and Spanish).

The patterns find the PII types that have a fixed form: e-mail, URL, IP and MAC addresses,
phone numbers, US social security numbers, payment-card numbers (checked with Luhn's
algorithm), IBANs, AWS access keys and secret keys, dates and times; and ``NAME`` for a
capitalised name after an honorific (Mr, Mrs, Ms, Dr, Sr., Sra., ...). Names without an
honorific, addresses and the other free-form types are not detected.
"""
from __future__ import annotations

import re

SERVED = ("en", "es")


def _luhn(digits: str) -> bool:
    total, parity = 0, len(digits) % 2
    for i, ch in enumerate(digits):
        d = int(ch)
        if i % 2 == parity:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


PATTERNS: list[tuple[str, re.Pattern, float]] = [
    ("EMAIL", re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"), 0.99),
    ("URL", re.compile(r"\b(?:https?://|www\.)[^\s<>\"']+[^\s<>\"'.,;:!?)]"), 0.99),
    ("AWS_ACCESS_KEY", re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"), 0.99),
    ("AWS_SECRET_KEY", re.compile(r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"), 0.6),
    ("MAC_ADDRESS", re.compile(r"\b[0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){5}\b"), 0.99),
    ("IP_ADDRESS", re.compile(r"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b"), 0.99),
    ("INTERNATIONAL_BANK_ACCOUNT_NUMBER", re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b"), 0.9),
    ("CREDIT_DEBIT_NUMBER", re.compile(r"\b(?:\d[ -]?){12,18}\d\b"), 0.95),
    ("SSN", re.compile(r"\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b"), 0.95),
    ("DATE_TIME", re.compile(
        r"\b(?:\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?|\d{1,2}/\d{1,2}/\d{2,4}|"
        r"\d{1,2}:\d{2}(?:\s?[ap]\.?m\.?)?|(?:January|February|March|April|May|June|July|August|"
        r"September|October|November|December|enero|febrero|marzo|abril|mayo|junio|julio|agosto|"
        r"septiembre|octubre|noviembre|diciembre)\s+\d{1,2}(?:st|nd|rd|th)?(?:,?\s+\d{4})?)\b",
        re.IGNORECASE), 0.9),
    ("PHONE", re.compile(r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?)?\d{2,4}(?:[ .-]\d{2,4}){2,4}\b"), 0.9),
    ("NAME", re.compile(r"(?<=\b(?:Mr|Ms|Dr|Sr)\.\s)[A-Z][a-zà-ÿ]+(?:\s[A-Z][a-zà-ÿ]+)*|"
                        r"(?<=\b(?:Mrs|Sra)\.\s)[A-Z][a-zà-ÿ]+(?:\s[A-Z][a-zà-ÿ]+)*"), 0.8),
]


def pii_entities(text: str) -> list[dict]:
    """AWS's ``Entities`` of ``DetectPiiEntities``: type, score and character offsets."""
    found: list[tuple[int, int, str, float]] = []
    for kind, regex, score in PATTERNS:
        for m in regex.finditer(text):
            begin, end = m.span()
            if any(begin < e and b < end for b, e, *_ in found):
                continue  # an earlier, more specific pattern holds this span
            digits = re.sub(r"\D", "", m.group(0))
            if kind == "CREDIT_DEBIT_NUMBER" and not _luhn(digits):
                continue
            if kind == "PHONE" and not 7 <= len(digits) <= 15:  # E.164: at most 15 digits
                continue
            if kind == "AWS_SECRET_KEY" and not (re.search(r"[A-Z]", m.group(0))
                                                 and re.search(r"[a-z]", m.group(0))
                                                 and re.search(r"\d", m.group(0))):
                continue
            found.append((begin, end, kind, score))
    found.sort()
    return [{"Score": score, "Type": kind, "BeginOffset": begin, "EndOffset": end}
            for begin, end, kind, score in found]


def pii_labels(text: str) -> list[dict]:
    """AWS's ``Labels`` of ``ContainsPiiEntities``: each type found, with its best score."""
    best: dict[str, float] = {}
    for entity in pii_entities(text):
        best[entity["Type"]] = max(best.get(entity["Type"], 0.0), entity["Score"])
    return [{"Name": name, "Score": score} for name, score in sorted(best.items())]
