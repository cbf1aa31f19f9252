"""Fuzz (#6): random damage to the bundled templates always ends in actions read (a Report) or
in a clear problem (an ``UnreadableFile`` naming the file, in French) — never any other
exception.

Three kinds of damage: bytes of the file itself (flipped, inserted, deleted, truncated); bytes
and values inside one XML part, re-zipped; and one cell of the actions table given a random
type and value. Bounded and stable for CI: a fixed seed, 60 examples each.
"""

from __future__ import annotations

import io
import re
import tempfile
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from xlfunding.errors import UnreadableFile, XlfundingError
from xlfunding.problems import Report
from xlfunding.settings import load_settings
from xlfunding.validate import validate_file
from xlfunding.write.corrections import write_corrections

ROOT = Path(__file__).parent.parent
SOURCES = {p.name: p.read_bytes() for p in (
    ROOT / "templates" / "modele-2025.xlsx",
    ROOT / "examples" / "retours" / "ccas-2025.xlsx",
    ROOT / "examples" / "retours" / "ville-2025.xlsx",
)}
SETTINGS = load_settings()
FUZZ = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def answer(data: bytes, name: str = "retour.xlsx") -> str:
    """What validate_file says of these bytes: "read", or the code of a clear refusal. Any
    other exception fails the test."""
    with tempfile.TemporaryDirectory(prefix="xlfunding-fuzz-") as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            report = validate_file(path, SETTINGS)
        except UnreadableFile as exc:
            assert str(exc).startswith(f"{path} : {type(exc).__doc__.rstrip('.')}")
            return exc.code
    assert isinstance(report, Report)
    return "read"


# -- damage ------------------------------------------------------------------------------------

@st.composite
def damaged(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` with 1 to 6 flips, insertions, deletions or a truncation, at random places."""
    buffer = bytearray(data)
    for _ in range(draw(st.integers(1, 6))):
        if not buffer:
            break
        at = int(draw(st.floats(0, 1, exclude_max=True)) * len(buffer))
        kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "overwrite"]))
        if kind == "flip":
            buffer[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "insert":
            buffer[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete":
            del buffer[at : at + draw(st.integers(1, 64))]
        elif kind == "truncate":
            del buffer[at:]
        else:
            chunk = draw(st.binary(min_size=1, max_size=8))
            buffer[at : at + len(chunk)] = chunk
    return bytes(buffer)


def rezip(source: bytes, part: str, content: bytes, *, stored: bool = False) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(source)) as old, zipfile.ZipFile(
            out, "w", zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            new.writestr(info.filename, content if info.filename == part else old.read(info))
    return out.getvalue()


def parts(source: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(source)) as archive:
        return {n: archive.read(n) for n in archive.namelist() if n.endswith((".xml", ".rels"))}


# what people and programs put in cells, attributes and numbers
WEIRD_TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", " ", "-1", "1e308", "1e-400", "NaN", "inf", "1_000", "٣", "²", "0x10",
                     "A0", "XFD1048577", "AAAA1", "1048577", "-0", "=1+1", "#REF!", "&amp;",
                     "4 500,00 €", "1,234.56", "\u00a0", "true", "99999999999999999999"]),
    st.from_regex(r"[A-Z]{1,4}[0-9]{0,8}", fullmatch=True),
)
_VALUES = re.compile(rb'="[^"]*"|>[^<]+<')


@st.composite
def value_edited(draw: st.DrawFn, xml: bytes) -> bytes:
    """One attribute value or text node of ``xml`` replaced by a weird text."""
    spots = list(_VALUES.finditer(xml))
    if not spots:
        return xml
    spot = draw(st.sampled_from(spots))
    text = draw(WEIRD_TEXT)
    if spot.group().startswith(b"="):
        new = b"=" + quoteattr(text.replace('"', "'")).encode("utf-8", "surrogatepass")
    else:
        new = b">" + escape(text).encode("utf-8", "surrogatepass") + b"<"
    return xml[: spot.start()] + new + xml[spot.end() :]


CELL_TYPES = st.sampled_from([None, "n", "s", "str", "b", "e", "d", "inlineStr", "bogus"])


@st.composite
def cell_xml(draw: st.DrawFn, ref: str) -> bytes:
    kind = draw(CELL_TYPES)
    value = draw(st.none() | WEIRD_TEXT)
    formula = draw(st.none() | st.sampled_from(["E5-G5", "SUM(A1:A2)", "", "1/0"]))
    attrs = f' r="{ref}"' + (f' t="{kind}"' if kind else "")
    inner = f"<f>{escape(formula)}</f>" if formula is not None else ""
    if kind == "inlineStr" and value is not None:
        inner += f"<is><t>{escape(value)}</t></is>"
    elif value is not None:
        inner += f"<v>{escape(value)}</v>"
    return f"<c{attrs}>{inner}</c>".encode("utf-8", "surrogatepass")


# -- the properties ----------------------------------------------------------------------------

@FUZZ
@given(st.sampled_from(sorted(SOURCES)).flatmap(lambda n: damaged(SOURCES[n])))
def test_damaged_bytes_are_read_or_refused_clearly(data: bytes) -> None:
    assert answer(data) in {"read", "not-an-xlsx", "unreadable-file", "hostile-file",
                            "not-a-template", "wrong-programme"}


@st.composite
def damaged_part(draw: st.DrawFn) -> bytes:
    source = SOURCES[draw(st.sampled_from(sorted(SOURCES)))]
    xml = parts(source)
    name = draw(st.sampled_from(sorted(xml)))
    how = draw(st.sampled_from(["bytes", "value", "value", "value"]))
    content = draw(damaged(xml[name]) if how == "bytes" else value_edited(xml[name]))
    return rezip(source, name, content, stored=draw(st.booleans()))


@FUZZ
@given(damaged_part())
def test_damaged_xml_parts_are_read_or_refused_clearly(data: bytes) -> None:
    assert answer(data) in {"read", "not-an-xlsx", "unreadable-file", "hostile-file",
                            "not-a-template", "wrong-programme"}


@st.composite
def damaged_cell(draw: st.DrawFn) -> bytes:
    name = draw(st.sampled_from(sorted(SOURCES)))
    source = SOURCES[name]
    sheet = parts(source)["xl/worksheets/sheet1.xml"]
    refs = re.findall(rb'<c r="([A-Q][4-9])"', sheet)
    ref = draw(st.sampled_from(refs)).decode()
    pattern = re.compile(rb'<c r="' + ref.encode() + rb'"(?:\s[^>]*?)?(?:/>|>.*?</c>)', re.S)
    new = draw(cell_xml(ref))
    return rezip(source, "xl/worksheets/sheet1.xml",
                 pattern.sub(lambda _: new, sheet, count=1))


@FUZZ
@given(damaged_cell())
def test_any_cell_value_is_read_or_refused_clearly(data: bytes) -> None:
    assert answer(data) in {"read", "unreadable-file"}


@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")  # a 75 kB repr
@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          phases=[Phase.generate], suppress_health_check=list(HealthCheck))
@given(damaged_part())
def test_a_readable_file_gets_its_corrections_copy_or_a_clear_refusal(data: bytes) -> None:
    with tempfile.TemporaryDirectory(prefix="xlfunding-fuzz-") as folder:
        path = Path(folder) / "retour.xlsx"
        path.write_bytes(data)
        try:
            report = validate_file(path, SETTINGS)
        except UnreadableFile:
            return
        try:
            write_corrections(path, report, Path(folder) / "copie.xlsx")
        except XlfundingError as exc:
            assert str(exc).startswith(f"{path} : ")
