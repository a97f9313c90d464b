"""`annotate reconcile` in-process: output, hand corrections, errors."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from annotator.cli import app
from annotator.core.models import EventSummary
from annotator.core.yamlio import dump_yaml, load_yaml
from tests.conftest import subprocess_env

RECORDS = Path(__file__).resolve().parent.parent / "fixtures" / "records"
A1, A4 = "001_63f0ae8f90ffef72", "004_5ac8e587453deaa2"
runner = CliRunner()


def annotate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "annotator", *args],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=120,
    )


@pytest.fixture
def articles(tmp_path: Path) -> Path:
    target = tmp_path / "run" / "articles"
    target.mkdir(parents=True)
    for path in RECORDS.glob("0*.yaml"):
        shutil.copy(path, target / path.name)
    return target


def read_summary(path: Path) -> EventSummary:
    return EventSummary.model_validate(load_yaml(path.read_text(encoding="utf-8")))


def claim_with(summary: EventSummary, article: str, claim: str) -> str:
    (found,) = [
        c for c in summary.claims for p in c.provenance if (p.article, p.claim) == (article, claim)
    ]
    return found.status


def rewrite(path: Path, change: object) -> None:
    data = load_yaml(path.read_text(encoding="utf-8"))
    change(data)  # type: ignore[operator]
    path.write_text(dump_yaml(data), encoding="utf-8")


def test_writes_event_yaml_next_to_the_articles(articles: Path) -> None:
    result = runner.invoke(app, ["reconcile", str(articles)])
    assert result.exit_code == 0, result.output
    target = articles.parent / "event.yaml"
    summary = read_summary(target)
    disputed = sum(c.status == "disputed" for c in summary.claims)
    assert result.output.strip() == (
        f"5 articles: {len(summary.claims)} claims, {disputed} disputed, "
        f"{len(summary.entities)} entities; wrote {target}"
    )
    again = runner.invoke(app, ["reconcile", str(articles), "-o", str(articles.parent / "b.yaml")])
    assert again.exit_code == 0
    assert (articles.parent / "b.yaml").read_bytes() == target.read_bytes()


def test_help_documents_every_option() -> None:
    result = runner.invoke(app, ["reconcile", "--help"])
    assert result.exit_code == 0
    assert "ARTICLES_DIR" in result.output and "--output" in result.output
    assert "event.yaml" in result.output


def test_hand_corrections_show_up(articles: Path, tmp_path: Path) -> None:
    out = tmp_path / "event.yaml"
    assert runner.invoke(app, ["reconcile", str(articles), "-o", str(out)]).exit_code == 0
    assert claim_with(read_summary(out), A1, "c8") == "disputed"  # Kyiv informed in advance

    def soften_denials(data: dict) -> None:  # type: ignore[type-arg]
        for claim in data["claims"]:
            if claim["stance"] == "deny":
                claim["stance"] = "unverified"

    rewrite(articles / f"{A1}.yaml", soften_denials)  # Tikhiy's denials softened
    assert runner.invoke(app, ["reconcile", str(articles), "-o", str(out)]).exit_code == 0
    summary = read_summary(out)
    assert claim_with(summary, A1, "c8") == "confirmed"  # the Post asserts, no one denies
    assert all("Georgiy Tikhiy" not in c.deny for c in summary.conflicts)

    def drop_woodward_denials(data: dict) -> None:  # type: ignore[type-arg]
        data["claims"] = [c for c in data["claims"] if c["id"] not in ("c11", "c12")]

    assert claim_with(summary, A4, "c9") == "disputed"
    rewrite(articles / f"{A4}.yaml", drop_woodward_denials)
    assert runner.invoke(app, ["reconcile", str(articles), "-o", str(out)]).exit_code == 0
    summary = read_summary(out)
    assert claim_with(summary, A4, "c9") == "confirmed"
    assert all((p.article, p.claim) != (A4, "c11") for c in summary.claims for p in c.provenance)

    def fix_speaker(data: dict) -> None:  # type: ignore[type-arg]
        data["speakers"][1]["name"] = "Dmitry Peskov"  # was "Peskov"

    rewrite(articles / f"{A4}.yaml", fix_speaker)
    assert runner.invoke(app, ["reconcile", str(articles), "-o", str(out)]).exit_code == 0
    peskov = [e for e in read_summary(out).entities if e.name == "Dmitry Peskov"]
    assert len(peskov) == 1 and "Peskov" not in peskov[0].aliases


def test_every_bad_record_is_listed_and_the_rest_reconciled(articles: Path) -> None:
    """Issue 10 item 7: not stopped by the first bad record; every one named; exit 1."""
    rewrite(articles / f"{A4}.yaml", lambda data: data["claims"][2].update(stance="probably"))
    rewrite(articles / f"{A1}.yaml", lambda data: data["claims"][0].update(span=[5, 1]))
    proc = annotate("reconcile", str(articles))
    assert proc.returncode == 1, proc.stderr
    bad = [ln for ln in proc.stderr.splitlines() if ln.startswith("annotate: bad record")]
    assert len(bad) == 2
    assert f"{A4}.yaml: field 'claims.2.stance'" in bad[1]
    assert f"{A1}.yaml: field 'claims.0.span'" in bad[0]
    summary = read_summary(articles.parent / "event.yaml")
    assert len(summary.articles) == 3  # the other three records


def test_reconcile_takes_the_run_folder(articles: Path) -> None:
    (articles.parent / "manifest.yaml").write_text(
        "schema: annotator/run-manifest/v1\nrun: {}\narticles: []\n", "utf-8"
    )
    proc = annotate("reconcile", str(articles.parent))
    assert proc.returncode == 0, proc.stderr
    assert len(read_summary(articles.parent / "event.yaml").articles) == 5


def test_output_that_is_a_folder_is_a_usage_error(articles: Path, tmp_path: Path) -> None:
    proc = annotate("reconcile", str(articles), "-o", str(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("annotate: error: -o ") and "is a folder" in proc.stderr


def test_missing_folder_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["reconcile", str(tmp_path / "nope")])
    assert result.exit_code == 2
