"""A README row and/or its page -> one Dataset record (plus the organizations it names)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

from ..models import Dataset, LabelClass, Link, Organization, Paper, Provenance, slugify
from .normalize import (TermMatcher, count_before, dimensionality, language_tags, licence, map_terms,
                        more_precise, normalize_date, parse_challenges, parse_number, split_terms,
                        sum_of_counts)
from .pages import PageFacts
from .report import ImportReport

URL_OK = re.compile(r"^https?://[^\s]+\.[^\s]+$")
CASE_WORDS = r"cases?|images?|volumes?|patients?|scans?|subjects?|slides?|videos?|samples?|studies|frames?"


@dataclass
class RowFacts:
    """One README dataset row."""

    line: int
    section: str
    name: str
    link: str | None
    description: str
    websites: list[tuple[str, str]]
    date: str
    challenge: str
    imaging: bool
    page_rel: str | None = None  # resolved page path, relative to the source folder
    notes: list[str] = field(default_factory=list)
    relinked: bool = False  # the row was re-pointed at another page: that page names it


@dataclass
class Context:
    """What building a record needs: vocabulary matchers, host map, provenance base, report."""

    report: ImportReport
    matchers: dict[str, TermMatcher]
    hosts: dict[str, str]
    host_types: dict[str, str]
    commit: str | None
    blob: str
    source_name: str
    organizations: dict[str, Organization] = field(default_factory=dict)
    challenges: dict = field(default_factory=dict)

    def provenance(self, page: str, row: int | None = None, section: str | None = None) -> Provenance:
        anchor = f"#L{row}" if row else ""
        return Provenance(source=self.source_name, page=page, url=f"{self.blob}/{quote(page)}{anchor}",
                          commit=self.commit, row=row, section=section)

    def platform_of(self, url: str) -> str | None:
        host = (urlsplit(url).hostname or "").lower()
        while host:
            if host in self.hosts:
                return self.hosts[host]
            host = host.partition(".")[2]
        return None


def institution_name(affiliation: str) -> str | None:
    """The institution in an affiliation: the university if named, else the institute/hospital."""
    parts = [p.strip(" .") for p in re.split(r",", affiliation) if p.strip(" .")]
    parts = [re.sub(r"\s*\d+$", "", p) for p in parts]
    first = re.compile(r"universit|université|universidad|college|polytechni", re.I)
    second = re.compile(r"institut|hospital|academy|cent(er|re)|laborator|\blab\b|clinic|foundation|"
                        r"\binc\b|ltd|corporation|company|gmbh|research|\bnih\b|council|ministry|agency|"
                        r"school|faculty", re.I)
    dept = re.compile(r"^(department|dept|division|school of|faculty|section|key laboratory)", re.I)
    for pattern in (first, second):
        hits = [p for p in parts if pattern.search(p)]
        good = [p for p in hits if not dept.match(p)] or hits
        if good:
            return good[0][:100]
    if len(parts) == 1 and 0 < len(parts[0].split()) <= 4:
        return parts[0]
    return None


def paper_from_url(url: str) -> Paper:
    m = re.search(r"arxiv\.org/(?:abs|pdf)/(\d{4}\.\d{4,5})(v\d+)?", url)
    if m:
        return Paper(arxiv=m[1] + (m[2] or ""))
    m = re.search(r"(?:doi\.org/|/doi/(?:full/|abs/|pdf/|epdf/)?)(10\.\d{4,9}/[^?#\s]+)", url)
    if m:
        return Paper(doi=m[1].rstrip("/."), url=url)
    return Paper(url=url)


def _bib_field(bib: str, name: str) -> str | None:
    m = re.search(name + r"\s*=\s*[{\"](.+?)[}\"]\s*,?\s*$", bib, flags=re.I | re.M)
    return re.sub(r"[{}]", "", m[1]).strip() if m else None


def papers(page: PageFacts | None, ctx: Context) -> list[Paper]:
    if not page:
        return []
    out: list[Paper] = []
    for url in page.articles:
        if URL_OK.match(url):
            out.append(paper_from_url(url))
    for bib in page.bibtex:
        title = _bib_field(bib, "title")
        year = _bib_field(bib, "year")
        doi = _bib_field(bib, "doi")
        target = None
        for paper in out:
            if (paper.arxiv and paper.arxiv.split("v")[0] in bib) or (paper.doi and paper.doi.lower() in bib.lower()):
                target = paper
        if target is None and len(out) == 1 and len(page.bibtex) == 1 and not out[0].bibtex:
            target = out[0]
        if target is None:
            if not title:
                ctx.report.defect("unparsed-bibtex", page.path, "a citation block without a title")
                continue
            target = Paper(title=title)
            out.append(target)
        target.bibtex = bib
        target.title = target.title or title
        if year and year[:4].isdigit() and 1900 <= int(year[:4]) <= 2100:
            target.year = int(year[:4])
        if doi and not target.doi and re.match(r"^10\.\d{4,9}/\S+$", doi):
            target.doi = doi
    return out


def _where(row: RowFacts | None, page: PageFacts | None) -> str:
    return f"README.md:{row.line}" if row else (page.path if page else "?")


def _map(scheme: str, text: str, where: str, ctx: Context) -> list[str]:
    ids, missing = map_terms(text, ctx.matchers[scheme])
    for piece in missing:
        ctx.report.defect(f"unmapped-{scheme}", where, f"'{piece}' (from '{text[:80]}')")
    return ids


def build_dataset(ident: str, row: RowFacts | None, page: PageFacts | None, ctx: Context,
                  category_hint: list[str] | None = None) -> Dataset:
    report = ctx.report
    where = _where(row, page)
    meta = page.meta if page else {}
    desc = row.description if row else ""
    notes: list[str] = list(row.notes) if row else []
    name = (row.name if row else "") or (page.title if page else "") or ident
    if row and row.relinked and page and page.title:
        name = page.title  # the row's own name is the other dataset's (FLARE 2023 for FLARE 2022)
    aliases = [t for t in ((row.name if row else ""), (page.title if page else ""))
               if t and t.lower() != name.lower()]

    # category
    category: list[str] = []
    if row:
        cat = ctx.matchers["category"].exact(row.section)
        if cat:
            category = [cat]
        else:
            report.defect("unmapped-category", where, f"section '{row.section}'")
    if not category and category_hint:
        category = category_hint

    # modality
    modality: list[str] = []
    if meta.get("modality"):
        modality = _map("modality", meta["modality"], f"{page.path}:{page.meta_line}", ctx)
    first = desc.split(",")[0] if desc else ""
    if row and row.imaging and first and (dimensionality(first) or not modality):
        from_row = _map("modality", first, where, ctx)
        mm = ctx.matchers["modality"]
        if modality and from_row and not set(modality) & set(from_row):
            both = modality + [m for m in from_row if m not in modality]
            if len(mm.most_specific(both)) < len(both):  # one narrows the other (mr / cardiac-mr)
                modality, from_row = mm.most_specific(both), []
            else:
                # unrelated: some pages carry a meta table copied from another dataset (MSD
                # Prostate's says CT, 104 classes); the README row wins, curators fix the rest
                report.defect("modality-conflict", where,
                              f"page {page.path} says {', '.join(modality)}; README row says "
                              f"{', '.join(from_row)}; the README row is kept")
                modality = []
        for m in from_row:
            if m not in modality:
                modality.append(m)

    # anatomy: area, description and name first; structures when those say nothing
    am = ctx.matchers["anatomy"]
    anatomy = []
    for text in (meta.get("area", ""), desc, name):
        anatomy += [a for a in am.find_all(text) if a not in anatomy]
    if not anatomy and meta.get("structures"):
        anatomy = am.find_all(meta["structures"])
    if not anatomy and row and row.imaging:
        anatomy = am.find_all(row.section)
        if anatomy:
            notes.append(f"anatomy derived from the README section '{row.section}'")
    anatomy = am.most_specific(anatomy)

    # task
    tm = ctx.matchers["task"]
    task: list[str] = []
    if meta.get("task"):
        task = _map("task", meta["task"], f"{page.path}:{page.meta_line}", ctx)
    for t in tm.find_all(desc):
        if t not in task:
            task.append(t)
    if not task and desc:
        task = [t for t in (tm.exact(p.strip()) for p in desc.split(",")) if t]

    # endoscopy-like sections that are modalities
    if row and row.imaging and not modality:
        derived = ctx.matchers["modality"].find_all(row.section)
        if derived:
            modality = derived
            notes.append(f"modality derived from the README section '{row.section}'")

    dims = dimensionality(first) or dimensionality(meta.get("dimensions", ""))

    # counts
    case_count = count_before(desc, CASE_WORDS) if desc else None
    if case_count is None and meta.get("volume"):
        case_count = sum_of_counts(meta["volume"])
    class_count = count_before(desc, r"categor(?:y|ies)|classes|class") if desc else None
    if class_count is None and meta.get("classes"):
        class_count = parse_number(meta["classes"])
    qa = count_before(desc, r"(?:cases\s+)?(?:expert annotation\s+)?qa\s+pairs?") if "qa pair" in desc.lower() else None
    if qa is None and meta.get("questions"):
        qa = parse_number(meta["questions"])
    image_count = count_before(desc, r"images|image-caption pairs?|pathological images")
    text_count = count_before(desc, r"reports|dialogues|texts|documents|wsi-text pairs?")
    token_count = count_before(desc, r"text tokens|tokens")

    # dates
    release = None
    if row and row.date and row.date not in ("-",):
        release = normalize_date(row.date)
        if release is None:
            report.defect("unparseable-date", where, f"release date '{row.date}'")
    if page and page.date_text:
        page_date = normalize_date(page.date_text)
        if page_date is None and page.date_text.strip().upper() not in ("TBD", ""):
            report.defect("unparseable-date", f"{page.path}:{page.date_line}", f"publication date '{page.date_text}'")
        elif page_date and release and not page_date.startswith(release[:4]):
            report.defect("date-conflict", where, f"README {release}, page {page_date}; README kept")
        release = more_precise(release, page_date) if release else page_date

    # challenges
    challenges: list[str] = []
    if row and row.challenge:
        for ch in parse_challenges(row.challenge, int(release[:4]) if release else None):
            ctx.challenges.setdefault(ch.id, ch)
            challenges.append(ch.id)

    # websites, platforms
    links: list[Link] = []
    seen: set[str] = set()

    def add(url: str, role: str, label: str | None = None) -> None:
        url = url.strip()
        key = url.rstrip("/").lower()
        if not URL_OK.match(url):
            report.defect("broken-url", where, f"'{url}' is not a web address")
            return
        if key in seen:
            return
        seen.add(key)
        platform = ctx.platform_of(url)
        if role == "homepage" and platform and ctx.host_types.get(platform) == "challenge-platform":
            role = "challenge"
        links.append(Link(url=url, label=label or None, role=role))

    for label, url in (row.websites if row else []):
        add(url, "homepage", label)
    for url in (page.homepages if page else []):
        add(url, "homepage")
    for url in (page.downloads if page else []):
        add(url, "download")
    platforms: list[str] = []
    for link in links:
        p = ctx.platform_of(link.url)
        if p and p not in platforms:
            platforms.append(p)

    # people and institutions
    orgs: list[str] = []
    authors: list[str] = []
    for author in (page.authors if page else []):
        if author.name not in authors:
            authors.append(author.name)
        for aff in author.institutions:
            inst = institution_name(aff)
            if not inst:
                continue
            oid = slugify(inst)
            ctx.organizations.setdefault(oid, Organization(
                id=oid, name=inst, provenance=[ctx.provenance(page.path)]))
            if oid not in orgs:
                orgs.append(oid)

    # labels, formats, languages
    labels = []
    for label_name, count in (page.labels if page else []):
        hit = am.exact(label_name) or next(iter(am.most_specific(am.find_all(label_name))), None)
        labels.append(LabelClass(name=label_name, anatomy=hit, case_count=count))
    formats = []
    for f in split_terms(meta.get("format", "")):
        f = f.strip(" `*").rstrip(".")
        if f and f != "-" and f not in formats:
            formats.append(f)
    languages: list[str] = []
    if meta.get("language"):
        languages, missing = language_tags(meta["language"])
        for piece in missing:
            report.defect("unmapped-language", f"{page.path}:{page.meta_line}", f"'{piece}'")

    provenance = []
    if row:
        provenance.append(ctx.provenance("README.md", row.line, row.section))
    if page:
        provenance.append(ctx.provenance(page.path))

    record = Dataset(
        id=ident, name=name, aliases=aliases, provenance=provenance, notes=notes,
        category=category, modality=modality, anatomy=anatomy, task=task, dimensionality=dims,
        case_count=case_count, class_count=class_count, image_count=image_count, qa_pair_count=qa,
        text_count=text_count, token_count=token_count, size=(meta.get("size") or None),
        label_classes=labels, file_formats=formats, resolution=page.resolution if page else [],
        languages=languages, release_date=release, challenges=challenges, platforms=platforms,
        websites=links, papers=papers(page, ctx), organizations=orgs, authors=authors,
        license=licence(page.licence_text) if page else None,
    )
    record.description = describe(record, ctx)
    return record


def describe(d: Dataset, ctx: Context) -> str:
    """A one-sentence description built from the record's facts only."""
    def labels(scheme: str, ids: list[str]) -> str:
        vocab = ctx.matchers[scheme].vocab
        names = {c.id: c.label.en for c in vocab.concepts} if vocab else {}
        return " and ".join(names.get(i, i) for i in ids)

    kind = " ".join(x for x in ["/".join(d.dimensionality), labels("modality", d.modality[:3])] if x)
    text = f"{kind + ' ' if kind else ''}dataset"
    if d.anatomy:
        text += f" of the {labels('anatomy', d.anatomy[:3]).lower()}"
    if d.case_count:
        text += f" with {d.case_count:,} cases"
    if d.task:
        text += f" for {labels('task', d.task[:3]).lower()}"
    if d.class_count:
        text += f" ({d.class_count} classes)"
    if d.qa_pair_count:
        text += f", {d.qa_pair_count:,} question-answer pairs"
    if d.release_date:
        text += f", released {d.release_date[:4]}"
    return text[0].upper() + text[1:] + "."
