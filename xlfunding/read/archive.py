"""The defences of every package we open: zip bounds, and XML parsed in a bounded, defused stream.

Every XML part we read is parsed by the expat parser that defusedxml sets up: a DTD, an entity
declaration or an external reference raises, so no entity is ever expanded or fetched. Parts are
streamed from the zip in chunks into handlers (``parts``, ``sheetxml``) that keep only what we
use: no tree is built.

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
  (a million formatted empty rows, 2 million elements, read in about 3 s).
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from pyexpat import ExpatError
from typing import IO, Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import XMLParser as DefusedXMLParser

from xlfunding.errors import HostileFile, NotAnXlsx, UnreadableFile
from xlfunding.read.parts import Corrupt, Handler, Prolog, Stop

MiB = 2**20
MAX_MEMBERS = 10_000
MAX_DIRECTORY_BYTES = 2 * MiB
MAX_PART_BYTES = 256 * MiB
MAX_TOTAL_BYTES = 512 * MiB
MAX_RATIO = 200
MAX_PARSED_BYTES = 160 * MiB
MAX_ELEMENTS = 4_000_000
CHUNK = 64 * 1024
HEAD_BYTES = 512  # of each part, for its prolog

TOO_BIG = (
    "un modèle rempli en fait moins d'1 Mo ; supprimez les lignes et colonnes vides mises "
    "en forme sous le tableau, puis enregistrez-le de nouveau"
)
RESEND = "demandez à l'expéditeur de l'enregistrer de nouveau dans Excel et de le renvoyer"
# What taking a part out of the archive can raise, whatever its damage.
BROKEN = (zipfile.BadZipFile, zlib.error, OSError, EOFError, RuntimeError)


def spaced(number: int) -> str:
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


class Archive:
    """An open zip package, checked against the bounds above; its parts are parsed through
    ``parse``, which counts every byte and element. Use as a context manager."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.parsed_bytes = 0
        self.elements = 0
        check_directory(self.path)
        try:
            self.zip = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, struct.error) as exc:
            raise NotAnXlsx(self.path, "archive zip illisible ou tronquée") from exc
        try:
            self.names = set(self.zip.namelist())
            self._check_archive()
        except BaseException:
            self.zip.close()
            raise

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.zip.close()

    def _check_archive(self) -> None:
        infos = self.zip.infolist()
        if len(infos) > MAX_MEMBERS:
            raise HostileFile(
                self.path,
                f"l'archive a {spaced(len(infos))} parties (un classeur en a une vingtaine)",
            )
        if len(self.names) != len(infos):
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

    def check_prologs(self) -> None:
        """No XML part of the package may declare a DTD, not even one we never read: other
        readers of the same file (openpyxl for the corrections copy, Excel, LibreOffice) would.
        A DTD comes before the first element: a part whose first bytes are an XML declaration
        in UTF-8 and the start of an element has none; any other XML part is parsed up to
        its first element."""
        for info in self.zip.infolist():
            if info.is_dir() or info.file_size == 0:
                continue
            try:
                with self.open(info.filename) as handle:
                    head = handle.read(HEAD_BYTES)
            except BROKEN as exc:
                raise UnreadableFile(
                    self.path, broken(f"la partie « {info.filename} »", exc)
                ) from exc
            blank = not _without_bom(head).strip(b" \t\r\n")  # a DTD may come later
            if (blank and info.file_size > len(head)) or (
                _looks_like_xml(head) and not plain_prolog(head)
            ):
                self.read(info.filename, Prolog())

    def open(self, part: str) -> IO[bytes]:
        try:
            return self.zip.open(part)
        except KeyError as exc:
            raise UnreadableFile(self.path, f"la partie « {part} » manque") from exc
        except (*BROKEN, NotImplementedError, ValueError) as exc:
            raise UnreadableFile(self.path, broken(f"la partie « {part} »", exc)) from exc

    def parse(self, part: str, handler: Handler, label: str | None = None) -> Iterator[None]:
        """Stream ``part`` into ``handler``, yielding after each chunk so that a generator can
        hand out what the handler has gathered; a handler raising ``Stop`` ends the part."""
        label = label or f"la partie « {part} »"
        parser = _defused_expat()
        parser.StartElementHandler = handler.start
        parser.EndElementHandler = handler.end
        parser.CharacterDataHandler = handler.data
        handle = self.open(part)
        try:
            while True:
                chunk = handle.read(CHUNK)
                self.parsed_bytes += len(chunk)
                if self.parsed_bytes > MAX_PARSED_BYTES:
                    raise HostileFile(
                        self.path,
                        f"plus de {MAX_PARSED_BYTES // MiB} Mo de XML à lire ({label}) : "
                        + TOO_BIG,
                    )
                parser.Parse(chunk, not chunk)
                if self.elements + handler.elements > MAX_ELEMENTS:
                    raise HostileFile(
                        self.path,
                        f"plus de {spaced(MAX_ELEMENTS)} éléments XML à lire ({label}) : "
                        + TOO_BIG,
                    )
                yield
                if not chunk:
                    return
        except Stop:
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
                f" : {RESEND}",
            ) from exc
        except Corrupt as exc:
            raise UnreadableFile(self.path, f"{label} est abîmée ({exc}) : {RESEND}") from exc
        except LookupError as exc:  # an encoding Python does not know: <?xml encoding="A"?>
            raise UnreadableFile(
                self.path, f"{label} est abîmée (encodage inconnu) : {RESEND}"
            ) from exc
        except BROKEN as exc:
            raise UnreadableFile(self.path, broken(label, exc)) from exc
        finally:
            self.elements += handler.elements
            handle.close()

    def read(self, part: str, handler: Handler) -> None:
        for _ in self.parse(part, handler):
            pass


def check_directory(path: Path) -> None:
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
            path, f"l'archive annonce {spaced(entries)} parties (un classeur en a une vingtaine)"
        )
    if directory > MAX_DIRECTORY_BYTES:
        raise HostileFile(
            path,
            f"le répertoire de l'archive fait {spaced(directory)} octets (celui d'un classeur, "
            "quelques milliers)",
        )


def broken(label: str, exc: BaseException) -> str:
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
    return f"{label} est illisible ({why}) : {RESEND}"


_PLAIN_PROLOG = re.compile(rb"(?:\xef\xbb\xbf)?[ \t\r\n]*(<\?xml\b[^<>]*\?>)?[ \t\r\n]*<[A-Za-z_]")
_UTF8 = re.compile(rb"""\bencoding\s*=\s*["']utf-8["']""", re.IGNORECASE)


def plain_prolog(head: bytes) -> bool:
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
