"""The duplicated-quote detector on threads written for these tests."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from classifiers.duplicates import QuoteDuplicateDetector, _runs
from classifiers.result import Detection
from classifiers.thread import Post, Quote

ARTICLE = (
    "The council approved the new ferry terminal on Monday after a long debate about the cost of dredging "
    "the harbour. Engineers said the channel must be deepened by two metres before larger ships can dock, "
    "and the work will close the northern quay for most of next summer."
)
CLOSING = (
    "Nobody on the council asked who will pay for the dredging once the grant runs out. The port authority "
    "will pass the bill to the fishing fleet and the small boat owners, as it always does."
)
OPENING = f"{ARTICLE}\n\n{CLOSING}"


def review_all(posts: list[Post], **options: object) -> list[Detection]:
    """Review the posts as one thread, in order."""
    state = QuoteDuplicateDetector(**options).begin_thread("t1", "Harbour news")  # type: ignore[arg-type]
    return [state.review(p) for p in posts]


def post(position: int, author: str, text: str, quotes: tuple[Quote, ...] = ()) -> Post:
    return Post(id=str(position), text=text, author=author, position=position, quotes=quotes)


def test_a_reply_that_is_mostly_a_quote_is_flagged_with_its_source() -> None:
    results = review_all(
        [post(1, "marina", OPENING), post(2, "skipper", f"{CLOSING}\nWho pays then, really?")]
    )
    reply = results[1]
    assert reply.score >= 0.8
    assert reply.severity == "alert"
    assert reply.reasons == ("quotes post #1 by marina (36 words) and adds 4 words.",)


def test_a_full_quote_of_the_post_above_says_all_of_it() -> None:
    results = review_all([post(1, "marina", CLOSING), post(2, "skipper", f"{CLOSING}\nSo true.")])
    assert results[1].reasons == ("quotes all of post #1 by marina and adds 2 words.",)


def test_a_passage_quoted_again_names_the_earlier_quoter_however_long_the_reply() -> None:
    argument = (
        "That is not how the grant works. The state covers maintenance dredging for ten years and the "
        "authority has said so in writing. The fleet is worried about mooring fees, which is another matter "
        "entirely and deserves its own thread."
    )
    results = review_all(
        [
            post(1, "marina", OPENING),
            post(2, "skipper", f"{CLOSING}\nWho pays then?"),
            post(3, "gull", f"{CLOSING}\n{argument} {argument}"),
        ]
    )
    third = results[2]
    assert third.score >= 0.6 and third.severity == "alert"
    assert third.reasons == (
        're-quotes a passage post #2 by skipper already quoted: 36 words of post #1 by marina ("Nobody on '
        'the council asked who will pay…").',
    )


def test_an_author_quoting_again_what_they_already_quoted_is_a_requote() -> None:
    reply = "The council will not say, and the minutes of the meeting are still not published either."
    results = review_all(
        [
            post(1, "marina", OPENING),
            post(2, "skipper", f"{CLOSING}\n{reply}"),
            post(3, "gull", "Mooring fees went up twice this year already, nobody voted on that either."),
            post(4, "skipper", f"{CLOSING}\nStill waiting for an answer to this, as I said above."),
        ]
    )
    assert results[1].score < 0.6  # the first quote, answered: an ordinary reply
    assert results[3].reasons[0].startswith("re-quotes a passage post #2 by skipper already quoted")


def test_two_people_quoting_each_other_back_and_forth_is_not_a_requote() -> None:
    a1 = (
        "Dredging every winter is a waste of money when the silt comes straight back with the spring floods, "
        "and the council knows it because it paid for the survey that said so."
    )
    b1 = f"{a1}\nThe survey was about the river mouth, not the harbour basin, so it says nothing here."
    a2 = (
        f"{b1}\nIt covered both, read the second chapter before telling people what it says. The basin fills "
        "in just as quickly as the river mouth does."
    )
    results = review_all([post(1, "ana", a1), post(2, "ben", b1), post(3, "ana", a2)])
    assert not any("re-quotes" in r for r in results[2].reasons)


@pytest.mark.parametrize(
    "reply",
    [
        "I agree with the council on the terminal, the old quay was falling apart anyway.",
        "The dredging will cost more than they think, it always does with harbour works like these.",
        "Does anyone know when the consultation closes? I would like to send a comment about the quay.",
    ],
)
def test_replies_that_repeat_nothing_are_not_duplicates(reply: str) -> None:
    results = review_all([post(1, "marina", OPENING), post(2, "reader", reply)])
    assert results[1].score < 0.2
    assert results[1].reasons == ()


ANSWER = (
    "The grant was never meant to cover dredging: it pays for the terminal building and the new ramp. "
    "Dredging has always come out of harbour dues, and the dues were raised last spring for exactly this "
    "reason, so the fleet is already paying its share and smaller craft pay less than they did."
)


@pytest.mark.parametrize(
    ("own_words", "flagged"),
    [(1, True), (15, True), (16, False), (25, False), (39, False), (len(ANSWER.split()), False)],
)
def test_a_reply_that_quotes_and_answers_is_not_flagged_however_long_the_quote(
    own_words: int, flagged: bool
) -> None:
    answer = " ".join(ANSWER.split()[:own_words])
    results = review_all([post(1, "marina", OPENING), post(2, "skipper", f"{OPENING}\n{answer}")])
    assert (results[1].score >= 0.6) is flagged
    assert results[1].details["own_words"] == own_words


def test_own_words_are_counted_as_a_reader_counts_them() -> None:
    # 14 words to a reader; the shingles split "didn't", "pro-life" and the link into 17.
    answer = "I didn't say pro-life, read https://harbour.example/minutes/2024 again before you answer me."
    results = review_all([post(1, "marina", OPENING), post(2, "skipper", f"{CLOSING}\n{answer}")])
    assert results[1].details["own_words"] == 14
    assert results[1].score >= 0.6


def test_rewrapped_recased_and_lightly_edited_quotes_are_still_found() -> None:
    edited = (
        CLOSING.upper().replace(". ", ".\n").replace("small boat", "small-boat").replace("always", "usually")
    )
    results = review_all([post(1, "marina", OPENING), post(2, "skipper", f"{edited}\nSo true.")])
    assert results[1].score >= 0.8


def test_invisible_and_compatibility_characters_do_not_hide_a_copy() -> None:
    disguised = CLOSING.replace("council", "coun\u200bcil").replace("dredging", "ｄｒｅｄｇｉｎｇ")
    results = review_all([post(1, "marina", OPENING), post(2, "skipper", disguised)])
    assert results[1].score >= 0.8


def test_marked_quotes_count_and_name_their_source() -> None:
    quote = Quote(text=CLOSING, author="marina", post_id="1")
    results = review_all([post(1, "marina", OPENING), post(2, "skipper", "Exactly right.", quotes=(quote,))])
    assert results[1].score >= 0.8
    assert results[1].reasons == ("quotes post #1 by marina (36 words) and adds 2 words.",)


def test_a_marked_quote_of_a_passage_already_quoted_is_a_requote() -> None:
    quote = Quote(text=CLOSING, author="marina", post_id="1")
    results = review_all(
        [
            post(1, "marina", OPENING),
            post(2, "skipper", "Who pays then?", quotes=(quote,)),
            post(3, "gull", ANSWER, quotes=(quote,)),
        ]
    )
    assert results[2].reasons[0].startswith("re-quotes a passage post #2 by skipper already quoted")


def test_an_outside_source_quoted_under_a_one_liner_is_not_an_over_quote() -> None:
    article = Quote(text=ANSWER)  # a pasted article, never posted in the thread: no author, no post
    results = review_all([post(1, "marina", OPENING), post(2, "skipper", "Old news.", quotes=(article,))])
    assert results[1].score < 0.6


def _pyramid(levels: int) -> Quote:
    quote = Quote(text="The quay was fine until the storm.", author="ana", post_id="1")
    for level in range(2, levels + 1):
        quote = Quote(text=f"Level {level}: it was not fine, it was already cracked.", nested=(quote,))
    return quote


@pytest.mark.parametrize(("levels", "flagged"), [(2, False), (3, True), (4, True)])
def test_a_quote_pyramid_is_flagged(levels: int, flagged: bool) -> None:
    text = (
        "Both of you are wrong about when the cracks appeared, the inspection report from two years ago "
        "already listed the damage to the northern quay and recommended closing it for repairs."
    )
    results = review_all(
        [
            post(1, "ana", "The quay was fine until the storm."),
            post(2, "cy", text, quotes=(_pyramid(levels),)),
        ]
    )
    assert (results[1].score >= 0.6) is flagged
    if flagged:
        # The levels above the first name no post: text from outside the thread, summed in one reason.
        assert results[1].reasons == (
            f"quotes {levels} levels of nested quotes and adds 31 words.",
            f"also quotes a passage from an outside source ({10 * (levels - 1)} words).",
        )


def test_an_opening_post_repeating_its_own_passages_is_listed_as_minor() -> None:
    text = f"{ARTICLE}\n\n{CLOSING}\n{ARTICLE.split('. ')[1]}."
    opening = review_all([post(1, "marina", text)])[0]
    assert opening.score >= 0.6
    assert opening.severity == "minor"
    assert opening.reasons == ("repeats 28 of its own words (passages pasted twice in this post); minor.",)
    # The same in a reply is not flagged: only an opening post's pasted article is listed.
    first = post(1, "skipper", "Ferry news, anyone? The timetable changes again in May.")
    reply = review_all([first, post(2, "marina", text)])[1]
    assert reply.score < 0.6


def test_reposting_ones_own_post_counts_for_less_than_quoting_others() -> None:
    own = review_all([post(1, "marina", OPENING), post(2, "marina", OPENING)])[1]
    other = review_all([post(1, "marina", OPENING), post(2, "skipper", OPENING)])[1]
    assert 0.6 <= own.score < other.score
    assert "(its own author)" in own.reasons[0]


def test_evidence_points_at_the_repeated_words() -> None:
    reply_text = f"Look at this:\n{CLOSING}\nWho pays then?"
    results = review_all([post(1, "marina", OPENING), post(2, "skipper", reply_text)])
    spans = [e for e in results[1].evidence if e.quote_index is None]
    assert spans
    quoted = reply_text[spans[0].start : spans[0].end]
    assert quoted.startswith("Nobody on the council")
    assert quoted.endswith("as it always does")
    assert spans[0].source_post_id == "1"


def test_boilerplate_lines_are_not_a_posts_words() -> None:
    chrome = "Please, Log in or Register to view URLs content!\nIMG-1234.jpg\n"
    results = review_all(
        [post(1, "marina", chrome + OPENING), post(2, "skipper", chrome + "Good news at last.")]
    )
    assert results[1].score == 0.0


def test_an_empty_post_scores_zero() -> None:
    results = review_all([post(1, "marina", OPENING), post(2, "skipper", "")])
    assert results[1].score == 0.0


def test_memory_per_thread_stays_bounded() -> None:
    detector = QuoteDuplicateDetector(max_shingles=500, max_posts=50)
    state = detector.begin_thread("t", "long thread")
    for i in range(300):
        state.review(
            post(i + 1, f"user{i % 7}", f"message number {i} says word{i} and word{i + 1} and more {i}")
        )
    assert len(state._origin) <= 500
    assert len(state._quoted_by) <= 500
    assert len(state._refs) <= 50


@pytest.mark.parametrize("size", [1, 0])
def test_shingle_size_must_be_sensible(size: int) -> None:
    with pytest.raises(ValueError, match="shingle_size"):
        QuoteDuplicateDetector(shingle_size=size)


def _thread_of_copies(seed: int) -> list[Post]:
    """A thread whose posts copy, edit, re-quote and paste twice passages of earlier posts."""
    rng = random.Random(seed)
    vocabulary = [*ARTICLE.split(), *CLOSING.split(), "Café", "naïve", "don’t", "Top", "said"]
    posts: list[Post] = []
    for position in range(1, 30):
        parts = []
        for _ in range(rng.randint(1, 4)):
            words = rng.choice(posts).text.split() if posts else []
            if words and rng.random() < 0.5:
                start = rng.randrange(len(words))
                parts.append(" ".join(words[start : start + rng.randint(3, 60)]))
            elif parts and rng.random() < 0.3:
                parts.append(rng.choice(parts))
            else:
                parts.append(" ".join(rng.choices(vocabulary, k=rng.randint(0, 40))))
        text = "\n".join(parts)
        posts.append(post(position, rng.choice(["marina", "skipper", "bosun"]), text))
    return posts


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("options", [{}, {"max_shingles": 150, "max_posts": 4, "evidence_min_score": 0.0}])
def test_posts_with_and_without_marked_quotes_agree(seed: int, options: dict[str, float]) -> None:
    # A post without marked quotes looks up and stores its shingles in one pass; one with marked quotes
    # looks up first and stores last. An empty marked quote adds nothing, so both must agree.
    plain = _thread_of_copies(seed)
    marked = [replace(p, quotes=(Quote(""),)) for p in plain]
    for a, b in zip(review_all(plain, **options), review_all(marked, **options), strict=True):
        assert (a.score, a.reasons, a.evidence) == (b.score, b.reasons, b.evidence)
        if a.details:  # (no details: nothing repeated, the plain post's early way out)
            assert {**a.details, "quote_depth": 1} == b.details


@pytest.mark.parametrize("seed", range(4))
def test_repeats_within_a_post_are_found_alike_by_dict_and_by_sort(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Long posts find passages pasted twice by sorting their shingles, short ones with a dict (in the
    # plain-Python path; the C extension always uses a hash table).
    monkeypatch.setattr(_runs, "self_runs", _runs.python_self_runs)
    posts = _thread_of_copies(seed)
    by_sort = []
    for sort_from in (10**9, 0):
        monkeypatch.setattr(_runs, "_SORT_FROM", sort_from)
        by_sort.append(review_all(posts))
    assert by_sort[0] == by_sort[1]
    assert any(d.details.get("self_repeated_words") for d in by_sort[0])


def test_each_passage_from_an_outside_source_says_what_it_is() -> None:
    press = (
        "The port authority announced today that the northern quay will reopen in April, two months later "
        "than planned, because the contractor found old mooring chains buried in the silt."
    )
    passages = (Quote(text=press), Quote(text=ANSWER, author="the harbour master"))
    quoted = Quote(text=CLOSING, author="marina", post_id="1")
    detection = QuoteDuplicateDetector(evidence_min_score=0.0).begin_thread("t1", "Harbour news")
    detection.review(post(1, "marina", OPENING))
    found = detection.review(post(2, "skipper", "Old news.", quotes=(*passages, quoted)))
    notes = [e.note for e in found.evidence]
    assert notes == [
        f"quotes a passage from an outside source ({len(press.split())} words)",
        f"quotes a passage by the harbour master from outside the thread ({len(ANSWER.split())} words)",
        "quotes post #1 by marina",
    ]
    assert not any("unattributed" in note for note in notes)


def test_posts_without_a_place_are_named_as_readers_see_them_never_by_a_machine_id() -> None:
    snowflake = "1234567890123456789"  # a Discord message id
    first = Post(id=snowflake, text=OPENING, author="sam")
    reply = Post(id="1234567890123456790", text=f"{CLOSING}\nAgreed.", author="kim")
    (_, found) = review_all([first, reply])
    assert found.reasons[0].startswith("quotes the message by sam (")
    assert snowflake not in " ".join(found.reasons) + " ".join(e.note for e in found.evidence)
    mine = review_all([Post(id="p1", text=OPENING, author="sam"), replace(reply, id="p2")])[1]
    assert mine.reasons[0].startswith("quotes post p1 by sam (")  # an id a person wrote stays
