"""Nothing a reviewer did is ever lost (issue 10, items 1-4, 6, 13): the CLI in a subprocess."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from annotator.core.yamlio import dump_yaml, load_yaml
from tests.conftest import LLM_FIXTURES, ROOT, start_annotate, subprocess_env
from tests.fake_llm import FakeChatServer

A4 = "004_5ac8e587453deaa2"
ANNOTATE = [sys.executable, "-m", "annotator"]


def annotate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ANNOTATE, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=subprocess_env(),
        timeout=180,
    )


def llm_args(server: FakeChatServer) -> list[str]:
    return ["--base-url", server.base_url, "--model", "m", "--mode", "tools"]


def test_a_hand_edit_survives_any_number_of_runs_until_force(
    articles_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    assert annotate("run", str(articles_dir), "-o", str(out)).returncode == 0
    path = out / "data" / "articles" / f"{A4}.yaml"
    edited = path.read_text("utf-8").replace("stance: deny", "stance: unverified", 1)
    assert edited != path.read_text("utf-8")
    path.write_text(edited, "utf-8")
    for _ in range(3):
        proc = annotate("run", str(articles_dir), "-o", str(out))
        assert proc.returncode == 0, proc.stderr
        assert f"kept hand-edited {A4}.yaml" in proc.stderr
        assert path.read_text("utf-8") == edited
    proc = annotate("run", str(articles_dir), "-o", str(out), "--force")
    assert proc.returncode == 0 and path.read_text("utf-8") != edited


def test_sigint_keeps_ownership_and_earlier_rows(articles_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    articles = out / "data" / "articles"
    assert annotate("run", str(articles_dir), "-o", str(out)).returncode == 0  # rules
    with FakeChatServer(LLM_FIXTURES, latency=0.8) as server:
        args = [*llm_args(server), "--concurrency", "1", "-q"]
        proc = start_annotate("run", str(articles_dir), "-o", str(out), *args)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            done = [p for p in articles.glob("*.yaml") if "backend: llm" in p.read_text("utf-8")]
            if len(done) >= 2:
                break
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 130, err
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("annotate: interrupted: "), err
        assert "run the same command again" in lines[0]
        manifest = load_yaml((out / "data" / "manifest.yaml").read_text("utf-8"))
        assert manifest["run"]["interrupted"] is True
        assert len(manifest["articles"]) == 5  # earlier rows kept
        proc2 = annotate("run", str(articles_dir), "-o", str(out), *llm_args(server))
    assert proc2.returncode == 0, proc2.stderr
    assert "hand-edited" not in proc2.stderr
    for path in articles.glob("*.yaml"):
        assert load_yaml(path.read_text("utf-8"))["annotation"]["backend"] == "llm"


def test_an_edit_of_a_changed_article_is_moved_aside(articles_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert annotate("run", str(articles_dir), "-o", str(out)).returncode == 0
    path = out / "data" / "articles" / f"{A4}.yaml"
    path.write_text(path.read_text("utf-8").replace("stance: deny", "stance: confirm", 1))
    source = articles_dir / f"{A4}.txt"
    source.write_text(source.read_text("utf-8").replace("Kremlin", "Kremlin  officials", 1))
    proc = annotate("run", str(articles_dir), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert f"moved hand-edited {A4}.yaml to .stale/" in proc.stderr
    assert (out / "data" / "articles" / ".stale" / f"{A4}.yaml").is_file()
    record = load_yaml(path.read_text("utf-8"))
    from annotator.load.articles import text_sha256

    assert record["article"]["sha256"] == text_sha256(source.read_text("utf-8"))


def test_forged_quotes_are_regrounded_in_run_and_reconcile(
    articles_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    assert annotate("run", str(articles_dir), "-o", str(out)).returncode == 0
    path = out / "data" / "articles" / f"{A4}.yaml"
    data = load_yaml(path.read_text("utf-8"))
    data["claims"][0]["quote"] = "The moon landing was staged in a studio in Nevada"
    data["claims"][1]["span"] = [113, 99999]
    path.write_text(dump_yaml(data), "utf-8")
    for args in (["run", str(articles_dir), "-o", str(out)], ["reconcile", str(out / "data")]):
        proc = annotate(*args)
        assert proc.returncode == 0, proc.stderr
        event = load_yaml((out / "data" / "event.yaml").read_text("utf-8"))
        prov = {(p["article"], p["claim"]): p for c in event["claims"] for p in c["provenance"]}
        forged, stretched = prov[(A4, "c1")], prov[(A4, "c2")]
        assert forged["span"] is None and forged.get("grounding") in (None, "none")
        assert stretched["span"] != [113, 99999]
    report = (out / "data" / "report.html").read_text("utf-8")
    assert "edited_quote_not_in_text" in report


def test_same_folder_name_refused_and_removed_input_moved_aside(tmp_path: Path) -> None:
    one, two = tmp_path / "a" / "data", tmp_path / "b" / "data"
    for d, word in ((one, "harbour"), (two, "airport")):
        d.mkdir(parents=True)
        (d / f"{word}.txt").write_text(f"The {word} director said it would reopen.", "utf-8")
    out = tmp_path / "out"
    assert annotate("run", str(one), "-o", str(out)).returncode == 0
    proc = annotate("run", str(two), "-o", str(out))
    assert proc.returncode == 2
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("annotate: error:")]
    assert len(errors) == 1 and "--name" in errors[0]
    assert annotate("run", str(two), "-o", str(out), "--name", "data-b").returncode == 0
    (one / "harbour.txt").unlink()
    (one / "pier.txt").write_text("The pier manager said it would reopen.", "utf-8")
    proc = annotate("run", str(one), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "moved harbour.yaml to .stale/" in proc.stderr
    proc = annotate("reconcile", str(out / "data" / "articles"))
    event = load_yaml((out / "data" / "event.yaml").read_text("utf-8"))
    assert [a["id"] for a in event["articles"]] == ["pier"]


def test_failed_article_attempts_and_summary_counts(articles_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with FakeChatServer(LLM_FIXTURES) as server:
        server.enqueue_fault("500", count=40)
        proc = annotate(
            "run", str(articles_dir), "-o", str(out), *llm_args(server),
            "--max-attempts", "3", "--concurrency", "1",
        )  # fmt: skip
    assert proc.returncode == 1
    manifest = load_yaml((out / "data" / "manifest.yaml").read_text("utf-8"))
    failed = [r for r in manifest["articles"] if r["status"] == "failed"]
    assert failed and all(r["attempts"] == 3 for r in failed)
    assert "claims grounded exact 0, fuzzy 0, none 0" in proc.stderr
