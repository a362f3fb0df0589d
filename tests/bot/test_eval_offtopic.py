"""`modassist eval offtopic` end to end: the real console entry point in a subprocess, on a synthetic 4forums
and Qatar Living data folder written into tmp_path in the real files' formats.

The command cross-fits in two folds by thread and fits a 128-component LSA per fold, so the corpus is
generated rather than hand-written: topic vocabularies (invented for this test), sentences drawn from one
topic with a seeded random generator, threads that stay on their topic, and Qatar Living questions whose
Good and Potential replies use the question's topic while Bad ones use another topic.
"""

from __future__ import annotations

import json
import random
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from bot.commands.train_offtopic import FOLDS, JUDGED_MIN_WORDS
from bot.datasets.iac import load_iac
from bot.datasets.splice import fold_of, splice
from classifiers.text import words
from tests.bot.corpus_formats import iac_post
from tests.bot.short_threads_synth import DEV_PER_FOLD, TEST_THREADS, write_short_threads
from tests.bot.test_eval_commands import HAS_MATPLOTLIB, PNG_MAGIC, modassist, table_rows

SEED = 20240611

# Each topic: a subforum (or Qatar Living category) name and its words. Every word was written for this test.
POLITICAL_TOPICS = {
    "Taxation": """tariff levy rebate deduction payroll surcharge exemption bracket treasury revenue audit
        loophole withholding excise duty assessment refund allowance depreciation dividend inheritance
        estate threshold taxpayer collector filing deadline penalty arrears relief credit offset
        bookkeeping ledger invoice receipts accountant auditor accrual liability evasion avoidance
        haven offshore shelter corporate capital gains property valuation assessor stamp customs
        import export vat sales income flat progressive regressive marginal bracket creep""",
    "Elections": """ballot candidate precinct turnout primary caucus runoff constituency district incumbent
        challenger campaign canvass pollster polling survey margin landslide recount certification
        registrar registration absentee postal voter suffrage franchise gerrymander boundary redistricting
        delegate nominee convention platform manifesto endorsement debate rally volunteer donor pac
        fundraising disclosure ads slogan swing battleground electorate mandate majority plurality
        coalition party caucusgoer stump concession victory ticket ballots booth tally scrutineer""",
    "Policing": """officer patrol precinct sergeant detective warrant arrest custody bail parole probation
        prosecutor courtroom jury verdict sentencing inmate prison jail cell burglary robbery theft
        vandalism assault homicide forensics fingerprint evidence witness testimony interrogation
        confession lawsuit misconduct bodycam dashcam sheriff deputy constable siren handcuffs baton
        taser firearm holster beat neighbourhood watch curfew checkpoint roadblock informant
        surveillance wiretap subpoena indictment acquittal conviction appeal magistrate felony""",
    "Healthcare": """hospital clinic physician nurse surgeon ward emergency admission waiting list referral
        prescription pharmacy dosage vaccine immunisation insurer premium copay deductible coverage
        medicaid medicare outpatient inpatient diagnosis therapy chemotherapy dialysis midwife maternity
        paediatric geriatric hospice ambulance paramedic triage stethoscope scalpel anaesthetic
        antibiotics epidemic pandemic quarantine outbreak infection virus bacteria symptoms chronic
        diabetes cardiology oncology radiology scan xray bedside consultant gp surgery appointment""",
    "Energy": """pipeline refinery drilling fracking shale crude barrel turbine windfarm solar panel
        photovoltaic reactor uranium nuclear coal colliery miner grid substation pylon transmission
        kilowatt megawatt tariffs utility meter blackout outage carbon emissions methane smokestack
        scrubber hydro dam reservoir geothermal biofuel ethanol battery storage lithium charging
        plant furnace boiler insulation efficiency thermostat heating petrol diesel gasoline pump
        offshore rig tanker spill leak flare wellhead decommissioning subsidy feedin""",
    "Schools": """classroom teacher pupil student curriculum syllabus textbook homework exam grading
        headteacher principal tenure union kindergarten preschool primary secondary academy charter
        voucher tuition scholarship bursary campus dormitory lecture seminar professor tutor literacy
        numeracy attendance truancy detention uniform playground recess cafeteria lunches timetable
        semester term enrolment admissions catchment inspectors ofsted standards testing league
        tables dropout graduation diploma degree apprenticeship vocational phonics spelling""",
}
NONPOLITICAL_TOPICS = {
    "Cooking": """recipe oven skillet saucepan simmer saute braise roast bake knead dough yeast flour
        sourdough crust pastry custard whisk ladle spatula colander marinade brine garlic onion
        shallot ginger cumin paprika oregano basil thyme rosemary parsley coriander chilli pepper
        tomato aubergine courgette mushroom lentil chickpea risotto pasta noodle broth stock gravy
        casserole stew curry dumpling pancake omelette souffle dessert caramel cinnamon vanilla""",
    "Gardening": """allotment compost mulch seedling sapling trowel spade hoe rake wheelbarrow greenhouse
        polytunnel cloche propagator cutting pruning secateurs hedge shrub perennial annual bulb tulip
        daffodil rose lavender hydrangea clematis fern moss lawn mower turf weeds bindweed aphid slug
        snail ladybird pollinator bees hive raised bed soil loam clay peat fertiliser manure watering
        hosepipe sprinkler trellis pergola shed potting blossom orchard apple pear plum""",
    "Cycling": """bicycle saddle handlebar pedal crank chainring cassette derailleur sprocket spoke rim
        tyre inner tube puncture pump helmet cleat lycra jersey peloton sprint breakaway climb
        descent gradient cadence wattage gear shifter brake caliper disc rotor frame carbon titanium
        steel fork suspension mudguard pannier commute towpath velodrome criterium sportive audax
        touring gravel singletrack trailhead cyclist rider domestique stage yellow""",
    "Astronomy": """telescope eyepiece aperture refractor reflector dobsonian mount tripod galaxy nebula
        cluster comet asteroid meteor eclipse lunar crater saturn jupiter mars venus mercury orbit
        constellation orion andromeda pleiades star supernova pulsar quasar blackhole redshift
        spectrum observatory planetarium astrophotography exposure tracking polar alignment zenith
        horizon twilight darkness lightpollution binoculars finder chart magnitude transit""",
}
QUESTION_TOPICS = {
    "Renting": """landlord tenant lease deposit apartment flat villa compound bedroom furnished
        unfurnished rent cheque contract agent brokerage commission maintenance plumber
        electrician aircon leaking ceiling tiles kitchen balcony parking basement gym pool
        utilities sewage inspection eviction notice renewal increase estate agency""",
    "Driving": """licence driving test instructor lessons roundabout traffic signal lane overtaking
        speeding fine radar camera insurance registration garage mechanic tyres brakes engine
        oil change battery jumpstart tow breakdown highway junction parking permit sedan suv
        pickup dealership showroom loan mileage odometer windscreen wipers""",
    "Pets": """puppy kitten vet vaccination microchip leash collar kennel cattery grooming shampoo
        fleas ticks worming neutering spaying adoption shelter rescue breed retriever terrier
        spaniel siamese persian litter tray kibble treats fishbowl aquarium parrot cage
        hamster rabbit hutch veterinary clinic boarding walker""",
}
FILLERS = [
    "I reckon the {} and the {} explain most of the {}.",
    "The trouble with the {} is that nobody checks the {} or the {}.",
    "Everyone here keeps saying the {} matters more than the {} and the {}.",
    "Look at the {} first, then the {}, and the {} follows from those.",
    "My view is that the {} costs less than the {} once the {} is counted.",
    "After a while the {} was fixed but the {} still needs a proper {}.",
    "Nobody mentioned the {} yet, though the {} and the {} came up twice.",
    "We spent the whole week on the {} before anyone asked about the {} or the {}.",
]


