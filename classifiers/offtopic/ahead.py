"""Which texts a thread's state will ask the sentence encoder for, before it reviews a batch of posts.

The sentence encoder runs faster over many texts at once (`SentenceEncoder.encode_many`), but a thread's
state asks for one text at a time, as it reviews each post. `OffTopicDetector.review_batch` therefore
first asks each state which texts the coming posts will need, encodes them together (into the encoder's
cache), then reviews the posts one by one as usual. The plan follows the state's own rules (the anchor
and opening post when the sentence tier starts, then each reply while the tier is on), but nothing
depends on it being right: a text it misses is encoded when asked for, one it adds is never read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from classifiers.offtopic.model import AUTO_OPENING_WORDS, asks, becomes_discussion
from classifiers.offtopic.words import _prepare, post_words
from classifiers.thread import Post


@dataclass(slots=True)
class SentencePlan:
    """Where a thread's state stands, as far as its sentence tier is concerned (a copy: planning it ahead
    changes nothing in the state)."""

    title: str
    position: int  # posts reviewed so far
    auto: bool  # the detector's style is "auto" (the thread's style is settled post by post)
    encoding: bool  # the sentence tier is on (the state has its semantic memory)
    lengths: list[int] = field(default_factory=list)  # words per post while "auto" may still change
    opening: str = ""  # the opening post's text, once seen

    def texts(self, posts: Sequence[Post]) -> list[str]:
        """The texts reviewing `posts` (the thread's next posts, in order) will encode, in order."""
        wanted: list[str] = []
        for post in posts:
            self.position += 1
            if self.position == 1:
                self.opening = post.text
                if not self.auto:
                    wanted += self._begin()
                elif (n := len(post_words(post.text))) < AUTO_OPENING_WORDS:
                    self.lengths = [n]
                continue
            if not (self.lengths or self.encoding):
                continue  # a discussion for good: nothing more to encode
            text, words = _prepare(post.text)
            if self.lengths:
                self.lengths.append(len(words))
                if becomes_discussion(self.lengths, asks(self.title, self.opening)):
                    self.encoding, self.lengths = False, []
                elif not self.encoding:
                    wanted += self._begin()
            if self.encoding:
                wanted.append(text)
        return wanted

    def _begin(self) -> list[str]:
        self.encoding = True
        return [f"{self.title}\n{self.opening}", self.opening]
