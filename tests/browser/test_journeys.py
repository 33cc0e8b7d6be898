"""Journeys through the site in headless Chromium against a real server (see conftest.py).

Screenshots go to tests/artifacts/ (gitignored) for a person to look at.
"""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser


def _total(tab) -> int:
    return int(tab.locator("#result-count [data-total]").get_attribute("data-total"))


def _facet_link(tab, facet: str, value: str):
    """The link that toggles ``value`` in ``facet``, opening its "more" list if needed."""
    box = tab.locator(f'details.facet[data-facet="{facet}"]')
    if box.get_attribute("open") is None:
        box.locator("summary").first.click()
    link = box.locator(f'a[href*="{facet}={value}"]').first
    if not link.is_visible():
        box.locator("details.more > summary").click()
    return link


def test_home_search_dataset_and_its_anatomy(page, shot):
    page.goto("/")
    assert page.locator("h1").first.is_visible()
    shot(page, "home")
    page.fill("#site-q", "ACDC")
    page.press("#site-q", "Enter")
    page.wait_for_url(re.compile(r"/datasets\?q=ACDC"))
    first = page.locator("ol.hits li.hit").first
    assert first.get_attribute("data-id") == "acdc"  # the exact match ranks first
    assert first.locator(".match-exact").count() == 1
    shot(page, "search-acdc")
    first.locator("h3 a").click()
    page.wait_for_url(re.compile(r"/dataset/acdc$"))
    assert "ACDC" in page.locator("h1").first.inner_text()
    shot(page, "dataset-acdc")
    anatomy = page.locator('main a[href^="/anatomy/"]').first
    target = anatomy.get_attribute("href")
    anatomy.click()
    page.wait_for_url(re.compile(re.escape(target) + "$"))
    assert page.locator("h1").first.is_visible()
    shot(page, "anatomy-page")
    assert not page.js_errors, page.js_errors


def test_filter_the_dataset_list(page, phone, shot):
    page.goto("/datasets")
    everything = _total(page)
    assert everything > 0
    _facet_link(page, "modality", "ct").click()
    page.wait_for_url(re.compile(r"modality=ct"))
    with_ct = _total(page)
    assert 0 < with_ct < everything
    _facet_link(page, "anatomy", "abdomen").click()
    page.wait_for_url(re.compile(r"modality=ct.*anatomy=abdomen|anatomy=abdomen.*modality=ct"))
    both = _total(page)
    assert 0 < both <= with_ct
    assert page.locator("ol.hits li.hit").count() == min(both, 50)
    assert page.locator(".chips li").count() >= 2  # the two filters, removable
    shot(page, "datasets-filtered")
    # the URL is the whole state: opened elsewhere it shows the same list
    phone.goto(page.url)
    assert _total(phone) == both
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1, f"the list is {width}px wide on a 390px phone"
    shot(phone, "datasets-phone", full_page=False)


def test_run_an_example_query(page, shot):
    page.goto("/query")
    examples = page.locator("#example option")
    assert examples.count() > 1
    page.select_option("#example", "count-datasets-by-category")
    assert "mkg:" in page.input_value("#query")
    assert page.locator("#highlight .tok-kw").count() > 0  # the editor highlights
    page.click("#run")
    page.wait_for_selector("#table tbody tr")
    rows = page.locator("#table tbody tr").count()
    assert rows > 0
    assert re.search(r"\d+ rows? in", page.inner_text("#status"))
    assert page.locator("#downloads a").count() == 4
    assert "/query?query=" in page.url  # the permalink
    shot(page, "query-results")
    # the permalink opens with the query filled in and run
    page.goto(page.url)
    page.wait_for_selector("#table tbody tr")
    assert page.locator("#table tbody tr").count() == rows
    # a local IRI links to its page, and a bad query shows the error
    page.goto("/query")
    page.click("#run")
    page.wait_for_selector("#table tbody tr")
    assert page.locator('#table a[href^="/dataset/"]').count() > 0
    page.fill("#query", "SELECT * WHERE { ?s ?p }")
    page.click("#run")
    page.wait_for_selector("#error:not([hidden])")
    assert "QuerySyntaxError" in page.inner_text("#error")
    assert not page.js_errors, page.js_errors


def test_stats_draws_charts(page, shot):
    page.goto("/stats")
    charts = page.locator("svg.chart")
    assert charts.count() == 5
    bars = page.locator("svg.chart").first.locator("rect")
    assert bars.count() > 0
    box = bars.first.bounding_box()
    assert box and box["width"] > 0 and box["height"] > 0
    assert page.locator("svg.chart title").first.text_content()
    shot(page, "stats")
