"""Re-ground a record against its article text: a hand edit cannot forge grounding.

Every claim's quote is located again with `ground_quote` (the same function that grounded
it when the record was built). Where the check disagrees with what the record says, the
record takes the check's span and grounding, and the claim is flagged: a quote that is no
longer in the text gets `edited_quote_not_in_text` and no span, never passed on as exact.
Pure: record and text in, corrected record out.
"""

from __future__ import annotations

from pathlib import Path

from annotator.core.errors import RecordError
from annotator.core.models import ArticleAnnotation, ClaimRecord
from annotator.ground import ground_quote

QUOTE_NOT_IN_TEXT = "edited_quote_not_in_text"
SPAN_CORRECTED = "edited_span_corrected"


def reground_record(record: ArticleAnnotation, text: str) -> tuple[ArticleAnnotation, int]:
    """(the record with every claim checked against text, number of claims corrected)."""
    claims: list[ClaimRecord] = []
    changed = 0
    for claim in record.claims:
        checked = reground_claim(claim, text)
        changed += checked is not claim
        claims.append(checked)
    if not changed:
        return record, 0
    return record.model_copy(update={"claims": claims}), changed


def reground_claim(claim: ClaimRecord, text: str) -> ClaimRecord:
    found = ground_quote(text, claim.quote)
    span = list(found.span) if found.span else None
    if span == claim.span and found.grounding == claim.grounding:
        return claim
    flags = [f for f in claim.flags if f not in (QUOTE_NOT_IN_TEXT, SPAN_CORRECTED)]
    if found.grounding == "none":
        flags.append(QUOTE_NOT_IN_TEXT)
    else:
        flags.append(SPAN_CORRECTED)
    return ClaimRecord.model_validate(
        {**claim.model_dump(), "span": span, "grounding": found.grounding, "flags": flags}
    )


def reground_from_input(
    records: list[ArticleAnnotation], input_root: Path
) -> tuple[list[ArticleAnnotation], list[RecordError], int]:
    """Re-ground each record against its article as found in `input_root` (by
    `article.path`). Returns (records, errors for records whose article text is gone or
    changed, number of claims corrected)."""
    from annotator.load.articles import load_articles

    texts = {a.path: a for a in load_articles(input_root).articles}
    out: list[ArticleAnnotation] = []
    errors: list[RecordError] = []
    corrected = 0
    for record in records:
        article = texts.get(record.article.path)
        where = f"{record.article.id}.yaml"
        if article is None:
            errors.append(RecordError(where, "article.path", f"not found in {input_root}"))
            continue
        if article.sha256 != record.article.sha256:
            errors.append(
                RecordError(
                    where,
                    "article.sha256",
                    f"{record.article.path} changed since it was annotated; run "
                    "`annotate run` again",
                )
            )
            continue
        checked, changed = reground_record(record, article.text)
        corrected += changed
        out.append(checked)
    return out, errors, corrected