def vocabulary(spec: str) -> list[str]:
    """The distinct words of a topic, in their written order."""
    return list(dict.fromkeys(spec.split()))


def sentence(rng: random.Random, topic: list[str]) -> str:
    """One sentence of plain glue words around three words of `topic`."""
    return rng.choice(FILLERS).format(*rng.sample(topic, 3))


def paragraph(rng: random.Random, topic: list[str], sentences: int) -> str:
    """A post's text: `sentences` sentences of one topic."""
    return " ".join(sentence(rng, topic) for _ in range(sentences))


def title(rng: random.Random, topic: list[str]) -> str:
    """A thread title of two topic words (no catch-all word such as "general")."""
    first, second = rng.sample(topic, 2)
    return f"Question about {first} and {second}"


def id_in_fold(start: int, fold: int, key: Callable[[int], str] = str) -> int:
    """The first number from `start` whose thread id (`key(number)`, as the loader reads it) is in `fold`."""
    n = start
    while fold_of(key(n), FOLDS) != fold:
        n += 1
    return n


@dataclass
class Synthetic:
    """What the generated data folder holds, as the test needs it to count."""

    political_threads: int = 0
    qatar_labels: list[str] = field(default_factory=list)


POLITICAL_PER_FOLD = 9
NONPOLITICAL_PER_FOLD = 6
QUESTIONS_PER_FOLD = 14
POSTS_PER_THREAD = 12


