"""`--embed-model`: reconcile compares statements with the endpoint's /v1/embeddings (fake
server, real socket), cached by statement and model; and `run --backend llm` wires the
run's endpoint into reconcile (adjudication in the manifest, --embed-model)."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from annotator.cli import app
from annotator.core.errors import EndpointError
from annotator.core.models import (
    AnnotationInfo,
    ArticleAnnotation,
    ArticleInfo,
    ClaimRecord,
    EventSummary,
)
from annotator.core.settings import resolve_endpoint
from annotator.core.yamlio import dump_yaml, load_yaml
from annotator.extract.llm.blocking import BlockingClient
from annotator.extract.llm.embeddings import EMBED_BATCH, EndpointEmbedder
from annotator.pipeline.endpoint_reconcile import endpoint_helpers, reconcile_records
from annotator.pipeline.run import RunOptions, run_pipeline
from annotator.reconcile.summary import reconcile
from tests.conftest import LLM_FIXTURES
from tests.fake_llm import FakeChatServer

# Statements of another event, no names: the bundled model keeps each apart
BRIDGE = "The harbour bridge reopened to traffic"
BAKERY = "Shares of the bakery chain fell sharply"
OTHERS = [
    "Heavy rain flooded the valley villages",
    "The orchestra cancelled its winter tour",
    "Local farmers reported a record apple harvest",
]


def one_claim_records(texts: list[str]) -> list[ArticleAnnotation]:
    return [
        ArticleAnnotation(
            article=ArticleInfo(
                id=f"a{i}", path=f"a{i}.txt", sha256=hashlib.sha256(t.encode()).hexdigest()
            ),
            annotation=AnnotationInfo(backend="rules"),
            claims=[ClaimRecord(id="c1", statement=t, quote=t)],
        )
        for i, t in enumerate(texts)
    ]


def scripted_vectors(text: str) -> list[float]:
    """BRIDGE and BAKERY point the same way; every other text gets its own axis."""
    vector = [0.0] * 16
    if text in (BRIDGE, BAKERY):
        vector[0] = 1.0
    else:
        vector[1 + int(hashlib.sha256(text.encode()).hexdigest(), 16) % 15] = 1.0
    return vector


def claim_of(summary: EventSummary, statement: str) -> Any:
    (found,) = [
        c for c in summary.claims for p in c.provenance if p.quote == statement
    ]  # one-claim records: quote = statement
    return found


@pytest.fixture
def server() -> Any:
    with FakeChatServer(LLM_FIXTURES) as srv:
        srv.embed_text = scripted_vectors
        yield srv


def test_endpoint_vectors_drive_clustering_and_are_cached(
    server: FakeChatServer, tmp_path: Path
) -> None:
    records = one_claim_records([BRIDGE, BAKERY, *OTHERS])
    offline = reconcile(records)
    assert claim_of(offline, BRIDGE).id != claim_of(offline, BAKERY).id

    config = resolve_endpoint(base_url=server.base_url, model="m")
    helpers = endpoint_helpers(config, "tools", tmp_path, max_adjudications=0, embed_model="emb")
    summary = reconcile_records(records, helpers)
    requests = server.embedding_requests()
    assert requests and all(r["model"] == "emb" for r in requests)
    sent = {t for r in requests for t in r["input"]}
    assert {BRIDGE, BAKERY, *OTHERS} <= sent  # every statement went to /v1/embeddings
    merged = claim_of(summary, BRIDGE)
    assert merged is claim_of(summary, BAKERY) and merged.merged_by == "embedding"
    assert all(claim_of(summary, t).id != merged.id for t in OTHERS)
    assert helpers.describe()["embeddings"] == f"emb@{server.base_url}"

    again = endpoint_helpers(config, "tools", tmp_path, max_adjudications=0, embed_model="emb")
    assert reconcile_records(records, again) == summary
    assert len(server.embedding_requests()) == len(requests)  # cached by statement + model
    other_model = endpoint_helpers(
        config, "tools", tmp_path, max_adjudications=0, embed_model="emb2"
    )
    reconcile_records(records, other_model)
    assert any(r["model"] == "emb2" for r in server.embedding_requests())  # another model


def test_batches_keep_input_order(server: FakeChatServer) -> None:
    texts = [f"statement number {i} about harbour works" for i in range(EMBED_BATCH + 3)]
    client = BlockingClient(resolve_endpoint(base_url=server.base_url, model="m"), "tools")
    try:
        vectors = EndpointEmbedder(client, "emb").embed(texts)
    finally:
        client.close()
    assert vectors.shape == (len(texts), 16) and vectors.dtype == np.float32
    expected = np.array([scripted_vectors(t) for t in texts], dtype=np.float32)
    assert np.allclose(vectors, expected / np.linalg.norm(expected, axis=1, keepdims=True))
    assert len(server.embedding_requests()) == 2  # batches of EMBED_BATCH


def test_an_endpoint_without_embeddings_is_a_one_line_error(tmp_path: Path) -> None:
    with FakeChatServer() as srv:
        srv.embed_text = lambda text: []  # a server that answers with nothing usable
        client = BlockingClient(resolve_endpoint(base_url=srv.base_url, model="m"), "tools")
        with pytest.raises(EndpointError, match="--embed-model 'emb'"):
            EndpointEmbedder(client, "emb").embed(["a", "b"])
        client.close()


# ---------------------------------------------------------------- `run --backend llm`


def run_llm(data: Path, out: Path, server: FakeChatServer, **opts: Any) -> Any:
    config = resolve_endpoint(base_url=server.base_url, model="m", mode="tools")
    return asyncio.run(run_pipeline(RunOptions(data, out, "llm", config, **opts)))


def test_run_adjudicates_with_its_endpoint_and_records_it(
    articles_dir: Path, tmp_path: Path, server: FakeChatServer
) -> None:
    server.add_responder("SameClaim", lambda body: {"same": True, "reason": "scripted"})
    result = run_llm(articles_dir, tmp_path / "out", server, max_adjudications=3)
    calls = len(server.chat_requests("SameClaim"))
    assert 0 < calls <= 3
    manifest = load_yaml((result.run_dir / "manifest.yaml").read_text("utf-8"))
    adjudication = manifest["run"]["reconcile"]["adjudication"]
    assert adjudication["calls"] == calls and adjudication["max_adjudications"] == 3
    assert adjudication["prompt"] == "same_claim_v2" and adjudication["model"] == "m"
    event = (result.run_dir / "event.yaml").read_text("utf-8")
    assert result.reconcile_note.startswith(f"adjudicated {calls} uncertain pair(s) with m")
    if adjudication["same"]:
        assert "merged_by: model" in event

    rerun = run_llm(articles_dir, tmp_path / "out", server, max_adjudications=3)
    assert len(server.chat_requests("SameClaim")) == calls  # cached with the run's answers
    assert (rerun.run_dir / "event.yaml").read_text("utf-8") == event


def test_run_cli_takes_embed_model_and_max_adjudications(
    articles_dir: Path, tmp_path: Path, server: FakeChatServer
) -> None:
    out = tmp_path / "out"
    args = ["run", str(articles_dir), "--out", str(out), "--base-url", server.base_url]
    args += ["--model", "m", "--mode", "tools", "--backend", "llm"]
    result = CliRunner().invoke(app, [*args, "--embed-model", "emb", "--max-adjudications", "0"])
    assert result.exit_code == 0, result.output
    assert server.embedding_requests() and not server.chat_requests("SameClaim")
    manifest = load_yaml((out / "data" / "manifest.yaml").read_text("utf-8"))
    assert manifest["run"]["reconcile"]["embeddings"] == f"emb@{server.base_url}"
    EventSummary.model_validate(load_yaml((out / "data" / "event.yaml").read_text("utf-8")))

    offline = ["run", str(articles_dir), "--out", str(out), "--backend", "rules"]
    rules = CliRunner().invoke(app, [*offline, "--embed-model", "e"])
    assert rules.exit_code != 0


def test_records_written_for_a_cli_reconcile(tmp_path: Path, server: FakeChatServer) -> None:
    folder = tmp_path / "records"
    folder.mkdir()
    for rec in one_claim_records([BRIDGE, BAKERY, *OTHERS]):
        (folder / f"{rec.article.id}.yaml").write_text(dump_yaml(rec.to_yaml_dict()), "utf-8")
    endpoint = ["--base-url", server.base_url, "--model", "m", "--mode", "tools"]
    target = ["-o", str(tmp_path / "e.yaml")]
    result = CliRunner().invoke(
        app, ["reconcile", str(folder), *endpoint, "--embed-model", "emb", *target]
    )
    assert result.exit_code == 0, result.output
    summary = EventSummary.model_validate(load_yaml((tmp_path / "e.yaml").read_text("utf-8")))
    assert claim_of(summary, BRIDGE) == claim_of(summary, BAKERY)
