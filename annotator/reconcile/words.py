"""The words of a claim statement: content-word stems and what each word contributes.

Lower-cased, light stemming (irregular forms, one inflection off, a quality to its
adjective, cut at six letters); function words, titles and reporting verbs dropped:
paraphrase is the embedding model's job, not a word list's.
"""

from __future__ import annotations

import re
from functools import lru_cache

from annotator.reconcile.names import TITLE_WORDS, fold


def split_words(text: str) -> list[str]:
    return text.split()


_UNITS = split_words(
    """zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen
    fifteen sixteen seventeen eighteen nineteen"""
)
TENS = {
    w: 10 * i
    for i, w in enumerate(split_words("twenty thirty forty fifty sixty seventy eighty ninety"), 2)
}
NUMBER_WORDS = (
    {
        w: str(i)
        for i, w in enumerate(_UNITS)
        if i >= 2  # "one" is mostly a pronoun ("one of the sources")
    }
    | {w: str(n) for w, n in TENS.items()}
    | {"dozen": "12"}
)
# scale words ("million") belong to the number before them; "forty-two": see `features`
DIGIT_WORDS = {w: i for i, w in enumerate(_UNITS[1:10], 1)}
NEGATIONS = frozenset({"not", "no", "never", "neither", "nor", "none", "nobody", "nothing"})
WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)

_STOP = frozenset(
    split_words(
        """a an the and or but of to in on at by for with about from into over after before since
    during as than then there here that this these those which who whom whose what when where
    why how it its he him his she her they them their we our you your i me my us is are was
    were be been being am do does did done has have had having will would shall should can
    could may might must also already reportedly allegedly just only even still yet very
    more most some any each other such own same so too s t again further once both all few
    say said says state stated tell told report reported according claim claimed add added
    while whether if because actually officially publicly recently against within
    hold take make get give put keep go come way"""
    )
)
_IRREGULAR = {
    "spoke": "speak", "spoken": "speak", "held": "hold", "took": "take", "taken": "take",
    "made": "make", "met": "meet", "won": "win", "gave": "give", "given": "give",
    "sent": "send", "began": "begin", "begun": "begin", "wrote": "write", "written": "write",
    "knew": "know", "known": "know", "left": "leave", "went": "go", "gone": "go",
    "came": "come", "saw": "see", "seen": "see", "thought": "think", "brought": "bring",
    "sought": "seek", "fought": "fight", "led": "lead", "paid": "pay", "kept": "keep",
    "lost": "lose", "understood": "understand", "became": "become", "chose": "choose",
    "broke": "break", "spent": "spend", "sold": "sell", "heard": "hear", "meant": "mean",
    "fell": "fall", "rose": "rise", "struck": "strike", "ran": "run",
}  # fmt: skip


IRREGULAR_PAST = frozenset(_IRREGULAR) | {"said", "told"}


@lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """A light, consistent stem: irregular forms, one inflection off, folded, cut at 6."""
    w = _IRREGULAR.get(word, word)
    if len(w) > 7 and w.endswith("ness"):  # the quality is its adjective: readiness, ready
        w = w[:-5] + "y" if w[-5] == "i" else w[:-4]
    if len(w) > 4 and w.endswith("ies"):
        w = w[:-3] + "y"
    else:
        for suffix in ("ing", "ed", "es", "s", "e"):
            if w.endswith(suffix) and len(w) - len(suffix) >= 3 and not w.endswith("ss"):
                w = w[: -len(suffix)]
                break
    return fold(w)[:6]


_STOP_STEMS = frozenset(stem(w) for w in _STOP | TITLE_WORDS)
TITLE_STEMS = frozenset(stem(w) for w in TITLE_WORDS)
NEGATION, NUMBER, SKIP, CONTENT = range(4)  # what a word contributes (`word_class`)


@lru_cache(maxsize=1 << 17)
def word_class(word: str) -> tuple[int, str]:
    """What one lower-cased word contributes: negation, a number, nothing, or a stem."""
    w = word.replace("’", "'").removesuffix("'s")
    if w in NEGATIONS:
        return NEGATION, w
    if w in NUMBER_WORDS:
        return NUMBER, NUMBER_WORDS[w]
    s = stem(w)
    if s in _STOP_STEMS or len(s) < 2:
        return SKIP, s
    return CONTENT, s


def content_stem(word: str) -> str | None:
    """The stem of a word that says something; None for a function word ("were", "of")."""
    kind, value = word_class(word)
    return value if kind == CONTENT else None
