"""Synthetic corpora in the shared data folder's formats (4forums political sample and non-political pool,
Qatar Living) with invented topics that share no words, for the off-topic evaluation's tests."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from lab.commands.train_offtopic import FOLDS
from lab.datasets.splice import fold_of
from tests.lab.corpus_formats import iac_post

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
# Threads of other forums (forumscraper JSON), spliced into the 4forums threads as posts with their own
# vocabulary; the last one is not English (no English stop words) and must be left out.
FOREIGN_TOPICS = {
    "Knitting": """yarn skein purl stitch cable needles crochet hook gauge swatch cardigan jumper sleeve
        cuff ribbing mohair alpaca merino acrylic dye bobbin spindle loom weaving tapestry embroidery
        applique quilt patchwork thimble bodkin pompom tassel garter stockinette intarsia colourwork""",
    "Chess": """pawn rook bishop knight queen king castling checkmate stalemate gambit endgame middlegame
        sicilian fianchetto zugzwang blunder tempo elo tournament arbiter blitz bullet rapid puzzle tactic
        skewer promotion enpassant notation grandmaster hedgehog dragon najdorf catalan opposition""",
}
NOT_ENGLISH = "Vorla trenigo miskel dovan, parvo lekti sumar onda fretik velor. Ganto pirel dusk amvel trosi."
FOREIGN_POSTS = 8

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
    foreign_threads: int = 0  # English forumscraper threads
    qatar_labels: list[str] = field(default_factory=list)


POLITICAL_PER_FOLD = 9
NONPOLITICAL_PER_FOLD = 6
QUESTIONS_PER_FOLD = 7  # 21 Bad and 21 Good or Potential replies a fold: the question combiner needs 20
POSTS_PER_THREAD = 12


class _Writer:
    """One seeded generator for every file, so that the corpora are the same at every run."""

    def __init__(self) -> None:
        self.rng = random.Random(SEED)
        self.post_id = 10_000
        self.thread_id = 500

    def forum_threads(self, topics: dict[str, list[str]], per_fold: int, posts: int) -> list[dict]:
        """4forums threads that stay on their topic; threads alternate folds and every topic has threads in
        both (a fold's background must know it)."""
        rng = self.rng
        names = list(topics)
        out = []
        for k in range(per_fold * FOLDS):
            self.thread_id = id_in_fold(self.thread_id + 1, k % FOLDS)
            name = names[k // FOLDS % len(names)]
            topic = topics[name]
            thread_posts: list[dict] = []
            for i in range(posts):
                self.post_id += 1
                # Mostly posts long enough to be judged; every fourth reply a short one that is not.
                n = 1 if i % 4 == 3 else rng.randint(3, 4)
                text = paragraph(rng, topic, n)
                parent = thread_posts[0]["post_id"] if thread_posts else None
                thread_posts.append(
                    iac_post(self.post_id, f"member{rng.randint(1, 40)}", [(text, None)], parent)
                )
            out.append(
                {
                    "discussion_id": self.thread_id,
                    "subforum": name,
                    "title": title(rng, topic),
                    "url": f"https://forum.test/{self.thread_id}/",
                    "topic_annotation": "",
                    "split": "dev",
                    "posts": thread_posts,
                }
            )
        return out

    def comment(self, q: int, c: int, label: str, topic: list[str], every_topic: list[list[str]]) -> dict:
        """A Qatar Living reply: Good / Potential on the question's topic, Bad on another, Dialogue chat.

        Short texts: the command gives every Qatar Living text to the sentence encoder, whose time grows with
        the tokens (Good and Potential of 1-2 sentences, Bad of 2, a question of 1: 3,458 tokens, 2.4 s; with
        1-3, 2-3 and 2 sentences, 4,709 tokens, 3.2 s). Bad replies of 1-2 sentences took the question
        style's ROC-AUC to 0.80, the test's bound; with these it is 0.90."""
        rng = self.rng
        if label == "Bad":
            other = rng.choice([t for t in every_topic if t is not topic])
            body = paragraph(rng, other, 2)
        elif label == "Dialogue":
            body = rng.choice(["thanks mate, cheers", "lol same here", "haha good luck bro", "welcome!"])
        else:
            body = paragraph(rng, topic, rng.randint(1, 2))
        return {
            "cid": f"Q{q}_C{c}",
            "cuser": f"resident{rng.randint(1, 60)}",
            "same_user_as_question": False,
            "label": label,
            "csubject": "RE: question",
            "cbody": body,
        }

    def questions(
        self, questions: dict[str, list[str]], every_topic: list[list[str]], summary: Synthetic
    ) -> list[dict]:
        """Qatar Living questions, each with two Good, one Potential, three Bad and one Dialogue reply (the
        fewest questions, and encoded texts, that give the question combiner its 20 replies of each kind)."""
        rng = self.rng
        qa = []
        names = list(questions)
        q = 100
        for k in range(QUESTIONS_PER_FOLD * FOLDS):
            q = id_in_fold(q + 1, k % FOLDS, lambda n: f"Q{n}")
            category = names[k // FOLDS % len(names)]
            topic = questions[category]
            labels = ["Good", "Good", "Potential", "Bad", "Bad", "Bad", "Dialogue"]
            rng.shuffle(labels)
            comments = []
            for c, label in enumerate(labels, start=1):
                comments.append(self.comment(q, c, label, topic, every_topic))
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
                    "body": paragraph(rng, topic, 1) + " Can anyone help?",
                    "comments": comments,
                }
            )
        return qa


def write_foreign_threads(data_dir: Path) -> int:
    """Forumscraper threads (Invision JSON) of the foreign topics, and one not in English; returns how many
    are in English."""
    rng = random.Random(SEED + 1)
    folder = data_dir / "forum_markup" / "forumscraper_json"
    folder.mkdir(parents=True)
    topics = [vocabulary(spec) for spec in FOREIGN_TOPICS.values()]
    specs = [*POLITICAL_TOPICS.values(), *NONPOLITICAL_TOPICS.values()]
    every_other = {w for spec in specs for w in spec.split()}
    assert not every_other & {w for topic in topics for w in topic}  # the foreign words are foreign
    texts = [[paragraph(rng, topic, rng.randint(3, 4)) for _ in range(FOREIGN_POSTS)] for topic in topics]
    texts.append([NOT_ENGLISH] * 3)
    number = 0
    for k, posts in enumerate(texts, start=1):
        items = [
            {"id": 900 * k + i, "user": f"maker{i}", "content": f"<p>{text}</p>"}
            for i, text in enumerate(posts)
        ]
        number = id_in_fold(number + 1, k % FOLDS, lambda n: f"f{n}")  # one English thread in each fold
        thread = {"id": f"f{number}", "title": f"Forum thread {k}", "posts": items}
        (folder / f"invision_{k}.json").write_text(json.dumps(thread), encoding="utf-8")
    return len(topics)


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(t) + "\n" for t in rows), encoding="utf-8")


