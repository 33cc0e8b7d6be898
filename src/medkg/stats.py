"""The numbers behind /stats, from the per-build search index: counts by category, modality,
anatomy, release year and case count (log bins). Flask-free; each returns a charts.Series
whose bars link to the dataset list filtered the same way (so a bar and its list agree).
"""

from __future__ import annotations

from collections import Counter

from .charts import Bar, Series
from .search import Index
from .urls import search_path


def _link(**filters) -> str:
    return search_path(**filters)


def _hierarchical(idx: Index, scheme: str, top: int | None = None, *,
                  roots: bool = False) -> Counter:
    """Datasets per concept, narrower concepts counted under broader ones (as the filter)."""
    counts: Counter = Counter()
    for entry in idx.entries.values():
        for value in idx.facet_values(entry, scheme):
            counts[value] += 1
    if not roots:  # the roots (whole body, radiology...) would only say "everything"
        for root in (c.id for c in idx.concepts.get(scheme, {}).values() if not c.broader):
            counts.pop(root, None)
    return Counter(dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]))


def by_category(idx: Index) -> Series:
    counts = _hierarchical(idx, "category", roots=True)
    bars = tuple(Bar(idx.label("category", c), n, _link(category=c))
                 for c, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return Series("category", "Datasets by category",
                  "Number of datasets in each listing category, sub-categories counted under "
                  "their parent; a dataset may be in several.", bars)


def by_modality(idx: Index, top: int = 15) -> Series:
    counts = _hierarchical(idx, "modality", top)
    bars = tuple(Bar(idx.label("modality", m), n, _link(modality=m))
                 for m, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return Series("modality", f"Datasets by modality (top {len(bars)})",
                  "Number of datasets per imaging or data modality, narrower modalities counted "
                  "under the broader ones (CT includes contrast CT); top-level groups left out.",
                  bars)


def by_anatomy(idx: Index, top: int = 20) -> Series:
    counts = _hierarchical(idx, "anatomy", top)
    bars = tuple(Bar(idx.label("anatomy", a), n, _link(anatomy=a))
                 for a, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return Series("anatomy", f"Datasets by anatomy (top {len(bars)} regions and organs)",
                  "Number of datasets covering each body region or organ, datasets of a "
                  "narrower part counted under the wider region (a liver dataset counts for the "
                  "abdomen); the whole body left out.", bars)


def by_year(idx: Index) -> tuple[Series, int]:
    """Datasets per release year (gaps as zero) and the number without a known year."""
    years = Counter(e.year for e in idx.entries.values() if e.year is not None)
    unknown = sum(1 for e in idx.entries.values() if e.year is None)
    bars: tuple[Bar, ...] = ()
    if years:
        first, last = min(years), max(years)
        bars = tuple(Bar(str(y), years.get(y, 0),
                         _link(year_min=str(y), year_max=str(y)) if years.get(y) else None)
                     for y in range(first, last + 1))
    return Series("year", "Datasets by release year",
                  "Number of datasets released each year"
                  + (f"; {unknown} datasets have no known release date." if unknown else "."),
                  bars), unknown


def _short(n: int) -> str:
    for size, suffix in ((1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k")):
        if n >= size and n % size == 0:
            return f"{n // size}{suffix}"
    return str(n)


def _bin_label(low: int, high: int) -> str:
    """[low, high) as '1–9', '10–99', '100–999', then '1k–<10k' (round numbers stay short)."""
    if high <= 1000:
        return f"{low}–{high - 1}" if high - low > 1 else str(low)
    return f"{_short(low)}–<{_short(high)}"


def by_cases(idx: Index) -> tuple[Series, int]:
    """A histogram of case counts on log bins (1–9, 10–99, ...), and the number unknown."""
    counts = [e.case_count for e in idx.entries.values() if e.case_count is not None]
    unknown = len(idx.entries) - len(counts)
    bars: list[Bar] = []
    if counts:
        zero = sum(1 for c in counts if c == 0)
        if zero:
            bars.append(Bar("0", zero))
        top = max(counts)
        low = 1
        while low <= top:
            high = low * 10
            n = sum(1 for c in counts if low <= c < high)
            bars.append(Bar(_bin_label(low, high), n))
            low = high
    return Series("cases", "Datasets by number of cases (log bins)",
                  "How many datasets have 1–9, 10–99, 100–999 ... cases (patients, volumes or "
                  "images, as the source counts them)"
                  + (f"; {unknown} datasets give no case count." if unknown else "."),
                  tuple(bars)), unknown


def summary(idx: Index) -> dict[str, int]:
    entries = idx.entries.values()
    return {
        "datasets": len(idx.entries),
        "with_year": sum(1 for e in entries if e.year is not None),
        "with_cases": sum(1 for e in entries if e.case_count is not None),
        "cases": sum(e.case_count or 0 for e in entries),
        "with_challenge": sum(1 for e in entries if e.challenge),
    }
