"""Claim-clustering quality on public data: B-cubed precision, recall and F1.

Each row (Emergent's format: `claim_id`, `headline`) becomes a one-claim record
(statement = quote = the text); the records are reconciled exactly as `annotate
reconcile` does, and the consolidated claims are scored against the gold ids. B-cubed
(Bagga & Baldwin 1998) averages, over items, the share of an item's predicted cluster
that is in its gold cluster (precision) and the share of its gold cluster that is in its
predicted cluster (recall).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from annotator.core.errors import InputError
from annotator.core.models import AnnotationInfo, ArticleAnnotation, ArticleInfo, ClaimRecord
from annotator.reconcile.clustering import PairJudge
from annotator.reconcile.embeddings import Embedder
from annotator.reconcile.summary import reconcile


@dataclass(frozen=True)
class ClusterRow:
    text: str
    gold: str


@dataclass(frozen=True)
class ClusterScore:
    items: int
    clusters: int  # consolidated claims
    gold_clusters: int
    precision: float
    recall: float
    f1: float

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def read_cluster_rows(
    path: Path, *, text_field: str = "headline", gold_field: str = "claim_id", unique: bool = False
) -> list[ClusterRow]:
    """Rows with a text and a gold cluster id; `unique`: each (text, gold) once."""
    rows: list[ClusterRow] = []
    seen: set[tuple[str, str]] = set()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(str(path), f"cannot read: {exc}") from None
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(str(path), f"line {n}: not JSON ({exc.msg})") from None
        text, gold = data.get(text_field), data.get(gold_field)
        if not isinstance(text, str) or not text.strip() or gold is None:
            raise InputError(str(path), f"line {n}: needs {text_field!r} and {gold_field!r}")
        row = ClusterRow(" ".join(text.split()), str(gold))
        if unique and (row.text, row.gold) in seen:
            continue
        seen.add((row.text, row.gold))
        rows.append(row)
    if not rows:
        raise InputError(str(path), "no rows")
    return rows


def b_cubed(predicted: Mapping[str, str], gold: Mapping[str, str]) -> tuple[float, float, float]:
    """B-cubed (precision, recall, F1) of item -> cluster labels against gold labels."""
    items = sorted(gold)
    if not items:
        return 0.0, 0.0, 0.0
    pred_size = Counter(predicted[i] for i in items)
    gold_size = Counter(gold[i] for i in items)
    both = Counter((predicted[i], gold[i]) for i in items)
    precision = sum(both[predicted[i], gold[i]] / pred_size[predicted[i]] for i in items)
    recall = sum(both[predicted[i], gold[i]] / gold_size[gold[i]] for i in items)
    p, r = precision / len(items), recall / len(items)
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def _record(index: int, row: ClusterRow) -> ArticleAnnotation:
    aid = f"row{index:06d}"
    return ArticleAnnotation(
        article=ArticleInfo(
            id=aid, path=f"{aid}.txt", sha256=hashlib.sha256(row.text.encode()).hexdigest()
        ),
        annotation=AnnotationInfo(backend="rules"),
        claims=[ClaimRecord(id="c1", statement=row.text, quote=row.text)],
    )


def score_clusters(
    rows: Sequence[ClusterRow],
    *,
    embedder: Embedder | None = None,
    judge: PairJudge | None = None,
) -> ClusterScore:
    """Reconcile the rows as one-claim records and score the claims against the gold ids."""
    records = [_record(i, row) for i, row in enumerate(rows)]
    summary = reconcile(records, embedder=embedder, judge=judge)
    predicted = {p.article: c.id for c in summary.claims for p in c.provenance}
    gold = {r.article.id: row.gold for r, row in zip(records, rows, strict=True)}
    p, r, f1 = b_cubed(predicted, gold)
    return ClusterScore(
        items=len(rows),
        clusters=len(summary.claims),
        gold_clusters=len(set(gold.values())),
        precision=round(p, 4),
        recall=round(r, 4),
        f1=round(f1, 4),
    )
