"""Search over the report's recommendations: tokenizing, light stemming, BM25F ranking, suggestions.

Pure functions over a ``KnowledgeBase``; no I/O. Each recommendation is one document with weighted
fields (title and keywords ×3, summary ×2, full text ×1, titles of the key areas it serves ×0.5);
an exact recommendation id in the query (``S3``, ``l7``) outranks everything, and a key-area id
(``K4``) lifts every recommendation serving that area.
"""
from __future__ import annotations

import difflib
import functools
import itertools
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from bot.config.knowledge import KnowledgeBase, Recommendation, SearchHit
from bot.config.passages import Passage

MAX_QUERY_CHARS = 1000
MAX_QUERY_TERMS = 32
K1 = 1.2
B = 0.75
ID_SCORE = 1000.0
AREA_ID_SCORE = 100.0
PHRASE_BONUS = 0.5
SUGGESTION_CUTOFF = 0.75
MAX_SUGGESTIONS = 5

FIELD_WEIGHTS: dict[str, float] = {
    "title": 3.0,
    "keywords": 3.0,
    "summary": 2.0,
    "text": 1.0,
    "areas": 0.5,
}

OWN_FIELDS: tuple[str, ...] = ("title", "keywords", "summary", "text")

STOPWORDS: frozenset[str] = frozenset({
    "a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any",
    "are", "aren't", "as", "at", "be", "because", "been", "before", "being", "below", "between",
    "both", "but", "by", "can", "cannot", "could", "couldn't", "did", "didn't", "do", "does",
    "doesn't", "doing", "don't", "down", "during", "each", "etc", "few", "for", "from", "further",
    "had", "has", "have", "having", "he", "her", "here", "hers", "herself", "him", "himself",
    "his", "how", "i", "if", "in", "into", "is", "isn't", "it", "its", "itself", "just", "let's",
    "may", "me", "might", "more", "most", "must", "my", "myself", "no", "nor", "not", "now", "of",
    "off", "on", "once", "only", "or", "other", "ought", "our", "ours", "ourselves", "out", "over",
    "own", "per", "please", "same", "shall", "she", "should", "so", "some", "such", "than", "that",
    "the", "their", "theirs", "them", "themselves", "then", "there", "these", "they", "this",
    "those", "through", "to", "too", "under", "until", "up", "upon", "us", "very", "via", "was",
    "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with",
    "within", "without", "would", "you", "your", "yours", "yourself", "yourselves",
})
STOPWORDS = STOPWORDS | {w.replace("'", "") for w in STOPWORDS}  # words_of drops apostrophes

# Hyphenated words starting with these are spelling variants of the joined word
# (co-operation = cooperation): index only the joined form, not the pieces.
_JOINING_PREFIXES: frozenset[str] = frozenset({"co", "re", "pre"})

_TOKEN = re.compile(r"[^\W_]+(?:['\-][^\W_]+)*")
_REC_ID = re.compile(r"^[sl]\d{1,2}$")
_AREA_ID = re.compile(r"^k\d$")
_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("izations", "ize"), ("ization", "ize"), ("ations", ""), ("ation", ""), ("ions", ""),
    ("ion", ""), ("ings", ""), ("ing", ""), ("ies", "y"), ("ied", "y"), ("ed", ""), ("es", ""),
    ("s", ""),
)


def _normalise(text: str) -> str:
    """Unicode-normalised, case-folded text with typographic apostrophes made plain."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return text.replace("\u2019", "'").replace("\u2018", "'").replace("\u2010", "-").replace(
        "\u2011", "-")


def words_of(text: str) -> list[str]:
    """Lowercase surface words of a text, hyphenated words kept whole, possessives dropped."""
    out: list[str] = []
    for match in _TOKEN.finditer(_normalise(text)):
        word = match.group(0)
        word = word.removesuffix("'s")
        out.append(word.replace("'", ""))
    return out


def stem(word: str) -> str:
    """A light suffix stripper: plurals, -ing, -ed, -ion/-ation, British -isation/-ise spellings."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith(("isation", "isations")):
        word = word.replace("isation", "ization")
    elif word.endswith(("ise", "ised", "ises", "ising")) and len(word) > 6:
        cut = word.rfind("is")
        word = word[:cut] + "iz" + word[cut + 2:]
    for suffix, repl in _SUFFIXES:
        if word.endswith(suffix):
            base = word[: -len(suffix)]
            if len(base) < 3 or (suffix == "s" and word.endswith(("ss", "is", "us"))):
                continue
            word = base + repl
            break
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    if word.endswith("at") and len(word) >= 6:
        word = word[:-2]
    return word


