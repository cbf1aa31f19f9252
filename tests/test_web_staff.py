"""The drop zone's staff page and API at the HTTP level: the password, the session cookie,
CSRF on every form, the sponsor rows and totals, the consolidation and its downloads; the API's
document is ``validate --json``'s."""

from __future__ import annotations

import io
import json

import openpyxl
import pytest
from starlette.testclient import TestClient
from webclient import PASSWORD, bad_return, config, csrf, good_return, inbox_copy

from xlfunding.settings import load_settings
from xlfunding.validate import validate_file
from xlfunding.web.api import TOKEN_HEADER
from xlfunding.web.app import create_app


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    inbox = inbox_copy(tmp_path_factory.mktemp("staff"))
    app = create_app(config(inbox))
    with TestClient(app) as client:
        yield client, app.state.server


def login(client: TestClient, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    page = client.get("/suivi")
    return client.post("/suivi/connexion", data={"csrf": csrf(page.text), "mot_de_passe": password})


def test_without_a_password_the_staff_page_is_closed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = create_app(config(inbox_copy(tmp_path), password=""))
    client = TestClient(app)  # no worker pool needed to refuse
    response = client.get("/suivi")
    assert response.status_code == 403 and "XLFUNDING_SUIVI_MOT_DE_PASSE" in response.text


def test_the_session_cookie_is_signed_httponly_and_strict(served) -> None:  # type: ignore[no-untyped-def]
    client, _ = served
    client.cookies.clear()
    page = client.get("/suivi")
    assert page.status_code == 200 and "Mot de passe du suivi" in page.text
    cookie = page.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/suivi" in cookie
    assert "mot_de_passe" not in str(page.url)


def test_a_wrong_password_or_a_missing_token_opens_nothing(served) -> None:  # type: ignore[no-untyped-def]
    client, _ = served
    client.cookies.clear()
    wrong = login(client, "pas le bon")
    assert wrong.status_code == 403 and "Mot de passe incorrect" in wrong.text
    client.get("/suivi")
    forged = client.post("/suivi/connexion", data={"csrf": "x", "mot_de_passe": PASSWORD})
    assert forged.status_code == 403 and "Formulaire expiré" in forged.text
    client.cookies.set("xlfunding_suivi", "abc.1.1.faux", path="/suivi")
    assert "Mot de passe du suivi" in client.get("/suivi").text  # a forged cookie: the login


def test_staff_see_one_row_per_sponsor_and_the_totals(served) -> None:  # type: ignore[no-untyped-def]
    client, _ = served
    client.cookies.clear()
    page = login(client)
    assert page.status_code == 200, page.text
    text = page.text
    for sponsor in load_settings().sponsors:
        assert f"<td>{sponsor}</td>" in text
    assert "248\u00a0656\u00a0€" in text and "39 %" in text  # the total, ANCT's share
    assert "10 actions lues = 10 retenues + 0 écartées" in " ".join(text.split())


def test_a_form_of_the_staff_page_without_its_token_is_refused(served) -> None:  # type: ignore[no-untyped-def]
    client, server = served
    client.cookies.clear()
    login(client)
    response = client.post("/suivi/consolider", data={"csrf": "faux"})
    assert response.status_code == 403
    assert not server.config.outputs.exists() or not any(server.config.outputs.iterdir())


def test_consolidating_offers_the_annex_and_report_then_the_evolutions(served, tmp_path) -> None:  # type: ignore[no-untyped-def]
    client, server = served
    client.cookies.clear()
    page = login(client)
    first = client.post("/suivi/consolider", data={"csrf": csrf(page.text)})
    assert first.status_code == 200 and "Consolidation du" in first.text
    links = [part.split('"')[0] for part in first.text.split('href="/suivi/fichiers/')[1:]]
    names = {link.split("/")[1] for link in links}
    assert {n.split("-")[0] for n in names} >= {"annexe", "rapport"}
    for link in links:
        download = client.get(f"/suivi/fichiers/{link}")
        assert download.status_code == 200
        assert download.headers["content-disposition"].startswith("attachment;")
        if link.endswith(".xlsx"):
            openpyxl.load_workbook(io.BytesIO(download.content))
    # a sponsor's bad return changes nothing in the annex; a second run compares with the first
    token = server.links["CCAS"]
    form = client.get(f"/depot/{token}")
    client.post(
        f"/depot/{token}",
        data={"csrf": csrf(form.text)},
        files={"fichier": ("faux.xlsx", bad_return(tmp_path).read_bytes())},
    )
    again = client.post("/suivi/consolider", data={"csrf": csrf(first.text)})
    assert "Évolutions depuis annexe-" in again.text
    assert "Aucune action ajoutée, retirée ou modifiée." in again.text
    runs = {part.split("/")[0] for part in again.text.split('href="/suivi/fichiers/')[1:]}
    assert len(runs) == 2  # both runs offered, kept on disk
    assert client.get("/suivi/fichiers/..%2F..%2Fsecret/x.xlsx").status_code == 404


def test_downloads_need_the_session(served) -> None:  # type: ignore[no-untyped-def]
    client, _ = served
    client.cookies.clear()
    assert (
        client.get("/suivi/fichiers/20260101-000000/annexe-20260101-000000.xlsx").status_code == 404
    )


def test_the_api_answers_with_validate_json(served, tmp_path) -> None:  # type: ignore[no-untyped-def]
    client, server = served
    source = bad_return(tmp_path)
    response = client.post(
        "/api/retours",
        headers={TOKEN_HEADER: server.links["CCAS"]},
        files={"fichier": ("faux.xlsx", source.read_bytes())},
    )
    assert response.status_code == 200
    document = response.json()
    expected = json.loads(json.dumps(validate_file(source).to_dict()))
    assert document["counts"] == expected["counts"]
    assert [(p["code"], p["cell"], p["message"]) for p in document["problems"]] == [
        (p["code"], p["cell"], p["message"]) for p in expected["problems"]
    ]
    assert document["files"] == ["faux.xlsx"] and document["deposit"]["status"] == "refusé"
    good = client.post(
        "/api/retours",
        headers={TOKEN_HEADER: server.links["CCAS"]},
        files={"fichier": ("bon.xlsx", good_return(tmp_path).read_bytes())},
    )
    assert good.json()["valid"] is True and good.json()["deposit"]["status"] == "enregistré"


def test_the_api_without_its_token_is_a_404(served, tmp_path) -> None:  # type: ignore[no-untyped-def]
    client, _ = served
    data = good_return(tmp_path).read_bytes()
    for headers in ({}, {TOKEN_HEADER: "faux"}):
        response = client.post(
            "/api/retours",
            headers=headers,
            files={"fichier": ("a.xlsx", data)},
        )
        assert response.status_code == 404


def test_the_openapi_document_describes_the_api(served) -> None:  # type: ignore[no-untyped-def]
    client, _ = served
    document = client.get("/openapi.json").json()
    assert document["openapi"].startswith("3.")
    post = document["paths"]["/api/retours"]["post"]
    assert "multipart/form-data" in post["requestBody"]["content"]
    assert {"200", "404", "413", "429"} <= set(post["responses"])
