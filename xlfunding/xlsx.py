"""A small, defensive reader of .xlsx cells: values, formulas, errors, defined names.

Why not openpyxl here: we need to know, for each cell, whether it holds a formula *and* whether
that formula has a saved value (openpyxl answers one or the other per load), and we must stay
bounded on hostile files.

Every XML part we read (``[Content_Types].xml``, ``_rels/.rels``, the workbook and its rels,
the shared strings, each sheet) is parsed by the expat parser that defusedxml sets up: a DTD,
an entity declaration or an external reference raises, so no entity is ever expanded or
fetched. Parts are streamed from the zip in chunks into handlers (``xlsx_parts``) that keep
only what we use: no tree is built, and no grid is allocated from the sheet's declared
dimension, so a cell at XFD1048576 costs nothing and a million formatted empty rows cost a few
seconds, no memory.

Bounds (each refusal is a ``HostileFile`` naming the file):

* the zip directory holds at most ``MAX_MEMBERS`` entries in ``MAX_DIRECTORY_BYTES``, checked
  from the end-of-directory record *before* ``zipfile`` indexes it (a million entries would
  take 5 s and 500 MB);
* each part declares at most ``MAX_PART_BYTES`` uncompressed, all parts ``MAX_TOTAL_BYTES``,
  and a part above 1 MiB compresses at most ``MAX_RATIO`` to 1 (a zip bomb's run of spaces
  compresses 1000 to 1); ``zipfile`` never inflates a part beyond its declared size and checks
  its CRC, so a header that lies about sizes ends in a corrupt part, not in a flood;
* at most ``MAX_PARSED_BYTES`` of XML and ``MAX_ELEMENTS`` elements are parsed per file, all
  parts and passes together: this bounds the time of any file that passed the checks above
  (a million formatted empty rows, 2 million elements, read in about 3 s);
* at most ``MAX_DATA_ROWS`` rows and ``MAX_DATA_CELLS`` cells with a value per sheet (the
  template has 300 rows; checking 10 000 actions takes about 1.5 s).
"""

from __future__ import annotations

import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from pyexpat import ExpatError
from typing import IO, Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import XMLParser as DefusedXMLParser

from xlfunding.errors import HostileFile, NotAnXlsx, UnreadableFile
from xlfunding.layout import column_index
from xlfunding.sniff import sniff_zip_kind

# Excel's grid, cells and their references are defined with the handlers that read them, and
# imported from here as before.
from xlfunding.xlsx_parts import MAX_COLUMN as MAX_COLUMN
from xlfunding.xlsx_parts import MAX_ROW as MAX_ROW
from xlfunding.xlsx_parts import (
    Cell,
    _Attributes,
    _Corrupt,
    _Handler,
    _Prolog,
    _Relationships,
    _SharedStrings,
    _Sheet,
    _Stop,
    _Workbook,
)
from xlfunding.xlsx_parts import split_ref as split_ref
from xlfunding.xlsx_parts import unescape as unescape

MiB = 2**20
MAX_MEMBERS = 10_000
MAX_DIRECTORY_BYTES = 2 * MiB
MAX_PART_BYTES = 256 * MiB
MAX_TOTAL_BYTES = 512 * MiB
MAX_RATIO = 200
MAX_PARSED_BYTES = 160 * MiB
MAX_ELEMENTS = 4_000_000
MAX_DATA_ROWS = 10_000
MAX_DATA_CELLS = 200_000
CHUNK = 64 * 1024
HEAD_BYTES = 512  # of each part, for its prolog

_TOO_BIG = (
    "un modèle rempli en fait moins d'1 Mo ; supprimez les lignes et colonnes vides mises "
    "en forme sous le tableau, puis enregistrez-le de nouveau"
)


@dataclass(frozen=True)
class SheetInfo:
    name: str
    state: str  # visible | hidden | veryHidden
    part: str  # path of its XML inside the zip


def _spaced(number: int) -> str:
    """4000000 -> "4 000 000" (no-break spaces, as French writes numbers)."""
    return f"{number:,}".replace(",", "\u00a0")


def _defused_expat() -> Any:
    """The expat parser as defusedxml configures it (a DTD, an entity declaration, an external
    reference: each raises a ``DefusedXmlException``); our handlers replace the tree builder."""
    defused = DefusedXMLParser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    parser = defused.parser
    assert parser.StartDoctypeDeclHandler == defused.defused_start_doctype_decl
    assert parser.EntityDeclHandler == defused.defused_entity_decl
    assert parser.ExternalEntityRefHandler == defused.defused_external_entity_ref_handler
    parser.ordered_attributes = False
    parser.buffer_text = True
    return parser


