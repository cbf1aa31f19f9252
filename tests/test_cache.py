"""The consolidation's cache (#15): what hits, what misses, and that nothing it gives differs.

Each part of the key (the file's bytes, the settings, the version) is changed alone and must
miss; a corrupt, foreign or tampered cache is never trusted; a run killed with SIGKILL between
two files leaves a cache the next run uses; two runs share one cache at once."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import pickle
import signal
import sqlite3
import subprocess
import sys
import tomllib
import zipfile
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_consolidate import messy_inbox, mine  # noqa: F401 (a fixture)

from xlfunding.month import cache as cache_module
from xlfunding.month import cachecodec
from xlfunding.month.cache import DATABASE, ResultCache, cacheable, default_folder
from xlfunding.month.cachecodec import NotCodable, decode, encode
from xlfunding.month.consolidate import Status, consolidate
from xlfunding.month.inbox import FileResult, RowResult
from xlfunding.month.job import run_consolidate
from xlfunding.month.report import consolidation_dict
from xlfunding.problems import Problem
from xlfunding.settings import Settings, default_settings_path, settings_from_dict
from xlfunding.write.template import write_template

ROOT = Path(__file__).parent.parent


def cached(result) -> dict[str, bool]:  # type: ignore[no-untyped-def]
    return {f.name: f.cached for f in result.files if f.status is not Status.DUPLICATE_FILE
            and f.status not in (Status.HIDDEN, Status.OPEN_IN_EXCEL)}


def full(result) -> str:  # type: ignore[no-untyped-def]
    """Everything a consolidation holds, types and Decimal exponents included (repr shows them,
    and the actions' sources, which their equality leaves out), except the cache flag."""
    files = [replace(f, cached=False) for f in result.files]
    return repr((files, result.programme.actions, result.ledger))


def as_json(result) -> str:  # type: ignore[no-untyped-def]
    return json.dumps(consolidation_dict(result), default=str, ensure_ascii=False)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def test_second_run_takes_every_read_file_from_the_cache_and_gives_the_same_result(
    messy_inbox: Path, settings: Settings, folder: Path  # noqa: F811
) -> None:
    plain = consolidate(messy_inbox, settings)
    first = consolidate(messy_inbox, settings, cache=folder)
    second = consolidate(messy_inbox, settings, cache=folder)
    assert not any(cached(first).values())
    # The files read (valid, with errors, of another programme, not an .xlsx) all hit.
    assert cached(second) == dict.fromkeys(cached(second), True) and len(cached(second)) == 5
    assert full(plain) == full(first) == full(second)
    assert as_json(plain) == as_json(second)
    assert not second.notices


def stored_zip(data: bytes, change: bytes = b"", into: bytes = b"") -> bytes:
    """The workbook re-zipped without compression, one run of bytes changed in its sheets:
    the same length whatever the change, as long as ``into`` is as long as ``change``."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            part = source.read(info)
            if change and info.filename.startswith("xl/worksheets/") and change in part:
                part = part.replace(change, into, 1)
            info.compress_type = zipfile.ZIP_STORED
            target.writestr(info, part)
    return out.getvalue()


def test_a_file_replaced_by_other_bytes_of_the_same_size_and_mtime_is_a_miss(
    tmp_path: Path, settings: Settings, folder: Path
) -> None:
    inbox = tmp_path / "retours"
    inbox.mkdir()
    target = write_template(settings, inbox / "ccas.xlsx", sponsor="CCAS",
                            actions=mine(settings, "CCAS"))
    original = target.read_bytes()
    amount = str(int(mine(settings, "CCAS")[0].total)).encode()
    other = stored_zip(original, b"<v>" + amount + b"</v>", b"<v>" + b"9" * len(amount) + b"</v>")
    target.write_bytes(stored_zip(original))
    first = consolidate(inbox, settings, cache=folder)
    stat = target.stat()
    assert len(other) == stat.st_size and other != target.read_bytes()
    target.write_bytes(other)
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert (target.stat().st_size, target.stat().st_mtime_ns) == (stat.st_size, stat.st_mtime_ns)
    again = consolidate(inbox, settings, cache=folder)
    assert cached(again) == {"ccas.xlsx": False}
    assert full(again) == full(consolidate(inbox, settings)) != full(first)
    assert cached(consolidate(inbox, settings, cache=folder)) == {"ccas.xlsx": True}


def test_renamed_and_moved_files_hit_and_name_their_new_place(
    messy_inbox: Path, settings: Settings, folder: Path  # noqa: F811
) -> None:
    consolidate(messy_inbox, settings, cache=folder)
    (messy_inbox / "sous-dossier" / "ville.xlsx").rename(messy_inbox / "ville-v2.xlsx")
    result = consolidate(messy_inbox, settings, cache=folder)
    ville = next(f for f in result.files if f.name == "ville-v2.xlsx")
    assert ville.cached and ville.status is Status.ERRORS
    where = {r.file for r in ville.rows} | {p.file for p in ville.problems}
    assert where == {messy_inbox / "ville-v2.xlsx"}
    assert full(result) == full(consolidate(messy_inbox, settings))


def test_other_settings_are_a_miss(
    messy_inbox: Path, settings: Settings, folder: Path  # noqa: F811
) -> None:
    consolidate(messy_inbox, settings, cache=folder)
    data = tomllib.loads(default_settings_path().read_text(encoding="utf-8"))
    data["programme"]["contact"] = "autre.contact@example.org"  # not in the template's fingerprint
    other = settings_from_dict(data)
    assert other.fingerprint == settings.fingerprint
    result = consolidate(messy_inbox, other, cache=folder)
    assert not any(cached(result).values())
    assert all(cached(consolidate(messy_inbox, settings, cache=folder)).values())


def test_another_version_is_a_miss_and_its_entries_are_pruned(
    messy_inbox: Path, settings: Settings, folder: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch
) -> None:
    consolidate(messy_inbox, settings, cache=folder)
    monkeypatch.setattr(cache_module, "code_version", lambda: "0.0.1+other")
    result = consolidate(messy_inbox, settings, cache=folder)
    assert not any(cached(result).values())
    with sqlite3.connect(folder / DATABASE) as db:
        versions = {v for (v,) in db.execute("SELECT DISTINCT version FROM results")}
    assert versions == {"0.0.1+other"}


@pytest.mark.parametrize(
    "damage",
    ["garbage", "truncated", "foreign", "later-format"],
)
def test_a_corrupt_or_foreign_cache_is_ignored_with_a_warning_and_left_alone(
    messy_inbox: Path, settings: Settings, folder: Path, damage: str  # noqa: F811
) -> None:
    consolidate(messy_inbox, settings, cache=folder)
    database = folder / DATABASE
    if damage == "garbage":
        database.write_bytes(b"SQLite format 3\x00" + os.urandom(4096))
    elif damage == "truncated":
        with sqlite3.connect(database) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        database.write_bytes(database.read_bytes()[: database.stat().st_size // 2])
    elif damage == "foreign":
        database.unlink()
        with sqlite3.connect(database) as db:
            db.execute("CREATE TABLE results (sha256 TEXT, data BLOB)")
    else:
        with sqlite3.connect(database) as db:
            db.execute("UPDATE meta SET value = '99' WHERE key = 'schema'")
    before = database.read_bytes()
    result = consolidate(messy_inbox, settings, cache=folder)
    assert [p.code for p in result.notices] == ["cache-ignored"]
    assert result.notices[0].severity == "warning" and result.notices[0].file == database
    assert not any(cached(result).values())
    assert full(result) == full(consolidate(messy_inbox, settings))
    assert database.read_bytes() == before


class Evil:
    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.system, (f"touch {self.target}",))


def test_a_tampered_entry_is_a_miss_and_is_replaced(
    messy_inbox: Path, settings: Settings, folder: Path  # noqa: F811
) -> None:
    consolidate(messy_inbox, settings, cache=folder)
    with sqlite3.connect(folder / DATABASE) as db:
        # The valid files' entries: one sponsor changed (their checksum no longer matches);
        # the other programme's: replaced by bytes that have the right checksum but are not
        # a result.
        rows = db.execute("SELECT rowid, data, sha256, settings, version, name FROM results")
        for rowid, data, *key in rows.fetchall():
            status = pickle.loads(data)[1][0]  # the header's status
            if status == "valide":
                changed = data.replace(b"CCAS", b"VILL")
                assert changed != data
                db.execute("UPDATE results SET data = ? WHERE rowid = ?", (changed, rowid))
            elif status == "autre programmation":
                empty = b'{"format": 1}'
                db.execute("UPDATE results SET data = ?, checksum = ? WHERE rowid = ?",
                           (empty, cache_module._check(tuple(key), empty), rowid))
            elif status == "illisible":  # a pickle that would run a command
                evil = pickle.dumps(Evil(messy_inbox.parent / "pwned"))
                db.execute("UPDATE results SET data = ?, checksum = ? WHERE rowid = ?",
                           (evil, cache_module._check(tuple(key), evil), rowid))
    result = consolidate(messy_inbox, settings, cache=folder)
    assert full(result) == full(consolidate(messy_inbox, settings))
    assert not (messy_inbox.parent / "pwned").exists()
    assert cached(result) == {"ccas.xlsx": False, "modele-2026.xlsx": False,
                              "complement.xlsx": False, "export.xlsx": False,
                              "sous-dossier/ville.xlsx": True}
    assert all(cached(consolidate(messy_inbox, settings, cache=folder)).values())


def test_an_entry_found_under_another_files_key_is_a_miss(
    messy_inbox: Path, settings: Settings, folder: Path  # noqa: F811
) -> None:
    """What a damaged database could give: two files' entries swapped, each with its checksum."""
    consolidate(messy_inbox, settings, cache=folder)
    with sqlite3.connect(folder / DATABASE) as db:
        rows = db.execute("SELECT rowid, data, checksum FROM results ORDER BY rowid").fetchall()
        (first, data1, sum1), (second, data2, sum2) = rows[:2]
        swap = "UPDATE results SET data = ?, checksum = ? WHERE rowid = ?"
        db.execute(swap, (data2, sum2, first))
        db.execute(swap, (data1, sum1, second))
    result = consolidate(messy_inbox, settings, cache=folder)
    assert full(result) == full(consolidate(messy_inbox, settings))
    assert sum(f.cached for f in result.files) == len(rows) - 2


KILLED = """
import os, signal, sys
from pathlib import Path
from xlfunding.month import cache
from xlfunding.month.consolidate import consolidate
cache.COMMIT_EVERY = 2
put = cache.ResultCache.put
def put_then_die(self, result, sha256, text=None):
    put(self, result, sha256, text)
    if self.stored >= 2:  # two files committed, a third kept in memory: killed between files
        os.kill(os.getpid(), signal.SIGKILL)
cache.ResultCache.put = put_then_die
consolidate(Path(sys.argv[1]), cache=Path(sys.argv[2]))
"""


def test_a_run_killed_between_files_leaves_a_cache_the_next_run_uses(
    tmp_path: Path, settings: Settings, folder: Path
) -> None:
    inbox = tmp_path / "retours"
    inbox.mkdir()
    for index, sponsor in enumerate(settings.sponsors[:5]):
        write_template(settings, inbox / f"retour-{index}.xlsx", sponsor=sponsor,
                       actions=mine(settings, "CCAS")[index:index + 1])
    run = subprocess.run([sys.executable, "-c", KILLED, str(inbox), str(folder)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == -signal.SIGKILL, run.stderr
    result = consolidate(inbox, settings, cache=folder)
    assert sum(cached(result).values()) == 2 and not result.notices
    assert full(result) == full(consolidate(inbox, settings))
    assert all(cached(consolidate(inbox, settings, cache=folder)).values())


def test_two_consolidations_share_one_cache_at_once(
    tmp_path: Path, settings: Settings, folder: Path
) -> None:
    inbox = tmp_path / "retours"
    inbox.mkdir()
    for index in range(40):  # above PARALLEL_FROM: each run reads with its worker processes
        # two sponsors a file: no one's return, so no file replaces another (#17)
        sponsors = [settings.sponsors[(index + n) % len(settings.sponsors)] for n in (0, 1)]
        write_template(settings, inbox / f"retour-{index:02d}.xlsx",
                       actions=[replace(mine(settings, "CCAS")[0], sponsor=sponsor,
                                        title=f"Action {index}-{n}")
                                for n, sponsor in enumerate(sponsors)])
    outputs = [tmp_path / f"annexe-{n}.xlsx" for n in (1, 2)]
    runs = [subprocess.Popen([sys.executable, "-m", "xlfunding", "consolidate", str(inbox),
                              "-o", str(out), "--cache", str(folder), "--json"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for out in outputs]
    reports = [run.communicate(timeout=600) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], reports
    first, second = (json.loads(out) for out, _ in reports)
    del first["annex"], second["annex"]
    assert first == second and first["ledger"]["actions_accepted"] == 80
    result = consolidate(inbox, settings, cache=folder)
    assert all(cached(result).values()) and len(cached(result)) == 40


def sheets_xml(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as book:
        return {n: book.read(n) for n in book.namelist() if n.startswith("xl/worksheets/")}


def test_the_cli_outputs_are_the_same_with_and_without_the_cache(
    messy_inbox: Path, tmp_path: Path, settings: Settings  # noqa: F811
) -> None:
    def run(name: str, *flags: object) -> tuple[str, Path, Path]:
        annex, report = tmp_path / f"annexe-{name}.xlsx", tmp_path / f"rapport-{name}.xlsx"
        out = io.StringIO()
        code = run_consolidate(messy_inbox, annex, report=report, json_out=True, stdout=out,
                               settings=settings, **dict(flags))  # type: ignore[arg-type]
        assert code == 1
        return out.getvalue().replace(annex.name, "ANNEX"), annex, report

    plain = run("sans", ("cache", False))
    assert not default_folder(messy_inbox).exists()
    first, second = run("premier"), run("second")
    assert default_folder(messy_inbox).is_dir()
    assert plain[0] == first[0] == second[0]
    assert sheets_xml(plain[1]) == sheets_xml(first[1]) == sheets_xml(second[1])

    def files_sheet(path: Path) -> list[tuple[object, ...]]:
        return list(openpyxl.load_workbook(path)["Fichiers"].values)

    rows = {name: files_sheet(report) for name, (_, _, report) in
            (("sans", plain), ("premier", first), ("second", second))}
    assert rows["sans"][0][-1] == "Lecture"
    reading = {name: {r[0]: r[-1] for r in table[1:]} for name, table in rows.items()}
    assert reading["sans"] == reading["premier"]
    assert reading["second"] == {**reading["sans"], **{
        n: "cache" for n, how in reading["sans"].items() if how == "lu"}}
    assert {how for how in reading["sans"].values()} == {"lu", "non lu"}
    strip = [[r[:-1] for r in rows[name]] for name in rows]
    assert strip[0] == strip[1] == strip[2]


def test_the_archive_holds_the_inputs_their_hashes_and_the_json(
    messy_inbox: Path, tmp_path: Path, settings: Settings  # noqa: F811
) -> None:
    archive, out = tmp_path / "mois.zip", io.StringIO()
    run_consolidate(messy_inbox, tmp_path / "annexe.xlsx", archive=archive, json_out=True,
                    stdout=out, settings=settings, cache=tmp_path / "cache")
    with zipfile.ZipFile(archive) as book:
        manifest = json.loads(book.read("manifeste.json"))
        assert json.loads(book.read("consolidation.json")) == json.loads(out.getvalue())
        assert json.loads(book.read("parametres.json")) == settings.to_dict()
        listed = {e["file"]: e for e in manifest["files"]}
        assert set(listed) == {f["file"] for f in json.loads(out.getvalue())["files"]}
        for name, entry in listed.items():
            if entry["archived"]:
                data = book.read(f"retours/{name}")
                assert data == (messy_inbox / name).read_bytes()
                assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert {n for n, e in listed.items() if e["archived"]} == {
            "ccas.xlsx", "complement.xlsx", "export.xlsx", "modele-2026.xlsx",
            "sous-dossier/ville.xlsx"}


def test_a_cache_folder_inside_the_inbox_is_never_read_as_a_return(
    messy_inbox: Path, settings: Settings  # noqa: F811
) -> None:
    inside = messy_inbox / "mon-cache"
    consolidate(messy_inbox, settings, cache=inside)
    consolidate(messy_inbox, settings, cache=default_folder(messy_inbox))
    names = {f.name for f in consolidate(messy_inbox, settings, cache=inside).files}
    assert not any("cache" in n for n in names)
    plain = {f.name for f in consolidate(messy_inbox, settings).files}
    assert "mon-cache/resultats.sqlite" in plain  # another folder is a cache only when named
    assert names == {n for n in plain if not n.startswith("mon-cache/")}


def test_an_unwritable_cache_folder_is_a_warning(tmp_path: Path, settings: Settings) -> None:
    blocker = tmp_path / "fichier"
    blocker.write_text("pas un dossier")
    store, notices = ResultCache.open(blocker / "cache", settings)
    assert store is None and [p.code for p in notices] == ["cache-ignored"]


values = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(),
    st.decimals(allow_nan=False), st.floats(),
    st.datetimes(timezones=st.sampled_from([None, dt.UTC])),
)


@given(value=values, total=values)
def test_the_codec_gives_back_every_value_exactly(value: object, total: object) -> None:
    path = Path("/retours/a.xlsx")
    problem = Problem("not-text", "Un texte est attendu.", path, "Actions", "B7", value)
    result = FileResult(path, Status.ERRORS, problems=[problem],
                        rows=[RowResult(path, "Actions", 7, "CCAS", "Titre", total, None, "x")])
    back = decode(encode(result), path, None)
    assert repr(back) == repr(replace(result, mtime=None))
    moved = decode(encode(result), Path("/ailleurs/b.xlsx"), 1.5)
    assert moved.problems[0].file == moved.rows[0].file == Path("/ailleurs/b.xlsx")


def test_what_the_codec_cannot_carry_is_refused() -> None:
    path = Path("a.xlsx")
    for problem in (Problem("not-text", "m", Path("autre.xlsx")),
                    Problem("not-text", "m", path, value=Path("x")),
                    Problem("not-text", "m", path, value=[1, complex(1, 2)]),
                    Problem("not-text", "m", path, value=Status.VALID)):  # a str subclass
        with pytest.raises(NotCodable):
            encode(FileResult(path, Status.ERRORS, problems=[problem]))


def test_a_reader_that_died_or_a_result_already_judged_is_not_cached() -> None:
    path = Path("a.xlsx")
    assert cacheable(FileResult(path, Status.ERRORS, problems=[Problem("not-text", "m", path)]))
    assert not cacheable(FileResult(path, Status.UNREADABLE,
                                    problems=[Problem("unreadable-file", "m", path)]))
    assert not cacheable(FileResult(path, Status.SUPERSEDED))
    assert not cacheable(FileResult(path, Status.VALID, note="copie de « b.xlsx »"))


def test_an_entry_builds_the_inert_types_only() -> None:
    inert = pickle.dumps((dt.timedelta(1), dt.date(2025, 1, 2), Decimal("1.50")), protocol=5)
    assert cachecodec._Plain(io.BytesIO(inert)).load()[2] == Decimal("1.50")
    for other in (Path("x"), complex(1, 2), Status.VALID):
        with pytest.raises(pickle.UnpicklingError, match="refusé"):
            cachecodec._Plain(io.BytesIO(pickle.dumps(other, protocol=5))).load()
