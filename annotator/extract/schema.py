"""What a backend returns for one article, before grounding: the model-facing schema.

Kept lenient where models are sloppy (case of stance words, unknown source kinds) and
strict where it matters: every claim has a statement, a quote and a stance; `claims` must
be written (an article without claims says so with an empty list, so a server that
ignores the schema and answers `{}` fails validation instead of yielding an "annotated"
empty record); unknown keys are rejected. A model's answer is validated as
`AnsweredExtraction`, which also requires every speaker and source id a claim uses to be
listed, so instructor re-asks with that error (instructor's own `context=` would also
Jinja-render the messages, article text included, so the check is in the class). Ids are
the backend's own; the record builder renumbers them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator, model_validator

from annotator.core.models import SOURCE_KINDS, SourceKind, Stance

# Words models write for a stance (FNC-1 style labels, inflections) -> the contract's word.
STANCE_WORDS: dict[str, Stance] = {
    "confirm": "confirm",
    "confirms": "confirm",
    "confirmed": "confirm",
    "support": "confirm",
    "supports": "confirm",
    "agree": "confirm",
    "agrees": "confirm",
    "for": "confirm",
    "deny": "deny",
    "denies": "deny",
    "denied": "deny",
    "refute": "deny",
    "refutes": "deny",
    "disagree": "deny",
    "disagrees": "deny",
    "against": "deny",
    "unverified": "unverified",
    "unconfirmed": "unverified",
    "hedged": "unverified",
    "discuss": "unverified",
    "discusses": "unverified",
    "observing": "unverified",
    "neutral": "unverified",
}


def coerce_stance(value: Any) -> Any:
    if isinstance(value, str):
        return STANCE_WORDS.get(value.strip().lower(), value)
    return value


class ExtractedSpeaker(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="Short id such as 'p1', used by claims to refer to this speaker.")
    name: str = Field(description="The person's or body's name as written in the article.")
    role: str | None = Field(default=None, description="Title or role, e.g. 'spokesman'.")
    affiliation: str | None = Field(default=None, description="Organisation, e.g. 'Kremlin'.")


class ExtractedSource(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="Short id such as 'src1', used by claims to refer to this source.")
    name: str = Field(description="Outlet, agency, document or party the article cites.")
    kind: SourceKind = Field(default="other", description="What kind of source it is.")
    cited_via: str | None = Field(
        default=None, description="Id of the source that relays this one, if any."
    )

    @field_validator("kind", mode="before")
    @classmethod
    def _known_kind(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = v.strip().lower().replace(" ", "_")
            return v if v in SOURCE_KINDS else "other"
        return v


class ExtractedClaim(BaseModel):
    model_config = ConfigDict(extra="forbid")

    statement: str = Field(
        description="Self-contained proposition, written affirmatively (never negated)."
    )
    quote: str = Field(description="Verbatim span of the article text that reports the claim.")
    speaker: str | None = Field(
        default=None, description="Speaker id who asserts it; null for the outlet's own voice."
    )
    sources: list[str] = Field(
        default_factory=list, description="Source ids of the attribution chain, nearest first."
    )
    stance: Stance = Field(description="confirm, deny or unverified: the speaker's stance.")

    @field_validator("stance", mode="before")
    @classmethod
    def _stance_word(cls, v: Any) -> Any:
        return coerce_stance(v)

    @field_validator("sources", mode="before")
    @classmethod
    def _sources_list(cls, v: Any) -> Any:
        if v is None:
            return []
        if isinstance(v, str):
            return [v]
        return v


class Extraction(BaseModel):
    """Speakers, sources and claims found in one article."""

    model_config = ConfigDict(extra="forbid")

    speakers: list[ExtractedSpeaker] = Field(default_factory=list)
    sources: list[ExtractedSource] = Field(default_factory=list)
    claims: list[ExtractedClaim] = Field(
        description="Every claim the article reports; write [] only when it reports none."
    )

    @classmethod
    def empty(cls) -> Extraction:
        return cls(claims=[])


class _ListedIds(Extraction):
    @model_validator(mode="after")
    def _ids_listed(self) -> _ListedIds:
        speakers = {s.id for s in self.speakers}
        sources = {s.id for s in self.sources}
        problems: list[str] = []
        for src in self.sources:
            if src.cited_via and src.cited_via not in sources:
                problems.append(f"source {src.id!r} has cited_via {src.cited_via!r}")
        for n, c in enumerate(self.claims):
            if c.speaker and c.speaker not in speakers:
                problems.append(f"claims[{n}].speaker {c.speaker!r}")
            problems.extend(
                f"claims[{n}].sources {ref!r}" for ref in c.sources if ref not in sources
            )
        if problems:
            raise ValueError(
                "ids not listed in speakers/sources: "
                + "; ".join(problems[:8])
                + ". List each speaker and source with that id, or use a listed id."
            )
        return self


# What a model answers: named "Extraction" (the tool / schema name the model sees, and the
# schema hash in the cache key), validated with the id check.
AnsweredExtraction: type[Extraction] = create_model(
    "Extraction", __base__=_ListedIds, __module__=__name__, __doc__=Extraction.__doc__
)


class QuoteFix(BaseModel):
    model_config = ConfigDict(extra="forbid")

    index: int = Field(description="Number of the claim being corrected, as listed.")
    quote: str = Field(description="The corrected quote, copied character for character.")


class QuoteFixes(BaseModel):
    """Corrected verbatim quotes for claims whose quote was not found in the article."""

    model_config = ConfigDict(extra="forbid")

    fixes: list[QuoteFix] = Field(description="One entry per corrected claim; [] if none.")