def write_synthetic_corpora(data_dir: Path) -> Synthetic:
    """The 4forums political sample, non-political pool and Qatar Living dev files; balanced folds."""
    rng = random.Random(SEED)
    political = {name: vocabulary(spec) for name, spec in POLITICAL_TOPICS.items()}
    nonpolitical = {name: vocabulary(spec) for name, spec in NONPOLITICAL_TOPICS.items()}
    questions = {name: vocabulary(spec) for name, spec in QUESTION_TOPICS.items()}
    every_topic = [*political.values(), *nonpolitical.values(), *questions.values()]
    post_id = 10_000
    thread_id = 500
    summary = Synthetic()

    def forum_threads(topics: dict[str, list[str]], per_fold: int, posts: int) -> list[dict]:
        nonlocal post_id, thread_id
        names = list(topics)
        out = []
        for k in range(per_fold * FOLDS):
            thread_id = id_in_fold(thread_id + 1, k % FOLDS)
            # Threads alternate folds; each topic gets threads in both (a fold's background must know it).
            name = names[k // FOLDS % len(names)]
            topic = topics[name]
            thread_posts = []
            for i in range(posts):
                post_id += 1
                # Mostly posts long enough to be judged; every fourth reply a short one that is not.
                n = 1 if i % 4 == 3 else rng.randint(3, 4)
                text = paragraph(rng, topic, n)
                parent = thread_posts[0]["post_id"] if thread_posts else None
                thread_posts.append(iac_post(post_id, f"member{rng.randint(1, 40)}", [(text, None)], parent))
            out.append(
                {
                    "discussion_id": thread_id,
                    "subforum": name,
                    "title": title(rng, topic),
                    "url": f"https://forum.test/{thread_id}/",
                    "topic_annotation": "",
                    "split": "dev",
                    "posts": thread_posts,
                }
            )
        return out

    sample = forum_threads(political, POLITICAL_PER_FOLD, POSTS_PER_THREAD)
    pool = forum_threads(nonpolitical, NONPOLITICAL_PER_FOLD, 8)
    summary.political_threads = len(sample)
    folder = data_dir / "iac_4forums"
    folder.mkdir(parents=True)
    for name, threads in (
        ("threads_political_sample_dev.jsonl", sample),
        ("threads_nonpolitical_pool_dev.jsonl", pool),
    ):
        (folder / name).write_text("".join(json.dumps(t) + "\n" for t in threads), encoding="utf-8")

    # Qatar Living: a question, then Good / Potential replies on its topic, Bad ones on another topic, and
    # Dialogue chit-chat.
    qa = []
    names = list(questions)
    q = 100
    for k in range(QUESTIONS_PER_FOLD * FOLDS):
        q = id_in_fold(q + 1, k % FOLDS, lambda n: f"Q{n}")
        category = names[k // FOLDS % len(names)]
        topic = questions[category]
        labels = ["Good", "Good", "Potential", "Bad", "Bad", "Dialogue"]
        rng.shuffle(labels)
        comments = []
        for c, label in enumerate(labels, start=1):
            if label == "Bad":
                other = rng.choice([t for t in every_topic if t is not topic])
                body = paragraph(rng, other, rng.randint(2, 3))
            elif label == "Dialogue":
                body = rng.choice(["thanks mate, cheers", "lol same here", "haha good luck bro", "welcome!"])
            else:
                body = paragraph(rng, topic, rng.randint(1, 3))
            comments.append(
                {
                    "cid": f"Q{q}_C{c}",
                    "cuser": f"resident{rng.randint(1, 60)}",
                    "same_user_as_question": False,
                    "label": label,
                    "csubject": "RE: question",
                    "cbody": body,
                }
            )
            summary.qatar_labels.append(label)
        qa.append(
            {
                "split": "dev",
                "qid": f"Q{q}",
                "category": category,
                "date": "2010-05-01 10:00:00",
                "quser": f"resident{rng.randint(1, 60)}",
                "qtype": "GENERAL",
                "subject": title(rng, topic),
                "body": paragraph(rng, topic, 2) + " Can anyone help?",
                "comments": comments,
            }
        )
    folder = data_dir / "semeval2015_qatarliving"
    folder.mkdir(parents=True)
    (folder / "qatarliving_threads_dev.jsonl").write_text(
        "".join(json.dumps(t) + "\n" for t in qa), encoding="utf-8"
    )
    return summary


@dataclass(frozen=True)
class Expected:
    """Positives and negatives per table row, worked out from the written files as the command splits them."""

    spliced_long: tuple[int, int]
    spliced_all: tuple[int, int]
    young: tuple[int, int]


def expected_counts(data_dir: Path) -> Expected:
    """Split and splice the written threads the way `eval offtopic` does and count its rows."""
    political = load_iac(data_dir)
    nonpolitical = load_iac(data_dir, political=False)
    long_ = all_ = young = (0, 0)

    def add(counts: tuple[int, int], positive: bool) -> tuple[int, int]:
        return (counts[0] + 1, counts[1]) if positive else (counts[0], counts[1] + 1)

    for fold in range(FOLDS):
        hosts = [t for t in political if fold_of(t.thread.id, FOLDS) == fold]
        pool = [t for t in nonpolitical if fold_of(t.thread.id, FOLDS) == fold]
        for s in splice(hosts, hosts, pool, min_words=JUDGED_MIN_WORDS):
            for post in s.thread.posts[1:]:
                all_ = add(all_, post.id in s.spliced)
                if len(words(post.text)) >= JUDGED_MIN_WORDS:
                    long_ = add(long_, post.id in s.spliced)
        cut = [replace(t, thread=replace(t.thread, posts=t.thread.posts[:9])) for t in hosts]
        for s in splice(cut, hosts, pool, rate=0.2, min_words=JUDGED_MIN_WORDS, seed="modassist-young-v1"):
            for post in s.thread.posts[1:]:
                if len(words(post.text)) >= JUDGED_MIN_WORDS:
                    young = add(young, post.id in s.spliced)
    return Expected(long_, all_, young)


@dataclass(frozen=True)
class Run:
    result: subprocess.CompletedProcess[str]
    plot: Path
    data_dir: Path
    synthetic: Synthetic
    seconds: float


@pytest.fixture(scope="module")
def offtopic_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """One `modassist eval offtopic` run on the synthetic data folder."""
    data_dir = tmp_path_factory.mktemp("offtopic-data")
    synthetic = write_synthetic_corpora(data_dir)
    plot = data_dir / "off.png"
    short = write_short_threads(data_dir / "short_threads.jsonl")
    started = time.perf_counter()
    result = modassist(
        "eval", "offtopic", "--data-dir", str(data_dir), "--plot", str(plot), "--short-threads", str(short)
    )
    return Run(result, plot, data_dir, synthetic, time.perf_counter() - started)


def test_the_synthetic_corpus_fills_both_folds(offtopic_run: Run) -> None:
    # The command cross-fits by fold_of(thread id): each fold needs hosts, donors and questions of its own.
    political = load_iac(offtopic_run.data_dir)
    nonpolitical = load_iac(offtopic_run.data_dir, political=False)
    for fold in range(FOLDS):
        hosts = [t for t in political if fold_of(t.thread.id, FOLDS) == fold]
        assert len(hosts) == POLITICAL_PER_FOLD
        assert len({t.subforum for t in hosts}) == len(POLITICAL_TOPICS)
        assert sum(fold_of(t.thread.id, FOLDS) == fold for t in nonpolitical) == NONPOLITICAL_PER_FOLD


def test_eval_offtopic_runs_and_reports_both_evaluations_with_their_counts(offtopic_run: Run) -> None:
    result = offtopic_run.result
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    out = result.stdout
    assert f"(a) off_topic, 4forums dev: {offtopic_run.synthetic.political_threads} political threads" in out
    assert "(b) off_topic, Qatar Living dev: Bad vs Good + Potential" in out
    rows = table_rows(out, 9)  # data, pos, neg, ROC-AUC, AP, thr, prec, recall, F1

    expected = expected_counts(offtopic_run.data_dir)
    long_name = f"modassist, replies >= {JUDGED_MIN_WORDS} words"
    for name, counts in [
        (long_name, expected.spliced_long),
        ("plain TF-IDF cosine, same posts", expected.spliced_long),
        ("modassist, all replies", expected.spliced_all),
        ("plain TF-IDF cosine, all replies", expected.spliced_all),
        ("modassist, young threads (first 9 posts)", expected.young),
    ]:
        assert rows[name][1:3] == [str(c) for c in counts], rows[name]
    # The generator's own arithmetic agrees: two posts spliced into every thread of twelve posts, and a
    # short reply (not ranked in the ">= 25 words" rows) at every fourth place.
    threads = offtopic_run.synthetic.political_threads
    assert expected.spliced_all == (2 * threads, (POSTS_PER_THREAD - 1) * threads)
    assert expected.spliced_long == (2 * threads, (POSTS_PER_THREAD - 1 - 3) * threads)

    labels = offtopic_run.synthetic.qatar_labels
    bad, answers = labels.count("Bad"), labels.count("Good") + labels.count("Potential")
    for name in ("modassist, question style", "modassist, auto style (the default)", "plain TF-IDF cosine"):
        assert rows[name][1:3] == [str(bad), str(answers)], rows[name]
    # (c): half the short threads have one off-topic reply among their five.
    dev = FOLDS * DEV_PER_FOLD
    for name in ("modassist everyday, dev (cross-fitted)", "modassist auto (default), dev (cross-fitted)"):
        assert rows[name][1:3] == [str(dev // 2), str(dev * 5 - dev // 2)], rows[name]
    for name in ("modassist everyday, test (shipped model)", "modassist auto (default), test (shipped)"):
        assert rows[name][1:3] == [str(TEST_THREADS // 2), str(TEST_THREADS * 5 - TEST_THREADS // 2)]
    dialogue = rows["Dialogue vs Good/Potential (question style)"]
    assert dialogue[1:3] == [str(labels.count("Dialogue")), str(answers)]
    for cells in rows.values():
        if cells[0] != "data":
            assert cells[5] == "0.70"  # the default off_topic threshold
            assert 0.0 <= float(cells[3]) <= 1.0


def test_eval_offtopic_separates_the_invented_topics(offtopic_run: Run) -> None:
    # Topics share no words, so a post spliced in from another topic and a Bad reply taken from another
    # topic are easy to rank; observed: 0.999 (spliced 4forums, >= 25 words), 0.93 (Qatar Living).
    rows = table_rows(offtopic_run.result.stdout, 9)
    assert float(rows[f"modassist, replies >= {JUDGED_MIN_WORDS} words"][3]) > 0.9, rows
    assert float(rows["modassist, all replies"][3]) > 0.9, rows
    assert float(rows["modassist, young threads (first 9 posts)"][3]) > 0.9, rows
    assert float(rows["modassist, question style"][3]) > 0.8, rows


def test_eval_offtopic_writes_the_pr_curves(offtopic_run: Run) -> None:
    out = offtopic_run.result.stdout
    if HAS_MATPLOTLIB:
        assert f"precision-recall curves: {offtopic_run.plot}" in out.replace("\n", "")
        assert offtopic_run.plot.read_bytes().startswith(PNG_MAGIC)
    else:
        assert not offtopic_run.plot.exists()


def test_too_few_judged_replies_is_a_one_line_error(tmp_path: Path) -> None:
    write_synthetic_corpora(tmp_path)
    questions = tmp_path / "semeval2015_qatarliving" / "qatarliving_threads_dev.jsonl"
    questions.write_text("\n".join(questions.read_text().splitlines()[:4]) + "\n")  # 4 questions left
    short = write_short_threads(tmp_path / "short_threads.jsonl")
    result = modassist(
        "eval",
        "offtopic",
        "--data-dir",
        str(tmp_path),
        "--plot",
        str(tmp_path / "x.png"),
        "--short-threads",
        str(short),
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "the question combiner needs at least 20 judged replies of both kinds" in result.stderr
