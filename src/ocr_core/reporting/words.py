"""Names as a reader reads them: the tidy records' column names and values ("first_hop", "mean_rank",
"base+W_F+W_FI") turned into words for table headers, cells, legends and panel titles on the page.

The records, the plain text nbval checks and the glued numbers keep the raw names; only what the page shows
changes. `words` gives plain text (chart labels, data-label attributes), `words_html` gives HTML with the
paper's weight notation as subscripts (W_{F,I} -> W<sub>F,I</sub>).
"""

from __future__ import annotations

import html
import re

# Names whose reading is not the generic one (underscores to spaces, "->" to an arrow).
WORDS = {
    "n_seeds": "seeds",
    "after_sd": "sd after",
    "before_sd": "sd before",
    "top1": "top-1",
    "mean_rank": "mean rank",
    "city_language": "city → language",
    "landmark_city": "landmark → city",
    "eval_set": "evaluation set",
}

# The paper's weight deltas: W_F, W_FI, W_I, W_IF, W_J, W_F', and the LaTeX forms W_{F,I}, $W_{F'}$.
_DELTA = re.compile(r"\$?W_(?:\{([^}]*)\}|([A-Z]{1,2})(?![A-Za-z])('?))\$?")


def _subscript(match: re.Match) -> str:
    if match.group(1) is not None:
        return match.group(1)
    letters, prime = match.group(2), match.group(3)
    return ",".join(letters) + prime


def _generic(text: str, header: bool) -> str:
    text = text.replace("_prime", "'")
    text = re.sub(r"(?<![A-Za-z])ocr(?![A-Za-z]|_core)", "OCR", text)  # "train_facts.after_ocr"
    if header:  # "test_implications.after" -> "test implications: after" (not in cells: "0.05" is a number)
        text = re.sub(r"(?<=[A-Za-z])\.(?=[A-Za-z])", ": ", text)
    return text.replace("_", " ")


def _render(name: str, header: bool, text, delta) -> str:
    if name in WORDS:
        return text(WORDS[name])
    name = re.sub(r"\s*->\s*", " → ", name)
    # a difference whose right side is a sum reads as one: "graft - base+W_F'" -> "graft − (base + W_F')"
    name = re.sub(r"^(.*\S) - (\S*\+\S*)$", r"\1 − (\2)", name)
    name = re.sub(r"(?<=\S) - (?=\S)", " − ", name)
    name = re.sub(r"(?<=[\w'])\+(?=[A-Za-z$])", " + ", name)  # "base+W_F" -> "base + W_F"
    out, last = [], 0
    for m in _DELTA.finditer(name):
        out += [text(_generic(name[last : m.start()], header)), delta(_subscript(m))]
        last = m.end()
    out.append(text(_generic(name[last:], header)))
    return "".join(out)


def words(name: str, *, header: bool = True) -> str:
    """`name` as plain words: "first_hop" -> "first hop", "W_FI" -> "W(F,I)". header: also "a.b" -> "a: b"."""
    return _render(name, header, str, lambda sub: f"W({sub})")


def words_html(name: str, *, header: bool = True) -> str:
    """`name` as HTML words: like `words`, with weight deltas as W<sub>F,I</sub>."""
    return _render(name, header, html.escape, lambda sub: f"W<sub>{html.escape(sub)}</sub>")


def deltas_html(text: str) -> str:
    """`text` (markdown) with only its weight deltas changed, to W<sub>F,I</sub>: markdown passes the tag
    through, the rest of the text is left as it is."""
    return _DELTA.sub(lambda m: f"W<sub>{_subscript(m)}</sub>", text)
