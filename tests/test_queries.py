"""Competency queries (STYLE layer 4): every queries/*.rq against the mini fixture catalogue,
with its expected answer in tests/expected/<name>.json (written by hand from the fixture
records), order-free unless the query has ORDER BY; meta-tests on headers, parameter binding
and the generated docs; every query on the real catalogue; the /queries HTTP routes.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from medkg import paths, queries
from medkg.cli import main
from medkg.console import compact, execute
from medkg.errors import BadParameter, QueryError, QueryNotFound

TESTS = Path(__file__).resolve().parent
EXPECTED = TESTS / "expected"
NAMED = queries.discover()
NAMES = sorted(NAMED)

#: queries that report curation gaps: zero rows is a good answer on the real catalogue
GAPS = {name for name in NAMES if name.startswith("gaps-")}
#: queries whose answer comes from evaluation records (scores, method -> dataset links)
NEEDS_EVALUATIONS = {"benchmark-leaderboard", "best-scores", "method-pairs", "shared-datasets",
                     "methods-on-ct-abdomen"}


def expected_cases() -> list:
    out = []
    for name in NAMES:
        path = EXPECTED / f"{name}.json"
        if not path.is_file():
            continue
        for number, case in enumerate(json.loads(path.read_text(encoding="utf-8"))["cases"]):
            label = ",".join(f"{k}={v}" for k, v in case["params"].items()) or "defaults"
            out.append(pytest.param(name, case, id=f"{name}[{number}:{label}]"))
    return out


def run(store_dir: Path, name: str, values: dict[str, str] | None = None):
    """(variables, rows of compact strings) of a named query with bound parameters."""
    named = NAMED[name]
    result = execute(store_dir, named.text, queries.bind(named, values or {}))
    variables = [v.value for v in result.variables]
    return variables, [[compact(solution[v]) for v in variables] for solution in result]


def ordered(name: str) -> bool:
    return "ORDER BY" in queries.body(NAMED[name]).upper()


# -- meta-tests -------------------------------------------------------------------------------


def test_there_are_at_least_twenty_queries():
    assert len(NAMED) >= 20, sorted(NAMED)


@pytest.mark.parametrize("name", NAMES)
def test_query_header_and_parameters(name: str):
    named = NAMED[name]
    assert named.title and named.question, f"{name}: header without title or question"
    first = named.text.lstrip().splitlines()[0]
    assert first.startswith("# title:"), f"{name}: the header must come first"
    assert "PREFIX mkg:" in named.text, f"{name}: declare the prefixes in the file"
    for param in named.params:
        assert param.type, f"{name}: parameter '{param.name}' has no type"
        assert param.doc, f"{name}: parameter '{param.name}' has no description"
        assert param.default is not None, f"{name}: parameter '{param.name}' needs a default"
        queries.to_term(param, param.default)  # the default itself is a valid value
    assert queries.lint(named) == [], queries.lint(named)
    for values in queries.examples(named):
        queries.bind(named, values)  # every documented example binds


@pytest.mark.parametrize("name", NAMES)
def test_every_query_has_an_expected_answer(name: str):
    path = EXPECTED / f"{name}.json"
    assert path.is_file(), f"{name}: no expected answer {path.relative_to(TESTS.parent)}"
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["query"] == name and data["cases"], f"{path}: no cases"
    assert data["cases"][0]["params"] == {}, f"{path}: the first case runs with the defaults"
    params = {p.name for p in NAMED[name].params}
    for case in data["cases"]:
        assert set(case["params"]) <= params, f"{path}: unknown parameter in {case['params']}"


def test_no_expected_answer_without_a_query():
    stale = sorted(p.stem for p in EXPECTED.glob("*.json") if p.stem not in NAMED)
    assert not stale, f"expected answers for queries that do not exist: {stale}"


def test_lint_catches_a_parameter_outside_the_projection(tmp_path: Path):
    text = ("# title: t\n# question: q?\n# param: min_cases: integer = 0 -- least cases\n"
            "PREFIX mkg: <https://w3id.org/medkg/ontology#>\n"
            "SELECT ?d WHERE { ?d mkg:caseCount ?n FILTER(?n >= ?min_cases) }\n")
    named = queries.parse_header(tmp_path / "t.rq", text)
    assert "'min_cases' is not in the outer SELECT projection" in queries.lint(named)[0]
    with pytest.raises(QueryError, match="min_cases"):
        queries.bind(named, {})
    unused = queries.parse_header(tmp_path / "u.rq", text.replace("?min_cases", "1"))
    assert "'min_cases' is not used" in queries.lint(unused)[0]


@pytest.mark.parametrize("values,message", [
    ({"since": "twenty"}, "parameter 'since' (year): not a four-digit year"),
    ({"min_cases": "1e3"}, "parameter 'min_cases' (integer): not an integer"),
    ({"min_cases": "1000 } ; DROP ALL"}, "parameter 'min_cases' (integer)"),
    ({"max_cases": "3"}, "has no parameter 'max_cases'"),
])
def test_bad_parameter_values_name_the_parameter(values, message):
    with pytest.raises(BadParameter) as info:
        queries.bind(NAMED["recent-large-datasets"], values)
    assert message in str(info.value)


def test_entity_parameters_take_ids_and_bind_iris():
    named = NAMED["datasets-by-anatomy"]
    with pytest.raises(BadParameter, match="parameter 'anatomy' \\(anatomy\\): not an id"):
        queries.bind(named, {"anatomy": "> } DELETE {"})
    with pytest.raises(BadParameter, match="parameter 'anatomy'"):
        queries.bind(named, {"anatomy": "Liver"})
    bound = queries.bind(named, {"anatomy": "liver"})
    assert [term.value for term in bound.values()] == [paths.entity_iri("anatomy", "liver")]


def test_a_string_parameter_is_a_literal_not_query_text(mini_store: Path):
    _, rows = run(mini_store, "datasets-by-challenge-venue", {"venue": '") || true || ("'})
    assert rows == []


def test_unknown_query_name():
    with pytest.raises(QueryNotFound):
        queries.get("no-such-query")


# -- expected answers on the mini fixture catalogue ----------------------------------------------


@pytest.mark.parametrize("name,case", expected_cases())
def test_expected_answer(mini_store: Path, name: str, case: dict):
    variables, rows = run(mini_store, name, case["params"])
    columns = case["columns"]
    missing = [c for c in columns if c not in variables]
    assert not missing, f"{name}: columns {missing} not in the answer {variables}"
    index = [variables.index(c) for c in columns]
    got = [[row[i] for i in index] for row in rows]
    want = case["rows"]
    if ordered(name):
        assert got == want
    else:
        assert Counter(map(tuple, got)) == Counter(map(tuple, want))


# -- the real catalogue ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_evaluations(real_store: Path) -> int:
    result = execute(real_store, "PREFIX mkg: <https://w3id.org/medkg/ontology#> "
                                 "SELECT (COUNT(*) AS ?n) WHERE { ?e a mkg:Evaluation }")
    return int(next(iter(result))["n"].value)


@pytest.mark.parametrize("name", NAMES)
def test_real_catalogue(real_store: Path, real_evaluations: int, name: str, record_property):
    variables, rows = run(real_store, name)
    record_property("rows", len(rows))
    if name in GAPS:
        # a curation-gap report: it runs and reports its count (zero is good news)
        assert variables and len(rows) >= 0
        if name == "gaps-dataset-fields":
            assert len(rows) == 1 and int(rows[0][0]) > 0
        return
    if not rows and name in NEEDS_EVALUATIONS and real_evaluations == 0:
        pytest.skip(f"{name} answers from evaluation records; data/ has none yet")
    assert rows, f"{name}: no rows on the real catalogue"


# -- documentation and CLI ---------------------------------------------------------------------


def test_docs_are_current():
    docs = paths.project_root() / "docs" / "queries.md"
    assert docs.is_file(), "docs/queries.md is missing: run `medkg queries docs -o docs/queries.md`"
    assert docs.read_text(encoding="utf-8") == queries.render_docs(), (
        "docs/queries.md is out of date: run `medkg queries docs -o docs/queries.md`")
    for name in NAMES:
        assert f"## {name}\n" in queries.render_docs()


def test_cli_named_query_with_parameters(mini_store: Path):
    runner = CliRunner()
    result = runner.invoke(main, ["query", "--store", str(mini_store), "--format", "json",
                                  "largest-datasets", "--param", "modality=mr"])
    assert result.exit_code == 0, result.output
    bindings = json.loads(result.stdout)["results"]["bindings"]
    assert [b["dataset"]["value"].rsplit("/", 1)[1] for b in bindings] == ["brats2021", "acdc", "chaos"]
    bad = runner.invoke(main, ["query", "--store", str(mini_store), "largest-datasets",
                               "--param", "modality=Not An Id"])
    assert bad.exit_code == 1 and "parameter 'modality'" in bad.output


def test_cli_queries_list_and_docs(tmp_path: Path):
    runner = CliRunner()
    listed = runner.invoke(main, ["queries", "list"])
    assert listed.exit_code == 0 and all(name in listed.output for name in NAMES)
    target = tmp_path / "queries.md"
    written = runner.invoke(main, ["queries", "docs", "-o", str(target)])
    assert written.exit_code == 0 and target.read_text(encoding="utf-8") == queries.render_docs()


# -- HTTP: /queries and /queries/NAME ---------------------------------------------------------


@pytest.fixture(scope="module")
def client(mini_store: Path):
    from medkg.web import create_app

    app = create_app(mini_store)
    yield app.test_client()
    app.extensions["medkg"].executor.close()


def test_http_list_json_and_html(client):
    listed = client.get("/queries", headers={"Accept": "application/json"})
    assert listed.status_code == 200 and listed.mimetype == "application/json"
    body = listed.get_json()["queries"]
    assert [q["name"] for q in body] == NAMES
    venue = next(q for q in body if q["name"] == "datasets-by-challenge-venue")
    assert venue["params"] == [{"name": "venue", "type": "string", "default": "MICCAI",
                                "description": venue["params"][0]["description"]}]
    assert venue["examples"][1]["http"] == "/queries/datasets-by-challenge-venue?venue=ISBI"
    page = client.get("/queries", headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert all(f"/queries/{name}" in page.get_data(as_text=True) for name in NAMES)
    assert client.get("/queries?format=csv").status_code == 406


@pytest.mark.parametrize("accept,fmt,mimetype", [
    (None, None, "application/sparql-results+json"),
    ("application/json", None, "application/sparql-results+json"),
    ("text/csv", None, "text/csv"),
    ("text/tab-separated-values", None, "text/tab-separated-values"),
    ("application/sparql-results+xml", None, "application/sparql-results+xml"),
    ("text/html", "csv", "text/csv"),
    ("text/html,application/xhtml+xml,*/*;q=0.8", None, "text/html"),
])
def test_http_run_negotiates_like_sparql(client, accept, fmt, mimetype):
    url = "/queries/largest-datasets?modality=mr" + (f"&format={fmt}" if fmt else "")
    response = client.get(url, headers={"Accept": accept} if accept else {})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == mimetype
    text = response.get_data(as_text=True)
    assert "brats2021" in text and "acdc" in text and "totalsegmentator" not in text


def test_http_answer_equals_the_expected_answer(client):
    response = client.get("/queries/recent-large-datasets?since=2022&min_cases=500&format=json")
    bindings = response.get_json()["results"]["bindings"]
    assert [b["dataset"]["value"].rsplit("/", 1)[1] for b in bindings] == [
        "totalsegmentator-v2", "totalsegmentator"]
    assert bindings[0]["since"] == {"type": "literal", "value": "2022",
                                    "datatype": "http://www.w3.org/2001/XMLSchema#integer"}
    assert response.headers["X-Medkg-Rows"] == "2" and response.headers.get("ETag")
    again = client.get("/queries/recent-large-datasets?since=2022&min_cases=500&format=json",
                       headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize("url,status,words", [
    ("/queries/no-such-query", 404, ["no named query 'no-such-query'"]),
    ("/queries/recent-large-datasets?min_cases=many", 400, ["parameter 'min_cases'", "integer"]),
    ("/queries/recent-large-datasets?since=20", 400, ["parameter 'since'", "year"]),
    ("/queries/datasets-by-anatomy?anatomy=%3E%20%7D", 400, ["parameter 'anatomy'"]),
    ("/queries/datasets-by-anatomy?organ=liver", 400, ["no parameter 'organ'"]),
    ("/queries/datasets-by-anatomy?anatomy=liver&anatomy=kidney", 400, ["'anatomy'", "2 times"]),
    ("/queries/datasets-by-anatomy?format=ttl", 406, ["format 'ttl'"]),
    ("/queries/datasets-by-anatomy?format=nonsense", 400, ["unknown format"]),
])
def test_http_errors_name_the_problem(client, url, status, words):
    response = client.get(url)
    assert response.status_code == status
    error = response.get_json()["error"]
    assert error["status"] == status
    assert all(word in error["message"] for word in words), error["message"]


def test_http_page_shows_the_result_table(client):
    page = client.get("/queries/datasets-annotating-structure?anatomy=spleen",
                      headers={"Accept": "text/html"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Datasets that annotate a structure" in text
    assert 'href="/dataset/chaos"' in text and "1 row" in text
    assert 'value="spleen"' in text