def _expand(word: str) -> list[str]:
    """The indexable forms of a word: itself (hyphens joined) and, for compounds, its parts."""
    if "-" not in word:
        return [word]
    parts = [p for p in word.split("-") if p]
    forms = ["".join(parts)]
    if parts and parts[0] not in _JOINING_PREFIXES:
        forms.extend(p for p in parts if p not in STOPWORDS)
    return forms


def terms_of(text: str) -> list[str]:
    """Search terms of a text: words less stopwords, compounds split, each stemmed."""
    out: list[str] = []
    for word in words_of(text):
        if word in STOPWORDS:
            continue
        out.extend(stem(form) for form in _expand(word))
    return out


_Bigrams = tuple[tuple[float, frozenset[tuple[str, str]]], ...]


@dataclass(frozen=True)
class _Doc:
    rec: Recommendation
    fields: dict[str, list[str]]
    counts: dict[str, Counter[str]]
    bigrams: _Bigrams


def _fields(kb: KnowledgeBase, rec: Recommendation) -> dict[str, list[str]]:
    area_titles = [a.title for a in kb.key_areas if a.id in rec.areas]
    return {
        "title": terms_of(rec.title),
        "keywords": [t for kw in rec.keywords for t in terms_of(str(kw))],
        "summary": terms_of(rec.summary),
        "text": terms_of(rec.text),
        "areas": [t for title in area_titles for t in terms_of(title)],
    }


def _bigrams(kb: KnowledgeBase, rec: Recommendation) -> _Bigrams:
    """Per weighted field, its adjacent term pairs (a query's adjacent terms there are a phrase)."""
    seqs: list[tuple[float, list[str]]] = [
        (FIELD_WEIGHTS["title"], terms_of(rec.title)),
        (FIELD_WEIGHTS["summary"], terms_of(rec.summary)),
        (FIELD_WEIGHTS["text"], terms_of(rec.text)),
    ]
    seqs.extend((FIELD_WEIGHTS["keywords"], terms_of(str(kw))) for kw in rec.keywords)
    seqs.extend((FIELD_WEIGHTS["areas"], terms_of(a.title))
                for a in kb.key_areas if a.id in rec.areas)
    return tuple((weight, frozenset(itertools.pairwise(seq))) for weight, seq in seqs)


def _documents(kb: KnowledgeBase) -> tuple[_Doc, ...]:
    """The indexed recommendations, cached per knowledge base (a reload builds a new one)."""
    try:
        return _cached_documents(kb)
    except TypeError:  # an unhashable, hand-built knowledge base: index it afresh
        return _index(kb)


@functools.lru_cache(maxsize=4)
def _cached_documents(kb: KnowledgeBase) -> tuple[_Doc, ...]:
    return _index(kb)


def _index(kb: KnowledgeBase) -> tuple[_Doc, ...]:
    docs = []
    for rec in kb.recommendations:
        fields = _fields(kb, rec)
        docs.append(_Doc(rec=rec, fields=fields,
                         counts={name: Counter(ts) for name, ts in fields.items()},
                         bigrams=_bigrams(kb, rec)))
    return tuple(docs)


def _query_terms(words: str) -> tuple[list[str], list[str], list[str]]:
    """(recommendation/area ids, stemmed terms in order, the surface words they came from)."""
    ids: list[str] = []
    terms: list[str] = []
    surface: list[str] = []
    for word in words_of(words[:MAX_QUERY_CHARS]):
        if _REC_ID.match(word) or _AREA_ID.match(word):
            ids.append(word.upper())
            continue
        if word in STOPWORDS:
            continue
        for form in _expand(word):
            terms.append(stem(form))
            surface.append(form)
        if len(terms) >= MAX_QUERY_TERMS:
            break
    return ids, terms[:MAX_QUERY_TERMS], surface[:MAX_QUERY_TERMS]


