"""Canonical entities for the speakers and sources of many articles.

One entity per person, organisation or outlet, with every name variant seen kept as an
alias. Pure: works on the per-article records only, no model, no I/O.

Matching is by the form of a name:
- person: the surname (transliteration-folded, so Zelensky = Zelenskyy) and a compatible
  first name; a bare surname ("Peskov") or an initial joins a full name only when that
  is the one candidate in all the records, else the one candidate in its own article,
  so two people who share a surname are never merged without such evidence;
- organisation: normalised words ("the Kremlin" = "Kremlin"), compact forms ("WaPo",
  "WSJ") and short forms ("The Post"), under the same one-candidate rule; a generic
  reference ("the daily", "the newspaper") is the outlet its article cites most;
- anonymous sources: grouped by the entity that relays them, named
  "anonymous sources (via The Washington Post)"; with no relay they stay per article.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Literal

from rapidfuzz import fuzz

from annotator.core.models import ArticleAnnotation, Entity
from annotator.core.unionfind import UnionFind
from annotator.reconcile.names import (
    KIND_ORDER,
    OUTLET_KINDS,
    Form,
    compact_matches,
    fold,
    is_compact,
    name_form,
    name_words,
    slugify,
    source_form,
    speaker_form,
)

Role = Literal["speaker", "source"]
MentionKey = tuple[str, Role, str]  # (article id, role, speaker or source id)


@dataclass
class _Mention:
    key: MentionKey
    raw: str
    kind: str
    form: Form
    tokens: tuple[str, ...]  # person: folded display words; org: org_tokens
    display: str
    weight: int = 0  # claims in its article that cite it
    relay: MentionKey | None = None


@dataclass(frozen=True)
class EntityIndex:
    """The canonical entities and which one each speaker or source of each article is."""

    entities: tuple[Entity, ...]
    by_mention: dict[MentionKey, int] = field(default_factory=dict)

    def lookup(self, article: str, role: Role, local_id: str) -> Entity | None:
        idx = self.by_mention.get((article, role, local_id))
        return None if idx is None else self.entities[idx]


def _mentions(records: Sequence[ArticleAnnotation]) -> list[_Mention]:
    out: list[_Mention] = []
    for rec in records:
        aid = rec.article.id
        cites: Counter[str] = Counter()
        relay_in_chain: dict[str, str] = {}
        for claim in rec.claims:
            cites.update(set(claim.sources))
            for nearer, farther in pairwise(claim.sources):
                relay_in_chain.setdefault(farther, nearer)
        for sp in rec.speakers:
            form, kind = speaker_form(sp.name)
            out.append(_make_mention((aid, "speaker", sp.id), sp.name, kind, form))
        for src in rec.sources:
            form = source_form(src.name, src.kind)
            m = _make_mention((aid, "source", src.id), src.name, src.kind, form)
            m.weight = cites[src.id]
            relay = src.cited_via or relay_in_chain.get(src.id)
            m.relay = (aid, "source", relay) if relay else None
            out.append(m)
    out.sort(key=lambda m: m.key)
    return out


def _make_mention(key: MentionKey, raw: str, kind: str, form: Form) -> _Mention:
    raw = " ".join(raw.split())
    tokens, display = name_form(raw, form)
    return _Mention(key, raw, kind, form, tokens, display)


def _given_names_match(a: str, b: str) -> bool:
    if a == b:
        return True
    if len(a) == 1 or len(b) == 1:
        return False  # an initial alone is weak evidence: handled by the one-candidate rule
    return fuzz.ratio(a, b) >= 85


@dataclass
class _NameGroup:
    """Mentions sharing one normalised name, with the articles they occur in."""

    tokens: tuple[str, ...]
    keys: list[MentionKey] = field(default_factory=list)
    articles: set[str] = field(default_factory=set)


def _name_groups(
    mentions: Iterable[_Mention], uf: UnionFind[MentionKey]
) -> dict[tuple[str, ...], _NameGroup]:
    groups: dict[tuple[str, ...], _NameGroup] = {}
    for m in mentions:
        g = groups.setdefault(m.tokens, _NameGroup(m.tokens))
        if g.keys:
            uf.union(g.keys[0], m.key)
        g.keys.append(m.key)
        g.articles.add(m.key[0])
    return groups


def _attach(
    group: _NameGroup, cands: Sequence[_NameGroup], uf: UnionFind[MentionKey]
) -> list[MentionKey]:
    """Join a short name to its one candidate in all records, else to the one candidate
    in each mention's own article; returns the mentions left unattached."""
    corpus = {uf.find(c.keys[0]) for c in cands}
    if len(corpus) == 1:
        target = corpus.pop()
        for key in group.keys:
            uf.union(key, target)
        return []
    left = []
    for key in group.keys:
        local = {uf.find(c.keys[0]) for c in cands if key[0] in c.articles}
        if len(local) == 1:
            uf.union(key, local.pop())
        else:
            left.append(key)
    return left


