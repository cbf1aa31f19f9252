"""What a file really is, from its bytes, not its name."""

from __future__ import annotations

import stat
from pathlib import Path

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
ENCRYPTED = "EncryptedPackage".encode("utf-16-le")
OLE_SCAN_BYTES = 64 * 2**20  # an encrypted workbook's directory is within its first 64 MiB
LOCK_FILE_SIZES = (162, 165)  # Word, Excel « owner » files (~$name)


def sniff_file(path: Path) -> str | None:
    """``None`` for a zip archive (look inside with ``sniff_zip_kind``); otherwise a French
    description of what the file is, for the message that refuses it."""
    try:
        info = path.stat()
    except OSError as exc:
        return f"lecture impossible ({exc.strerror or exc})"
    if stat.S_ISDIR(info.st_mode):
        return "c'est un dossier, pas un fichier"
    if not stat.S_ISREG(info.st_mode):  # a pipe or a device would block or never end
        return "ce n'est pas un fichier ordinaire (tube, périphérique ou socket)"
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError as exc:
        return f"lecture impossible ({exc.strerror or exc})"
    if not head:
        return "le fichier est vide"
    if head.startswith(ZIP_MAGIC):
        return None
    if head.startswith(OLE_MAGIC):
        if _ole_is_encrypted(path):
            return (
                "classeur protégé par mot de passe : enregistrez-le sans mot de passe "
                "(Fichier > Informations > Protéger le classeur)"
            )
        return (
            "ancien format Excel .xls : enregistrez-le au format .xlsx (Fichier > Enregistrer sous)"
        )
    if _is_lock_file(path, head):
        user = head[1 : 1 + head[0]].decode("cp1252", "replace").strip()
        workbook = (
            f"que le classeur « {path.name[2:]} »"
            if path.name.startswith("~$")
            else "qu'un classeur"
        )
        by = f" par « {user} »" if user.isprintable() and user else ""
        return (
            f"fichier de verrouillage d'Excel : il signale seulement {workbook} est "
            f"ouvert{by} ; ce n'est pas un classeur, ne l'envoyez pas"
        )
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return (
            "fichier texte Unicode (export « Texte Unicode » ?) renommé : ouvrez-le dans Excel "
            "et enregistrez-le au format .xlsx"
        )
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html", b"<table")) or b"<html" in text[:512]:
        return "page HTML renommée : ouvrez-la dans Excel et enregistrez-la au format .xlsx"
    if text.startswith(b"<?xml"):
        return "fichier XML (Excel 2003 ?) : enregistrez-le au format .xlsx"
    if text.startswith(b"%pdf"):
        return "document PDF, pas un classeur"
    if _looks_like_text(head):
        return (
            "fichier texte (CSV ?) renommé : ouvrez-le dans Excel et enregistrez-le au format .xlsx"
        )
    return "format inconnu : ce n'est pas un classeur Excel .xlsx"


def _ole_is_encrypted(path: Path) -> bool:
    """An OLE container holding an ``EncryptedPackage`` stream is an encrypted OOXML workbook;
    the name is in the directory, wherever its sectors are: scan, in blocks that overlap."""
    overlap = len(ENCRYPTED) - 1
    tail = b""
    read = 0
    with path.open("rb") as handle:
        while read < OLE_SCAN_BYTES:
            block = handle.read(1 << 20)
            if not block:
                return False
            read += len(block)
            if ENCRYPTED in tail + block:
                return True
            tail = block[-overlap:]
    return False


def _is_lock_file(path: Path, head: bytes) -> bool:
    """Excel's « owner » file: ``~$`` and the workbook's name; 165 bytes: the length of the
    user's name, the name, spaces, then the name again in UTF-16."""
    if path.name.startswith("~$") and len(head) <= 1024:
        return True
    if len(head) not in LOCK_FILE_SIZES or not 0 < head[0] <= 53:
        return False
    name = head[1 : 1 + head[0]].decode("cp1252", "replace")
    return name.isprintable() and name.encode("utf-16-le") in head[1 + head[0] :]


def _looks_like_text(head: bytes) -> bool:
    for encoding in ("utf-8", "cp1252"):
        try:
            decoded = head.decode(encoding)
        except UnicodeDecodeError:
            continue
        printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in decoded)
        return printable >= 0.95 * len(decoded)
    return False


def sniff_zip_kind(names: list[str], content_types: str) -> str:
    """ "xlsx", or a French description of the other kind of zip archive."""
    members = set(names)
    if "content.xml" in members and "META-INF/manifest.xml" in members:
        return "tableur OpenDocument (.ods) : enregistrez-le au format Excel .xlsx"
    if any(n.endswith(".bin") and n.startswith("xl/") and "workbook" in n for n in members):
        return "classeur binaire .xlsb : enregistrez-le au format .xlsx"
    if "macroEnabled" in content_types or any(n.endswith("vbaProject.bin") for n in members):
        # Excel itself refuses to open a macro workbook named .xlsx: the sender must resave it.
        return "classeur avec macros (.xlsm) renommé : enregistrez-le au format .xlsx sans macros"
    if "word/document.xml" in members:
        return "document Word, pas un classeur"
    if "ppt/presentation.xml" in members:
        return "présentation PowerPoint, pas un classeur"
    if "_rels/.rels" not in members or not any(n.startswith("xl/") for n in members):
        return "archive zip qui n'est pas un classeur Excel"
    return "xlsx"
