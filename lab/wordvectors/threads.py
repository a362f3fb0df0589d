"""Short everyday threads written for the lab: (title, opening post, [(reply, off_topic)])."""

from __future__ import annotations

HandThread = tuple[str, str, list[tuple[str, bool]]]

THREADS: list[HandThread] = [
    (
        "Number 42 bus timetable changes",
        "From Monday the 42 runs every 20 minutes instead of every 15, and the last bus leaves the station "
        "at 23:10.",
        [
            ("Great, so now I'll be waiting in the rain even longer at my stop.", False),
            ("Does the night route still go past the hospital?", False),
            ("The 17 is usually quicker anyway if you change at the market square.", False),
            ("Did anyone watch the match last night? What a goal in the second half!", True),
            ("Our striker scored twice and we finally won away from home.", True),
        ],
    ),
    (
        "Best way to train for a first marathon?",
        "I signed up for a marathon in April. I can run 10k comfortably. How should I build up my long runs?",
        [
            ("Add about ten percent a week and do one slow long run every weekend.", False),
            ("Get your shoes fitted properly, my knees hated me until I did.", False),
            ("Practise eating gels on your long runs so your stomach gets used to it.", False),
            ("Anyone know a good recipe for banana bread without eggs?", True),
            ("My landlord still hasn't fixed the boiler and it's freezing in the flat.", True),
        ],
    ),
    (
        "Sourdough starter not rising",
        "My starter is two weeks old, I feed it flour and water daily, but it barely bubbles. "
        "What am I doing wrong?",
        [
            ("Try rye flour for a few feeds and keep the jar somewhere warmer.", False),
            ("Chlorinated tap water can slow it down, use filtered water.", False),
            ("Mine took three weeks before it doubled reliably, be patient.", False),
            ("Is it worth upgrading my graphics card for the new game?", True),
            ("The referee was a disgrace, that was never a penalty.", True),
        ],
    ),
    (
        "Laptop overheating when gaming",
        "My laptop gets really hot and the fans are loud whenever I play games. Temperatures hit 95C.",
        [
            ("Clean the dust out of the vents and repaste the CPU.", False),
            ("A cooling pad helps a bit, and cap the frame rate.", False),
            ("Check that the charger is plugged in and the power mode is set right.", False),
            ("We're going to Spain in June, any tips for Seville?", True),
            ("My tomatoes have yellow leaves, too much watering?", True),
        ],
    ),
    (
        "Tomato plants with yellow leaves",
        "The lower leaves on my tomato plants are turning yellow and dropping off. "
        "They're in pots on the balcony.",
        [
            ("Probably overwatering, let the compost dry out between waterings.", False),
            ("Could be lack of nitrogen, feed them with a tomato fertiliser.", False),
            ("Lower leaves yellowing is normal as the plant gets bigger.", False),
            ("The train strike on Friday means I can't get to work.", True),
            ("Has anyone tried the new phone? The battery life seems awful.", True),
        ],
    ),
    (
        "Holiday in Lisbon: where to stay?",
        "We're a couple going to Lisbon for five days in May. Which neighbourhood is best to stay in?",
        [
            ("Alfama is charming but hilly, Baixa is central and flat.", False),
            ("Stay near a metro stop and take the tram 28 early before the crowds.", False),
            ("Príncipe Real has lovely restaurants and is quieter at night.", False),
            ("My cat keeps scratching the sofa, how do I stop it?", True),
            ("Which mortgage rate did you get when you remortgaged?", True),
        ],
    ),
]