def write_synthetic_corpora(data_dir: Path) -> Synthetic:
    """The 4forums political sample, non-political pool and Qatar Living dev files; balanced folds."""
    writer = _Writer()
    political = {name: vocabulary(spec) for name, spec in POLITICAL_TOPICS.items()}
    nonpolitical = {name: vocabulary(spec) for name, spec in NONPOLITICAL_TOPICS.items()}
    questions = {name: vocabulary(spec) for name, spec in QUESTION_TOPICS.items()}
    every_topic = [*political.values(), *nonpolitical.values(), *questions.values()]
    summary = Synthetic()
    sample = writer.forum_threads(political, POLITICAL_PER_FOLD, POSTS_PER_THREAD)
    pool = writer.forum_threads(nonpolitical, NONPOLITICAL_PER_FOLD, 8)
    summary.political_threads = len(sample)
    summary.foreign_threads = write_foreign_threads(data_dir)
    (data_dir / "iac_4forums").mkdir(parents=True)
    _write_jsonl(data_dir / "iac_4forums" / "threads_political_sample_dev.jsonl", sample)
    _write_jsonl(data_dir / "iac_4forums" / "threads_nonpolitical_pool_dev.jsonl", pool)
    qa = writer.questions(questions, every_topic, summary)
    (data_dir / "semeval2015_qatarliving").mkdir(parents=True)
    _write_jsonl(data_dir / "semeval2015_qatarliving" / "qatarliving_threads_dev.jsonl", qa)
    return summary
