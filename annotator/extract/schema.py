"""What a backend returns for one article, before grounding: the model-facing schema.

Kept lenient where models are sloppy (case of stance words, unknown source kinds) and
strict where it matters (every claim has a statement, a quote and a stance). Ids are
the backend's own; the record builder renumbers them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, field_validator

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
    id: str = Field(description="Short id such as 'p1', used by claims to refer to this speaker.")
    name: str = Field(description="The person's or body's name as written in the article.")
    role: str | None = Field(default=None, description="Title or role, e.g. 'spokesman'.")
    affiliation: str | None = Field(default=None, description="Organisation, e.g. 'Kremlin'.")


class ExtractedSource(BaseModel):
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

    speakers: list[ExtractedSpeaker] = Field(default_factory=list)
    sources: list[ExtractedSource] = Field(default_factory=list)
    claims: list[ExtractedClaim] = Field(default_factory=list)


class QuoteFix(BaseModel):
    index: int = Field(description="Number of the claim being corrected, as listed.")
    quote: str = Field(description="The corrected quote, copied character for character.")


class QuoteFixes(BaseModel):
    """Corrected verbatim quotes for claims whose quote was not found in the article."""

    fixes: list[QuoteFix] = Field(default_factory=list)
