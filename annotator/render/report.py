"""`report.html`: one self-contained page (no scripts, no external assets) with the event
summary, each consolidated claim's provenance, conflicts side by side, and every article's
text with its grounded quotes highlighted. Pure; all article text is HTML-escaped."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from html import escape as _html_escape

from annotator.core.models import ArticleAnnotation, EventSummary

_CSS = """
body{font:15px/1.5 system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.5em}h2{margin-top:2em;border-bottom:1px solid #ddd}
.claim{border:1px solid #ddd;border-radius:6px;padding:.6em 1em;margin:.8em 0}
.status{font-weight:bold;padding:.1em .5em;border-radius:4px;font-size:.85em}
.confirmed{background:#d9f2d9}.denied{background:#f8d7d7}.disputed{background:#fde9c4}
.unverified{background:#e6e6f0}
table{border-collapse:collapse;width:100%}td,th{border-top:1px solid #eee;padding:.3em;
vertical-align:top;text-align:left;font-size:.9em}
.confirm{color:#17661a}.deny{color:#a11}.unverified-s{color:#555}
.article{white-space:pre-wrap;background:#fafafa;border:1px solid #eee;padding:1em;
font-size:.9em}mark{background:#fff1a8}mark.deny{background:#ffd0d0}
.cols{display:grid;grid-template-columns:1fr 1fr;gap:1em}.none{color:#a11;font-style:italic}
.flag{color:#8a4b00;font-size:.85em}
"""


# Marks the page as this tool's output, so `run` never reads it back as an article.
REPORT_MARKER = '<meta name="generator" content="annotate report">'
# C0/C1 control characters except tab and newline (NUL, ESC, ...), and lone surrogates:
# shown as U+FFFD so a terminal escape or a NUL in an article never reaches the page raw.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def escape(text: str, quote: bool = True) -> str:
    """HTML-escape; control characters become U+FFFD (one for one: offsets still hold)."""
    return _html_escape(_CONTROL.sub("\ufffd", text), quote=quote)


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def render_report(
    summary: EventSummary,
    records: Sequence[ArticleAnnotation],
    texts: Mapping[str, str],
) -> str:
    """texts: article id -> the exact article text the records' spans refer to."""
    ev = summary.event
    parts = [
        f"<!doctype html><html lang=en><head><meta charset=utf-8>{REPORT_MARKER}",
        f"<title>{_e(ev.title or 'Event summary')}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(ev.title or 'Event summary')}</h1>",
        f"<p>{_e(ev.date)} · {_e(ev.summary)}</p>",
    ]
    if summary.conflicts:
        parts.append("<h2>Conflicts</h2>")
        for cf in summary.conflicts:
            stmt = next((c.statement for c in summary.claims if c.id == cf.claim), cf.claim)
            parts.append(
                f"<div class=claim><a href='#{_e(cf.claim)}'>{_e(stmt)}</a><div class=cols>"
                f"<div class=confirm><b>confirm</b><br>{'<br>'.join(map(_e, cf.confirm))}</div>"
                f"<div class=deny><b>deny</b><br>{'<br>'.join(map(_e, cf.deny))}</div>"
                "</div></div>"
            )
    _claim_flags = {(r.article.id, c.id): c.flags for r in records for c in r.claims if c.flags}
    parts.append("<h2>Claims</h2>")
    for claim in summary.claims:
        s = claim.stances
        parts.append(
            f"<div class=claim id='{_e(claim.id)}'><span class='status {_e(claim.status)}'>"
            f"{_e(claim.status)}</span> {_e(claim.statement)} "
            f"<small>(confirm {s.confirm}, deny {s.deny}, unverified {s.unverified})</small>"
            "<table><tr><th>stance</th><th>who</th><th>via</th><th>quote</th></tr>"
        )
        for p in claim.provenance:
            cls = "unverified-s" if p.stance == "unverified" else p.stance
            where = (
                f"<a href='#{_e(p.article)}-{_e(p.claim)}'>{_e(p.article)}</a>"
                if p.span
                else f"{_e(p.article)} <span class=none>(quote not found in text)</span>"
            )
            flags = _claim_flags.get((p.article, p.claim)) or []
            flagged = f" <span class=flag>{_e(', '.join(flags))}</span>" if flags else ""
            parts.append(
                f"<tr><td class={cls}>{_e(p.stance)}</td><td>{_e(p.speaker or '(outlet)')}</td>"
                f"<td>{_e(' ← '.join(p.sources))}</td><td>“{_e(p.quote)}” — {where}{flagged}"
                "</td></tr>"
            )
        parts.append("</table></div>")
    parts.append("<h2>Articles</h2>")
    for rec in sorted(records, key=lambda r: r.article.id):
        a = rec.article
        parts.append(
            f"<h3 id='{_e(a.id)}'>{_e(a.title or a.id)}</h3>"
            f"<p>{_e(a.outlet)} · {_e(a.published)} · {_e(a.path)}</p>"
        )
        if a.flags:
            parts.append(f"<p class=flag>flags: {_e(', '.join(a.flags))}</p>")
        parts.append(f"<div class=article>{_highlight(texts.get(a.id, ''), rec)}</div>")
    parts.append("</body></html>\n")
    return "".join(parts)


def _highlight(text: str, record: ArticleAnnotation) -> str:
    spans = sorted(
        (c.span[0], c.span[1], c.id, c.stance)
        for c in record.claims
        if c.span is not None and 0 <= c.span[0] < c.span[1] <= len(text)
    )
    out: list[str] = []
    pos = 0
    for start, end, cid, stance in spans:
        if start < pos:  # overlapping quotes: the earlier mark wins
            continue
        out.append(escape(text[pos:start]))
        anchor = f"{record.article.id}-{cid}"
        out.append(
            f"<mark id='{_e(anchor)}' class={_e(stance)} title='{_e(cid)}'>"
            f"{escape(text[start:end])}</mark>"
        )
        pos = end
    out.append(escape(text[pos:]))
    return "".join(out)