def _merge_people(people: list[_Mention], orgs: list[_Mention], uf: UnionFind[MentionKey]) -> None:
    full = [m for m in people if len(m.tokens) >= 2 and len(m.tokens[0]) > 1]
    short = [m for m in people if not (len(m.tokens) >= 2 and len(m.tokens[0]) > 1)]
    full_groups = _name_groups(full, uf)
    by_surname: dict[str, list[_NameGroup]] = defaultdict(list)
    for g in full_groups.values():
        by_surname[g.tokens[-1]].append(g)
    for groups in by_surname.values():
        for i, a in enumerate(groups):
            for b in groups[i + 1 :]:
                if _given_names_match(a.tokens[0], b.tokens[0]):
                    uf.union(a.keys[0], b.keys[0])
    org_by_tokens = {m.tokens: m.key for m in orgs}
    # bare surnames and initials: grouped per written form first, so that an unresolved
    # "Trump" in two articles is one entity, never joined to two different full names
    short_groups: dict[tuple[str, ...], list[_Mention]] = defaultdict(list)
    for m in short:
        short_groups[m.tokens].append(m)
    for tokens, members in short_groups.items():
        initial = tokens[0] if len(tokens) >= 2 else None
        cands = [
            g
            for g in by_surname.get(tokens[-1], [])
            if initial is None or g.tokens[0].startswith(initial)
        ]
        group = _NameGroup(tokens, [m.key for m in members], {m.key[0] for m in members})
        left = _attach(group, cands, uf) if cands else group.keys
        for key in left[1:]:  # unresolved: one entity per written form
            uf.union(left[0], key)
        if left and tokens in org_by_tokens:  # a one-word name also used for an organisation
            uf.union(left[0], org_by_tokens[tokens])


def _merge_orgs(orgs: list[_Mention], uf: UnionFind[MentionKey]) -> None:
    groups = _name_groups(orgs, uf)
    by_last: dict[str, list[_NameGroup]] = defaultdict(list)
    by_initial: dict[str, list[_NameGroup]] = defaultdict(list)
    for g in groups.values():
        if len(g.tokens) >= 2:
            by_last[g.tokens[-1]].append(g)
            by_initial[g.tokens[0][:1]].append(g)
    raw_of = {m.key: m.raw for m in orgs}
    pending: list[tuple[_NameGroup, list[_NameGroup]]] = []
    for tokens, g in groups.items():
        if not tokens:
            continue
        cands: list[_NameGroup] = []
        written = [w for w in name_words(raw_of[g.keys[0]]) if fold(w) == tokens[0]]
        if len(tokens) == 1 and written and is_compact(written[0]):
            compact = tokens[0]
            cands = [
                c
                for c in by_initial.get(compact[:1], [])
                if len(c.tokens) <= len(compact) and compact_matches(compact, c.tokens)
            ]
        if not cands:
            n = len(tokens)
            cands = [
                c
                for c in by_last.get(tokens[-1], [])
                if len(c.tokens) > n and c.tokens[-n:] == tokens
            ]
        if cands:
            pending.append((g, cands))
    for g, cands in pending:
        _attach(g, cands, uf)


