"""Strings of the source -> values of the records: dates, counts, vocabulary ids, challenges.

No vocabulary lives here: terms are matched against the label and alt_labels of the concepts
in data/vocab/ (``TermMatcher``). The tables below are formats of the input, not vocabularies.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass

from ..models import Vocabulary, slugify

MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
MONTHS["feburary"] = 2  # a misspelling that occurs in the source
MONTHS["sept"] = 9

#: language names as the source writes them -> BCP 47 tags
LANGUAGES = {"english": "en", "chinese": "zh", "simplified chinese": "zh-Hans",
             "traditional chinese": "zh-Hant", "mandarin": "zh", "german": "de", "french": "fr",
             "spanish": "es", "japanese": "ja", "korean": "ko", "portuguese": "pt", "russian": "ru",
             "hebrew": "he", "arabic": "ar", "italian": "it", "dutch": "nl", "vietnamese": "vi"}


def _date(year: int, month: int | None = None, day: int | None = None) -> str | None:
    if not 1900 <= year <= 2100:
        return None
    if month is None:
        return f"{year:04d}"
    if not 1 <= month <= 12:
        return None
    if day is None:
        return f"{year:04d}-{month:02d}"
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def normalize_date(text: str | None) -> str | None:
    """A release date in any of the source's formats -> YYYY, YYYY-MM or YYYY-MM-DD (or None)."""
    if not text:
        return None
    s = text.strip().strip("*_` ").rstrip(".").strip()
    s = re.sub(r"\s+till now$", "", s, flags=re.I)
    s = re.sub(r"\.\s.*$", "", s)  # trailing sentence after a date: "04/2021. Published in ..."
    if not s or s.upper() in ("TBD", "-", "N/A"):
        return None
    m = re.fullmatch(r"(\d{4})(?:[-./](\d{1,2})(?:[-./](\d{1,2}))?)?", s)
    if m:
        return _date(int(m[1]), int(m[2]) if m[2] else None, int(m[3]) if m[3] else None)
    m = re.fullmatch(r"(\d{1,2})[./](\d{1,2})[./](\d{4})", s)
    if m:  # day.month.year unless the first number cannot be a day-of-month before a month
        a, b, year = int(m[1]), int(m[2]), int(m[3])
        day, month = (a, b) if b <= 12 else (b, a)
        return _date(year, month, day)
    m = re.fullmatch(r"(\d{1,2})/(\d{4})", s)
    if m:
        return _date(int(m[2]), int(m[1]))
    m = re.fullmatch(r"([A-Za-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})", s)
    if m and m[1].lower() in MONTHS:
        return _date(int(m[3]), MONTHS[m[1].lower()], int(m[2]))
    m = re.fullmatch(r"([A-Za-z]+)\.?,?\s+(\d{4})", s)
    if m and m[1].lower() in MONTHS:
        return _date(int(m[2]), MONTHS[m[1].lower()])
    m = re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?\s+([A-Za-z]+),?\s+(\d{4})", s)
    if m and m[2].lower() in MONTHS:
        return _date(int(m[3]), MONTHS[m[2].lower()], int(m[1]))
    return None


def more_precise(base: str | None, other: str | None) -> str | None:
    """``other`` when it refines ``base`` (same year/month prefix), else ``base``."""
    if base and other and len(other) > len(base) and other.startswith(base):
        return other
    return base or other


NUMBER = r"(\d[\d,]*(?:\.\d+)?)\s*([KkMmBb](?![a-zA-Z]))?"


def parse_number(text: str) -> int | None:
    """'1,214' -> 1214; '1.6M' -> 1600000; '227K' -> 227000; None when no number leads."""
    m = re.match(r"\s*" + NUMBER, text)
    if not m:
        return None
    digits = m[1].replace(",", "")
    try:
        value = float(digits)
    except ValueError:
        return None
    scale = {"k": 1_000, "m": 1_000_000, "b": 1_000_000_000}.get((m[2] or "").lower(), 1)
    return int(round(value * scale))


def count_before(text: str, words: str) -> int | None:
    """The number written before one of ``words`` (a regex alternation): '1,214 Cases' -> 1214."""
    m = re.search(NUMBER + r"\s+(?:[A-Za-z-]+\s+){0,2}?(?:" + words + r")\b", text, flags=re.I)
    return parse_number(m.group(0)) if m else None


