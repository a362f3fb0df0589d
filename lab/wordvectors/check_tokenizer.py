"""Compare the pure-Python tokenizer of `classifiers.wordvectors` with the `tokenizers` library.

Run with the lab venv: `.labvenv/bin/python -m lab.wordvectors.check_tokenizer`. It tokenises the forum
corpora's posts and random strings drawn from tricky Unicode ranges with both, and prints the first
differences (none expected) and, with `--literals`, the expected token lists for the project's tests.
"""

from __future__ import annotations

import argparse
import random
import sys

from classifiers.wordvectors import WordPieceTokenizer
from lab.wordvectors.build import corpus_texts, load_vocab
from lab.wordvectors.minilm import model_dir

TRICKY = [
    "",
    "   \t\n  ",
    "Hello, World!",
    "Café déjà vu: naïve coöperation, Ångström, façade",
    "ÉCOLE Straße ΣΟΦΊΑ Ӝ",
    "don't stop-believing... (really?!) #hashtag @user e-mail: a.b@c.de",
    "I ❤️ football ⚽🏆 😂😂",
    "北京欢迎你 and 東京 and 서울",
    "Prices: $3.50, 1,000,000 and 3.14159; 24/7 at 10:30pm",
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "a" * 101 + " ok " + "b" * 100,
    "tab\tseparated\x00null\u200bzero-width\ufeffbom\u00a0nbsp\u2028line",
    "http://example.com/path?q=1&r=two#frag",
    "Ünïcödé ﬁne ligature ＦＵＬＬ　ｗｉｄｔｈ ½ ² ™",
    "İstanbul ǅ ß ẞ",
    "The Bus Route 42A runs every 15 minutes",
    "ΟΔΟΣ final sigma",
    "joined\x0bby\x0ccontrols and\u0379unassigned",
    "C++ and C# vs. U.S.A. — em dash… ellipsis «quotes»",
]
RANGES = [
    (0x20, 0x7F),
    (0xA0, 0x250),
    (0x300, 0x370),
    (0x370, 0x400),
    (0x2000, 0x2070),
    (0x3000, 0x3100),
    (0x4E00, 0x4E80),
    (0x1F300, 0x1F700),
    (0xFF00, 0xFFF0),
    (0x0, 0x20),
    (0xAC00, 0xAC40),
    (0x600, 0x700),
]


def random_text(rng: random.Random) -> str:
    """A string of 1-40 characters from a few random ranges, with spaces."""
    chars = []
    for _ in range(rng.randint(1, 40)):
        lo, hi = rng.choice(RANGES)
        chars.append(" " if rng.random() < 0.15 else chr(rng.randrange(lo, hi)))
    return "".join(chars)


def main() -> int:
    """Print differences; exit 1 when any."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--literals", action="store_true", help="print the TRICKY cases' expected tokens")
    parser.add_argument("--random", type=int, default=20000)
    args = parser.parse_args()
    from tokenizers import Tokenizer

    reference = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
    reference.no_padding()
    reference.no_truncation()
    ours = WordPieceTokenizer(load_vocab(model_dir()))
    if args.literals:
        for text in TRICKY:
            print(f"    ({text!r}, {reference.encode(text, add_special_tokens=False).tokens!r}),")
        return 0
    rng = random.Random(7)
    texts = TRICKY + list(corpus_texts(10**9)) + [random_text(rng) for _ in range(args.random)]
    bad = 0
    for text in texts:
        expected = reference.encode(text, add_special_tokens=False).ids
        if ours.ids(text) != expected:
            bad += 1
            if bad <= 10:
                print(
                    repr(text[:200]),
                    ours.tokens(text)[:30],
                    [reference.id_to_token(i) for i in expected][:30],
                )
    print(f"{bad} of {len(texts)} texts differ")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
