"""Supporting documents: what a file is, told by its content (never by its name or the browser's word), and where
it is kept (Django's storage API, under a random name)."""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from moncompte.lib.sizes import size_label

#: content type → extension; nothing else is accepted.
ACCEPTED = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}
_PNG = b"\x89PNG\r\n\x1a\n"


class DocumentRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Checked:
    content: bytes
    content_type: str
    original_name: str
    sha256: str

    @property
    def extension(self) -> str:
        return ACCEPTED[self.content_type]


def sniff(head: bytes, tail: bytes) -> str | None:
    """The type the bytes are, or None: a PDF starts with %PDF- and ends with %%EOF; a JPEG starts with the SOI marker
    and an APPn or DQT segment and ends with EOI; a PNG has its signature then an IHDR chunk and ends with IEND."""
    if head.startswith(b"%PDF-1.") or head.startswith(b"%PDF-2."):
        return "application/pdf" if b"%%EOF" in tail[-1024:] else None
    if head[:3] == b"\xff\xd8\xff" and head[3:4] in {b"\xe0", b"\xe1", b"\xdb", b"\xee", b"\xe2"}:
        return "image/jpeg" if tail.rstrip(b"\x00\r\n")[-2:] == b"\xff\xd9" else None
    if head.startswith(_PNG) and head[12:16] == b"IHDR":
        return "image/png" if tail[-8:-4] == b"IEND" else None
    return None


def clean_name(name: str) -> str:
    """The file's name as shown back to the person: no path, no control characters, at most 100 characters."""
    name = unicodedata.normalize("NFC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip() or _("document")
    return name[-100:]


def check(upload: UploadedFile) -> Checked:
    """The file if it is a PDF, JPEG or PNG of at most DOCUMENT_MAX_BYTES; DocumentRefused (in French) otherwise."""
    limit = settings.DOCUMENT_MAX_BYTES
    if upload.size is None or upload.size > limit:
        raise DocumentRefused(
            _("Le fichier « %(name)s » est trop lourd : %(limit)s au plus.")
            % {"name": clean_name(upload.name), "limit": size_label(limit)}
        )
    upload.seek(0)
    content = upload.read(limit + 1)
    if len(content) > limit:  # the announced size lied
        raise DocumentRefused(
            _("Le fichier « %(name)s » est trop lourd : %(limit)s au plus.")
            % {"name": clean_name(upload.name), "limit": size_label(limit)}
        )
    if not content:
        raise DocumentRefused(_("Le fichier « %(name)s » est vide.") % {"name": clean_name(upload.name)})
    content_type = sniff(content[:64], content[-2048:])
    if content_type is None:
        raise DocumentRefused(
            _(
                "Le fichier « %(name)s » n'est pas un PDF, une image JPEG ou PNG lisible (quel que soit son nom). "
                "Enregistrez votre document dans l'un de ces formats et déposez-le à nouveau."
            )
            % {"name": clean_name(upload.name)}
        )
    return Checked(content, content_type, clean_name(upload.name), hashlib.sha256(content).hexdigest())
