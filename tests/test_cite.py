"""BibTeX: `medkg cite`, /datasets.bib, and a small BibTeX parser that every output must pass."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from medkg import store
from medkg.cli import main
from medkg.export import citations
from medkg.export import facts as F

ENTRY = re.compile(r"@(\w+)\s*\{\s*([^,\s{}]+)\s*,")
FIELD = re.compile(r"\s*([A-Za-z][\w-]*)\s*=\s*")


def _value(text: str, i: int) -> int:
    """End index of the field value starting at ``i``: {...}, "..." or a bare word/number."""
    if text[i] == "{":
        depth = 0
        for j in range(i, len(text)):
            depth += (text[j] == "{") - (text[j] == "}")
            if depth == 0:
                return j + 1
        raise ValueError("unbalanced braces")
    if text[i] == '"':
        depth = 0
        for j in range(i + 1, len(text)):
            depth += (text[j] == "{") - (text[j] == "}")
            if text[j] == '"' and depth == 0:
                return j + 1
        raise ValueError("unterminated quoted value")
    match = re.compile(r"[\w.:/-]+").match(text, i)
    if not match:
        raise ValueError(f"bad value at {text[i:i + 20]!r}")
    return match.end()


def parse_bibtex(text: str) -> list[tuple[str, str, dict[str, str]]]:
    """(type, key, fields) of every entry; ValueError on anything malformed."""
    entries = []
    i = 0
    while True:
        at = text.find("@", i)
        if at < 0:
            if text[i:].strip():
                raise ValueError(f"text outside entries: {text[i:i + 40]!r}")
            return entries
        if text[i:at].strip():
            raise ValueError(f"text between entries: {text[i:at][:40]!r}")
        head = ENTRY.match(text, at)
        if not head:
            raise ValueError(f"bad entry head at {text[at:at + 40]!r}")
        fields: dict[str, str] = {}
        j = head.end()
        while True:
            while j < len(text) and text[j] in " \t\r\n,":
                j += 1
            if text[j] == "}":
                j += 1
                break
            name = FIELD.match(text, j)
            if not name:
                raise ValueError(f"bad field at {text[j:j + 40]!r}")
            end = _value(text, name.end())
            fields[name.group(1).lower()] = text[name.end():end]
            j = end
        entries.append((head.group(1).lower(), head.group(2), fields))
        i = j


def test_parser_rejects_malformed():
    for bad in ["@article{key, title = {open", "@misc{key title={x}}", "junk @misc{k, a={b}}"]:
        with pytest.raises(ValueError):
            parse_bibtex(bad)
    assert parse_bibtex("@misc{k,\n a = {B {c}},\n year = 2020\n}") == [
        ("misc", "k", {"a": "{B {c}}", "year": "2020"})]


@pytest.mark.parametrize("which", ["mini_store", "real_store"])
def test_every_dataset_cites_and_parses_with_unique_keys(which, request):
    handle, _ = store.open_read_only(request.getfixturevalue(which))
    ids = sorted(F.known_ids(handle))
    text = citations.bibtex_for_ids(handle, ids)
    entries = parse_bibtex(text)
    keys = [key for _, key, _ in entries]
    assert len(keys) == len(set(keys)), "duplicate citation keys"
    assert len(entries) <= len(ids)
    for kind, key, fields in entries:
        assert "title" in fields, key
    given = sum(1 for d in F.all_datasets(handle) if citations.entry_for(d).given)
    print(f"\n{which}: {len(entries)} BibTeX entries for {len(ids)} datasets; {given} as the "
          f"sources give them, {len(ids) - given} built from the facts")


def test_each_single_entry_parses(real_store):
    """Each dataset's own entry (Croissant citeAs) parses alone, given or built."""
    handle, _ = store.open_read_only(real_store)
    for d in F.all_datasets(handle):
        assert len(parse_bibtex(citations.cite_as(d))) == 1, d.id


def test_built_entry_from_facts(mini_store):
    handle, _ = store.open_read_only(mini_store)
    (d,) = F.all_datasets(handle, ["totalsegmentator"])
    entry = citations.entry_for(d)
    kind, key, fields = parse_bibtex(entry.text)[0]
    assert key == "totalsegmentator" and fields["doi"] == "{10.1148/ryai.230024}"
    assert fields["eprint"] == "{2208.05868}" and "2023" in fields["year"]


def test_keys_are_made_unique():
    a = citations.Entry("a", "smith2020", "@article{smith2020,\n  title = {A}\n}", True)
    b = citations.Entry("b", "smith2020", "@article{smith2020,\n  title = {B}\n}", True)
    same = citations.Entry("c", "smith2020", a.text, True)
    out = citations.unique([a, b, same])
    assert [e.key for e in out] == ["smith2020", "smith2020-b"]
    assert parse_bibtex("\n".join(e.text for e in out))[1][1] == "smith2020-b"


def test_malformed_given_bibtex_is_replaced():
    assert not citations.well_formed("@article{key\n title={x}}")
    assert not citations.well_formed("@article{key,\n article number={1},\n title={x}}")
    assert not citations.well_formed("@misc{key,\n title={x}}\n@misc{other,\n title={y}}")
    assert citations.well_formed("@article{key,\n title={x}}")


def test_cli_cite(mini_store):
    runner = CliRunner()
    result = runner.invoke(main, ["cite", "--store", str(mini_store), "acdc", "btcv"])
    assert result.exit_code == 0, result.output
    assert [key for _, key, _ in parse_bibtex(result.output)][:1] == ["acdc"]
    result = runner.invoke(main, ["cite", "--store", str(mini_store), "acdc", "no-such"])
    assert result.exit_code == 1 and "no-such" in result.output
    assert runner.invoke(main, ["cite", "--store", str(mini_store)]).exit_code == 2


def test_http_bib(mini_store):
    from medkg.web import create_app

    app = create_app(mini_store)
    try:
        client = app.test_client()
        response = client.get("/datasets.bib?id=acdc&id=btcv")
        assert response.status_code == 200 and response.mimetype == "application/x-bibtex"
        assert len(parse_bibtex(response.get_data(as_text=True))) == 2
        assert client.get("/datasets.bib?id=no-such").status_code == 404
        everything = parse_bibtex(client.get("/datasets.bib").get_data(as_text=True))
        assert len(everything) >= 2
    finally:
        app.extensions["medkg"].executor.close()


def test_http_bib_takes_the_dataset_list_filters(mini_store):
    """/datasets.bib?<filters> cites exactly the datasets /datasets lists for those filters."""
    import json

    from medkg.web import create_app

    app = create_app(mini_store)
    try:
        client = app.test_client()
        listed = json.loads(client.get("/datasets.json?modality=ct&anatomy=abdomen&per_page=all").data)
        ids = {row["id"] for row in listed["datasets"]}
        assert ids, "the fixture has CT abdomen datasets"
        text = client.get("/datasets.bib?modality=ct&anatomy=abdomen").get_data(as_text=True)
        entries = parse_bibtex(text)
        everything = parse_bibtex(client.get("/datasets.bib").get_data(as_text=True))
        assert 0 < len(entries) <= len(ids) < len(everything)
        bad = client.get("/datasets.bib?anatomy=no-such-part")
        assert bad.status_code == 400 and "anatomy" in bad.get_data(as_text=True)
    finally:
        app.extensions["medkg"].executor.close()
