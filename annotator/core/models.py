"""The two YAML contracts (per-article annotation, event summary) as pydantic models.

Field names, order and meanings are fixed by DESIGN.md: users edit and script against
them. Optional extra fields are allowed where noted; everything else is `extra="forbid"`
so a hand edit with a typo is reported instead of silently ignored.
"""

from __future__ import annotations

from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ARTICLE_SCHEMA: Final = "annotator/article-annotation/v1"
EVENT_SCHEMA: Final = "annotator/event-summary/v1"

Stance = Literal["confirm", "deny", "unverified"]
STANCES: tuple[Stance, ...] = ("confirm", "deny", "unverified")
Grounding = Literal["exact", "fuzzy", "none"]
SourceKind = Literal[
    "news_outlet",
    "news_agency",
    "government",
    "official",
    "anonymous",
    "document",
    "social_media",
    "other",
]
SOURCE_KINDS: tuple[str, ...] = SourceKind.__args__  # type: ignore[attr-defined]
Backend = Literal["llm", "rules"]
ClaimStatus = Literal["confirmed", "denied", "disputed", "unverified"]


class Contract(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


# ---------------------------------------------------------------- per-article record


class ArticleInfo(Contract):
    id: str
    path: str
    sha256: str
    title: str | None = None
    outlet: str | None = None
    published: str | None = None  # YYYY-MM-DD
    url: str | None = None
    # optional extras
    encoding: str | None = None
    duplicates: list[str] = Field(default_factory=list)  # paths of byte-identical copies
    flags: list[str] = Field(default_factory=list)  # e.g. "prompt_injection_text"
    # 1 - the detector's chaos score (halved when another encoding reads as cleanly);
    # only for guessed encodings, absent for UTF-8
    encoding_confidence: float | None = Field(default=None, exclude_if=lambda v: v is None)


class Usage(Contract):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cached_tokens: int = 0  # of prompt_tokens, served from the provider's prompt cache

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
            cached_tokens=self.cached_tokens + other.cached_tokens,
        )


class AnnotationInfo(Contract):
    backend: Backend
    model: str | None = None
    endpoint: str | None = None
    prompt: str | None = None  # prompt id and version, e.g. "extract_v1"
    prompt_sha256: str | None = None
    created: str | None = None  # ISO-8601 UTC time of the model call (null for rules)
    usage: Usage | None = None
    # optional extras
    mode: str | None = None


class Speaker(Contract):
    id: str
    name: str
    role: str | None = None
    affiliation: str | None = None


class Source(Contract):
    id: str
    name: str
    kind: SourceKind = "other"
    cited_via: str | None = None  # id of the source that relays this one, if any


class ClaimRecord(Contract):
    id: str
    statement: str
    quote: str
    span: list[int] | None = None  # [start, end) character offsets into the article text
    grounding: Grounding = "none"
    speaker: str | None = None  # a speaker id, or null for the outlet's own voice
    sources: list[str] = Field(default_factory=list)  # source ids, nearest first
    stance: Stance = "confirm"
    # optional extras
    flags: list[str] = Field(default_factory=list)

    @field_validator("span")
    @classmethod
    def _span_is_pair(cls, v: list[int] | None) -> list[int] | None:
        if v is not None and (len(v) != 2 or v[0] < 0 or v[1] < v[0]):
            raise ValueError("span must be [start, end] with 0 <= start <= end")
        return v

    @model_validator(mode="after")
    def _span_matches_grounding(self) -> ClaimRecord:
        if self.grounding == "none" and self.span is not None:
            raise ValueError("a claim with grounding 'none' must have span null")
        if self.grounding != "none" and self.span is None:
            raise ValueError(f"a claim with grounding {self.grounding!r} needs a span")
        return self


class ArticleAnnotation(Contract):
    schema_: Literal["annotator/article-annotation/v1"] = Field(
        default=ARTICLE_SCHEMA, alias="schema"
    )
    article: ArticleInfo
    annotation: AnnotationInfo
    speakers: list[Speaker] = Field(default_factory=list)
    sources: list[Source] = Field(default_factory=list)
    claims: list[ClaimRecord] = Field(default_factory=list)

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @model_validator(mode="after")
    def _references_resolve(self) -> ArticleAnnotation:
        speaker_ids = {s.id for s in self.speakers}
        source_ids = {s.id for s in self.sources}
        for src in self.sources:
            if src.cited_via is not None and src.cited_via not in source_ids:
                raise ValueError(
                    f"source {src.id!r}: cited_via {src.cited_via!r} is not a source id"
                )
        for claim in self.claims:
            if claim.speaker is not None and claim.speaker not in speaker_ids:
                raise ValueError(
                    f"claim {claim.id!r}: speaker {claim.speaker!r} is not a speaker id"
                )
            for sid in claim.sources:
                if sid not in source_ids:
                    raise ValueError(f"claim {claim.id!r}: source {sid!r} is not a source id")
        return self

    def to_yaml_dict(self) -> dict[str, object]:
        return self.model_dump(mode="json", by_alias=True)


# ---------------------------------------------------------------- event summary


class EventInfo(Contract):
    title: str | None = None
    date: str | None = None
    summary: str | None = None


class EventArticle(Contract):
    id: str
    outlet: str | None = None
    title: str | None = None
    published: str | None = None
    # optional extras: the article's flags (e.g. prompt_injection_text), absent when none
    flags: list[str] = Field(default_factory=list, exclude_if=lambda v: not v)


class Entity(Contract):
    id: str
    name: str
    kind: str
    aliases: list[str] = Field(default_factory=list)
    articles: list[str] = Field(default_factory=list)


class StanceCounts(Contract):
    confirm: int = 0
    deny: int = 0
    unverified: int = 0


class Provenance(Contract):
    article: str
    claim: str
    quote: str
    span: list[int] | None = None
    speaker: str | None = None  # speaker name as written in the article record
    sources: list[str] = Field(default_factory=list)  # source names, nearest first
    stance: Stance
    # optional extras
    grounding: Grounding | None = None


MergedBy = Literal["rule", "embedding", "model"]


class EventClaim(Contract):
    id: str
    statement: str
    status: ClaimStatus
    stances: StanceCounts  # distinct voices (entities) per stance
    provenance: list[Provenance]
    # optional extras: what joined the wordings (rule: same content words; embedding:
    # similar meaning; model: a model call judged a pair the same claim); null: one wording
    merged_by: MergedBy | None = None


class Conflict(Contract):
    claim: str
    confirm: list[str]
    deny: list[str]
    # optional extra: who relays the claim with hedging (it counts as asserted)
    relayed: list[str] | None = None


class EventSummary(Contract):
    schema_: Literal["annotator/event-summary/v1"] = Field(default=EVENT_SCHEMA, alias="schema")
    event: EventInfo
    articles: list[EventArticle] = Field(default_factory=list)
    entities: list[Entity] = Field(default_factory=list)
    claims: list[EventClaim] = Field(default_factory=list)
    conflicts: list[Conflict] = Field(default_factory=list)

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def to_yaml_dict(self) -> dict[str, object]:
        return self.model_dump(mode="json", by_alias=True)
