from annotator.core.models import (
    AnnotationInfo,
    ArticleAnnotation,
    ArticleInfo,
    ClaimRecord,
    Conflict,
    EventClaim,
    EventInfo,
    EventSummary,
    Provenance,
    StanceCounts,
)
from annotator.render.report import render_report

TEXT = 'He said "<script>alert(1)</script> the talks failed" & left.'


def _record() -> ArticleAnnotation:
    quote = "<script>alert(1)</script> the talks failed"
    start = TEXT.index(quote)
    return ArticleAnnotation(
        article=ArticleInfo(id="a<1>", path="a.txt", sha256="0" * 64, title="T <b>"),
        annotation=AnnotationInfo(backend="rules"),
        claims=[
            ClaimRecord(
                id="c1",
                statement="The talks failed.",
                quote=quote,
                span=[start, start + len(quote)],
                grounding="exact",
                stance="confirm",
            ),
            ClaimRecord(id="c2", statement="x", quote="not in the text at all", stance="deny"),
        ],
    )


def test_article_text_is_escaped_and_quotes_highlighted() -> None:
    rec = _record()
    summary = EventSummary(
        event=EventInfo(title="<img src=x onerror=alert(1)>", date="2024-11-11", summary="s"),
        claims=[
            EventClaim(
                id="k1",
                statement="The talks failed.",
                status="disputed",
                stances=StanceCounts(confirm=1, deny=1),
                provenance=[
                    Provenance(
                        article="a<1>",
                        claim="c1",
                        quote=rec.claims[0].quote,
                        span=rec.claims[0].span,
                        stance="confirm",
                    ),
                    Provenance(
                        article="a<1>", claim="c2", quote="not in the text at all", stance="deny"
                    ),
                ],
            )
        ],
        conflicts=[Conflict(claim="k1", confirm=["Him"], deny=["<Her>"])],
    )
    html = render_report(summary, [rec], {"a<1>": TEXT})
    assert "<script>" not in html and "<img" not in html and "<Her>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; the talks failed</mark>" in html
    assert "quote not found in text" in html
    assert html.count("<mark") == 1
    assert html.startswith("<!doctype html>") and "http" not in html  # self-contained
