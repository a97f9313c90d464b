"""Reading per-article records (errors name the file and the field) and writing event.yaml."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from annotator.core.errors import RecordError
from annotator.core.models import EVENT_SCHEMA
from annotator.core.yamlio import dump_yaml, load_yaml
from annotator.reconcile.summary import reconcile
from annotator.records.store import load_article_records, write_event_summary

RECORDS = Path(__file__).resolve().parent.parent / "fixtures" / "records"
A1 = "001_63f0ae8f90ffef72"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "articles"
    target.mkdir()
    for path in RECORDS.glob("0*.yaml"):
        shutil.copy(path, target / path.name)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_loads_every_record_sorted(folder: Path) -> None:
    (folder / ".hidden.yaml").write_text("not: a record", encoding="utf-8")
    (folder / "notes.txt").write_text("ignored", encoding="utf-8")
    records = load_article_records(folder)
    assert [r.article.id for r in records] == sorted(p.stem for p in folder.glob("0*.yaml"))


def test_other_annotate_documents_are_skipped(folder: Path) -> None:
    write_event_summary(reconcile(load_article_records(folder)), folder / "event.yaml")
    shutil.copy(RECORDS / "gold_clusters.yaml", folder)
    assert len(load_article_records(folder)) == 5


def test_wrong_value_names_file_and_dotted_field(folder: Path) -> None:
    path = folder / f"{A1}.yaml"
    data = load_yaml(path.read_text(encoding="utf-8"))
    data["claims"][2]["stance"] = "maybe"
    path.write_text(dump_yaml(data), encoding="utf-8")
    with pytest.raises(RecordError) as err:
        load_article_records(folder)
    assert err.value.path == str(path)
    assert err.value.field == "claims.2.stance"
    assert "'maybe'" in str(err.value) and path.name in str(err.value)


def test_unknown_field_and_missing_field(folder: Path) -> None:
    path = folder / f"{A1}.yaml"
    edit(path, "  stance: deny\n", "  stance: deny\n  confidence: high\n")
    with pytest.raises(RecordError) as err:
        load_article_records(folder)
    assert err.value.field.startswith("claims.") and err.value.field.endswith(".confidence")
    data = load_yaml(path.read_text(encoding="utf-8").replace("  confidence: high\n", ""))
    del data["claims"][0]["quote"]
    path.write_text(dump_yaml(data), encoding="utf-8")
    with pytest.raises(RecordError) as err:
        load_article_records(folder)
    assert err.value.field == "claims.0.quote"


def test_dangling_reference_is_located(folder: Path) -> None:
    path = folder / f"{A1}.yaml"
    data = load_yaml(path.read_text(encoding="utf-8"))
    data["claims"][3]["speaker"] = "s99"
    path.write_text(dump_yaml(data), encoding="utf-8")
    with pytest.raises(RecordError) as err:
        load_article_records(folder)
    assert err.value.field == "claims.3.speaker"
    data["claims"][3]["speaker"] = None
    data["claims"][4]["sources"] = ["src3", "src42"]
    path.write_text(dump_yaml(data), encoding="utf-8")
    with pytest.raises(RecordError) as err:
        load_article_records(folder)
    assert err.value.field == "claims.4.sources.1"


def test_yaml_syntax_error_gives_the_line(folder: Path) -> None:
    path = folder / f"{A1}.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[6] = "  title: [unclosed\n"
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(RecordError) as err:
        load_article_records(folder)
    assert err.value.path == str(path)
    assert "YAML syntax error at line 8" in str(err.value)


def test_wrong_or_missing_schema(folder: Path) -> None:
    path = folder / f"{A1}.yaml"
    edit(path, "schema: annotator/article-annotation/v1", "schema: annotator/article-annotation/v9")
    with pytest.raises(RecordError) as err:
        load_article_records(folder)
    assert err.value.field == "schema" and "v9" in str(err.value)
    edit(path, "schema: annotator/article-annotation/v9\n", "")
    with pytest.raises(RecordError, match="missing"):
        load_article_records(folder)


def test_not_a_mapping_empty_folder_and_duplicates(folder: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(RecordError, match="no per-article records"):
        load_article_records(empty)
    shutil.copy(folder / f"{A1}.yaml", folder / "copy.yaml")
    with pytest.raises(RecordError) as err:
        load_article_records(folder)
    assert err.value.field == "article.id" and "copy.yaml" in err.value.path
    (folder / "copy.yaml").write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(RecordError, match="mapping"):
        load_article_records(folder)


def test_write_event_summary_is_dump_yaml_text(folder: Path, tmp_path: Path) -> None:
    summary = reconcile(load_article_records(folder))
    out = tmp_path / "out" / "event.yaml"
    write_event_summary(summary, out)
    text = out.read_text(encoding="utf-8")
    assert text == dump_yaml(summary.to_yaml_dict())
    assert text.startswith(f"schema: {EVENT_SCHEMA}\nevent:\n")
    assert [p.name for p in out.parent.iterdir()] == ["event.yaml"]  # no temp file left


def test_chunked_writing_matches_one_dump(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import annotator.records.store as record_store

    monkeypatch.setattr(record_store, "_DUMP_CHUNK", 3)
    summary = reconcile(load_article_records(folder))
    write_event_summary(summary, tmp_path / "event.yaml")
    assert (tmp_path / "event.yaml").read_text(encoding="utf-8") == dump_yaml(
        summary.to_yaml_dict()
    )
