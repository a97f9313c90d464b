"""Which candidate pairs a model judge decides, and how its answers enter the linkage.

The judge (a cached, bounded model call, injected by the pipeline) is asked about the
pairs whose score lies near the merge threshold, from JUDGE_BELOW under it to
JUDGE_ABOVE over it: there a pair is as likely one claim as two (measured on Emergent's
headlines: 40-75% of such candidate pairs are one claim, against 90%+ from 0.4 up), so
an answer changes the outcome more often than anywhere else. Nearest the threshold
first, so a budget goes where the score knows least. Each answer replaces the pair's
score before clusters form, so average linkage weighs the model's decisions with
everything else it knows: a "yes" can join and a "no" can keep apart.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from annotator.reconcile.linkage import CLASH_SCORE

PairJudge = Callable[[str, str], bool | None]  # same claim? None: not asked (budget spent)
JUDGE_BELOW = 0.1
JUDGE_ABOVE = 0.2


def is_uncertain(score: float, threshold: float) -> bool:
    return threshold - JUDGE_BELOW <= score < threshold + JUDGE_ABOVE


def adjudicate(
    judge: PairJudge,
    uncertain: list[tuple[float, int, int, int]],
    edges: list[tuple[int, int, float, float, bool]],
    text_of: Sequence[str],
    embed_weight: float,
) -> list[tuple[int, int]]:
    """Put the uncertain pairs ((distance to the threshold, i, j, edge index)) to the
    judge, nearest first, and score each answered pair by the answer: 1 (one claim) or
    `CLASH_SCORE` (two). Unanswered pairs (budget spent, call failed) keep their score.
    Returns the pairs judged the same claim."""
    same: list[tuple[int, int]] = []
    for _, i, j, k in sorted(uncertain):
        verdict = judge(text_of[i], text_of[j])
        if verdict is None:
            continue
        cos = edges[k][2]
        target = 1.0 if verdict else CLASH_SCORE
        edges[k] = (i, j, cos, target - embed_weight * cos, False)
        if verdict:
            same.append((i, j))
    return same
