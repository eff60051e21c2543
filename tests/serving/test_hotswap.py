"""A month published (or re-published) while the service is under load: no restart, no
failed request, and the new month is served once its index entry is there."""

from __future__ import annotations

import shutil
import threading
import time
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import requests

from propensity.lake import Lake
from propensity.months import add_months
from serving.keys import add_key
from serving.run import free_port, launch


def publish_month(root: Path, src: str, month: str) -> str:
    """Publish ``month`` with the scoring stage's publisher (files staged and moved in one by
    one, the index last), from ``src``'s scores and reports relabelled; returns its run id."""
    from scoring.publish import publish

    lake = Lake(root)
    scores = pq.read_table(lake.path("scores", src))
    if "month" in scores.column_names:
        i = scores.column_names.index("month")
        scores = scores.set_column(i, "month", pa.array([month] * scores.num_rows))
    lake.write("scores", scores, month=month, validate=False)
    frames = [(pdir.name.split("=", 1)[1], f.stem, pq.read_table(f).to_pandas())
              for pdir in sorted((root / "reports").glob("partner=*"))
              for f in sorted((pdir / f"month={src}").glob("*.parquet"))]
    return publish(lake, month, frames, {"test": "hot swap"})["run_id"]


def test_publish_under_load_without_restart_or_failure(lake_copy: tuple[Path, str],
                                                       tmp_path: Path) -> None:
    root, month = lake_copy
    new = add_months(month, 1)
    key = add_key(root, sorted(p.name.split("=")[1] for p in (root / "reports").glob(
        "partner=*"))[0])
    h = {"Authorization": f"Bearer {key}"}
    with launch(root, free_port(), log_file=tmp_path / "server.log", timeout=180) as url:
        mine = requests.post(url + "/reports", json={}, headers=h, timeout=10).json()
        g = mine["partners"][0]["partner"]
        links = pq.read_table(root / "raw" / "partner_customers").to_pandas()
        cust = sorted(links.loc[links.global_id == g, "customer_id"])[0]
        calls = [
            ("/customer", {"customer_id": cust}),
            ("/download", {"report": "azure"}),
            ("/download", {"report": "m365", "columns": ["CustomerID", "M365Cluster"],
                           "filters": {"clusters": ["Act now", "Evaluate", "Nurture"]}}),
            ("/metadata", {}),
            ("/reports", {}),
        ]
        stop = threading.Event()
        results: Counter[str] = Counter()
        months_seen: Counter[str] = Counter()
        errors: list[str] = []

        def load(offset: int) -> None:
            s = requests.Session()
            i = offset
            while not stop.is_set():
                path, body = calls[i % len(calls)]
                i += 1
                try:
                    r = s.post(url + path, json=body, headers=h, timeout=30)
                    results[str(r.status_code)] += 1
                    if r.status_code != 200:
                        errors.append(f"{path} {r.status_code} {r.text[:200]}")
                    elif path == "/customer":
                        months_seen[r.json()["month"]] += 1
                    elif path == "/download" and not r.content:
                        errors.append(f"{path} empty body")
                except requests.RequestException as exc:
                    errors.append(f"{path} {exc!r}")

        threads = [threading.Thread(target=load, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        try:
            time.sleep(1.5)
            publish_month(root, month, new)  # a new month
            time.sleep(1.5)
            run_new = publish_month(root, month, new)  # the same month re-published
            time.sleep(1.0)
            run_old = publish_month(root, month, month)  # an older month re-published
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                meta = requests.post(url + "/metadata", json={}, headers=h, timeout=10).json()
                if meta["latest"] == new and meta["scores_month"] == new:
                    break
                time.sleep(0.2)
            time.sleep(1.0)
        finally:
            stop.set()
            for t in threads:
                t.join(60)
        assert not errors, errors[:10]
        assert sum(results.values()) > 50, results
        assert meta["latest"] == new and meta["scores_month"] == new, meta
        assert {m["run_id"] for m in meta["months"]} == {run_new, run_old}
        assert months_seen[new] > 0 and months_seen[month] > 0, months_seen
        r = requests.post(url + "/customer", json={"customer_id": cust}, headers=h, timeout=10)
        assert r.json()["month"] == new
        r = requests.post(url + "/download", json={"report": "azure", "month": new}, headers=h,
                          timeout=10)
        assert r.status_code == 200 and r.headers["x-report-month"] == new


def test_unpublished_month_is_never_served(lake_copy: tuple[Path, str], tmp_path: Path) -> None:
    """Folders of a month that is not in the index (half written) are invisible."""
    root, month = lake_copy
    new = add_months(month, 1)
    for pdir in (root / "reports").glob("partner=*"):
        shutil.copytree(pdir / f"month={month}", pdir / f"month={new}")
    g = sorted(p.name.split("=")[1] for p in (root / "reports").glob("partner=*"))[0]
    key = add_key(root, g)
    h = {"Authorization": f"Bearer {key}"}
    with launch(root, free_port(), log_file=tmp_path / "server.log", timeout=180) as url:
        r = requests.post(url + "/download", json={"report": "azure", "month": new}, headers=h,
                          timeout=10)
        assert r.status_code == 404 and "not published" in r.text
        listing = requests.post(url + "/reports", json={}, headers=h, timeout=10).json()
        assert list(listing["partners"][0]["months"]) == [month]
