"""Turn an attributed clause into an affirmative statement, by rule, without inventing text.

Denial frames are stripped ("Reports that X are false" -> X, "There was no X" -> "There
was a X", "X is completely untrue" -> X), hedge adverbs dropped, a simple negation
removed (the caller flips the stance). What remains is words of the article.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from annotator.extract.rules.stance_cues import DENIAL_LABELS

# "X is false", "X is pure fiction": the labels of the shared denial lexicon.
_DENIAL_WORDS = (
    "(?:"
    + "|".join(
        re.escape(t).replace(r"\ ", r"\s+") for t in sorted(DENIAL_LABELS, key=len, reverse=True)
    )
    + ")"
)
_INTENSIFIERS = (
    r"(?:(?:completely|totally|absolutely|entirely|simply|utterly|patently|pure|plainly|"
    r"categorically|clearly|just|all|wholly|an?|both)\s+){0,4}"  # bounded: linear scans
)
_BE = r"(?:(?<!\s)\s++(?:is|are|was|were)|’s|'s)"
REPORT_FRAME = re.compile(
    r"^(?:the\s+|these\s+|those\s+|western\s+|media\s+)*"
    r"(?:[A-Z][\w-]*(?:’s|'s)\s+)?(?:reports?|claims?|allegations?|suggestions?|"
    r"rumou?rs?|assertions?|accusations?|charges?|information|speculation)\s+"
    r"(?:in\s+[\w\s]+?(?<!\s)\s++)?(?:that|of)\s+"
    r"(?P<x>.+)$",
    re.IGNORECASE,
)
FALSE_FRAME = re.compile(rf"^(?P<x>.+?){_BE}\s+{_INTENSIFIERS}{_DENIAL_WORDS}\b.*$", re.IGNORECASE)
LABEL_FRAME = re.compile(
    rf"^(?P<x>.+?)(?<!\s)\s++(?:as\s+)?{_INTENSIFIERS}[“\"]?{_DENIAL_WORDS}[”\"]?$", re.IGNORECASE
)
NONE_FRAME = re.compile(
    r"^there\s+(?P<be>was|is|were|has\s+been|have\s+been|had\s+been)\s+no\s+(?P<x>.+)$",
    re.IGNORECASE,
)
ANAPHOR = re.compile(
    r"^(?:it|this|that|these|those|the\s+(?:reports?|claims?|story|allegations?|"
    r"accusations?|charges?|reporting)|(?:this|that)\s+(?:part\s+of\s+the\s+)?(?:reports?|claims?|story)|"
    r"(?:[A-Z][\w-]*)(?:’s|'s)\s+(?:claims?|reports?|reporting|account|story|allegations?))"
    r"(?:\s+\w+){0,2}?$",
    re.IGNORECASE,
)
OWNER_ANAPHOR = re.compile(
    r"^(?P<owner>[A-Z][\w-]*)(?:’s|'s)\s+(?:claims?|reports?|reporting|account|story|book)$"
)
HEDGE_WORDS = re.compile(
    r"\b(?:reportedly|allegedly|purportedly|apparently|supposedly|actually|alleged|"
    r"purported|potentially)\s+",
    re.IGNORECASE,
)
LEADING_CONNECTIVE = re.compile(
    r"^(?:(?:and|but|so|yet|however|subsequently|thus|therefore|also|that|meanwhile|"
    r"moreover|indeed|still|then|apart\s+from\s+that)\b,?\s+)+",
    re.IGNORECASE,
)
_NEGATION = re.compile(
    r"\b(?P<aux>have|has|had|did|does|do|was|were|is|are|could|would|will|can|should|might|"
    r"must)(?:\s+not|n[’']t)\b|\b(?P<neg>haven[’']t|hasn[’']t|hadn[’']t|didn[’']t|doesn[’']t|"
    r"don[’']t|wasn[’']t|weren[’']t|isn[’']t|aren[’']t|couldn[’']t|wouldn[’']t|won[’']t|"
    r"can[’']t|cannot|shouldn[’']t)\b|\bnever\b|\bnot\b",
    re.IGNORECASE,
)
_CONTRACTED = {"won't": "will", "can't": "can", "cannot": "can", "shan't": "shall"}
_FIRST_PERSON = re.compile(r"\b(?:i|we|you|it|this|that|there|one)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Rewritten:
    text: str  # the affirmative statement, or the anaphor when needs_antecedent
    denied: bool = False  # a denial frame was stripped: the content rejects text
    needs_antecedent: bool = False  # "it is untrue", "the reports": says nothing by itself
    owner: str | None = None  # "Woodward’s claims": whose earlier claim is meant


def clean(text: str) -> str:
    """Words only: no link markup, quotation marks, editorial brackets or end punctuation."""
    s = re.sub(r"\[([^\]]{0,300}+)\]\([^)]{0,2000}+\)", r"\1", text)
    s = re.sub(r"\[([^\]]{0,300}+)\]", r"\1", s)
    s = re.sub(r"(?<=\w)[”“\"](?=\w)", " ", s)
    s = re.sub(r"[“”\"]|(?<!\w)[‘’']|[‘’'](?!\w)", "", s)
    s = re.sub(r"\s+", " ", s).strip()
    s = LEADING_CONNECTIVE.sub("", s)
    return s.strip(" ,;:.–—-")


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def rewrite(content: str) -> Rewritten:
    """The affirmative statement behind one clause's content."""
    s = clean(content)
    denied = False
    m = REPORT_FRAME.match(s)
    if m:
        s = m.group("x")
    m = FALSE_FRAME.match(s)
    if m:
        s, denied = m.group("x"), True
        r = REPORT_FRAME.match(s)
        if r:
            s = r.group("x")
    else:
        m = NONE_FRAME.match(s)
        if m:
            x, be = m.group("x"), m.group("be").lower()
            denied = True
            if len(x.split()) <= 3:
                return Rewritten(
                    text=f"There {be} {_article(x)} {x}", denied=True, needs_antecedent=True
                )
            s = f"There {be} {_article(x)} {x}"
    s = HEDGE_WORDS.sub("", s)
    s = s.strip(" ,;:.")
    owner = OWNER_ANAPHOR.match(s)
    if ANAPHOR.match(s) or len(s.split()) < 2:
        return Rewritten(
            text=s,
            denied=denied,
            needs_antecedent=True,
            owner=owner.group("owner") if owner else None,
        )
    return Rewritten(text=s, denied=denied)


