"""No regex in annotator/ backtracks super-linearly (issue 10, item 9).

Every compiled pattern the package holds at module level, and every pattern compiled while
the rules backend annotates the sample articles (inline `re.sub(...)` calls included), is
run over 20,000-character adversarial strings (runs of spaces, dashes, quotes, brackets,
dots, capitals, repeated words). A linear pattern scans one in milliseconds; a quadratic
one takes seconds, so a generous 1 s bound separates them without timing flakiness.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

import annotator
from tests.conftest import ARTICLES

N = 20_000
UNITS = (
    " ", "\t \n", "\n", "-", "— ", "– ", '"', "“", "'", "’", "a ", "A", "Aa ", "x", ", ", ". ",
    ".", "!", "…", "[", "(", "*", "#", "1", "1 ", "a-", "A-", "a.", "A.", "said ", "The ",
    "according to ", "and that ", "to ", "on ", "is ", "a false ", "Smith ", "; ",
)  # fmt: skip
BOUND_SECONDS = 1.0


def _module_patterns() -> Iterator[tuple[str, re.Pattern[str]]]:
    for info in pkgutil.walk_packages(annotator.__path__, "annotator."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            items = value if isinstance(value, tuple | list) else (value,)
            for item in items:
                inner = item if isinstance(item, tuple) else (item,)
                for x in inner:
                    if isinstance(x, re.Pattern) and isinstance(x.pattern, str):
                        yield f"{info.name}.{name}", x


def _inline_patterns() -> list[re.Pattern[str]]:
    """Patterns compiled while the rules backend runs (re.sub/search/... inside functions)."""
    from annotator.extract.rules.extract import extract_rules
    from annotator.extract.rules.stance import predict_stance
    from annotator.load.articles import load_articles

    seen: dict[str, re.Pattern[str]] = {}
    real_compile = re._compile  # type: ignore[attr-defined]

    def spy(pattern: Any, flags: Any) -> Any:
        compiled = real_compile(pattern, flags)
        if isinstance(compiled.pattern, str):
            seen.setdefault(f"{compiled.pattern}/{compiled.flags}", compiled)
        return compiled

    re.purge()
    re._compile = spy  # type: ignore[attr-defined]
    try:
        for article in load_articles(ARTICLES).articles:
            extract_rules(article)
            predict_stance(article.title or "a claim", article.text)
    finally:
        re._compile = real_compile  # type: ignore[attr-defined]
    return list(seen.values())


def _all_patterns() -> list[tuple[str, re.Pattern[str]]]:
    found = dict((p.pattern, (n, p)) for n, p in _module_patterns())
    for p in _inline_patterns():
        found.setdefault(p.pattern, ("inline", p))
    return sorted(found.values(), key=lambda x: x[0])


def _worst_seconds(pattern: re.Pattern[str]) -> tuple[float, str]:
    worst, unit_worst = 0.0, ""
    for unit in UNITS:
        body = (unit * (N // len(unit) + 1))[:N]
        for text in (body, f"John Smith said {body} x."):
            t0 = time.perf_counter()
            for _ in pattern.finditer(text):
                pass
            pattern.match(text)
            spent = time.perf_counter() - t0
            if spent > worst:
                worst, unit_worst = spent, unit
            if spent > BOUND_SECONDS:
                return worst, unit_worst
    return worst, unit_worst


def test_the_audit_finds_the_package_patterns() -> None:
    names = {n for n, _ in _all_patterns()}
    assert "annotator.extract.rules.clauses.CLAUSE_SPLIT" in names
    assert any(n == "inline" for n in names)
    assert len(names) > 40


def test_the_audit_catches_a_quadratic_pattern() -> None:
    worst, _ = _worst_seconds(re.compile(r"\s+[–—]\s+"))  # CLAUSE_SPLIT's old shape
    assert worst > BOUND_SECONDS / 4


@pytest.mark.parametrize("name,pattern", _all_patterns(), ids=lambda x: str(x)[:60])
def test_pattern_is_linear_on_adversarial_text(name: str, pattern: re.Pattern[str]) -> None:
    worst, unit = _worst_seconds(pattern)
    assert worst < BOUND_SECONDS, f"{name} {pattern.pattern!r}: {worst:.2f}s on {unit!r} runs"