def sum_of_counts(text: str) -> int | None:
    """A case count from a 'Data Volume' cell: one number, or a sum over its split parts."""
    if not text or not re.search(r"\d", text):
        return None
    cleaned = re.sub(r"\([^)]*\)", " ", text)
    cleaned = re.sub(r"\b\d+(?:\.\d+)?\s*(?:%|GB|MB|TB|KB|mm|cm|Hz|px)\b", " ", cleaned, flags=re.I)
    cleaned = re.sub(r"\b\d+\s*[x×*]\s*\d+\b", " ", cleaned)
    cleaned = re.sub(r"\b[1-4]D\b", " ", cleaned)
    numbers = [parse_number(m.group(0)) for m in re.finditer(NUMBER, cleaned)]
    numbers = [n for n in numbers if n is not None]
    if not numbers:
        return None
    total_match = re.search(NUMBER + r"\s*(?:cases|images|volumes|scans|patients|subjects)?\s*(?:in total|total)",
                            cleaned, flags=re.I) or re.search(r"total\D{0,20}" + NUMBER, cleaned, flags=re.I)
    if total_match:
        found = re.search(NUMBER, total_match.group(0))
        return parse_number(found.group(0)) if found else None
    if len(numbers) == 1:
        return numbers[0]
    if re.search(r"train|val|test|for |,|;|\+", cleaned, flags=re.I):
        return sum(numbers)
    return None


DIMENSION = re.compile(r"\b([1-4])\s*D\b(\s*\+\s*t\b)?", flags=re.I)


def dimensionality(text: str) -> list[str]:
    out: list[str] = []
    for m in DIMENSION.finditer(text or ""):
        value = f"{m[1]}D" + ("+t" if m[2] else "")
        if value not in out:
            out.append(value)
    return out


@dataclass(frozen=True)
class Challenge:
    id: str
    name: str
    venue: str | None
    year: int | None


def parse_challenges(text: str, fallback_year: int | None = None) -> list[Challenge]:
    """'MICCAI'2022 & 2023' -> two; 'ISBI'2017, MICCAI'2017 & 2018' -> three; 'LUNA16' -> one."""
    text = (text or "").strip()
    if text in ("", "-"):
        return []
    out: list[Challenge] = []
    for part in re.split(r"\s*,\s*", text):
        m = re.fullmatch(r"([A-Za-z][\w-]*)\s*'\s*(\d{4}(?:\s*&\s*\d{4})*)", part)
        if m:
            venue = m[1]
            for year in re.findall(r"\d{4}", m[2]):
                out.append(Challenge(f"{slugify(venue)}-{year}", f"{venue} {year}", venue, int(year)))
            continue
        m = re.fullmatch(r"(?:([A-Za-z][\w-]*)\s*')?\s*([A-Za-z][A-Za-z-]*?)\s*'?(\d{4}|\d{2})", part)
        if m:  # 'ASNR-MICCAI'BRATS2023', 'BRATS2015', 'LUNA16', 'CAMELYON16'
            venue, name, digits = m[1], m[2], m[3]
            year = int(digits) if len(digits) == 4 else 2000 + int(digits)
            ident = f"{slugify(name)}-{year}" if len(digits) == 4 else slugify(name + digits)
            out.append(Challenge(ident, f"{name} {digits}" if len(digits) == 4 else name + digits, venue, year))
            continue
        # a bare name: the organiser (Kaggle) or a named challenge (Medical Segmentation Decathlon)
        if fallback_year and len(part.split()) == 1:
            out.append(Challenge(f"{slugify(part)}-{fallback_year}", f"{part} {fallback_year}", part, fallback_year))
        else:
            out.append(Challenge(slugify(part), part, None, None))
    return out


