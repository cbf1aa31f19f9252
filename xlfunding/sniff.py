"""What a file really is, from its bytes, not its name."""

from __future__ import annotations

from pathlib import Path

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def sniff_file(path: Path) -> str | None:
    """``None`` for a zip archive (look inside with ``sniff_zip_kind``); otherwise a French
    description of what the file is, for the message that refuses it."""
    if path.is_dir():
        return "c'est un dossier, pas un fichier"
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
        with path.open("rb") as handle:
            body = handle.read(1 << 20)
        if "EncryptedPackage".encode("utf-16-le") in body:
            return (
                "classeur protégé par mot de passe : enregistrez-le sans mot de passe "
                "(Fichier > Informations > Protéger le classeur)"
            )
        return (
            "ancien format Excel .xls : enregistrez-le au format .xlsx (Fichier > Enregistrer sous)"
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
        return "classeur avec macros (.xlsm) renommé : enregistrez-le au format .xlsx sans macros"
    if "word/document.xml" in members:
        return "document Word, pas un classeur"
    if "_rels/.rels" not in members or not any(n.startswith("xl/") for n in members):
        return "archive zip qui n'est pas un classeur Excel"
    return "xlsx"
