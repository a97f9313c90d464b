from annotator.ground import ground_quote, normalise_with_map

TEXT = (
    "“It is completely untrue. It is pure fiction; it is simply false information,” "
    "Kremlin spokesman Dmitry Peskov said.\n\nTwo people\n\nfamiliar with the matter "
    "told The Post — and they were sure."
)


def test_exact_match_gives_the_span_of_the_quote() -> None:
    g = ground_quote(TEXT, "It is pure fiction; it is simply false information")
    assert g.grounding == "exact"
    assert g.span is not None
    assert TEXT[g.span[0] : g.span[1]] == "It is pure fiction; it is simply false information"


def test_curly_quotes_dashes_and_whitespace_are_normalised_to_exact() -> None:
    g = ground_quote(TEXT, '"It is completely untrue. It is pure fiction')
    assert g.grounding == "exact"
    g2 = ground_quote(TEXT, "two people familiar with the matter told the post - and")
    assert g2.grounding == "exact" and g2.span is not None
    assert TEXT[g2.span[0] : g2.span[1]].startswith("Two people\n\nfamiliar")
    assert TEXT[g2.span[0] : g2.span[1]].endswith("and")


def test_small_wording_change_is_fuzzy_with_a_real_span() -> None:
    g = ground_quote(TEXT, "It was completely untrue. It is pure fiction; it is simply false info")
    assert g.grounding == "fuzzy"
    assert g.span is not None
    found = TEXT[g.span[0] : g.span[1]]
    assert found.startswith("It is completely untrue")
    assert not found.startswith("“")


def test_invented_quote_has_no_span() -> None:
    g = ground_quote(TEXT, "Peskov said Putin would welcome Trump in Moscow next spring")
    assert g.grounding == "none" and g.span is None and g.reason == "quote_not_found"


def test_one_or_two_words_never_count_as_grounded() -> None:
    for quote in ("fiction", "pure fiction", "  Peskov  ", ""):
        g = ground_quote(TEXT, quote)
        assert g.grounding == "none" and g.span is None


def test_longer_than_text_is_not_found() -> None:
    g = ground_quote("short text here", "short text here and a great deal more that is not there")
    assert g.grounding == "none"


def test_normalise_map_points_back_into_the_original() -> None:
    text = "a\u00a0 “b” — c"
    norm, index = normalise_with_map(text)
    assert norm == 'a "b" - c'
    assert all(0 <= i < len(text) for i in index)
    assert text[index[norm.index("b")]] == "b"