class TermMatcher:
    """Match source strings to concept ids by label.en and alt_labels, case-insensitively."""

    def __init__(self, vocab: Vocabulary | None):
        self.vocab = vocab
        self.terms: dict[str, str] = {}
        self.broader: dict[str, list[str]] = {}
        if vocab:
            for concept in vocab.concepts:
                self.broader[concept.id] = list(concept.broader)
                for term in [concept.label.en, concept.id, *concept.alt_labels]:
                    self.terms.setdefault(self._key(term), concept.id)
        self._pattern = None
        if self.terms:
            keys = sorted(self.terms, key=len, reverse=True)
            self._pattern = re.compile(r"(?<![\w])(" + "|".join(re.escape(k) for k in keys) + r")(?![\w])")

    @staticmethod
    def _key(term: str) -> str:
        return re.sub(r"\s+", " ", term.strip().lower().replace("_", " "))

    def exact(self, term: str) -> str | None:
        return self.terms.get(self._key(term))

    def find_all(self, text: str) -> list[str]:
        """Concept ids whose terms occur in ``text`` as whole words, longest match first."""
        if not self._pattern or not text:
            return []
        out: list[str] = []
        for m in self._pattern.finditer(self._key(text)):
            ident = self.terms[m.group(1)]
            if ident not in out:
                out.append(ident)
        return out

    def ancestors(self, ident: str) -> set[str]:
        seen: set[str] = set()
        stack = list(self.broader.get(ident, []))
        while stack:
            item = stack.pop()
            if item not in seen:
                seen.add(item)
                stack.extend(self.broader.get(item, []))
        return seen

    def most_specific(self, ids: list[str]) -> list[str]:
        """Drop every id that is broader than another id in the list."""
        covered: set[str] = set()
        for ident in ids:
            covered |= self.ancestors(ident)
        return [i for i in ids if i not in covered]


SPLIT_MODALITY = re.compile(r"\s*(?:&|,|/|\+|;|\band\b|\bwith\b)\s*", flags=re.I)


def split_terms(text: str) -> list[str]:
    """'CT&MRI' -> ['CT', 'MRI']; 'PET-CT' stays one piece here (see ``map_terms``)."""
    return [p for p in SPLIT_MODALITY.split(text or "") if p and p.strip()]


def map_terms(text: str, matcher: TermMatcher) -> tuple[list[str], list[str]]:
    """Concept ids for a list-like string and the pieces that did not map.

    The whole string is tried first, then its pieces split on & , / + ';' 'and'; a piece that
    does not match is split on '-' ('PET-CT' -> PET, CT), then searched for known terms.
    """
    text = DIMENSION.sub(" ", text or "").strip(" .:-")
    if not text or text == "-":
        return [], []
    whole = matcher.exact(text)
    if whole:
        return [whole], []
    ids: list[str] = []
    missing: list[str] = []
    for piece in split_terms(text):
        piece = piece.strip(" .:()")
        if not piece:
            continue
        found = matcher.exact(piece)
        if found:
            hits = [found]
        else:
            parts = [matcher.exact(p) for p in piece.split("-")]
            if len(parts) > 1 and all(parts):
                hits = [p for p in parts if p]
            else:
                hits = matcher.find_all(piece)
        if hits:
            ids += [h for h in hits if h not in ids]
        else:
            missing.append(piece)
    return ids, missing


def language_tags(text: str) -> tuple[list[str], list[str]]:
    tags: list[str] = []
    missing: list[str] = []
    for piece in split_terms(text):
        key = piece.strip(" .").lower()
        if not key or key == "-":
            continue
        tag = LANGUAGES.get(key)
        if tag is None:
            # 'English 10178' style cells: take leading words only
            words = re.match(r"[a-z ]+", key)
            tag = LANGUAGES.get(words.group(0).strip()) if words else None
        if tag:
            if tag not in tags:
                tags.append(tag)
        else:
            missing.append(piece.strip())
    return tags, missing


SPDX = re.compile(r"\bCC[- ]?(BY(?:[- ](?:NC|SA|ND))*)(?:[- ]?(\d\.\d))?", flags=re.I)


def licence(text: str) -> str | None:
    """'CC BY-NC-SA 4.0' -> 'CC-BY-NC-SA-4.0' (an SPDX id); None when no CC licence is named."""
    m = SPDX.search(text or "")
    if not m:
        return None
    body = re.sub(r"[- ]", "-", m[1].upper())
    return f"CC-{body}" + (f"-{m[2]}" if m[2] else "")
