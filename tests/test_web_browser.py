"""The drop zone as a person uses it: Debian's headless chromium, driven by selenium through
Debian's chromedriver (nothing downloaded), against a real ``xlfunding serve``. A sponsor drops
a good return, then a bad one, downloads the « À corriger » copy and opens it; the page works
without JavaScript too; staff log in and consolidate."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from webclient import PASSWORD, bad_return, good_return, inbox_copy, serve_process

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ABSENT = not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER))
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(ABSENT and not os.environ.get("CI"), reason="chromium absent"),
]


def browser(downloads: Path, javascript: bool = True):  # type: ignore[no-untyped-def]
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1200,1500",
        "--lang=fr-FR",
    ):
        options.add_argument(argument)
    prefs: dict[str, object] = {
        "download.default_directory": str(downloads),
        "download.prompt_for_download": False,
    }
    if not javascript:
        prefs["profile.managed_default_content_settings.javascript"] = 2
    options.add_experimental_option("prefs", prefs)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    driver.implicitly_wait(0)
    return driver


def wait_for(driver, css: str, seconds: float = 60):  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, seconds).until(
        ec.visibility_of_element_located((By.CSS_SELECTOR, css))
    )


def downloaded(folder: Path, before: set[Path], seconds: float = 30) -> Path:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        new = [p for p in folder.iterdir() if p not in before and p.suffix == ".xlsx"]
        if new:
            return new[0]
        time.sleep(0.2)
    raise AssertionError(f"nothing downloaded in {folder}")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[object, Path, Path]]:
    folder = tmp_path_factory.mktemp("browser")
    with serve_process(inbox_copy(folder)) as process:
        yield process, folder, folder / "retours"


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    downloads = tmp_path_factory.mktemp("downloads")
    driver = browser(downloads)
    driver.downloads = downloads
    yield driver
    driver.quit()


def drop(driver, site, path: Path) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    process, _, _ = site
    driver.get(f"{process.base}/depot/{process.links['CCAS']}")
    driver.find_element(By.ID, "fichier").send_keys(str(path))
    driver.find_element(By.ID, "envoyer").click()


def test_a_sponsor_drops_a_good_return(driver, site) -> None:  # type: ignore[no-untyped-def]
    _, folder, inbox = site
    source = good_return(folder, "retour-ccas.xlsx")
    drop(driver, site, source)
    heading = wait_for(driver, "#enregistre")
    assert heading.text == "✓ Votre retour a été enregistré"
    from webclient import sha256

    assert driver.find_element("id", "empreinte").text == sha256(source)
    assert [p.read_bytes() for p in (inbox / "CCAS").glob("*.xlsx")] == [source.read_bytes()]
    assert "retour-ccas.xlsx" in driver.find_element("id", "envois").text


def test_a_sponsor_drops_a_bad_return_and_opens_the_corrections_copy(driver, site) -> None:  # type: ignore[no-untyped-def]
    _, folder, _ = site
    drop(driver, site, bad_return(folder, "retour-faux.xlsx"))
    wait_for(driver, "#refuse")
    report = driver.find_element("id", "resultat").text
    assert "funders-do-not-add-up" in report and "'Actions'!E5" in report
    if os.environ.get("XLFUNDING_SCREENSHOT"):
        driver.save_screenshot(os.environ["XLFUNDING_SCREENSHOT"])
    before = set(driver.downloads.iterdir())
    driver.find_element("id", "corrections").click()
    copy = downloaded(driver.downloads, before)
    book = openpyxl.load_workbook(copy)
    assert book.sheetnames[0] == "À corriger"
    assert book["Actions"]["E5"].comment is not None


def test_the_page_works_without_javascript(site, tmp_path) -> None:  # type: ignore[no-untyped-def]
    plain = browser(tmp_path, javascript=False)
    try:
        _, folder, _ = site
        drop(plain, site, good_return(folder, "sans-js.xlsx"))
        assert wait_for(plain, "#enregistre").text == "✓ Votre retour a été enregistré"
        assert "/depot/" in plain.current_url  # the form's own answer, a new page
    finally:
        plain.quit()


def test_staff_log_in_and_consolidate(driver, site) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    process, _, _ = site
    driver.get(f"{process.base}/suivi")
    driver.find_element(By.ID, "mot_de_passe").send_keys(PASSWORD)
    driver.find_element(By.ID, "connexion").click()
    table = wait_for(driver, "#porteurs").text
    assert "CCAS" in table and "VILLE" in table
    driver.find_element(By.ID, "consolider").click()
    files = wait_for(driver, "#fichiers", seconds=180)
    before = set(driver.downloads.iterdir())
    files.find_element(By.PARTIAL_LINK_TEXT, "annexe-").click()
    annex = downloaded(driver.downloads, before)
    assert annex.name.startswith("annexe-")
    openpyxl.load_workbook(annex)