def label_content(content: str) -> Rewritten | None:
    """'X called Y false': the labelled object Y, as a denial; None if no denial label."""
    s = clean(content)
    m = LABEL_FRAME.match(s)
    if not m:
        return None
    inner = rewrite(m.group("x"))
    return Rewritten(
        text=inner.text, denied=True, needs_antecedent=inner.needs_antecedent, owner=inner.owner
    )


def flip_negation(s: str) -> tuple[str, bool]:
    """Remove a single plain negation from a simple third-person clause."""
    found = list(_NEGATION.finditer(s))
    if len(found) != 1 or re.search(r"\b(?:but|although|though|while|if|unless)\b|;", s):
        return s, False
    m = found[0]
    subject = s[: m.start()].strip()
    after = s[m.end() :].lstrip()
    if (
        len(subject.split()) > 5
        or "," in subject
        or not re.match(r"[A-Z]|(?:he|she|they|the|his|her|its|their)\b", subject)
        or _FIRST_PERSON.match(subject)
        or re.match(
            r"(?:(?<![\w’'-])[\w’'-]++\s+){0,2}?(?:any|anything|anyone|yet|either|ever|only)\b",
            after,
        )
    ):
        return s, False
    if m.group("aux"):
        repl = m.group("aux")
    elif m.group("neg"):
        word = m.group("neg").lower().replace("’", "'")
        repl = _CONTRACTED.get(word, re.sub(r"n't$", "", word))
        if m.group("neg")[0].isupper():
            repl = repl.capitalize()
    elif m.group().lower() == "never":
        repl = "ever" if re.search(r"\b(?:has|have|had)\s*$", subject) else ""
    else:  # a bare "not" ("Putin, not Trump"): too risky to remove
        return s, False
    out = (s[: m.start()] + repl + " " + after).strip()
    return re.sub(r"\s+", " ", out), True


def resolve_subject_pronoun(statement: str, name: str | None) -> str:
    """'he was ready' said by Putin -> 'Putin was ready'."""
    if not name:
        return statement
    return re.sub(r"^(?:he|she|He|She)(?=\s)", name, statement, count=1)


def resolve_pair(statement: str, pair: tuple[str, str] | None) -> str:
    """'the two men spoke' -> 'Trump and Putin spoke', when the pair is known."""
    if not pair:
        return statement
    joined = f"{pair[0]} and {pair[1]}"
    return capitalize(
        re.sub(
            r"\b(?:the\s+two\s+(?:men|leaders|presidents|sides)|both\s+men|the\s+pair|"
            r"the\s+two)\b",
            joined,
            statement,
            count=1,
            flags=re.IGNORECASE,
        )
    )


def capitalize(s: str) -> str:
    return s[:1].upper() + s[1:] if s else s