def canonicalise_entities(records: Sequence[ArticleAnnotation]) -> EntityIndex:
    """Merge the speakers and sources of all records into canonical entities."""
    mentions = _mentions(records)
    by_key = {m.key: m for m in mentions}
    uf = UnionFind(by_key)
    people = [m for m in mentions if m.form == "person" and m.tokens]
    orgs = [m for m in mentions if m.form == "org" and m.tokens]
    _merge_orgs(orgs, uf)
    _merge_people(people, orgs, uf)
    _resolve_generic(mentions, uf)
    anon_groups = _group_anonymous(mentions, by_key, uf)
    return _build_index(mentions, uf, anon_groups)


def _resolve_generic(mentions: list[_Mention], uf: UnionFind[MentionKey]) -> None:
    """'the daily' is the news outlet its own article cites most (ties: first listed)."""
    outlets: dict[str, list[_Mention]] = defaultdict(list)
    for m in mentions:
        if m.form == "org" and m.kind in OUTLET_KINDS and m.key[1] == "source":
            outlets[m.key[0]].append(m)
    for m in mentions:
        if m.form != "generic":
            continue
        cands = outlets.get(m.key[0], [])
        if cands:
            best = min(cands, key=lambda c: (-c.weight, c.key))
            uf.union(m.key, best.key)


def _group_anonymous(
    mentions: list[_Mention], by_key: dict[MentionKey, _Mention], uf: UnionFind[MentionKey]
) -> dict[MentionKey, MentionKey | None]:
    """Anonymous mention -> root of the entity relaying it (None: no known relay)."""
    relay_root: dict[MentionKey, MentionKey | None] = {}
    for m in mentions:
        if m.form != "anonymous":
            continue
        cur, seen = m.relay, {m.key}
        while cur is not None and cur in by_key and by_key[cur].form == "anonymous":
            if cur in seen:
                cur = None
                break
            seen.add(cur)
            cur = by_key[cur].relay
        relay_root[m.key] = uf.find(cur) if cur is not None and cur in by_key else None
    first_of: dict[object, MentionKey] = {}
    for m in mentions:
        if m.key in relay_root:
            root = relay_root[m.key]
            group: object = ("via", root) if root else ("local", m.key[0], m.tokens)
            uf.union(first_of.setdefault(group, m.key), m.key)
    return relay_root


def _pick_name(members: list[_Mention]) -> str:
    counts = Counter(m.display for m in members)
    if members[0].form == "person":
        full = [d for d in counts if len(d.split()) >= 2] or list(counts)
        return min(full, key=lambda d: (-counts[d], -len(d.split()), d))

    def content(d: str) -> int:
        return len([w for w in d.split() if w.lower() != "the"])

    return min(counts, key=lambda d: (-content(d), -counts[d], d[:4] != "The ", d))


def _build_index(
    mentions: list[_Mention],
    uf: UnionFind[MentionKey],
    relay_root: dict[MentionKey, MentionKey | None],
) -> EntityIndex:
    groups: dict[MentionKey, list[_Mention]] = defaultdict(list)
    for m in mentions:
        groups[uf.find(m.key)].append(m)
    names: dict[MentionKey, str] = {}
    for root, members in groups.items():
        if members[0].form != "anonymous":
            names[root] = _pick_name(members)
    drafts = []
    for root, members in groups.items():
        if members[0].form == "anonymous":
            relay = relay_root.get(members[0].key)
            relay_name = names.get(uf.find(relay)) if relay else None
            name = f"anonymous sources (via {relay_name})" if relay_name else _pick_name(members)
        else:
            name = names[root]
        kinds = Counter(m.kind for m in members)
        kind = min(kinds, key=lambda k: (-kinds[k], KIND_ORDER.index(k)))
        aliases = sorted({m.raw for m in members})
        articles = sorted({m.key[0] for m in members})
        drafts.append((slugify(name), name, kind, aliases, articles, members))
    drafts.sort(key=lambda d: (d[0], d[1], d[3], d[4]))
    entities: list[Entity] = []
    by_mention: dict[MentionKey, int] = {}
    seen: Counter[str] = Counter()
    for slug, name, kind, aliases, articles, members in drafts:
        seen[slug] += 1
        eid = slug if seen[slug] == 1 else f"{slug}-{seen[slug]}"
        for m in members:
            by_mention[m.key] = len(entities)
        entities.append(Entity(id=eid, name=name, kind=kind, aliases=aliases, articles=articles))
    return EntityIndex(tuple(entities), by_mention)
