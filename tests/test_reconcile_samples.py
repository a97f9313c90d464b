"""Offline `annotate run data/` on the five samples (CLI in a subprocess): what the event
summary says about the call, Kyiv being informed, Woodward's claim and TASS's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from annotator.core.models import EventClaim, EventSummary
from annotator.core.yamlio import load_yaml

DATA = Path(__file__).resolve().parent.parent / "data"
A0, A1, A2, A4 = (
    "000_76eae113c55e03b6",
    "001_63f0ae8f90ffef72",
    "002_82074e89d2ff2d49",
    "004_5ac8e587453deaa2",
)


@pytest.fixture(scope="module")
def summary(tmp_path_factory: pytest.TempPathFactory) -> EventSummary:
    out = tmp_path_factory.mktemp("run")
    done = subprocess.run(
        [sys.executable, "-m", "annotator", "run", str(DATA), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    text = (out / "data" / "event.yaml").read_text(encoding="utf-8")
    return EventSummary.model_validate(load_yaml(text))


def claim_of(summary: EventSummary, article: str, claim: str) -> EventClaim:
    (found,) = [
        c for c in summary.claims for p in c.provenance if (p.article, p.claim) == (article, claim)
    ]
    return found


def test_kyiv_informed_is_one_disputed_claim(summary: EventSummary) -> None:
    informed = claim_of(summary, A2, "c4")  # the Post: Kyiv was informed
    assert informed.status == "disputed"
    assert claim_of(summary, A1, "c4").id == informed.id  # 001's hedged relay
    assert claim_of(summary, A1, "c6").id == informed.id  # Tikhiy's denial
    (conflict,) = [c for c in summary.conflicts if c.claim == informed.id]
    assert "Georgiy Tikhiy" in conflict.deny
    assert informed.merged_by == "embedding"
    # "Ukraine could have endorsed or opposed the call": a possibility, not the fact
    assert claim_of(summary, A1, "c7").id != informed.id


def test_woodward_claim_is_disputed(summary: EventSummary) -> None:
    woodward = claim_of(summary, A4, "c11")
    assert woodward.status == "disputed"
    (conflict,) = [c for c in summary.conflicts if c.claim == woodward.id]
    assert "Bob Woodward" in conflict.confirm
    assert {"Steven Cheung", "Dmitry Peskov"} <= set(conflict.deny)


def test_three_propositions_about_when_they_spoke_stay_apart(summary: EventSummary) -> None:
    after_election = claim_of(summary, A4, "c2")
    after_first_term = claim_of(summary, A4, "c11")
    not_since_2020 = claim_of(summary, A4, "c9")
    assert len({after_election.id, after_first_term.id, not_since_2020.id}) == 3


def test_the_call_is_one_disputed_claim(summary: EventSummary) -> None:
    call = claim_of(summary, A4, "c2")  # the Kremlin denies the call
    assert call.status == "disputed"
    for article, claim in ((A0, "c5"), (A0, "c6"), (A4, "c1"), (A4, "c3"), (A4, "c6")):
        assert claim_of(summary, article, claim).id == call.id
    (conflict,) = [c for c in summary.conflicts if c.claim == call.id]
    # 003 names no outlet: its own voice reads as the article, not as a bare id
    assert "article 003_325c0eea4893e8c8 (outlet not named)" in conflict.confirm


def test_claims_that_share_only_the_protagonists_stay_apart(summary: EventSummary) -> None:
    """What the call discussed is not TASS's "have not spoken since July 2020" (004 has no
    date: it reports the folder's event), and Tikhiy's "Ukraine could have endorsed or
    opposed the call" is not Zelensky's "a just fast resolution means losses for Ukraine"
    (they share only "Ukraine")."""
    assert claim_of(summary, A4, "c5").id != claim_of(summary, A4, "c9").id
    assert claim_of(summary, A1, "c7").id != claim_of(summary, A1, "c12").id
    assert claim_of(summary, A1, "c7").status == "denied"
