"""Large folders of records are parsed, and large summaries written, by worker
processes: the same records and the same bytes as one process, errors included."""

from __future__ import annotations

from pathlib import Path

import pytest

from annotator.core import yaml_pool
from annotator.core.yaml_pool import YamlWorkers
from annotator.core.yamlio import dump_yaml, load_yaml
from annotator.reconcile.summary import reconcile
from annotator.records import store
from annotator.records.store import event_summary_yaml, load_article_records, read_article_records

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture
def pooled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers for every input, however small; two of them."""
    monkeypatch.setattr(yaml_pool, "POOL_MIN_BYTES", 0)
    monkeypatch.setenv("ANNOTATE_WORKERS", "2")


def test_workers_parse_and_write_as_one_process_does(pooled: None) -> None:
    docs = [{"a": k, "b": ["x", "y: z", k * 1.5], "c": "line\n" * k} for k in range(40)]
    texts = [dump_yaml(d) for d in docs]
    with YamlWorkers() as pool:
        assert pool.dump(docs, size_hint=1) == texts
        assert pool.load([*texts, "a: [unclosed"]) == [*[load_yaml(t) for t in texts], None]


def test_one_worker_or_a_small_input_stays_in_this_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ANNOTATE_WORKERS", "1")
    with YamlWorkers() as pool:
        assert pool.load(["a: 1", "b: 2"]) == [{"a": 1}, {"b": 2}]
        assert pool._pool is None  # no process was started
    monkeypatch.setenv("ANNOTATE_WORKERS", "2")
    with YamlWorkers() as pool:
        assert pool.load(["a: 1", "b: 2"]) == [{"a": 1}, {"b": 2}]  # 8 bytes: not worth it
        assert pool._pool is None


def test_a_folder_read_by_workers_gives_the_same_records_and_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "records"
    folder.mkdir()
    for path in sorted((FIXTURES / "records_water").glob("*.yaml")):
        (folder / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "z_broken.yaml").write_text("schema: [unclosed\n", encoding="utf-8")
    (folder / "z_latin1.yaml").write_bytes("caf\xe9: 1\n".encode("latin-1"))
    one = read_article_records(folder)
    monkeypatch.setattr(yaml_pool, "POOL_MIN_BYTES", 0)
    monkeypatch.setattr(store, "_LOAD_BLOCK", 3000)  # several blocks, one pool
    monkeypatch.setenv("ANNOTATE_WORKERS", "2")
    many = read_article_records(folder)
    assert [r.model_dump() for r in many.records] == [r.model_dump() for r in one.records]
    assert [str(e) for e in many.errors] == [str(e) for e in one.errors]
    assert len(many.errors) == 2 and "YAML syntax error at line 2" in str(many.errors[0])


def test_a_summary_written_by_workers_is_byte_identical(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    summary = reconcile(load_article_records(FIXTURES / "records"))
    one = event_summary_yaml(summary)
    assert one == dump_yaml(summary.to_yaml_dict())
    monkeypatch.setattr(yaml_pool, "POOL_MIN_BYTES", 0)
    monkeypatch.setattr(store, "_DUMP_BLOCK", 1)  # several blocks, one pool
    monkeypatch.setenv("ANNOTATE_WORKERS", "2")
    assert event_summary_yaml(summary) == one
