"""A toy corpus of rude and civil sentences, written for the tests (no shared data)."""

RUDE = ["you are a {} {}", "what a {} {} you are", "shut up, {} {}", "only a {} {} would say that"]
NICE = [
    "thanks for the {} on {}",
    "i think the {} about {} is fair",
    "good point on {} and {}",
    "the {} of {} rose",
]
BAD = ["idiot", "moron", "loser", "clown", "fool", "jerk"]
ADJ = ["stupid", "pathetic", "ignorant", "dumb"]
NOUN = ["budget", "report", "transit", "housing", "taxes", "schools"]


def toy_corpus() -> tuple[list[str], list[float]]:
    """240 texts, rude and civil in turn, with soft labels."""
    texts, labels = [], []
    for i in range(240):
        if i % 2:
            texts.append(RUDE[i % 4].format(ADJ[i % 4], BAD[i % 6]))
            labels.append(1.0 if i % 3 else 0.67)
        else:
            texts.append(NICE[i % 4].format(NOUN[i % 6], NOUN[(i + 1) % 6]))
            labels.append(0.0 if i % 3 else 0.33)
    return texts, labels
