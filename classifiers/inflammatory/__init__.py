"""The inflammatory detector: insults, personal attacks, flame-bait and dehumanising talk in a post's own
words.

How a text becomes a score:

1. **De-obfuscation**, one vectorised numpy pass over a whole batch of texts: NFKC, invisible characters
   dropped,
   case folded, look-alike letters of other scripts read as Latin ("іdіot" in Cyrillic), mentions and links
   replaced by placeholders, spaced-out letters joined ("d u m b", "i.d.i.o.t"), digits and symbols inside
   words
   read as letters ("1d10t", "sh!t"), runs of one letter squashed ("sooo").
2. **Hashed features** (`TextFeatures`): word unigrams and bigrams and character 3-5-grams inside words, each
   a
   bucket of a seeded 64-bit hash (no vocabulary is stored), weighted by IDF and normalised per block, plus a
   few
   dense style features (capitals, exclamation and question marks, second person, mentions, length).
3. **A linear model** (log-count-ratio scaled logistic regression, trained on several corpora) scores the
   whole
   text and each of its sentences; a small second-stage model combines the text's score, its worst sentence
   and
   the style features (long posts with one insulting sentence are not averaged away).
4. **Calibration**: an isotonic map from that score to a probability, fitted on held-out folds against the
   share
   of annotators who called a text inflammatory; a score of 0.8 means about 80% of them would.
5. **Explanations** from the model itself (`attribution`, `explain`): each feature occurrence's exact share
   of the score through the linear stage (its weight x idf over its block's norm, times the second stage's
   weight on the text's score, plus on the worst sentence's when it lies there), and the lexicon counts'
   shares, mapped back through de-obfuscation to character spans of the original text, summed per word as
   written (a run of spaced-out letters counts as one); the strongest words and phrases are the evidence.

The model file is an `.npz` read with `classifiers.persistence.load_model`: arrays and JSON, never pickle.

Layout: `normalise` (step 1), `lexicons` and `features` (step 2), `scoring` (the linear stage's sums, step
3), `model` (steps 3-4 and the model file), `attribution` and `explain` (step 5), `detector` (the detector,
its reasons and the thread state).
"""

from classifiers.inflammatory.detector import DEFAULT_THRESHOLD, InflammatoryDetector, InflammatoryThreadState
from classifiers.inflammatory.features import (
    DENSE_NAMES,
    PEER_INPUTS,
    SECOND_STAGE_NAMES,
    FeatureOccurrences,
    TextFeatures,
    second_stage_inputs,
    standardise,
)
from classifiers.inflammatory.model import DEFAULT_MODEL_PATH, FORMAT_VERSION, MODEL_KIND, InflammatoryModel
from classifiers.inflammatory.normalise import deobfuscate, texts_one_line
from classifiers.inflammatory.scoring import ColumnTable, block_sums, text_and_sentence_scores

__all__ = [
    "DEFAULT_MODEL_PATH",
    "DEFAULT_THRESHOLD",
    "DENSE_NAMES",
    "FORMAT_VERSION",
    "MODEL_KIND",
    "PEER_INPUTS",
    "SECOND_STAGE_NAMES",
    "ColumnTable",
    "FeatureOccurrences",
    "InflammatoryDetector",
    "InflammatoryModel",
    "InflammatoryThreadState",
    "TextFeatures",
    "block_sums",
    "deobfuscate",
    "second_stage_inputs",
    "standardise",
    "text_and_sentence_scores",
    "texts_one_line",
]