def _document_frequency(docs: tuple[_Doc, ...], term: str) -> int:
    """In how many recommendations the term occurs in their own words (else in area titles).

    Key-area titles are shared by every recommendation serving the area, so counting them would
    make an area's words look common and drown the one recommendation that is about them.
    """
    own = sum(1 for d in docs if any(d.counts[f][term] for f in OWN_FIELDS))
    return own or sum(1 for d in docs if d.counts["areas"][term])


def _bm25f(docs: tuple[_Doc, ...], terms: Iterable[str]) -> list[tuple[float, set[str]]]:
    """BM25F: weighted, length-normalised term frequencies summed over fields, then saturated."""
    n = len(docs)
    avg_len = {name: (sum(len(d.fields[name]) for d in docs) / n) or 1.0 for name in FIELD_WEIGHTS}
    unique = list(dict.fromkeys(terms))
    df = {t: _document_frequency(docs, t) for t in unique}
    results: list[tuple[float, set[str]]] = []
    for d in docs:
        score = 0.0
        matched: set[str] = set()
        for t in unique:
            if not df[t]:
                continue
            tf = 0.0
            for name, weight in FIELD_WEIGHTS.items():
                freq = d.counts[name][t]
                if freq:
                    norm = 1.0 - B + B * len(d.fields[name]) / avg_len[name]
                    tf += weight * freq / norm
            if tf:
                idf = math.log(1.0 + (n - df[t] + 0.5) / (df[t] + 0.5))
                score += idf * tf * (K1 + 1.0) / (tf + K1)
                matched.add(t)
        results.append((score, matched))
    return results


def _phrase_bonus(doc: _Doc, terms: list[str]) -> float:
    """A bonus for each pair of adjacent query terms found side by side in one field."""
    if len(terms) < 2:
        return 0.0
    pairs = {(a, b) for a, b in itertools.pairwise(terms) if a != b}
    return sum(PHRASE_BONUS * weight * len(pairs & present) for weight, present in doc.bigrams)


def rank(kb: KnowledgeBase, words: str, *, limit: int = 5) -> list[SearchHit]:
    """Recommendations ranked by relevance to the words (best first); empty when nothing matches."""
    if not isinstance(words, str) or limit <= 0 or not kb.recommendations:
        return []
    ids, terms, surface = _query_terms(words)
    if not ids and not terms:
        return []
    docs = _documents(kb)
    scored = _bm25f(docs, terms) if terms else [(0.0, set()) for _ in docs]
    by_stem = dict(zip(terms, surface, strict=False))
    hits: list[tuple[float, int, SearchHit]] = []
    for position, (doc, (score, matched)) in enumerate(zip(docs, scored, strict=False)):
        labels = [by_stem[t] for t in terms if t in matched]
        if score:
            score += _phrase_bonus(doc, terms)
        rec_id = doc.rec.id.upper()
        if rec_id in ids:
            score += ID_SCORE
            labels.insert(0, doc.rec.id)
        for area_id in ids:
            if area_id in doc.rec.areas:
                score += AREA_ID_SCORE
                labels.append(area_id)
        if score > 0:
            hit = SearchHit(recommendation=doc.rec, score=round(score, 6),
                            matched=tuple(dict.fromkeys(labels)))
            hits.append((-score, position, hit))
    hits.sort(key=lambda h: (h[0], h[1]))
    return [h[2] for h in hits[:limit]]


_W = TypeVar("_W", tuple[str, ...], frozenset[str])

def vocabulary(kb: KnowledgeBase) -> list[str]:
    """Words a member could search for: words of titles, keywords, area titles; whole keywords."""
    return list(_per_knowledge_base(_vocabulary, kb))


def _per_knowledge_base(build: Callable[[KnowledgeBase], _W], kb: KnowledgeBase) -> _W:
    """What `build` makes of a knowledge base, made once per knowledge base (as its documents
    are: a reload builds a new one)."""
    try:
        return _cached_words(build, kb)
    except TypeError:  # an unhashable, hand-built knowledge base
        return build(kb)


