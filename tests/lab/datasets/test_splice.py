"""The splice behind the off-topic evaluation and training: foreign posts put into host threads with exact,
deterministic labels. Every text is invented for these tests."""

from __future__ import annotations

from classifiers.thread import Post, Thread
from lab.datasets.iac import IacThread
from lab.datasets.splice import fold_of, splice

TRAMS = (
    "The tram line to the station would take cars off the ring road, and a park and ride at the edge of "
    "town lets commuters leave their cars outside the centre every working day."
)
HARBOUR = (
    "The harbour board raised the mooring fees again to pay for dredging the channel, and the small boat "
    "owners on the northern quay say they will move to the marina down the coast."
)
BAKING = (
    "My sourdough starter doubled overnight once I fed it rye flour twice a day, and the loaves now have an "
    "open crumb and a crust that crackles while they cool on the rack."
)
FOOTBALL = (
    "Borvik United signed a striker from Feldstadt Rovers for a record fee, and the manager says he starts "
    "against Kellmoor Athletic on Saturday with the captain moving to the bench."
)


def iac(thread_id: str, subforum: str, texts: list[str]) -> IacThread:
    posts = tuple(
        Post(id=f"{thread_id}-{i}", text=t, author=f"u{i}", position=i) for i, t in enumerate(texts, 1)
    )
    thread = Thread(id=thread_id, title=f"thread {thread_id}", posts=posts)
    return IacThread(thread=thread, subforum=subforum, quote_spans={}, parents={})


def test_the_splice_is_deterministic_with_exact_labels() -> None:
    hosts = [iac("h1", "Transport", [TRAMS] * 6), iac("h2", "Harbour", [HARBOUR] * 6)]
    donors_political = [*hosts, iac("d1", "Transport", [TRAMS] * 3)]
    donors_other = [iac("f1", "Baking", [BAKING] * 3), iac("f2", "Football", [FOOTBALL] * 3)]
    first = splice(hosts, donors_political, donors_other, min_words=20)
    second = splice(hosts, donors_political, donors_other, min_words=20)
    assert first == second
    for spliced in first:
        ids = [p.id for p in spliced.thread.posts]
        labels = spliced.labels()
        assert len(labels) == len(ids) - 1
        assert sum(labels) == len(spliced.spliced) >= 2
        assert not {ids[0], ids[1]} & spliced.spliced  # never before the first reply
        assert [p.position for p in spliced.thread.posts] == list(range(1, len(ids) + 1))
        for post_id in spliced.spliced:
            assert not spliced.origin[post_id].startswith(spliced.host_subforum + ":")


def test_a_threads_fold_depends_on_its_id_alone() -> None:
    ids = [f"thread-{i}" for i in range(200)]
    assert [fold_of(i) for i in ids] == [fold_of(i) for i in ids]
    assert {fold_of(i) for i in ids} == {0, 1}
    assert {fold_of(i, 3) for i in ids} == {0, 1, 2}
