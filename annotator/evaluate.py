"""Score stance predictions against gold labels: accuracy, macro-F1, per-class P/R/F1.

Reads rows of the `../shared/eval/` format (`claim`, `headline` and/or `body`, gold
`stance`), runs any predictor over them and computes the metrics. The metric functions
are pure and take plain lists, so they are tested without any data file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from annotator.core.errors import InputError

EvalStance = Literal["confirm", "deny", "unverified", "unrelated"]
EVAL_STANCES: tuple[EvalStance, ...] = ("confirm", "deny", "unverified", "unrelated")
Predictor = Callable[[str, str], str]


@dataclass(frozen=True)
class EvalRow:
    claim: str
    text: str  # headline and body joined; what the predictor reads
    gold: EvalStance
    row_id: str


@dataclass
class ClassScore:
    precision: float
    recall: float
    f1: float
    support: int  # gold rows of this class
    predicted: int  # rows predicted as this class


@dataclass
class EvalReport:
    n: int
    accuracy: float
    macro_f1: float  # over the gold classes present
    majority_class: str
    majority_accuracy: float  # always answering the most common gold class
    labels: list[str]  # row and column order of the confusion matrix
    per_class: dict[str, ClassScore]
    confusion: dict[str, dict[str, int]]  # gold -> predicted -> count
    backend: str = "rules"
    file: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------- reading rows


def row_text(row: dict[str, Any]) -> str:
    """Headline and body as one text (either may be missing)."""
    parts = [row.get("headline"), row.get("body")]
    return "\n\n".join(p.strip() for p in parts if isinstance(p, str) and p.strip())


def read_rows(
    path: Path, limit: int | None = None, on_bad_row: Callable[[InputError], None] | None = None
) -> list[EvalRow]:
    """Rows of an eval JSONL file. A malformed or hostile row (invalid JSON, nesting too
    deep, a huge number, a lone surrogate) is an InputError naming file and line: passed to
    `on_bad_row` and skipped, or raised when no callback is given."""
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.reason if isinstance(exc, UnicodeDecodeError) else exc.strerror or exc
        raise InputError(str(path), f"cannot read: {reason}") from exc
    rows: list[EvalRow] = []
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rows.append(_eval_row(line, f"{path}:{lineno}", lineno))
        except InputError as exc:
            if on_bad_row is None:
                raise
            on_bad_row(exc)
            continue
        if limit is not None and len(rows) >= limit:
            break
    if not rows:
        raise InputError(str(path), "no evaluation rows")
    return rows


def _eval_row(line: str, where: str, lineno: int) -> EvalRow:
    from annotator.load.articles import parse_json_row

    data, problem = parse_json_row(line)
    if problem is not None:
        raise InputError(where, problem)
    if not isinstance(data, dict):
        raise InputError(where, "row is not a JSON object")
    claim, gold, text = data.get("claim"), data.get("stance"), row_text(data)
    if not isinstance(claim, str) or not claim.strip():
        raise InputError(where, "row has no 'claim'")
    if gold not in EVAL_STANCES:
        raise InputError(where, f"gold 'stance' {gold!r} is not one of {EVAL_STANCES}")
    if not text:
        raise InputError(where, "row has neither 'headline' nor 'body' text")
    try:
        f"{claim}{text}".encode()
    except UnicodeEncodeError:
        raise InputError(where, "text is not valid Unicode (a lone surrogate)") from None
    row_id = str(data.get("article_id") or data.get("claim_id") or lineno)
    return EvalRow(claim=claim, text=text, gold=gold, row_id=row_id)


# ---------------------------------------------------------------- metrics


def confusion_matrix(
    gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str]
) -> dict[str, dict[str, int]]:
    if len(gold) != len(predicted):
        raise ValueError("gold and predicted differ in length")
    matrix = {g: dict.fromkeys(labels, 0) for g in labels}
    for g, p in zip(gold, predicted, strict=True):
        matrix.setdefault(g, dict.fromkeys(labels, 0))
        matrix[g][p] = matrix[g].get(p, 0) + 1
    return matrix


def per_class_scores(
    gold: Sequence[str], predicted: Sequence[str], labels: Iterable[str]
) -> dict[str, ClassScore]:
    scores: dict[str, ClassScore] = {}
    for label in labels:
        tp = sum(1 for g, p in zip(gold, predicted, strict=True) if g == label and p == label)
        n_pred = sum(1 for p in predicted if p == label)
        n_gold = sum(1 for g in gold if g == label)
        precision = tp / n_pred if n_pred else 0.0
        recall = tp / n_gold if n_gold else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores[label] = ClassScore(
            precision=round(precision, 4),
            recall=round(recall, 4),
            f1=round(f1, 4),
            support=n_gold,
            predicted=n_pred,
        )
    return scores


def accuracy(gold: Sequence[str], predicted: Sequence[str]) -> float:
    if not gold:
        return 0.0
    return sum(1 for g, p in zip(gold, predicted, strict=True) if g == p) / len(gold)


def macro_f1(scores: dict[str, ClassScore], gold: Sequence[str]) -> float:
    """Mean F1 over the classes that occur in the gold labels."""
    present = [label for label in scores if label in set(gold)]
    if not present:
        return 0.0
    return sum(scores[label].f1 for label in present) / len(present)


def majority_baseline(gold: Sequence[str]) -> tuple[str, float]:
    """The most common gold class (ties: first in EVAL_STANCES order) and its accuracy."""
    counts = Counter(gold)
    if not counts:
        return "", 0.0
    order: dict[str, int] = {s: i for i, s in enumerate(EVAL_STANCES)}
    label = min(counts, key=lambda s: (-counts[s], order.get(s, len(order))))
    return label, counts[label] / len(gold)


def score(
    gold: Sequence[str],
    predicted: Sequence[str],
    *,
    backend: str = "rules",
    file: str | None = None,
) -> EvalReport:
    """All metrics for one run. Labels: the eval stances seen in gold or predictions."""
    seen = set(gold) | set(predicted)
    labels = [s for s in EVAL_STANCES if s in seen] + sorted(seen - set(EVAL_STANCES))
    scores = per_class_scores(gold, predicted, labels)
    majority, majority_acc = majority_baseline(gold)
    return EvalReport(
        n=len(gold),
        accuracy=round(accuracy(gold, predicted), 4),
        macro_f1=round(macro_f1(scores, gold), 4),
        majority_class=majority,
        majority_accuracy=round(majority_acc, 4),
        labels=labels,
        per_class=scores,
        confusion=confusion_matrix(gold, predicted, labels),
        backend=backend,
        file=file,
    )


# ---------------------------------------------------------------- running predictors


def allows_unrelated(rows: Sequence[EvalRow]) -> bool:
    """Whether the task has an 'unrelated' class at all (FNC-1 does, Emergent does not)."""
    return any(r.gold == "unrelated" for r in rows)


def evaluate_rows(
    rows: Sequence[EvalRow],
    predict: Predictor,
    *,
    backend: str = "rules",
    file: str | None = None,
) -> EvalReport:
    predicted = [predict(r.claim, r.text) for r in rows]
    return score([r.gold for r in rows], predicted, backend=backend, file=file)
