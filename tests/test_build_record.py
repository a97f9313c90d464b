"""build_record: ids renumbered, speakers merged by name, sources kept apart by relay."""

from __future__ import annotations

from annotator.core.models import AnnotationInfo
from annotator.extract.schema import Extraction
from annotator.load.articles import Article
from annotator.records.build import build_record

TEXT = (
    "The Herald said the dam was closed, citing people familiar with the matter. "
    "People familiar with the matter told the Daily Wire that the dam was never closed."
)


def article() -> Article:
    return Article(id="dam", path="dam.txt", text=TEXT, sha256="0" * 64, outlet="City News")


def extraction(**override: object) -> Extraction:
    data: dict[str, object] = {
        "speakers": [],
        "sources": [
            {"id": "h", "name": "The Herald", "kind": "news_outlet"},
            {"id": "a1", "name": "people familiar with the matter", "kind": "anonymous",
             "cited_via": "h"},
            {"id": "w", "name": "Daily Wire", "kind": "news_outlet"},
            {"id": "a2", "name": "People familiar with the matter", "kind": "anonymous",
             "cited_via": "w"},
        ],
        "claims": [
            {"statement": "The dam was closed", "quote": "the dam was closed",
             "sources": ["h", "a1"], "stance": "confirm"},
            {"statement": "The dam was closed", "quote": "the dam was never closed",
             "sources": ["w", "a2"], "stance": "deny"},
        ],
    }  # fmt: skip
    data.update(override)
    return Extraction.model_validate(data)


def info() -> AnnotationInfo:
    return AnnotationInfo(backend="rules")


def test_same_name_relayed_by_different_outlets_stays_two_sources() -> None:
    record = build_record(article(), extraction(), info())
    anonymous = [s for s in record.sources if s.kind == "anonymous"]
    assert len(anonymous) == 2
    by_id = {s.id: s for s in record.sources}
    relays = {by_id[s.cited_via].name for s in anonymous if s.cited_via}
    assert relays == {"The Herald", "Daily Wire"}
    confirm, deny = record.claims
    assert [by_id[s].name for s in confirm.sources] == [
        "The Herald",
        "people familiar with the matter",
    ]
    assert by_id[deny.sources[1]].cited_via == deny.sources[0]  # credited to the Daily Wire
    assert by_id[deny.sources[0]].name == "Daily Wire"


def test_same_name_and_same_relay_is_one_source() -> None:
    sources = [
        {"id": "h", "name": "The Herald", "kind": "news_outlet"},
        {"id": "a1", "name": "officials", "kind": "anonymous", "cited_via": "h"},
        {"id": "a2", "name": "Officials", "kind": "anonymous", "cited_via": "h"},
    ]
    claims = [
        {
            "statement": "The dam was closed",
            "quote": "the dam was closed",
            "sources": ["h", "a2"],
            "stance": "confirm",
        },
    ]
    record = build_record(article(), extraction(sources=sources, claims=claims), info())
    assert [s.name for s in record.sources] == ["The Herald", "officials"]
    assert record.claims[0].sources == ["src1", "src2"]


def test_name_references_resolve_through_the_chain() -> None:
    # a backend that refers to sources by name: the anonymous source after the Daily Wire
    # is the one the Daily Wire relays
    claims = [
        {"statement": "The dam was closed", "quote": "the dam was never closed",
         "sources": ["Daily Wire", "people familiar with the matter"], "stance": "deny"},
    ]  # fmt: skip
    record = build_record(article(), extraction(claims=claims), info())
    by_id = {s.id: s for s in record.sources}
    wire, anonymous = (by_id[s] for s in record.claims[0].sources)
    assert wire.name == "Daily Wire" and anonymous.cited_via == wire.id
    assert record.claims[0].flags == []


def test_ids_are_renumbered_and_unlisted_names_flagged() -> None:
    claims = [
        {"statement": "The dam was closed", "quote": "the dam was closed", "speaker": "Ann Lee",
         "sources": ["Radio Nord"], "stance": "confirm"},
    ]  # fmt: skip
    record = build_record(article(), extraction(claims=claims), info())
    claim = record.claims[0]
    assert claim.id == "c1" and claim.speaker == "p1"
    assert record.speakers[0].name == "Ann Lee"
    assert {"speaker_not_listed", "source_not_listed"} <= set(claim.flags)
    assert record.sources[-1].name == "Radio Nord" and record.sources[-1].id == "src5"
