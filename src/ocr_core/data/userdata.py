"""Your own hop: facts and their implications from a CSV or JSON file, checked row by row before any training.

A hop file is a table (CSV with a header, or a JSON list of objects) with these columns:

    kind     fact, implication, fact_option or implication_option
    subject  who or what the row is about; links each implication to its fact (one fact and one implication
             per subject)
    prompt   the text the answer follows, without white space at its end (option rows: empty)
    answer   the answer, starting a new word (it is scored by the first token of " " + answer)

Facts are finetuned on; implications are only ranked. Each kind is ranked among its options: its
`*_option` rows if it has any (then every answer of that kind must be one of them), else its distinct answers
in file order. A wrong file raises a `HopFileError` naming the file, the row (CSV: line; JSON: item) and its
text; `check_tokens` checks the file against a tokenizer (`ocr_core.data.tokens.validate`) and names the rows too.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ocr_core.data import Dataset, Example, HopDataset
from ocr_core.data.tokens import DatasetTokenError, answer_ids, check_word_boundaries, validate
from ocr_core.errors import UserError

COLUMNS = ("kind", "subject", "prompt", "answer")
EXAMPLES, OPTIONS = ("fact", "implication"), ("fact_option", "implication_option")
_SHOWN = 10  # at most this many items listed in one message
_EXPECTED = f"expected the columns {', '.join(COLUMNS)}"


class HopFileError(UserError, ValueError):
    """A hop file the experiments cannot use; the message names the file and the row."""


@dataclass(frozen=True)
class Row:
    """One row of a hop file, found `at` "line 3" (CSV) or "item 2" (JSON) of `file`."""

    file: str
    at: str
    kind: str
    subject: str
    prompt: str
    answer: str

    @property
    def where(self) -> str:
        return f"{self.file} {self.at}"

    def text(self) -> str:
        if self.kind in OPTIONS:
            return f"{self.kind} {self.answer!r}"
        return f"{self.kind} {self.prompt!r} -> {self.answer!r} (subject {self.subject!r})"


def _lines(rows: Iterable[Row]) -> str:
    rows = list(rows)
    shown = ", ".join(r.at for r in rows[:_SHOWN])
    return shown + (f" and {len(rows) - _SHOWN} more" if len(rows) > _SHOWN else "")


def read_rows(path: str | Path) -> list[Row]:
    """The rows of a hop file, with every column present and no other (HopFileError otherwise)."""
    path = Path(path)
    if not path.is_file():
        raise HopFileError(f"no hop file {str(path)!r}")
    text = path.read_text(encoding="utf-8-sig")
    if not text.strip():
        raise HopFileError(f"{path}: the file is empty; {_EXPECTED}")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        found = _csv_records(path, text)
    elif suffix == ".json":
        found = _json_records(path, text)
    else:
        raise HopFileError(f"{path}: a hop file must be .csv or .json")
    if not found:
        raise HopFileError(f"{path}: no rows; {_EXPECTED}")
    return [_row(str(path), at, record) for at, record in found]


def _csv_records(path: Path, text: str) -> list[tuple[str, dict]]:
    reader = csv.DictReader(io.StringIO(text, newline=""), skipinitialspace=True)
    header = [c.strip() for c in reader.fieldnames or []]
    _check_columns(str(path), header, "column")
    reader.fieldnames = header
    found = []
    for record in reader:
        if None in record:  # more fields than the header names
            raise HopFileError(f"{path} line {reader.line_num}: more fields than columns: {record[None]!r}")
        found.append((f"line {reader.line_num}", record))
    return found


def _json_records(path: Path, text: str) -> list[tuple[str, dict]]:
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as err:
        raise HopFileError(f"{path}: not valid JSON ({err})") from None
    if not isinstance(payload, list):
        raise HopFileError(f"{path}: expected a JSON list of objects with the keys {', '.join(COLUMNS)}")
    found = []
    for i, item in enumerate(payload, 1):
        if not isinstance(item, dict):
            raise HopFileError(f"{path} item {i}: expected an object with the keys {', '.join(COLUMNS)}")
        _check_columns(f"{path} item {i}", list(item), "key")
        found.append((f"item {i}", item))
    return found


def _check_columns(where: str, names: list[str], what: str) -> None:
    missing = [c for c in COLUMNS if c not in names]
    extra = [c for c in names if c not in COLUMNS]
    expected = f"expected the {what}s {', '.join(COLUMNS)}"
    if missing:
        raise HopFileError(f"{where}: missing {what}(s) {', '.join(map(repr, missing))}; {expected}")
    if extra:
        raise HopFileError(f"{where}: unknown {what}(s) {', '.join(map(repr, extra))}; {expected}")


def _row(file: str, at: str, record: dict) -> Row:
    """A checked row: a known kind, the values it needs, no stray white space around prompt and answer."""
    values = {}
    for column in COLUMNS:
        value = "" if record[column] is None else record[column]
        if not isinstance(value, str):
            raise HopFileError(f"{file} {at}: {column} must be text, got {value!r}")
        values[column] = value
    row = Row(file, at, **values)
    if row.kind not in EXAMPLES + OPTIONS:
        raise HopFileError(f"{row.where}: kind {row.kind!r} is not one of {', '.join(EXAMPLES + OPTIONS)}")
    needed = ("subject", "prompt", "answer") if row.kind in EXAMPLES else ("answer",)
    for column in needed:
        if not values[column].strip():
            raise HopFileError(f"{row.where}: {row.text()}: the {column} is empty")
    for column in ("subject", "prompt") if row.kind in OPTIONS else ():
        if values[column].strip():
            raise HopFileError(f"{row.where}: {row.text()}: an option row takes only an answer, not a {column}")
    for column in ("prompt", "answer"):
        if values[column] != values[column].strip():
            raise HopFileError(
                f"{row.where}: {row.text()}: the {column} starts or ends with white space (the space before the "
                "answer is added when scoring and training)"
            )
    return row


@dataclass(frozen=True)
class HopFile:
    """A user's hop: facts and implications item by item (same subject), their option sets, and the rows they
    came from (for naming them in errors)."""

    name: str
    path: Path
    facts: Dataset
    implications: Dataset
    rows: dict[str, tuple[Row, ...]]  # fact, implication: the examples' rows; *_option: the options' rows

    def dataset(self, seed: int = 0) -> HopDataset:
        """As a HopDataset (the same for every seed; the seed only orders training)."""
        assignment = {ex.subject: ex.answer for ex in self.facts}
        return HopDataset(self.facts, self.implications, seed, assignment)

    def digest(self) -> str:
        """sha256 (12 hex) of the content: examples and options (not the path or the file's formatting)."""
        content = {
            ds.name: dict(examples=[[e.prompt, e.answer, e.subject] for e in ds], options=list(ds.options))
            for ds in (self.facts, self.implications)
        }
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:12]

    def key(self) -> dict[str, str]:
        """What a result's config holds for this file: its name and its content's digest."""
        return dict(name=self.name, sha256=self.digest())


