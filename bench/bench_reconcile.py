"""Benchmark `annotate reconcile` on synthetic per-article records (not a test).

    .venv/bin/python bench/bench_reconcile.py                 # 1k, 10k and 100k claim records
    .venv/bin/python bench/bench_reconcile.py --sizes 100000  # one size

Each size runs in a fresh child process, so its peak RSS is its own. The records are
written to a temporary folder (20 claims per article file, about 400 bytes of YAML per
claim) and then loaded, reconciled and written exactly as the command does. Statements
are paraphrases of n/8 propositions (synonyms, name variants, word order, dates dropped),
with near-miss traps: the same people with another date, another person, or negated.

Reconcile includes the whole clustering method: wordllama embeddings of every distinct
statement (no cache here), features, nearest-neighbour candidates (exact up to 20k,
IVF above), pair scores on the candidates, and average linkage with anchor clashes
counted over all item pairs (see annotator/reconcile/clustering.py).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere

CLAIMS_PER_FILE = 20
FIRST = [
    "Anna",
    "Boris",
    "Carla",
    "Dmitri",
    "Elena",
    "Farid",
    "Greta",
    "Hugo",
    "Irina",
    "Jonas",
    "Karim",
    "Lena",
    "Marco",
    "Nadia",
    "Oleg",
    "Paula",
    "Quentin",
    "Rosa",
    "Sergei",
    "Tanya",
    "Umar",
    "Vera",
    "Walter",
    "Xenia",
    "Yusuf",
    "Zoran",
    "Alice",
    "Bruno",
    "Chen",
    "Dana",
]
LAST = [
    "Abbott",
    "Baranov",
    "Castillo",
    "Dimitrov",
    "Engel",
    "Fischer",
    "Garcia",
    "Horvat",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Novak",
    "Okafor",
    "Petrov",
    "Quinn",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Ueda",
    "Volkov",
    "Weber",
    "Xu",
    "Yilmaz",
    "Zimmer",
    "Adler",
    "Brandt",
    "Costa",
    "Dubois",
    "Eriksen",
    "Ferreira",
    "Gruber",
    "Hansen",
    "Ito",
    "Jovanovic",
]
TITLES = ("President", "Minister", "spokesman", "Senator", "Governor", "envoy")
OUTLETS = ("The Daily Ledger", "Morning Courier", "Global Wire", "The Evening Post", "Metro Times")
PLACES = [
    "Geneva",
    "Vienna",
    "Oslo",
    "Lisbon",
    "Prague",
    "Warsaw",
    "Ankara",
    "Cairo",
    "Nairobi",
    "Lima",
    "Quito",
    "Hanoi",
]
PREDICATES = (  # paraphrase sets: every entry of a set says the same thing
    (
        "{a} met {b} in {place}",
        "{a} held a meeting with {b} in {place}",
        "{b} and {a} met in {place}",
    ),
    (
        "{a} spoke with {b} by phone",
        "{a} and {b} held a phone call",
        "{b} talked to {a} on the phone",
    ),
    (
        "{a} urged {b} not to escalate the dispute over {topic}",
        "{a} warned {b} against escalating the dispute over {topic}",
    ),
    ("{a} signed the {topic} agreement with {b}", "{b} and {a} signed an agreement on {topic}"),
    ("{a} criticised {b} over {topic}", "{a} voiced criticism of {b} over {topic}"),
    ("{a} promised {b} support on {topic}", "{a} pledged to support {b} on {topic}"),
    (
        "{a} informed {b} in advance about {topic}",
        "{b} was notified beforehand by {a} about {topic}",
    ),
)
TOPICS = (
    "grain exports", "gas transit", "border crossings", "fishing quotas", "rail links",
    "water rights", "steel tariffs", "vaccine supplies", "drone sales", "port access",
    "debt relief", "visa rules",
    "satellite launches", "mining licences", "refugee quotas", "power grids", "cyber security",
)  # fmt: skip
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
]


def _name(rng: random.Random, person: tuple[str, str]) -> str:
    first, last = person
    return rng.choice((f"{first} {last}", last, f"{rng.choice(TITLES)} {first} {last}"))


@dataclass(frozen=True)
class Proposition:
    a: tuple[str, str]
    b: tuple[str, str]
    pred: int
    topic: str
    place: str
    date: str | None
    negated: bool


def _propositions(rng: random.Random, count: int) -> list[Proposition]:
    people = [(f, ln) for f in FIRST for ln in LAST]
    props = []
    for _ in range(count):
        a, b = rng.sample(people, 2)
        date = None
        if rng.random() < 0.4:
            date = f"on {rng.choice(MONTHS)} {rng.randint(1, 28)}, {rng.choice((2023, 2024))}"
        pred = rng.randrange(len(PREDICATES))
        topic, place = rng.choice(TOPICS), rng.choice(PLACES)
        props.append(Proposition(a, b, pred, topic, place, date, rng.random() < 0.05))
    return props


def _statement(rng: random.Random, prop: Proposition) -> str:
    template = rng.choice(PREDICATES[prop.pred])
    text = template.format(
        a=_name(rng, prop.a), b=_name(rng, prop.b), topic=prop.topic, place=prop.place
    )
    if prop.date and rng.random() < 0.7:
        text += f" {prop.date}"
    if prop.negated:
        text = "It is not true that " + text[0].lower() + text[1:]
    return text


def generate(folder: Path, n_claims: int, seed: int = 7) -> None:
    from annotator.core.yamlio import dump_yaml

    rng = random.Random(seed)
    props = _propositions(rng, max(1, n_claims // 8))
    for f in range((n_claims + CLAIMS_PER_FILE - 1) // CLAIMS_PER_FILE):
        aid = f"a{f:06d}"
        outlet = rng.choice(OUTLETS)
        speakers, sources, claims = [], [], []
        for k in range(3):
            p = rng.choice(props).a
            speakers.append(
                {"id": f"s{k}", "name": _name(rng, p), "role": None, "affiliation": None}
            )
        sources.append(
            {"id": "src0", "name": rng.choice(OUTLETS), "kind": "news_outlet", "cited_via": None}
        )
        sources.append(
            {
                "id": "src1",
                "name": "people familiar with the matter",
                "kind": "anonymous",
                "cited_via": "src0",
            }
        )
        sources.append(
            {"id": "src2", "name": "Global Wire", "kind": "news_agency", "cited_via": None}
        )
        for c in range(CLAIMS_PER_FILE):
            statement = _statement(rng, rng.choice(props))
            quote = f"{statement}, people close to the talks said on condition of anonymity."
            claims.append({
                "id": f"c{c}", "statement": statement, "quote": quote, "span": [0, len(quote)],
                "grounding": "exact", "speaker": rng.choice((None, "s0", "s1", "s2")),
                "sources": rng.choice(([], ["src0"], ["src0", "src1"], ["src2"])),
                "stance": rng.choices(("confirm", "deny", "unverified"), (6, 2, 2))[0],
            })  # fmt: skip
        data = {
            "schema": "annotator/article-annotation/v1",
            "article": {"id": aid, "path": f"{aid}.txt", "sha256": "0" * 64, "title": None,
                        "outlet": outlet, "published": "2024-11-11", "url": None},
            "annotation": {"backend": "rules", "model": None, "endpoint": None, "prompt": None,
                           "prompt_sha256": None, "created": None, "usage": None},
            "speakers": speakers, "sources": sources, "claims": claims,
        }  # fmt: skip
        (folder / f"{aid}.yaml").write_text(dump_yaml(data), encoding="utf-8")


class TreeMemory:
    """Peak memory of this process and its workers together (the YAML workers, the forked
    half of a loop): the sum of their proportional set sizes, sampled every 0.2 s on a
    thread. PSS splits a page shared by several processes among them, so pages a forked
    child shares with this process count once; RSS would count them in each."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, sum(_pss(pid) for pid in _tree(os.getpid())))


