"""The download hub in headless Chromium: a real key, real clicks, a real downloaded file."""

from __future__ import annotations

import io
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from tests.serving.conftest import Served

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1280,1600"]


def _binaries() -> tuple[str, str]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not browser or not driver:
        pytest.fail("Debian's chromium and chromium-driver are needed (.ci/run installs them)")
    return browser, driver


@pytest.fixture()
def browser(tmp_path: Path) -> Iterator[tuple[object, Path]]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver = _binaries()
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    opts = webdriver.ChromeOptions()
    opts.binary_location = binary
    for f in FLAGS:
        opts.add_argument(f)
    opts.add_argument(f"--user-data-dir={tmp_path / 'profile'}")
    opts.add_experimental_option("prefs", {
        "download.default_directory": str(downloads),
        "download.prompt_for_download": False,
        "safebrowsing.enabled": False,
    })
    drv = webdriver.Chrome(options=opts, service=Service(executable_path=driver))
    try:
        drv.execute_cdp_cmd("Browser.setDownloadBehavior",
                            {"behavior": "allow", "downloadPath": str(downloads)})
        yield drv, downloads
    finally:
        drv.quit()


def _wait_file(folder: Path, timeout: float = 30) -> Path:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        done = [p for p in folder.iterdir() if not p.name.endswith(".crdownload")]
        if done:
            return done[0]
        time.sleep(0.1)
    raise AssertionError(f"no file downloaded into {folder}")


def _report_with_hot_rows(served: Served) -> tuple[str, list[str]]:
    """A report of partner A with Act now or Evaluate rows (which products have intent
    champions depends on the small market), and its cluster columns."""
    from propensity import contracts as C
    from serving.downloads import product_columns

    for report in C.REPORTS:
        cols = product_columns(report, "Cluster")
        t = pq.read_table(served.lake / "reports" / f"partner={served.a}"
                          / f"month={served.month}" / f"{report}.parquet", columns=cols)
        if t.to_pandas().isin(["Act now", "Evaluate"]).any(axis=None):
            return report, cols
    pytest.fail("no report of partner A has Act now or Evaluate rows")


def test_partner_downloads_a_filtered_report(served: Served, browser: tuple, tmp_path: Path
                                             ) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import Select, WebDriverWait

    drv, downloads = browser
    wait = WebDriverWait(drv, 20)
    drv.get(served.url + "/")
    assert "Propensity reports" in drv.title
    drv.find_element(By.ID, "key").send_keys(served.key_a)
    drv.find_element(By.ID, "connect").click()
    wait.until(EC.visibility_of_element_located((By.ID, "download")))
    assert served.a in drv.find_element(By.ID, "status").text
    report, cluster_cols = _report_with_hot_rows(served)
    Select(drv.find_element(By.ID, "report")).select_by_value(report)
    assert Select(drv.find_element(By.ID, "month")).first_selected_option.text == served.month
    # filters: Act now + Evaluate; columns: untick all, tick four
    for box in drv.find_elements(By.CSS_SELECTOR, "#clusters input"):
        if box.get_attribute("value") in ("Act now", "Evaluate"):
            box.click()
    drv.find_element(By.ID, "nocols").click()
    wanted = ["CustomerID", "AccountName", *cluster_cols, "PotentialRevenue"]
    for box in drv.find_elements(By.CSS_SELECTOR, "#columns input"):
        if box.get_attribute("value") in wanted:
            box.click()
    drv.find_element(By.ID, "download").click()
    wait.until(lambda d: "Downloaded" in d.find_element(By.ID, "status").text
               or "error" in d.find_element(By.ID, "status").get_attribute("class"))
    status = drv.find_element(By.ID, "status").text
    assert "Downloaded" in status, status
    f = _wait_file(downloads)
    assert f.name == f"{report}_{served.a}_{served.month}.csv"
    data = f.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    got = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype={"CustomerID": str})
    assert list(got.columns) == wanted
    full = pq.read_table(served.lake / "reports" / f"partner={served.a}"
                         / f"month={served.month}" / f"{report}.parquet").to_pandas()
    hot = ["Act now", "Evaluate"]
    exp = full[full[cluster_cols].isin(hot).any(axis=1)]
    assert len(exp) > 0 and sorted(got["CustomerID"]) == sorted(exp["CustomerID"])
    assert got["PotentialRevenue"].is_monotonic_decreasing
    drv.save_screenshot(str(tmp_path / "hub.png"))


def test_hub_shows_a_clear_error_for_a_bad_key(served: Served, browser: tuple) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    drv, _ = browser
    drv.get(served.url + "/")
    drv.find_element(By.ID, "key").send_keys("pk_000000000000_wrong")
    drv.find_element(By.ID, "connect").click()
    WebDriverWait(drv, 10).until(lambda d: d.find_element(By.ID, "status").text)
    assert "API key" in drv.find_element(By.ID, "status").text
    assert not drv.find_element(By.ID, "download").is_displayed()