def load_hop_file(path: str | Path) -> HopFile:
    """Read and check a hop file (format: this module's docstring); HopFileError names the file and row."""
    path = Path(path)
    rows = read_rows(path)
    by_kind = {kind: [r for r in rows if r.kind == kind] for kind in EXAMPLES + OPTIONS}
    facts, implications = (_one_per_subject(by_kind[kind]) for kind in EXAMPLES)
    for kind, mine, other in (("implication", implications, facts), ("fact", facts, implications)):
        lone = [r for s, r in mine.items() if s not in other]
        if lone:
            missing = "fact" if kind == "implication" else "implication"
            raise HopFileError(f"{lone[0].where}: {lone[0].text()} has no {missing} with its subject")
    if not facts:
        raise HopFileError(f"{path}: no fact rows; each subject needs a fact and an implication")
    ordered = {"fact": list(facts.values()), "implication": [implications[s] for s in facts]}
    sets, kept = {}, {}
    for kind in EXAMPLES:
        options, option_rows = _options(path, kind, ordered[kind], by_kind[f"{kind}_option"])
        examples = tuple(Example(r.prompt, r.answer, r.subject) for r in ordered[kind])
        sets[kind] = Dataset(f"{path.stem}.{kind}s", examples, options)
        kept[kind], kept[f"{kind}_option"] = tuple(ordered[kind]), option_rows
    return HopFile(path.stem, path, sets["fact"], sets["implication"], kept)


