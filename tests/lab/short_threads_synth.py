"""A small set of short everyday threads in the format of `lab/short_threads/threads.jsonl`, for tests that
run the off-topic evaluation and training without reading (and encoding) the whole project set."""

from __future__ import annotations

import json
import random
from pathlib import Path

from lab.commands.train_offtopic import FOLDS
from lab.datasets.splice import fold_of

# Invented everyday subjects; a reply's sentence takes three words of its thread's subject.
SUBJECTS = {
    "buses": "bus timetable stop route driver depot fare ticket evening morning late shelter",
    "football": "match goal striker keeper referee penalty league derby fans stadium kickoff",
    "baking": "sourdough starter flour dough oven loaf crust proving yeast crumb bake",
    "laptops": "laptop battery charger sleep screen keyboard drivers update windows fan",
    "gardening": "tomatoes seedlings compost greenhouse watering slugs soil pots harvest",
    "renting": "landlord deposit tenancy rent lease flat repairs agent notice contract",
}
GLUE = [
    "anyone know if the {} and {} are ok {}",
    "my {} needs a {} before the {}",
    "the {} with {} was {} today",
]
DEV_PER_FOLD = 10  # half of them with one post about another subject
TEST_THREADS = 8  # both styles, each with and without an off-topic post


def _sentence(rng: random.Random, words: list[str]) -> str:
    return rng.choice(GLUE).format(*rng.sample(words, 3))


def _thread(
    rng: random.Random, thread_id: str, split: str, intruder: bool, style: str = "discussion"
) -> dict[str, object]:
    names = list(SUBJECTS)
    subject = rng.choice(names)
    words = SUBJECTS[subject].split()
    other = SUBJECTS[rng.choice([n for n in names if n != subject])].split()
    posts = []
    for i in range(6):
        off = intruder and i == 3
        text = _sentence(rng, other if off else words)
        posts.append({"id": f"{thread_id}-{i + 1}", "author": f"user{i}", "text": text, "off_topic": off})
    return {
        "thread_id": thread_id,
        "title": " ".join(rng.sample(words, 2)),
        "subject": subject,
        "style": style,
        "kind": "intruder" if intruder else "clean",
        "split": split,
        "posts": posts,
    }


def write_short_threads(path: Path, seed: int = 7) -> Path:
    """Write the set to `path`: `DEV_PER_FOLD` dev threads in each fold and `TEST_THREADS` test threads."""
    rng = random.Random(seed)
    threads = []
    n = 0
    for fold in range(FOLDS):
        for k in range(DEV_PER_FOLD):
            n += 1
            while fold_of(f"sst-{n}", FOLDS) != fold:
                n += 1
            threads.append(_thread(rng, f"sst-{n}", "dev", intruder=k % 2 == 0))
    for k in range(TEST_THREADS):
        style = "question" if k // 2 % 2 else "discussion"
        threads.append(_thread(rng, f"sst-test-{k}", "test", intruder=k % 2 == 0, style=style))
    path.write_text("".join(json.dumps(t) + "\n" for t in threads), encoding="utf-8")
    return path
