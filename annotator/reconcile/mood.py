"""The mood and polarity of a claim statement: whether it says an event happened, that
someone is disposed to it or that it could have happened, whether it spans a time, and
whether its main clause is negated.

A disposition (readiness, willingness, ability, wish, intention, expectation) is a claim
about a person, not the event it points to: "Putin is ready to speak to Trump" is not
"they spoke".
"""

from __future__ import annotations

from annotator.reconcile.words import IRREGULAR_PAST, NEGATIONS, split_words

_DISPOSITION = frozenset(
    split_words(
        """ready readiness willing willingness unwilling prepared able unable eager keen
    want wants wanted expect expects expected wish wishes wished desire desires intend
    intends intended intention hope hopes hoped"""
    )
)
# Irrealis: a prediction or possibility. Headlines write one event as "X to split", "X
# will split", "X splits", so this only lowers a score, it does not forbid a match.
IRREALIS = frozenset(split_words("will would could might may can shall ll"))
# A schedule or plan is a prediction too: "are due to meet", "is set to announce", "plans
# to restart"; soft like "will", since a headline writes "X set to buy Y" for "X buys Y"
_SCHEDULED = frozenset(split_words("due set scheduled slated poised plan plans planned planning"))
_MODAL_PERFECT = frozenset(split_words("would could might may must should"))  # + "have" + done
_PAST_AUX = frozenset(split_words("was were had did"))
_PRESENT_PASSIVE = frozenset(split_words("is are be been being am to"))  # "is expected": not past
# Clause openers after "and"/"but": a new predicate whose polarity is its own
_CLAUSE_START = frozenset(
    split_words(
        """did does do was were is are has have had would will could can should not never
    also then"""
    )
)


def mood(raw: list[str], cased: list[str], titled: bool) -> tuple[bool, bool]:
    """(modal, realis): a disposition ("ready to", "wants to") or a modal perfect
    ("could have opposed"); else whether a verb says the event happened (a past form:
    "spoke", "was informed", "had agreed")."""
    disposition = any(
        w in _DISPOSITION and raw[i + 1 : i + 2] in (["to"], ["for"]) for i, w in enumerate(raw)
    )
    possible = any(w in _MODAL_PERFECT and "have" in raw[i + 1 : i + 3] for i, w in enumerate(raw))
    if disposition or possible:
        return True, False
    if predicts(raw):
        return False, False
    for i, w in enumerate(raw):
        if w in _PAST_AUX:
            return False, True
        if (
            (w in IRREGULAR_PAST or (w.endswith("ed") and len(w) > 4))
            and (titled or not cased[i][0].isupper())  # "United" is a name
            and (i == 0 or raw[i - 1] not in _PRESENT_PASSIVE)
        ):
            return False, True
    return False, False


def predicts(raw: list[str]) -> bool:
    """A prediction, possibility or schedule: "will meet", "could meet", "due to meet"."""
    return any(
        w in IRREALIS or (w in _SCHEDULED and raw[i + 1 : i + 2] == ["to"])
        for i, w in enumerate(raw)
    )


_PERFECT = frozenset(split_words("has have had ve d"))
_OCCASIONS = frozenset(
    split_words("various several multiple numerous repeatedly regularly often occasionally")
)


def open_range(raw: list[str]) -> bool:
    """A span rather than one event: "has/have/had ... since" or several occasions."""
    if any(w in _OCCASIONS for w in raw):
        return True
    if "since" not in raw:
        return False
    since = raw.index("since")
    return any(w in _PERFECT for w in raw[:since])


def main_clause_negated(raw: list[str]) -> bool:
    """Polarity of the first clause: "Kyiv was informed and did not object" is not a
    negated statement; "Trump and Putin did not speak" is. "urged him not to escalate"
    directs, it does not negate."""
    negated = False
    for i, w in enumerate(raw):
        if i and raw[i - 1] in ("and", "but") and w in _CLAUSE_START:
            break  # a second predicate starts here
        if w in NEGATIONS and not (w == "not" and i + 1 < len(raw) and raw[i + 1] == "to"):
            negated = not negated
    return negated