@functools.lru_cache(maxsize=12)
def _cached_words(build: Callable[[KnowledgeBase], _W], kb: KnowledgeBase) -> _W:
    return build(kb)


def _vocabulary(kb: KnowledgeBase) -> tuple[str, ...]:
    vocab: dict[str, None] = {}
    for rec in kb.recommendations:
        for phrase in (rec.title, *map(str, rec.keywords)):
            for word in words_of(phrase):
                if word not in STOPWORDS and len(word) > 2 and not word.isdigit():
                    vocab[word] = None
        for kw in rec.keywords:
            vocab[str(kw).strip().lower()] = None
    for area in kb.key_areas:
        for word in words_of(area.title):
            if word not in STOPWORDS and len(word) > 2:
                vocab[word] = None
    return tuple(vocab)


def examples(kb: KnowledgeBase, count: int = 3) -> list[str]:
    """A few keywords spread across the recommendations, to show what can be searched for."""
    firsts = list(dict.fromkeys(str(r.keywords[0]) for r in kb.recommendations if r.keywords))
    if len(firsts) <= count:
        return firsts
    step = len(firsts) / count
    return [firsts[int(i * step)] for i in range(count)]


def suggestions(kb: KnowledgeBase, words: str) -> list[str]:
    """Up to five close vocabulary words for what was typed, else a few example keywords."""
    if not isinstance(words, str):
        return examples(kb)[:MAX_SUGGESTIONS]
    vocab = _per_knowledge_base(_vocabulary, kb)
    found: dict[str, None] = {}
    typed = [w for w in words_of(words[:MAX_QUERY_CHARS]) if w not in STOPWORDS]
    for word in list(dict.fromkeys(typed))[:MAX_QUERY_TERMS]:
        if len(word) > 40:
            continue
        for close in difflib.get_close_matches(word, vocab, n=3, cutoff=SUGGESTION_CUTOFF):
            if close != word:
                found[close] = None
    if found:
        return list(found)[:MAX_SUGGESTIONS]
    return examples(kb)[:MAX_SUGGESTIONS]


# --- the whole report: passages besides recommendations ----------------------------------------

PASSAGE_LIMIT = 3
SNIPPET_CHARS = 320
CORRECTION_CUTOFF = 0.8
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z“\"])")


@dataclass(frozen=True)
class PassageHit:
    """A paragraph of the report matched by a search: the sentences that matched, and which words."""

    passage: Passage
    score: float
    snippet: str
    words: tuple[str, ...]  # the words of the snippet that matched, as written there


@dataclass(frozen=True)
class ReportSearch:
    """Everything a search found: recommendations first, then passages of the report."""

    recommendations: tuple[SearchHit, ...]
    passages: tuple[PassageHit, ...]
    corrected: str | None = None  # the words searched for instead, when a typo was corrected

    def __bool__(self) -> bool:
        return bool(self.recommendations or self.passages)


@functools.lru_cache(maxsize=4)
def _passage_index(passages: tuple[Passage, ...]) -> tuple[tuple[Passage, Counter[str], int], ...]:
    out = []
    for p in passages:
        terms = terms_of(p.text)
        out.append((p, Counter(terms), len(terms)))
    return tuple(out)


def rank_passages(kb: KnowledgeBase, words: str, *, limit: int = PASSAGE_LIMIT) -> list[PassageHit]:
    """Paragraphs of the report ranked by BM25 for the words (best first)."""
    if not isinstance(words, str) or limit <= 0 or not kb.passages:
        return []
    _, terms, _ = _query_terms(words)
    unique = list(dict.fromkeys(terms))
    if not unique:
        return []
    index = _passage_index(kb.passages)
    n = len(index)
    avg = (sum(length for _, _, length in index) / n) or 1.0
    df = {t: sum(1 for _, counts, _ in index if counts[t]) for t in unique}
    scored: list[tuple[int, float, int, Passage, set[str]]] = []
    for position, (p, counts, length) in enumerate(index):
        score, matched = 0.0, set()
        for t in unique:
            if counts[t]:
                idf = math.log(1.0 + (n - df[t] + 0.5) / (df[t] + 0.5))
                tf = counts[t] / (1.0 - B + B * length / avg)
                score += idf * tf * (K1 + 1.0) / (tf + K1)
                matched.add(t)
        if score > 0:  # a paragraph with more of the words first, then by score
            scored.append((-len(matched), -score, position, p, matched))
    scored.sort(key=lambda s: s[:3])
    return [_passage_hit(p, -neg, matched) for _, neg, _, p, matched in scored[:limit]]