class XlsxFile:
    """An open .xlsx: use as a context manager; read sheets one at a time."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.parsed_bytes = 0
        self.elements = 0
        self.hidden_rows: dict[str, set[int]] = {}  # sheet part -> rows marked hidden
        _check_directory(self.path)
        try:
            self.zip = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, struct.error) as exc:
            raise NotAnXlsx(self.path, "archive zip illisible ou tronquée") from exc
        try:
            self._names = set(self.zip.namelist())
            self._check_archive()
            kind = sniff_zip_kind(self.zip.namelist(), self._content_types())
            if kind != "xlsx":
                raise NotAnXlsx(self.path, kind)
            self._check_prologs()
            self.workbook_part = self._main_part()
            self.sheets, self.defined_names = self._workbook()
            self._strings: list[str] | None = None
        except BaseException:
            self.zip.close()
            raise

    def __enter__(self) -> XlsxFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.zip.close()

    # -- archive and parts -------------------------------------------------------------------
    def _check_archive(self) -> None:
        infos = self.zip.infolist()
        if len(infos) > MAX_MEMBERS:
            raise HostileFile(
                self.path,
                f"l'archive a {_spaced(len(infos))} parties (un classeur en a une vingtaine)",
            )
        if len(self._names) != len(infos):
            raise HostileFile(
                self.path, "deux parties de l'archive portent le même nom (archive falsifiée)"
            )
        total = 0
        for info in infos:
            total += info.file_size
            if info.file_size > MAX_PART_BYTES:
                raise HostileFile(
                    self.path,
                    f"la partie « {info.filename} » ferait "
                    f"{info.file_size // MiB} Mo une fois décompressée",
                )
            if info.file_size > MiB and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise HostileFile(
                    self.path,
                    f"la partie « {info.filename} » est une bombe de décompression (taux anormal)",
                )
        if total > MAX_TOTAL_BYTES:
            raise HostileFile(self.path, f"le contenu ferait {total // MiB} Mo décompressé")

    def _check_prologs(self) -> None:
        """No XML part of the package may declare a DTD, not even one we never read: other
        readers of the same file (openpyxl for the corrections copy, Excel, LibreOffice) would.
        A DTD comes before the first element: a part whose first bytes are an XML declaration
        in UTF-8 and the start of an element has none; any other XML part is parsed up to
        its first element."""
        for info in self.zip.infolist():
            if info.is_dir() or info.file_size == 0:
                continue
            try:
                with self._open(info.filename) as handle:
                    head = handle.read(HEAD_BYTES)
            except _BROKEN as exc:
                raise UnreadableFile(
                    self.path, _broken(f"la partie « {info.filename} »", exc)
                ) from exc
            blank = not _without_bom(head).strip(b" \t\r\n")  # a DTD may come later
            if (blank and info.file_size > len(head)) or (
                _looks_like_xml(head) and not _plain_prolog(head)
            ):
                self._read(info.filename, _Prolog())

    def _open(self, part: str) -> IO[bytes]:
        try:
            return self.zip.open(part)
        except KeyError as exc:
            raise UnreadableFile(self.path, f"la partie « {part} » manque") from exc
        except (*_BROKEN, NotImplementedError, ValueError) as exc:
            raise UnreadableFile(self.path, _broken(f"la partie « {part} »", exc)) from exc

    def _parse(self, part: str, handler: _Handler, label: str | None = None) -> Iterator[None]:
        """Stream ``part`` into ``handler``, yielding after each chunk so that a generator can
        hand out what the handler has gathered; a handler raising ``_Stop`` ends the part."""
        label = label or f"la partie « {part} »"
        parser = _defused_expat()
        parser.StartElementHandler = handler.start
        parser.EndElementHandler = handler.end
        parser.CharacterDataHandler = handler.data
        handle = self._open(part)
        try:
            while True:
                chunk = handle.read(CHUNK)
                self.parsed_bytes += len(chunk)
                if self.parsed_bytes > MAX_PARSED_BYTES:
                    raise HostileFile(
                        self.path,
                        f"plus de {MAX_PARSED_BYTES // MiB} Mo de XML à lire ({label}) : "
                        + _TOO_BIG,
                    )
                parser.Parse(chunk, not chunk)
                if self.elements + handler.elements > MAX_ELEMENTS:
                    raise HostileFile(
                        self.path,
                        f"plus de {_spaced(MAX_ELEMENTS)} éléments XML à lire ({label}) : "
                        + _TOO_BIG,
                    )
                yield
                if not chunk:
                    return
        except _Stop:
            return
        except DefusedXmlException as exc:
            raise HostileFile(
                self.path,
                f"{label} déclare une DTD ou des entités XML, refusées par sécurité",
            ) from exc
        except ExpatError as exc:
            raise UnreadableFile(
                self.path,
                f"{label} est abîmée (XML mal formé, ligne {exc.lineno}, colonne {exc.offset})"
                f" : {_RESEND}",
            ) from exc
        except _Corrupt as exc:
            raise UnreadableFile(self.path, f"{label} est abîmée ({exc}) : {_RESEND}") from exc
        except LookupError as exc:  # an encoding Python does not know: <?xml encoding="A"?>
            raise UnreadableFile(
                self.path, f"{label} est abîmée (encodage inconnu) : {_RESEND}"
            ) from exc
        except _BROKEN as exc:
            raise UnreadableFile(self.path, _broken(label, exc)) from exc
        finally:
            self.elements += handler.elements
            handle.close()

    def _read(self, part: str, handler: _Handler) -> None:
        for _ in self._parse(part, handler):
            pass

    def _content_types(self) -> str:
        """The content types the package declares, one a line ("" when the part is missing)."""
        if "[Content_Types].xml" not in self._names:
            return ""
        handler = _Attributes("ContentType", ("Default", "Override"))
        self._read("[Content_Types].xml", handler)
        return "\n".join(handler.found)

    def _main_part(self) -> str:
        if "_rels/.rels" not in self._names:
            raise NotAnXlsx(self.path, "aucun classeur dans l'archive")
        handler = _Relationships()
        self._read("_rels/.rels", handler)
        for kind, target, _ in handler.found:
            if kind.endswith("/officeDocument"):
                return target.lstrip("/")
        raise NotAnXlsx(self.path, "aucun classeur dans l'archive")

    def _rels(self, part: str) -> dict[str, str]:
        folder, name = posixpath.split(part)
        rels_part = posixpath.join(folder, "_rels", name + ".rels")
        targets: dict[str, str] = {}
        if rels_part not in self._names:
            return targets
        handler = _Relationships()
        self._read(rels_part, handler)
        for _, target, rid in handler.found:
            if target.startswith("/"):
                full = target.lstrip("/")
            else:
                full = posixpath.normpath(posixpath.join(folder, target))
            targets[rid] = full
        return targets

    def _workbook(self) -> tuple[list[SheetInfo], dict[str, list[tuple[str, int | None]]]]:
        self._workbook_rels = rels = self._rels(self.workbook_part)
        handler = _Workbook()
        self._read(self.workbook_part, handler)
        sheets = [
            SheetInfo(name, state, rels[rid])
            for name, state, rid in handler.sheets
            if rels.get(rid) in self._names
        ]
        if not sheets:
            raise NotAnXlsx(self.path, "le classeur n'a aucune feuille")
        return sheets, handler.names

    def sheet(self, name: str) -> SheetInfo | None:
        return next((s for s in self.sheets if s.name == name), None)

    # -- values ------------------------------------------------------------------------------
    @property
    def strings(self) -> list[str]:
        if self._strings is None:
            self._strings = self._read_strings()
        return self._strings

    def _read_strings(self) -> list[str]:
        rels = self._workbook_rels
        part = next((p for p in rels.values() if p.endswith("sharedStrings.xml")), None)
        if part is None or part not in self._names:
            return []
        handler = _SharedStrings()
        self._read(part, handler)
        return handler.strings

    def rows(self, sheet: SheetInfo) -> Iterator[tuple[int, dict[str, Cell]]]:
        """Yield (row number, {column letters: Cell}) for each row that has a cell with data,
        in order. Rows marked hidden are noted in ``hidden_rows[sheet.part]``."""
        handler = _Sheet(self.strings, self.hidden_rows.setdefault(sheet.part, set()))
        for _ in self._parse(sheet.part, handler, f"la feuille « {sheet.name} »"):
            yield from self._gathered(handler, sheet)
        yield from self._gathered(handler, sheet)  # those of the chunk that closed sheetData

    def value_rows(self, sheet: SheetInfo) -> Iterator[tuple[int, list[object]]]:
        """Like ``rows``, each row as a list by column (A first): a text, a number (``Decimal``
        here, ``float`` from the fast engine), a boolean, None or "" when empty, or the
        ``Cell`` itself for an error or a formula without a saved value."""
        for number, cells in self.rows(sheet):
            placed = {column_index(letter): cell for letter, cell in cells.items()}
            values: list[object] = [None] * (max(placed) + 1)
            for index, cell in placed.items():
                values[index] = cell if cell.kind in (None, "e") else cell.value
            yield number, values

    def check_data_size(self, sheet: SheetInfo, rows: int, cells: int) -> None:
        if rows > MAX_DATA_ROWS or cells > MAX_DATA_CELLS:
            raise HostileFile(
                self.path,
                f"la feuille « {sheet.name} » a plus de {_spaced(MAX_DATA_ROWS)} lignes ou "
                f"{_spaced(MAX_DATA_CELLS)} cellules remplies, un modèle en a quelques "
                "centaines : ne gardez dans le classeur que le tableau des actions",
            )

    def _gathered(self, handler: _Sheet, sheet: SheetInfo) -> list[tuple[int, dict[str, Cell]]]:
        self.check_data_size(sheet, handler.rows, handler.cells)
        ready, handler.ready = handler.ready, []
        return ready


def _check_directory(path: Path) -> None:
    """Refuse a zip whose directory lists more than ``MAX_MEMBERS`` entries or is larger than
    ``MAX_DIRECTORY_BYTES``, reading only its end-of-central-directory record (and the zip64
    one it points to), before ``zipfile`` indexes every entry."""
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, 2)
            handle.seek(max(0, size - (65_535 + 22)))
            tail = handle.read()
            at = tail.rfind(b"PK\x05\x06")
            if at < 0 or len(tail) < at + 22:
                return  # zipfile will say the archive is unreadable
            entries, directory = struct.unpack_from("<HI", tail, at + 10)
            if at >= 20 and tail[at - 20 : at - 16] == b"PK\x06\x07":
                (offset,) = struct.unpack_from("<Q", tail, at - 20 + 8)
                handle.seek(offset)
                record = handle.read(56)
                if record[:4] == b"PK\x06\x06" and len(record) == 56:
                    entries, directory = struct.unpack_from("<QQ", record, 32)
    except (OSError, struct.error, ValueError, OverflowError):
        return  # zipfile will say what is wrong
    if entries > MAX_MEMBERS:
        raise HostileFile(
            path, f"l'archive annonce {_spaced(entries)} parties (un classeur en a une vingtaine)"
        )
    if directory > MAX_DIRECTORY_BYTES:
        raise HostileFile(
            path,
            f"le répertoire de l'archive fait {_spaced(directory)} octets (celui d'un classeur, "
            "quelques milliers)",
        )


_BROKEN = (zipfile.BadZipFile, zlib.error, OSError, EOFError, RuntimeError)
_RESEND = "demandez à l'expéditeur de l'enregistrer de nouveau dans Excel et de le renvoyer"


def _broken(label: str, exc: BaseException) -> str:
    """Why a part cannot be taken out of the archive, in French."""
    if isinstance(exc, zipfile.BadZipFile):
        why = "contrôle d'intégrité en échec : archive abîmée ou falsifiée"
    elif isinstance(exc, zlib.error):
        why = "données compressées invalides"
    elif isinstance(exc, EOFError):
        why = "archive tronquée"
    elif isinstance(exc, RuntimeError) and "encrypted" in str(exc):
        why = "partie chiffrée"
    elif isinstance(exc, NotImplementedError):
        why = "méthode de compression inconnue d'Excel"
    else:
        why = type(exc).__name__
    return f"{label} est illisible ({why}) : {_RESEND}"


_PLAIN_PROLOG = re.compile(rb"(?:\xef\xbb\xbf)?[ \t\r\n]*(<\?xml\b[^<>]*\?>)?[ \t\r\n]*<[A-Za-z_]")
_UTF8 = re.compile(rb"""\bencoding\s*=\s*["']utf-8["']""", re.IGNORECASE)


def _plain_prolog(head: bytes) -> bool:
    """The part starts with an element, after at most an XML declaration in UTF-8: no room
    for a DTD (which must come before the first element)."""
    match = _PLAIN_PROLOG.match(head)
    if match is None:
        return False
    declaration = match[1] or b""
    return b"encoding" not in declaration or _UTF8.search(declaration) is not None


_XML_SPACES = b" \t\r\n\x00"  # the spaces XML allows, and the zero bytes of UTF-16


def _without_bom(head: bytes) -> bytes:
    for bom in (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"):
        if head.startswith(bom):
            return head[len(bom) :]
    return head


def _looks_like_xml(head: bytes) -> bool:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    return _without_bom(head).lstrip(_XML_SPACES).startswith(b"<")
