"""Pages, lists and charts replayed from the request cache until a new build takes over."""

from __future__ import annotations

import time
from pathlib import Path

import yaml

from medkg.build import build
from medkg.web import create_app

HTML = {"Accept": "text/html"}


def test_pages_are_replayed_within_a_build_and_renewed_after_one(mini_data: Path, tmp_path: Path):
    store_dir = tmp_path / "store"
    first = build(mini_data, store_dir).build_id
    app = create_app(store_dir, check_interval=0.1)
    try:
        client = app.test_client()
        for path in ("/dataset/acdc", "/datasets?modality=ct", "/stats", "/dataset/acdc.ttl"):
            one = client.get(path, headers=HTML)
            two = client.get(path, headers=HTML)
            assert one.status_code == two.status_code == 200, path
            assert "X-Medkg-Cache" not in one.headers and two.headers["X-Medkg-Cache"] == "hit"
            assert one.data == two.data
        missing = [client.get("/dataset/no-such", headers=HTML) for _ in range(2)]
        assert [m.status_code for m in missing] == [404, 404]
        assert "X-Medkg-Cache" not in missing[1].headers, "errors are never replayed"

        record = mini_data / "datasets" / "acdc.yaml"
        data = yaml.safe_load(record.read_text())
        data["name"] = "ACDC renamed"
        record.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
        second = build(mini_data, store_dir).build_id
        assert second != first
        deadline = time.monotonic() + 30
        page = client.get("/dataset/acdc", headers=HTML)
        while page.headers.get("X-Medkg-Build") != second and time.monotonic() < deadline:
            time.sleep(0.1)
            page = client.get("/dataset/acdc", headers=HTML)
        assert page.headers["X-Medkg-Build"] == second
        assert b"ACDC renamed" in page.data and page.headers.get("X-Medkg-Cache") != "hit"
    finally:
        app.extensions["medkg"].executor.close()


def test_no_cache_setting_replays_nothing(mini_store: Path):
    app = create_app(mini_store, cache=False)
    try:
        client = app.test_client()
        client.get("/dataset/acdc", headers=HTML)
        assert "X-Medkg-Cache" not in client.get("/dataset/acdc", headers=HTML).headers
    finally:
        app.extensions["medkg"].executor.close()