def _tree(pid: int) -> list[int]:
    found = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [p for c in task.read_text().split() for p in _tree(int(c))]
        except OSError:
            continue  # gone meanwhile
    return found


def _pss(pid: int) -> int:
    """Bytes; 0 for a process gone meanwhile, or without /proc (not Linux)."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    return next(
        (int(line.split()[1]) * 1024 for line in text.splitlines() if line.startswith("Pss:")), 0
    )


def run_one(n_claims: int) -> None:
    from annotator.reconcile.summary import reconcile
    from annotator.records.store import load_article_records, write_event_summary

    with tempfile.TemporaryDirectory(prefix="bench-reconcile-") as tmp:
        folder = Path(tmp) / "articles"
        folder.mkdir()
        generate(folder, n_claims)
        size_mb = sum(p.stat().st_size for p in folder.iterdir()) / 1e6
        usage = resource.getrusage(resource.RUSAGE_SELF)
        cpu0 = usage.ru_utime + usage.ru_stime
        with TreeMemory() as memory:
            t0 = time.perf_counter()
            records = load_article_records(folder)
            t1 = time.perf_counter()
            summary = reconcile(records)
            t2 = time.perf_counter()
            write_event_summary(summary, Path(tmp) / "event.yaml")
            t3 = time.perf_counter()
        digest = hashlib.sha256((Path(tmp) / "event.yaml").read_bytes()).hexdigest()[:12]
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - cpu0
    print(
        f"{n_claims:>7} claims {len(records):>5} files {size_mb:6.1f} MB | load {t1 - t0:6.2f} s"
        f" reconcile {t2 - t1:6.2f} s write {t3 - t2:6.2f} s total {t3 - t0:6.2f} s"
        f" (CPU {cpu:6.1f} s) | peak RSS {usage.ru_maxrss / 1024:7.0f} MB,"
        f" with workers (PSS) {memory.peak / 2**20:7.0f} MB"
        f" | {len(summary.claims)} claims, {len(summary.entities)} entities,"
        f" event.yaml sha256 {digest}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_one(args.sizes[0])
        return
    for n in args.sizes:
        subprocess.run([sys.executable, __file__, "--child", "--sizes", str(n)], check=True)


if __name__ == "__main__":
    main()