def _one_per_subject(rows: list[Row]) -> dict[str, Row]:
    first: dict[str, Row] = {}
    for r in rows:
        if r.subject in first:
            raise HopFileError(
                f"{r.where}: {r.text()}: a second {r.kind} for subject {r.subject!r} (the first: "
                f"{_lines([first[r.subject]])}); give one fact and one implication per subject"
            )
        first[r.subject] = r
    return first


def _options(path: Path, kind: str, examples: list[Row], listed: list[Row]) -> tuple[tuple[str, ...], tuple[Row, ...]]:
    """A kind's options and the row naming each: its option rows, else its answers' first rows."""
    if listed:
        seen: dict[str, Row] = {}
        for r in listed:
            if r.answer in seen:
                raise HopFileError(f"{r.where}: {r.text()} is listed twice (also {_lines([seen[r.answer]])})")
            seen[r.answer] = r
        outside = [r for r in examples if r.answer not in seen]
        if outside:
            shown = ", ".join(map(repr, list(seen)[:_SHOWN])) + (", ..." if len(seen) > _SHOWN else "")
            raise HopFileError(
                f"{outside[0].where}: {outside[0].text()}: the answer is not among the {kind} options "
                f"({kind}_option rows: {shown})"
            )
    else:
        seen = {}
        for r in examples:
            seen.setdefault(r.answer, r)
    if len(seen) < 2:
        raise HopFileError(
            f"{path}: the {kind}s rank among {len(seen)} option(s) {list(seen)}; give at least 2 (other answers, "
            f"or {kind}_option rows)"
        )
    return tuple(seen), tuple(seen.values())


def load_hop_files(paths: str | Path | Sequence[str | Path] | None) -> tuple[HopFile, ...]:
    """Each hop file of `paths` (one path, a list, or None: none), loaded and checked; their names (file stems)
    must differ, since results name a hop by its file."""
    if paths is None:
        return ()
    files = tuple(load_hop_file(p) for p in ([paths] if isinstance(paths, str | Path) else paths))
    names = [f.name for f in files]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise HopFileError(f"hop files share the name {twice[0]!r} (results name a hop by its file): rename one")
    return files


def check_tokens(hop: HopFile, tokenizer) -> None:
    """`ocr_core.data.tokens.validate` on the facts and the implications; its DatasetTokenError, with the file and the
    rows it is about."""
    for kind, dataset in (("fact", hop.facts), ("implication", hop.implications)):
        try:
            validate(dataset, tokenizer)
        except DatasetTokenError as err:
            rows = _token_rows(hop, kind, dataset, tokenizer)
            where = f"{hop.path} {_lines(rows)}" if rows else str(hop.path)
            raise DatasetTokenError(f"{where}: {err}") from err


def _token_rows(hop: HopFile, kind: str, dataset: Dataset, tokenizer) -> list[Row]:
    """The rows of `kind` behind a failed `validate`: options sharing a first token, else answers that do not
    start at a word boundary."""
    options = hop.rows[f"{kind}_option"]
    first = [answer_ids(tokenizer, r.answer)[:1] for r in options]
    colliding = [r for r, t in zip(options, first, strict=True) if first.count(t) > 1]
    if colliding:
        return colliding
    bad = []
    for r, example in zip(hop.rows[kind], dataset, strict=True):
        try:
            check_word_boundaries(tokenizer, [example])
        except DatasetTokenError:
            bad.append(r)
    return bad


def check_counterfactuals(hop: HopFile, n: int, seed: int = 0) -> None:
    """The extractive scores' counterfactual sampling (`ocr_core.scoring.scores.sample_counterfactuals`) works for the
    implications: each needs `n` others with a different subject and answer; HopFileError names the row."""
    from ocr_core.data.counterfactuals import sample_counterfactuals

    try:
        sample_counterfactuals(hop.implications, n, seed)
    except ValueError as err:
        found = re.match(r"item (\d+) has only (\d+)", str(err))
        if not found:
            raise HopFileError(f"{hop.path}: {err}") from None
        row = hop.rows["implication"][int(found[1])]
        raise HopFileError(
            f"{row.where}: {row.text()}: only {found[2]} other implications have a different subject and answer, "
            f"and the extractive scores compare each implication with {n} of them (add implications with other "
            "answers, or ask for fewer counterfactuals)"
        ) from None
