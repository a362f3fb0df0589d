"""Column names of the labelled corpora's files (their header lines), for tests that write tiny corpora of
their own in the same format, and a builder of 4forums posts. No row of the corpora is here."""

from __future__ import annotations

C3_COLUMNS = [
    "article_id",
    "comment_counter",
    "depth",
    "comment_author",
    "comment_text",
    "crowd_toxicity_level",
    "agree_toxicity",
    "n_tox_judgements",
    "tox_personal_attack",
    "tox_inflammatory",
    "tox_abusive",
    "tox_teasing",
    "tox_embarrassment",
    "tox_none",
    "constructive",
    "constructive_binary",
    "n_con_judgements",
    "noncon_non_relevant",
    "noncon_provocative",
    "noncon_sarcastic",
    "noncon_no_respect",
    "noncon_unsubstantial",
    "noncon_none",
    "con_dialogue",
]
OLID_COLUMNS = ["id", "tweet", "subtask_a", "subtask_b", "subtask_c"]
HATEXPLAIN_COLUMNS = [
    "split",
    "post_id",
    "source",
    "text",
    "annotator_labels",
    "majority_label",
    "targets",
    "n_rationales",
]
DAVIDSON_COLUMNS = ["", "count", "hate_speech", "offensive_language", "neither", "class", "tweet"]


def iac_post(pid: int, author: str, parts: list[tuple[str, dict | None]], parent: int | None = None) -> dict:
    """A 4forums post whose text is `parts` joined by blank lines; a part with a dict is a quote span."""
    text = ""
    quotes = []
    for piece, quote in parts:
        if text:
            text += "\n\n"
        if quote is not None:
            quotes.append({"start": len(text), "end": len(text) + len(piece), **quote})
        text += piece
    return {
        "post_id": pid,
        "author": author,
        "parent_id": parent,
        "timestamp": 1100000000.0 + pid,
        "text": text,
        "quotes": quotes,
    }
