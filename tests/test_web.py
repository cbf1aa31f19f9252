"""The drop zone at the HTTP level (Starlette's TestClient): links, the sponsor's upload, the
report, the corrections copy, what is filed where, and what a wrong link or a hostile upload
gets. The staff page and the API are in test_web_staff.py."""

from __future__ import annotations

import io
import re
import stat
import threading
from pathlib import Path

import openpyxl
import pytest
from builders import BASE, workbook
from starlette.testclient import TestClient
from webclient import bad_return, config, csrf, good_return, inbox_copy, refused, saved, sha256

from xlfunding.web.app import create_app
from xlfunding.web.links import SECRET_FILE, load_secret, sponsor_links
from xlfunding.web.store import STEM, Store, safe_label


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    inbox = inbox_copy(tmp_path_factory.mktemp("web"))
    app = create_app(config(inbox, max_bytes=300 * 1024))
    with TestClient(app) as client:
        yield client, app.state.server


@pytest.fixture
def client(served):  # type: ignore[no-untyped-def]
    return served[0]


@pytest.fixture
def server(served):  # type: ignore[no-untyped-def]
    return served[1]


def post(
    client: TestClient,
    server,
    path: Path | bytes,
    name: str = "retour.xlsx",  # type: ignore[no-untyped-def]
    sponsor: str = "CCAS",
    token: str | None = None,
):
    token = token or server.links[sponsor]
    page = client.get(f"/depot/{token}")
    data = path if isinstance(path, bytes) else path.read_bytes()
    return client.post(
        f"/depot/{token}",
        data={"csrf": csrf(page.text)},
        files={"fichier": (name, io.BytesIO(data))},
    )


def test_links_are_long_distinct_and_kept_with_a_private_secret(tmp_path: Path) -> None:
    secret = load_secret(tmp_path)
    mode = stat.S_IMODE((tmp_path / SECRET_FILE).stat().st_mode)
    assert mode == 0o600
    assert load_secret(tmp_path) == secret  # the same links after a restart
    links = sponsor_links(secret, ("CCAS", "VILLE"))
    assert len(set(links.values())) == 2
    assert all(len(t) >= 43 and re.fullmatch(r"[A-Za-z0-9_-]+", t) for t in links.values())
    assert sponsor_links(b"another secret", ("CCAS",))["CCAS"] != links["CCAS"]
    pages = sponsor_links(secret, ("CCAS", "VILLE"), "https://depot.example/")
    assert pages == {s: f"https://depot.example/depot/{t}" for s, t in links.items()}


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/depot/inconnu"),
        ("get", "/depot/"),
        ("post", "/depot/inconnu"),
        ("get", "/depot/inconnu/corrections/20260101-000000-000000-x"),
        ("get", "/nulle-part"),
    ],
)
def test_a_wrong_link_is_a_bare_404(client: TestClient, method: str, url: str) -> None:
    response = getattr(client, method)(url)
    assert response.status_code == 404
    assert response.text == "Page introuvable."  # the same for every address: nobody named


def test_the_page_answers_in_french_with_defensive_headers(client, server) -> None:  # type: ignore[no-untyped-def]
    page = client.get(f"/depot/{server.links['CCAS']}")
    assert page.status_code == 200
    assert "Déposer le retour de CCAS" in page.text and 'lang="fr"' in page.text
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


