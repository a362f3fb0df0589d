"""The word lists the dense style features count (step 2): second person, words that point an insult at
someone, insults, dehumanising talk, violence."""

from __future__ import annotations

from classifiers.inflammatory.normalise import MENTION, _words

SECOND_PERSON = ("you", "your", "you're", "youre", "ur", "u", "ya", "yourself", "yourselves", "yall", "y'all")
# Words that point an insult at someone: "you ...", "he is ...", "@name ...".
TARGETING = (
    *SECOND_PERSON,
    *_words("is are was were be being been he's she's they're such what"),
    chr(MENTION),
)
# Words that insult whoever they are said of. A prior the model weighs from the data (a count feature): it
# carries insults the training texts rarely use.
INSULT_WORDS = _words(
    "idiot idiots idiotic moron morons moronic stupid stupidity dumb dumber dumbest dumbass imbecile "
    "imbeciles cretin cretins retard retards retarded fool fools foolish clown clowns buffoon buffoons "
    "loser losers pathetic wannabe wannabes scum scumbag scumbags vermin parasite parasites swine coward "
    "cowards cowardly traitor traitors liar liars hypocrite hypocrites hypocritical fraud frauds crook "
    "crooks thug thugs lunatic lunatics nutjob nutjobs nutcase wingnut wingnuts loony psycho psychopath "
    "sociopath degenerate degenerates disgusting disgrace disgraceful ignorant ignoramus brainless "
    "clueless incompetent worthless spineless gutless sleazy sleazebag creep creepy jerk jerks jackass "
    "asshole assholes dickhead bastard bastards halfwit nitwit dimwit dimwits simpleton numbskull "
    "bonehead knucklehead airhead shill shills stooge stooges lackey lackeys sycophant bigot bigots "
    "libtard libtards snowflake snowflakes sheeple grifter grifters charlatan charlatans delusional "
    "deranged brainwashed uneducated subhuman savages trash garbage filth filthy despicable vile pig pigs "
    "rat rats hack hacks"
)
# Words that speak of people as vermin, animals or disease (dehumanising talk).
DEHUMANISING_WORDS = _words(
    "vermin animals cockroaches roaches rats parasites parasite subhuman subhumans savages savage "
    "invaders invasion infestation infest infested breed breeding filth plague mongrels beasts apes "
    "monkeys leeches inferior primitive barbarians barbaric exterminate extermination vile scum trash "
    "degenerates freaks"
)
# Words of violence and threats.
VIOLENCE_WORDS = _words(
    "kill killed killing shoot shot hang hanged lynch lynched burn die dead murder beat punch stab bomb "
    "destroy wipe slaughter execute executed gun guns rope jail prison deport"
)
