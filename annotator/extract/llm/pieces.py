"""The pieces of one article's text and what became of each: answered, split in two, or
failed. A piece is named by its character range in the article text.

An article whose pieces did not all succeed is partial: its record keeps the answered
pieces' claims and carries one flag line per gap. The piece log is stored with the cached
answer so that a later run sends only the failed pieces again."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from annotator.core.errors import (
    ContextTooLong,
    EndpointError,
    ExtractionInvalid,
    ModelRefused,
    OutputTruncated,
    TransportFailed,
)
from annotator.core.models import Usage
from annotator.extract.schema import Extraction

# What can go wrong with one piece while the endpoint itself works: the other pieces are
# still worth asking. That includes transport faults that outlasted the retries
# (TransportFailed: 5xx, 429, timeouts, a dropped connection once the endpoint has
# answered), since the next request may be answered. Errors that would fail every piece
# the same way stay errors of the article (or the run): a rejected key, an unknown model,
# an endpoint never reached, a rejected mode or parameter, the --deadline running out
# (DeadlineExceeded); a partial record must not hide a configuration error.
PIECE_FAILURES = (OutputTruncated, ExtractionInvalid, ModelRefused, TransportFailed)

Range = tuple[int, int]


def failure_reason(exc: EndpointError) -> str:
    """Why a piece has no annotation, in a few words for the record's flag."""
    if isinstance(exc, TransportFailed):
        return exc.reason
    if isinstance(exc, ContextTooLong):
        return "text did not fit the model's context"
    if isinstance(exc, OutputTruncated):
        return "answer exceeded the token budget"
    if isinstance(exc, ModelRefused):
        return "the model refused"
    return "answer did not match the schema"


@dataclass
class PieceDone:
    start: int
    end: int
    extraction: Extraction  # ids as the model gave them (prefixed when merged)
    usage: Usage
    requoted: int = 0


@dataclass
class PieceFailed:
    start: int
    end: int
    reason: str
    error: EndpointError | None = None  # None when read back from the cache
    usage: Usage = field(default_factory=Usage)  # what the failed requests cost


@dataclass
class PieceSplit:
    """A piece whose answer was cut (or whose request did not fit the context), so it was
    asked again in halves; `usage`: what the cut answer cost."""

    start: int
    end: int
    usage: Usage = field(default_factory=Usage)


@dataclass
class PieceLog:
    """Every piece of one article, in text order."""

    done: list[PieceDone] = field(default_factory=list)
    split: list[PieceSplit] = field(default_factory=list)  # asked, cut, asked again in halves
    failed: list[PieceFailed] = field(default_factory=list)

    def known(self, start: int, end: int) -> PieceDone | None:
        return next((p for p in self.done if (p.start, p.end) == (start, end)), None)

    def was_split(self, start: int, end: int) -> PieceSplit | None:
        return next((p for p in self.split if (p.start, p.end) == (start, end)), None)

    @property
    def usage(self) -> Usage:
        """Tokens of every request made for the article's pieces: the answers kept, the
        cut answers that made a piece split, and the failed pieces' last attempts."""
        total = Usage()
        for usage in [p.usage for p in self.done] + [p.usage for p in self.split]:
            total = total + usage
        for f in self.failed:
            total = total + f.usage
        return total

    def to_json(self) -> dict[str, Any]:
        return {
            "done": [
                {
                    "span": [p.start, p.end],
                    "extraction": p.extraction.model_dump(mode="json"),
                    "usage": p.usage.model_dump(),
                    "requoted": p.requoted,
                }
                for p in self.done
            ],
            "split": [
                {"span": [p.start, p.end], "usage": p.usage.model_dump()} for p in self.split
            ],
            "failed": [
                {"span": [f.start, f.end], "reason": f.reason, "usage": f.usage.model_dump()}
                for f in self.failed
            ],
        }

    @classmethod
    def from_json(cls, data: Any) -> PieceLog:
        """Raises ValueError (or KeyError, TypeError) on a damaged entry."""
        log = cls()
        for p in data["done"]:
            start, end = (int(x) for x in p["span"])
            log.done.append(
                PieceDone(
                    start,
                    end,
                    Extraction.model_validate(p["extraction"]),
                    Usage.model_validate(p.get("usage") or {}),
                    int(p.get("requoted") or 0),
                )
            )
        for p in data["split"]:  # [start, end] in entries written before usage was kept
            span, usage = (p, {}) if isinstance(p, list) else (p["span"], p.get("usage"))
            log.split.append(
                PieceSplit(int(span[0]), int(span[1]), Usage.model_validate(usage or {}))
            )
        log.failed = [
            PieceFailed(
                int(f["span"][0]),
                int(f["span"][1]),
                str(f["reason"]),
                usage=Usage.model_validate(f.get("usage") or {}),
            )
            for f in data["failed"]
        ]
        return log


def gap_flags(failed: list[PieceFailed], length: int) -> list[str]:
    """One readable line per stretch of text left unannotated (adjacent failed pieces
    with the same reason are one stretch), e.g.
    `partial: characters 12000-15000 of 20000 not annotated (answer exceeded the token
    budget)`."""
    stretches: list[list[Any]] = []
    for f in sorted(failed, key=lambda f: f.start):
        if stretches and stretches[-1][1] == f.start and stretches[-1][2] == f.reason:
            stretches[-1][1] = f.end
        else:
            stretches.append([f.start, f.end, f.reason])
    return [
        f"partial: characters {s}-{e} of {length} not annotated ({reason})"
        for s, e, reason in stretches
    ]
