"""HTTP tests of /datasets (filters, facets, sorting, search, JSON/CSV, bad parameters) and
/stats, in-process with create_app over the mini fixture store and the real store."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
import yaml

from medkg import search
from medkg.web import create_app

HOSTILE = "<script>alert(1)</script>"


def _app(store):
    app = create_app(store)
    yield app
    app.extensions["medkg"].executor.close()


@pytest.fixture(scope="module")
def mini(mini_store):
    yield from _app(mini_store)


@pytest.fixture(scope="module")
def client(mini):
    return mini.test_client()


def listing(client, query: str = "", **headers) -> dict:
    response = client.get("/datasets.json" + (f"?{query}" if query else ""), headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def ids(doc: dict) -> list[str]:
    return [d["id"] for d in doc["datasets"]]


# -- filters ------------------------------------------------------------------------------------


def test_all_datasets_listed(client):
    doc = listing(client)
    assert doc["total"] == 11 and len(doc["datasets"]) == 11
    assert ids(doc) == sorted(ids(doc), key=lambda i: [d["name"].casefold() for d in doc[
        "datasets"] if d["id"] == i][0])


@pytest.mark.parametrize("query, expected", [
    ("modality=ct", {"btcv", "chaos", "jhh", "lits", "totalsegmentator", "totalsegmentator-v2"}),
    ("anatomy=abdomen", {"btcv", "chaos", "jhh", "lits"}),  # lits is tagged liver (narrower)
    ("anatomy=liver", {"lits"}),
    ("modality=ct&anatomy=abdomen", {"btcv", "chaos", "jhh", "lits"}),
    ("modality=mr&anatomy=abdomen", {"chaos"}),
    ("modality=mr&modality=fundus-photography", {"acdc", "brats2021", "chaos", "acrima"}),
    ("modality=mr,fundus-photography", {"acdc", "brats2021", "chaos", "acrima"}),
    ("platform=zenodo", {"chaos", "totalsegmentator"}),
    ("license=CC-BY-4.0", {"totalsegmentator", "totalsegmentator-v2"}),
    ("year_min=2019&year_max=2021", {"acrima", "brats2021", "chaos", "medqa"}),
    ("min_cases=1000", {"brats2021", "jhh", "totalsegmentator", "totalsegmentator-v2"}),
    ("min_cases=1000&modality=ct&year_min=2023", {"totalsegmentator-v2"}),
    ("has_challenge=true", {"acdc", "brats2021", "btcv", "chaos"}),
    ("dimensionality=3D&has_challenge=true&modality=ct", {"btcv", "chaos"}),
])
def test_filters_combine(client, query, expected):
    assert set(ids(listing(client, query))) == expected


def test_filters_are_an_intersection(client):
    every = {q: set(ids(listing(client, q))) for q in ("modality=ct", "min_cases=100",
                                                      "has_challenge=false")}
    both = set(ids(listing(client, "modality=ct&min_cases=100&has_challenge=false")))
    assert both == every["modality=ct"] & every["min_cases=100"] & every["has_challenge=false"]
    assert both  # the test would be empty otherwise


def test_has_challenge_false_is_the_complement(client):
    yes = set(ids(listing(client, "has_challenge=true")))
    no = set(ids(listing(client, "has_challenge=false")))
    assert yes and no and not yes & no and len(yes | no) == 11


# -- facets -------------------------------------------------------------------------------------


def facet(doc: dict, name: str) -> dict[str, int]:
    return {v["value"]: v["count"] for v in doc["facets"][name]}


def test_facet_counts_are_for_the_filtered_set(client):
    doc = listing(client, "modality=ct")
    anatomy = facet(doc, "anatomy")
    assert anatomy["abdomen"] == 4  # btcv, chaos, jhh and lits (liver is under abdomen)
    assert anatomy["liver"] == 1
    assert anatomy["whole-body"] == 6  # every CT dataset: whole body is the root
    assert "brain" not in anatomy  # brats2021 is MR only
    modality = facet(doc, "modality")
    assert modality["ct"] == 6 and modality["mr"] == 1  # chaos is CT and MR
    assert facet(doc, "challenge") == {"true": 2, "false": 4}
    # every count matches the list it would give
    for value, count in facet(doc, "platform").items():
        assert listing(client, f"modality=ct&platform={value}")["total"] == count


def test_selected_facet_values_are_marked(client):
    doc = listing(client, "modality=mr&anatomy=abdomen")
    chosen = {v["value"] for v in doc["facets"]["modality"] if v["selected"]}
    assert chosen == {"mr"}
    assert doc["filter"] == {"modality": ["mr"], "anatomy": ["abdomen"]}


# -- sorting and pages --------------------------------------------------------------------------


def test_sort_by_cases_puts_unknown_last(client):
    rows = listing(client, "sort=cases")["datasets"]
    cases = [r["case_count"] for r in rows]
    known = [c for c in cases if c is not None]
    assert known == sorted(known, reverse=True)  # cases sort largest first by default
    assert cases[: len(known)] == known and all(c is None for c in cases[len(known):])
    ascending = [r["case_count"] for r in listing(client, "sort=cases&order=asc")["datasets"]]
    assert [c for c in ascending if c is not None] == sorted(known)
    assert ascending[-1] is None


def test_sort_by_year_and_name(client):
    years = [r["year"] for r in listing(client, "sort=year&order=asc")["datasets"]]
    known = [y for y in years if y is not None]
    assert known == sorted(known) and years[0] == 2015
    names = [r["name"].casefold() for r in listing(client, "sort=name&order=desc")["datasets"]]
    assert names == sorted(names, reverse=True)


def test_pages(client):
    whole = ids(listing(client, "sort=name"))
    second = listing(client, "sort=name&per_page=4&page=2")
    assert ids(second) == whole[4:8] and second["pages"] == 3 and second["total"] == 11
    assert ids(listing(client, "per_page=all")) == whole
    assert ids(listing(client, "per_page=4&page=9")) == []


# -- search -------------------------------------------------------------------------------------


def test_search_ranks_exact_then_prefix(client):
    doc = listing(client, "q=TotalSegmentator")
    assert ids(doc)[:2] == ["totalsegmentator", "totalsegmentator-v2"]
    assert [d["match"] for d in doc["datasets"][:2]] == ["exact", "prefix"]


def test_search_ranks_word_before_substring(client):
    doc = listing(client, "q=liver")
    matches = [d["match"] for d in doc["datasets"]]
    assert ids(doc)[0] == "lits"  # its alias starts with "Liver"
    assert matches[0] == "prefix" and "word" in matches  # BTCV labels a Liver class
    order = ["exact", "prefix", "word", "substring"]
    assert [order.index(m) for m in matches] == sorted(order.index(m) for m in matches)
    sub = listing(client, "q=segment")  # inside "TotalSegmentator", "Segmentation" ...
    assert sub["total"] > 0 and all(d["match"] in ("prefix", "substring", "word")
                                    for d in sub["datasets"])


def test_search_by_alias_and_label_class(client):
    assert ids(listing(client, "q=Multi-Atlas Labeling Beyond the Cranial Vault")) == ["btcv"]
    assert "btcv" in ids(listing(client, "q=pancreas"))  # a label class of BTCV
    assert listing(client, "q=zzzz-no-such-thing")["total"] == 0


def test_search_combines_with_filters(client):
    assert ids(listing(client, "q=liver&modality=mr")) == ["chaos"]


def test_match_rank_tiers():
    entry = search.Entry(id="acdc", name="ACDC", aliases=("Automated Cardiac Diagnosis Challenge",),
                         description="Cine MRI of the heart", labels=("Myocardium",))
    text = search._Text.of(entry)
    assert search.match_rank(text, "acdc") == 0
    assert search.match_rank(text, "ac") == 1
    assert search.match_rank(text, "automated cardiac") == 1
    assert search.match_rank(text, "heart") == 2
    assert search.match_rank(text, "myocardium") == 2
    assert search.match_rank(text, "ardia") == 3
    assert search.match_rank(text, "lung") is None


# -- formats ------------------------------------------------------------------------------------


def test_csv_parses_and_matches_json(client):
    response = client.get("/datasets.csv?modality=ct&sort=cases")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    doc = listing(client, "modality=ct&sort=cases")
    assert [r["id"] for r in rows] == ids(doc)
    assert tuple(rows[0]) == search.CSV_COLUMNS
    assert rows[0]["case_count"] == str(doc["datasets"][0]["case_count"])


@pytest.mark.parametrize("path, headers, mimetype", [
    ("/datasets", {"Accept": "application/json"}, "application/json"),
    ("/datasets", {"Accept": "text/csv"}, "text/csv"),
    ("/datasets?format=json", {"Accept": "text/html"}, "application/json"),
    ("/datasets?format=csv", {}, "text/csv"),
    ("/datasets", {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}, "text/html"),
    ("/datasets", {}, "text/html"),
])
def test_negotiation(client, path, headers, mimetype):
    response = client.get(path, headers=headers)
    assert response.status_code == 200 and response.mimetype == mimetype
    if mimetype == "application/json":
        assert json.loads(response.data)["total"] == 11


@pytest.mark.parametrize("query, status", [("format=xml", 406), ("format=bogus", 400)])
def test_unavailable_formats(client, query, status):
    assert client.get(f"/datasets?{query}").status_code == status


@pytest.mark.parametrize("query, parameter", [
    ("min_cases=many", "min_cases"),
    ("min_cases=-1", "min_cases"),
    ("year_min=20", "year_min"),
    ("year_max=next", "year_max"),
    ("year_min=2022&year_max=2020", "year_min"),
    ("sort=size", "sort"),
    ("sort=relevance", "sort"),  # no q to be relevant to
    ("order=up", "order"),
    ("page=0", "page"),
    ("per_page=5000", "per_page"),
    ("has_challenge=maybe", "has_challenge"),
    ("anatomy=Not An Id", "anatomy"),
    ("anatomy=abdomenn", "anatomy"),
    ("modality=ct%22%20%7D%20%3Fs%20%3Fp%20%3Fo", "modality"),
    ("platform=nowhere", "platform"),
    ("license=Beerware", "license"),
    ("dimensionality=5D", "dimensionality"),
    ("colour=blue", "colour"),
    ("q=" + "x" * 300, "q"),
])
def test_bad_parameters_are_400_naming_them(client, query, parameter):
    for path in ("/datasets.json", "/datasets"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 400, query
        error = response.get_json()["error"]
        assert error["type"] == "BadParameter"
        assert f"'{parameter}'" in error["message"]


def test_unknown_value_suggests_a_known_one(client):
    message = client.get("/datasets?anatomy=abdomenn").get_json()["error"]["message"]
    assert "did you mean 'abdomen'" in message


def test_filter_round_trips_through_its_url():
    args = {"q": "liver", "modality": ["ct", "mr"], "anatomy": "abdomen", "year_min": "2015",
            "min_cases": "10", "has_challenge": "true", "sort": "cases", "order": "asc",
            "page": "2", "per_page": "10"}
    flt = search.DatasetFilter.from_args(args)
    assert search.DatasetFilter.from_args(flt.to_args()) == flt


def test_sparql_gets_only_validated_terms():
    flt = search.DatasetFilter.from_args({"modality": "ct", "license": 'x" } ?s ?p ?o {',
                                          "min_cases": "5"})
    text = flt.sparql()
    assert "<https://w3id.org/medkg/modality/ct>" in text
    assert '"x\\" } ?s ?p ?o {"' in text  # an escaped literal, not query text
    assert "FILTER(?cases >= 5)" in text


# -- HTML ---------------------------------------------------------------------------------------


def test_html_list_has_facets_links_and_state_in_urls(client):
    page = client.get("/datasets?modality=ct&sort=cases").get_data(as_text=True)
    assert 'data-total="6"' in page
    assert 'href="/dataset/jhh"' in page
    assert "modality=ct&amp;anatomy=abdomen" in page  # a facet link keeps the filter
    assert 'href="/datasets?sort=cases"' in page  # the chip removes only its filter
    assert "/datasets.csv?modality=ct&amp;sort=cases" in page
    assert "<script" not in page  # the list needs no JavaScript


def test_html_pager(client):
    page = client.get("/datasets?per_page=4&page=2").get_data(as_text=True)
    assert 'aria-current="page">2<' in page and "page=3" in page and "per_page=4" in page


def test_stats_page_draws_svg_with_tables(client):
    response = client.get("/stats")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.count('<svg class="chart') == 5
    assert page.count("<table") >= 5
    assert 'role="img"' in page and "<title id=" in page and "<desc id=" in page
    assert "<rect" in page and 'href="/datasets?modality=ct"' in page
    assert "<script" not in page


def test_stats_numbers_match_the_list(client):
    from medkg import stats

    idx = search.index(client.application.extensions["medkg"].executor)
    for bar in stats.by_modality(idx).bars + stats.by_anatomy(idx).bars:
        doc = client.get(bar.href.replace("/datasets", "/datasets.json")).get_json()
        assert doc["total"] == bar.value, bar
    years, unknown = stats.by_year(idx)
    assert sum(b.value for b in years.bars) + unknown == 11
    cases, unknown = stats.by_cases(idx)
    assert sum(b.value for b in cases.bars) + unknown == 11


# -- every value escaped ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_client(tmp_path_factory, mini_store):
    from medkg.build import build

    root = tmp_path_factory.mktemp("hostile")
    data = root / "data"
    shutil.copytree(Path(__file__).parent / "fixtures" / "mini" / "data", data)
    record = yaml.safe_load((data / "datasets" / "btcv.yaml").read_text(encoding="utf-8"))
    record.update(id="hostile", name=HOSTILE, aliases=[HOSTILE + " alias"],
                  description=f"An {HOSTILE} description", license=HOSTILE,
                  label_classes=[{"name": HOSTILE}])
    record.pop("challenges", None)
    (data / "datasets" / "hostile.yaml").write_text(yaml.safe_dump(record), encoding="utf-8")
    vocab = data / "vocab" / "category.yaml"
    vocab.write_text(vocab.read_text(encoding="utf-8").replace(
        "en: Abdomen,", "en: '<script>alert(1)</script>',"), encoding="utf-8")
    store = root / "store"
    build(data, store)
    for app in _app(store):
        yield app.test_client()


@pytest.mark.parametrize("path", ["/datasets", "/datasets?q=script", "/datasets?q=alert",
                                  "/datasets?category=abdomen", "/stats",
                                  "/datasets?sort=name&order=desc&per_page=3"])
def test_hostile_values_render_as_text(hostile_client, path):
    response = hostile_client.get(path)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<script>" not in page and "alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_hostile_values_in_json_and_csv(hostile_client):
    doc = hostile_client.get("/datasets.json?q=script").get_json()
    assert doc["datasets"][0]["name"] == HOSTILE  # data, not markup: JSON keeps it as is
    text = hostile_client.get("/datasets.csv?q=script").get_data(as_text=True)
    assert HOSTILE in text


# -- the real catalogue -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real(real_store):
    for app in _app(real_store):
        yield app.test_client()


def test_real_catalogue_lists_every_dataset(real):
    from medkg import paths

    expected = len(list((paths.data_dir() / "datasets").glob("*.yaml")))
    doc = real.get("/datasets.json?per_page=all").get_json()
    assert doc["total"] == expected == len(doc["datasets"])


def test_real_search_and_filters(real):
    assert real.get("/datasets.json?q=ACDC").get_json()["datasets"][0]["id"] == "acdc"
    every = real.get("/datasets.json").get_json()["total"]
    ct = real.get("/datasets.json?modality=ct").get_json()["total"]
    both = real.get("/datasets.json?modality=ct&anatomy=abdomen").get_json()["total"]
    assert 0 < both < ct < every


def test_real_stats(real):
    response = real.get("/stats")
    assert response.status_code == 200
    assert response.get_data(as_text=True).count('<svg class="chart') == 5