def test_a_valid_return_is_filed_with_its_time_and_fingerprint(client, server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    source = good_return(tmp_path, "Retour CCAS été.xlsx")
    before = saved(server.store.inbox)
    response = post(client, server, source, "Retour CCAS été.xlsx")
    assert response.status_code == 200
    assert "Votre retour a été enregistré" in response.text
    assert sha256(source) in response.text
    new = sorted(set(saved(server.store.inbox)) - set(before))
    assert len(new) == 1 and new[0].read_bytes() == source.read_bytes()
    assert re.fullmatch(r"\d{8}-\d{6}-\d{6}-Retour-CCAS-ete\.xlsx", new[0].name)
    assert "Retour CCAS été.xlsx" in response.text.split('id="envois"')[1]  # listed


def test_an_invalid_return_gets_the_report_and_its_corrections_copy(
    client, server, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    source = bad_return(tmp_path)
    before = saved(server.store.inbox)
    response = post(client, server, source, "ccas-faux.xlsx")
    text = response.text
    assert "Retour non enregistré" in text and "funders-do-not-add-up" in text
    assert "&#39;Actions&#39;!E5" in text and "1 erreur" in text
    assert saved(server.store.inbox) == before  # never in the returns the annex reads
    assert any(p.read_bytes() == source.read_bytes() for p in refused(server.store.inbox))
    href = re.search(r'href="(/depot/[^"]+/corrections/[^"]+)"', text)
    assert href
    download = client.get(href.group(1))
    assert download.status_code == 200
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["x-content-type-options"] == "nosniff"
    book = openpyxl.load_workbook(io.BytesIO(download.content))
    assert book.sheetnames[0] == "À corriger"
    assert book["Actions"]["E5"].comment is not None


def test_the_form_without_its_csrf_token_is_refused(client, server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    before = saved(server.store.inbox)
    response = client.post(
        f"/depot/{server.links['CCAS']}",
        data={"csrf": "faux"},
        files={"fichier": ("a.xlsx", good_return(tmp_path).read_bytes())},
    )
    assert response.status_code == 403 and "Formulaire expiré" in response.text
    assert saved(server.store.inbox) == before


def test_a_template_locked_to_another_sponsor_is_refused(client, server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ville = workbook(tmp_path, BASE[2:], name="ville.xlsx", sponsor="VILLE")
    response = post(client, server, ville, "ville.xlsx")
    assert "sponsor-not-allowed" in response.text and "Retour non enregistré" in response.text
    assert "Ce modèle est celui du porteur VILLE" in response.text


def test_an_open_template_may_hold_only_the_sponsors_own_actions(client, server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    mixed = workbook(tmp_path, BASE, name="mixte.xlsx")  # not locked: CCAS, CCAS, VILLE
    response = post(client, server, mixed, "mixte.xlsx")
    assert "Retour non enregistré" in response.text
    assert "&#39;Actions&#39;!D7" in response.text and "sponsor-not-allowed" in response.text


def test_an_upload_over_the_limit_gets_413_and_leaves_nothing(client, server) -> None:  # type: ignore[no-untyped-def]
    before = saved(server.store.inbox), refused(server.store.inbox)
    response = post(client, server, b"PK" + b"\0" * (400 * 1024), "gros.xlsx")
    assert response.status_code == 413 and "dépasse" in response.text
    assert (saved(server.store.inbox), refused(server.store.inbox)) == before
    assert list(server.workdir.glob("envoi-*")) == []  # no upload left in the work folder


def test_hostile_content_is_answered_in_french_on_the_page(client, server) -> None:  # type: ignore[no-untyped-def]
    response = post(client, server, b"nom;montant\nA;1\n", "retour.xlsx")
    assert response.status_code == 200 and "Retour non enregistré" in response.text
    assert "not-an-xlsx" in response.text


@pytest.mark.parametrize(
    "name",
    ["../../../etc/passwd.xlsx", "a\0b.xlsx", "é" * 300 + ".xlsx", "..\\..\\x.xlsx", ".xlsx", " "],
)
def test_a_hostile_file_name_is_never_a_path(client, server, tmp_path, name) -> None:  # type: ignore[no-untyped-def]
    before = set(saved(server.store.inbox))
    post(client, server, good_return(tmp_path), name)
    new = set(saved(server.store.inbox)) - before
    assert len(new) == 1
    path = new.pop()
    assert path.parent == server.store.inbox / "CCAS" and STEM.fullmatch(path.stem)
    assert len(path.name) <= 100


def test_a_form_without_a_file_says_so(client, server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    response = post(client, server, good_return(tmp_path), "")  # a browser's empty file field
    assert response.status_code == 400 and "Aucun fichier" in response.text


def test_safe_label() -> None:
    assert safe_label("../../a b/c d.xlsx") == "c-d"
    assert safe_label("x\0y") == "xy"
    assert safe_label("....") == "retour" and len(safe_label("a" * 300)) == 60


def test_one_sponsor_never_sees_anothers_sends(client, server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    response = post(client, server, bad_return(tmp_path), "secret-ccas.xlsx")
    stem = re.search(r"/corrections/([^\"]+)\"", response.text).group(1)  # type: ignore[union-attr]
    ville = server.links["VILLE"]
    assert client.get(f"/depot/{ville}/corrections/{stem}").status_code == 404
    assert "secret-ccas" not in client.get(f"/depot/{ville}").text
    assert client.get(f"/depot/{server.links['CCAS']}/corrections/..%2F..%2Fx").status_code == 404


def test_the_uploads_of_a_link_are_limited_per_minute(client, server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    limit, server.limit.per_minute = server.limit.per_minute, 2
    try:
        token = server.links["VILLE"]
        server.limit._times.pop("VILLE", None)
        source = workbook(tmp_path, BASE[2:], name="v.xlsx", sponsor="VILLE")
        answers = [
            post(client, server, source, "v.xlsx", sponsor="VILLE").status_code for _ in range(3)
        ]
        assert answers == [200, 200, 429]
        assert client.get(f"/depot/{token}").status_code == 200  # reading is not limited
    finally:
        server.limit.per_minute = limit


def test_two_uploads_at_once_for_one_sponsor_both_land(client, server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    source = good_return(tmp_path, "meme-nom.xlsx")
    before = set(saved(server.store.inbox))
    answers: list[int] = []
    threads = [
        threading.Thread(
            target=lambda: answers.append(post(client, server, source, "meme-nom.xlsx").status_code)
        )
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    new = set(saved(server.store.inbox)) - before
    assert answers == [200, 200] and len(new) == 2
    assert all(p.read_bytes() == source.read_bytes() for p in new)


def test_a_client_that_leaves_mid_upload_leaves_no_file(served, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import anyio

    client, server = served
    token = server.links["CCAS"]
    page = client.get(f"/depot/{token}")
    body, boundary = _multipart(csrf(page.text), good_return(tmp_path).read_bytes())
    before = saved(server.store.inbox), refused(server.store.inbox)
    messages = [
        {"type": "http.request", "body": body[:5000], "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict] = []

    async def receive():  # type: ignore[no-untyped-def]
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):  # type: ignore[no-untyped-def]
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": f"/depot/{token}",
        "raw_path": b"",
        "root_path": "",
        "scheme": "http",
        "query_string": b"",
        "server": ("t", 80),
        "client": ("127.0.0.1", 1),
        "http_version": "1.1",
        "headers": [
            (b"content-type", f"multipart/form-data; boundary={boundary}".encode()),
            (b"content-length", str(len(body)).encode()),
        ],
        "app": client.app,
        "state": {},
    }
    anyio.run(client.app, scope, receive, send)  # type: ignore[arg-type]
    assert [m["status"] for m in sent if m["type"] == "http.response.start"] == [400]
    assert (saved(server.store.inbox), refused(server.store.inbox)) == before
    assert list(server.workdir.glob("envoi-*")) == []  # no upload left in the work folder
    assert not list(server.store.inbox.rglob(".depot-*"))


def test_a_write_that_fails_leaves_no_half_file(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    store = Store(tmp_path, ("CCAS",))
    source = good_return(tmp_path)

    def broken(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.link", broken)
    with pytest.raises(OSError):
        store.save(source, "CCAS", store.new_stem("x"), True)
    assert list((tmp_path / "CCAS").iterdir()) == []


def test_the_part_files_a_killed_server_left_are_swept(tmp_path: Path) -> None:
    (tmp_path / "CCAS").mkdir()
    part = tmp_path / "CCAS" / ".depot-0123456789abcdef.part"
    part.write_bytes(b"PK\3\4 half")
    keep = tmp_path / "CCAS" / ".autre"
    keep.write_text("x")
    assert Store(tmp_path, ("CCAS",)).sweep() == [part]
    assert not part.exists() and keep.exists()


def _multipart(token: str, data: bytes) -> tuple[bytes, str]:
    boundary = "xlfundingtestboundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{token}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="fichier"; '
        f'filename="r.xlsx"\r\nContent-Type: application/octet-stream\r\n\r\n'
    ).encode()
    return body + data + f"\r\n--{boundary}--\r\n".encode(), boundary


def test_the_settings_may_give_the_secret_and_the_password(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from xlfunding.errors import SettingsError
    from xlfunding.settings import default_settings_path, load_settings
    from xlfunding.web.app import ServeConfig

    text = default_settings_path().read_text(encoding="utf-8")
    good = tmp_path / "p.toml"
    good.write_text(text + '\n[serveur]\nsecret = "s3cret"\nmot_de_passe_suivi = "mdp"\n')
    settings = load_settings(good)
    assert "mdp" not in repr(settings) and "mdp" not in str(settings.to_dict())
    monkeypatch.delenv("XLFUNDING_SUIVI_MOT_DE_PASSE", raising=False)
    assert ServeConfig(tmp_path, settings).password == "mdp"
    monkeypatch.setenv("XLFUNDING_SUIVI_MOT_DE_PASSE", "env")
    assert ServeConfig(tmp_path, settings).password == "env"  # the environment wins
    assert dict(settings.server)["secret"] == "s3cret"
    bad = tmp_path / "q.toml"
    bad.write_text(text + '\n[serveur]\nmotdepasse = "x"\n')
    with pytest.raises(SettingsError, match=r"serveur\.motdepasse"):
        load_settings(bad)


def test_an_upload_without_its_length_is_cut_off_while_it_streams(client, server) -> None:  # type: ignore[no-untyped-def]
    token = server.links["CCAS"]
    body, boundary = _multipart(csrf(client.get(f"/depot/{token}").text), b"PK" * 1)
    head, tail = body[: body.index(b"PK")], body[body.index(b"PK") :]
    sent = []

    def chunks():  # type: ignore[no-untyped-def]
        yield head
        for _ in range(40):  # 40 × 16 Kio: past the 300 Kio limit
            sent.append(1)
            yield b"\0" * 16384
        yield tail

    before = saved(server.store.inbox), refused(server.store.inbox)
    response = client.post(
        f"/depot/{token}",
        content=chunks(),
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 413 and "dépasse" in response.text
    assert (saved(server.store.inbox), refused(server.store.inbox)) == before
    assert list(server.workdir.glob("envoi-*")) == []  # no upload left in the work folder


def test_serve_refuses_a_missing_folder_in_french(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from xlfunding.cli import app

    result = CliRunner().invoke(app, ["serve", str(tmp_path / "absent")])
    assert result.exit_code == 2 and "n'existe pas" in result.output


def test_template_writes_each_sponsors_own_link_in_its_guide(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from xlfunding.cli import app
    from xlfunding.settings import load_settings
    from xlfunding.web.app import Server
    from xlfunding.write.template import sponsor_filename

    inbox, out = inbox_copy(tmp_path), tmp_path / "envois"
    out.mkdir()
    args = ["template", "--all-sponsors", str(out), "--depot", "https://depot.example/"]
    result = CliRunner().invoke(app, [*args, "--retours", str(inbox)])
    assert result.exit_code == 0, result.output
    server = Server(config(inbox))  # the server on that folder makes the same links
    server.stop()
    for sponsor, token in server.links.items():
        book = openpyxl.load_workbook(out / sponsor_filename(load_settings(), sponsor))
        sheet = book["Mode d'emploi"]
        cells = [c for row in sheet.iter_rows() for c in row if c.value]
        texts = [str(c.value) for c in cells]
        mine = [c for c in cells if c.value == f"https://depot.example/depot/{token}"]
        assert len(mine) == 1 and mine[0].hyperlink is not None  # a link one can click
        others = [t for s, t in server.links.items() if s != sponsor]
        assert not any(t in text for t in others for text in texts)
    alone = CliRunner().invoke(app, ["template", "-o", str(tmp_path / "x.xlsx"), *args[3:]])
    assert alone.exit_code == 2 and "--retours" in alone.output


def test_the_work_folder_lives_from_start_to_stop(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import os
    import tempfile

    from xlfunding.web.app import WORK_PREFIX, Server

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    server = Server(config(inbox_copy(tmp_path), processes=1))
    assert list((tmp_path / "tmp").glob(f"{WORK_PREFIX}*")) == []  # none before the start
    server.start()
    try:
        assert server.workdir.parent == tmp_path / "tmp" and server.workdir.is_dir()
        assert server.workdir.name.startswith(f"{WORK_PREFIX}{os.getpid()}-")
    finally:
        server.stop()
    assert list((tmp_path / "tmp").glob(f"{WORK_PREFIX}*")) == []


def test_the_work_folders_of_dead_servers_are_removed_at_start(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from xlfunding.web.app import WORK_PREFIX, make_workdir

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # a server killed: its pid no longer runs
    dead = tmp_path / f"{WORK_PREFIX}{gone.pid}-abc123"
    (dead / "envoi-x").mkdir(parents=True)
    (dead / "envoi-x" / "retour.xlsx").write_bytes(b"half an upload")
    alive = tmp_path / f"{WORK_PREFIX}{os.getppid()}-def456"  # a running process's
    alive.mkdir()
    unnamed = tmp_path / f"{WORK_PREFIX}ghi789"  # no pid in its name: not ours to judge
    unnamed.mkdir()
    made = make_workdir(tmp_path)
    assert not dead.exists()
    assert alive.is_dir() and unnamed.is_dir() and made.is_dir()
    assert made.name.startswith(f"{WORK_PREFIX}{os.getpid()}-")
