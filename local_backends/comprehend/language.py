"""Dominant-language detection with lingua (Apache-2.0; its n-gram models ship in the wheel).

The detector is built on first use and kept for the process; lingua loads each language's
model lazily the first time it needs it.
"""
from __future__ import annotations


from .errors import needs_text_extra
from .loading import load_once

MIN_SCORE = 0.01
"""Languages scoring below this are left out of the answer (AWS lists only plausible ones)."""


@load_once
def _detector():
    try:
        from lingua import LanguageDetectorBuilder
    except ImportError as exc:
        raise needs_text_extra(exc) from exc
    return LanguageDetectorBuilder.from_all_languages().build()


def dominant_languages(text: str) -> list[dict]:
    """AWS's ``Languages`` list: RFC 5646 codes with scores in [0, 1], best first."""
    values = _detector().compute_language_confidence_values(text)
    languages = [{"LanguageCode": v.language.iso_code_639_1.name.lower(), "Score": float(v.value)}
                 for v in values if v.value >= MIN_SCORE]
    return languages[:5]  # empty when lingua recognises no language (digits, symbols only)