def _matching_words(text: str, matched: set[str]) -> list[str]:
    return [w for w in dict.fromkeys(m.group(0) for m in _TOKEN.finditer(text))
            if any(stem(form) in matched for form in _expand(_normalise(w).replace("'", "")))]


def _passage_hit(p: Passage, score: float, matched: set[str]) -> PassageHit:
    """The passage's best sentences (most matched terms first, kept in order) as the snippet."""
    sentences = _SENTENCE.split(p.text)
    ranked = sorted(range(len(sentences)),
                    key=lambda i: -len({t for t in terms_of(sentences[i]) if t in matched}))
    chosen: list[int] = []
    for i in ranked:
        if not {t for t in terms_of(sentences[i]) if t in matched}:
            break
        if chosen and sum(len(sentences[j]) for j in chosen) + len(sentences[i]) > SNIPPET_CHARS:
            break
        chosen.append(i)
    snippet = " … ".join(sentences[i] for i in sorted(chosen)) or sentences[0]
    if len(snippet) > SNIPPET_CHARS:
        snippet = snippet[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"
    return PassageHit(passage=p, score=round(score, 6), snippet=snippet,
                      words=tuple(_matching_words(snippet, matched)))


def _known_terms(kb: KnowledgeBase) -> frozenset[str]:
    known = {t for d in _documents(kb) for counts in d.counts.values() for t in counts}
    known.update(t for _, counts, _ in _passage_index(kb.passages) for t in counts)
    return frozenset(known)


def _surface_vocabulary(kb: KnowledgeBase) -> tuple[str, ...]:
    texts = [f"{r.title} {r.summary} {r.text} {' '.join(map(str, r.keywords))}"
             for r in kb.recommendations] + [p.text for p in kb.passages]
    return tuple(dict.fromkeys(w for t in texts for w in words_of(t)
                               if w not in STOPWORDS and len(w) > 3 and not w.isdigit()))


def corrected(kb: KnowledgeBase, words: str) -> str | None:
    """The words with each one that occurs nowhere in the report replaced by the closest word that
    does (one typo tolerated: “Meditteranean” → “mediterranean”); None when nothing changed."""
    if not isinstance(words, str):
        return None
    known = _per_knowledge_base(_known_terms, kb)
    vocab = _per_knowledge_base(_surface_vocabulary, kb)
    out, changed = [], False
    for word in words_of(words[:MAX_QUERY_CHARS])[:MAX_QUERY_TERMS]:
        stems = [stem(f) for f in _expand(word)]
        if word in STOPWORDS or _REC_ID.match(word) or _AREA_ID.match(word) or \
                any(s in known for s in stems) or len(word) > 40 or len(word) < 4:
            out.append(word)
            continue
        close = difflib.get_close_matches(word, vocab, n=1, cutoff=CORRECTION_CUTOFF)
        if close:
            out.append(close[0])
            changed = True
        else:
            out.append(word)
    return " ".join(out) if changed else None


def search_report(kb: KnowledgeBase, words: str, *, limit: int = 5) -> ReportSearch:
    """Recommendations and passages of the report for the words; a misspelt word is corrected
    when the words as typed find nothing."""
    found = ReportSearch(tuple(rank(kb, words, limit=limit)), tuple(rank_passages(kb, words)))
    if found:
        return found
    fixed = corrected(kb, words)
    if fixed is None:
        return found
    return ReportSearch(tuple(rank(kb, fixed, limit=limit)), tuple(rank_passages(kb, fixed)),
                        corrected=fixed)
