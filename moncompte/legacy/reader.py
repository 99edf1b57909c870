"""Reading the legacy export (DESIGN §6): the file, its header and its lines cut into fields.

What the reader refuses is about the file's form, never about a value: an unreadable or empty file or a wrong
header stops everything (`LegacyFileError`); a line too long, not UTF-8, badly quoted or with the wrong number of
columns is a problem of that line only, which validation reports with the others. Messages never repeat a field's
value: the file holds NIRs, PINs and names, and the report ends up in terminals and logs.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

COLUMNS = (
    "numero_allocataire",
    "mot_de_passe_dossier",
    "role",
    "nir",
    "nom_naissance",
    "nom_usage",
    "prenoms",
    "date_naissance",
    "sexe",
    "lieu_naissance",
    "pays_naissance",
    "email",
    "telephone_mobile",
)
HEADER = ";".join(COLUMNS)
#: A legacy row is about 150 bytes; anything far longer is a broken line, refused before parsing.
MAX_LINE_BYTES = 2048
_BOM = b"\xef\xbb\xbf"


class LegacyFileError(Exception):
    """The file as a whole cannot be imported (unreadable, empty, wrong header): nothing was written."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Line:
    """One non-blank line after the header: its number in the file, its fields and what is wrong with its form.

    With problems, `fields` is the reader's best guess (cut at every `;`), enough to find the case number."""

    number: int
    fields: list[str]
    problems: list[str]


def read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise LegacyFileError("fichier introuvable.") from None
    except IsADirectoryError:
        raise LegacyFileError("ce chemin est un répertoire, pas un fichier.") from None
    except PermissionError:
        raise LegacyFileError("lecture du fichier non autorisée.") from None
    except OSError as exc:
        raise LegacyFileError(f"impossible de lire le fichier (erreur système {exc.errno}).") from None


def read_lines(data: bytes) -> Iterator[Line]:
    """Check the header, then yield every non-blank line. Raises LegacyFileError if the file is empty or its header
    is not HEADER (a BOM is tolerated, and so are CRLF line ends)."""
    lines = data.removeprefix(_BOM).split(b"\n")
    if lines and not lines[-1]:
        lines.pop()
    if not lines or not lines[0].strip():
        raise LegacyFileError(f"le fichier est vide : l'en-tête {HEADER} est attendu en ligne 1.")
    _check_header(lines[0].removesuffix(b"\r"))

    for number, raw in enumerate(lines[1:], start=2):
        raw = raw.removesuffix(b"\r")
        if not raw.strip():
            continue
        problems: list[str] = []
        if len(raw) > MAX_LINE_BYTES:
            problems.append(f"ligne trop longue ({len(raw)} octets, {MAX_LINE_BYTES} au plus)")
            text = raw[:MAX_LINE_BYTES].decode("utf-8", "replace")
        else:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                problems.append(
                    f"caractère non UTF-8 (octet n° {exc.start + 1} de la ligne) : encodez le fichier en UTF-8"
                )
                text = raw.decode("utf-8", "replace")
        fields = _split_fields(text)
        if fields is None:
            problems.append("guillemet mal placé ou non fermé")
            fields = text.split(";")
        elif len(fields) != len(COLUMNS) and not problems:
            problems.append(f"{len(fields)} colonne(s) au lieu de {len(COLUMNS)}")
        yield Line(number, fields, problems)


def _split_fields(text: str) -> list[str] | None:
    try:
        return next(csv.reader([text], delimiter=";", quotechar='"', strict=True))
    except (csv.Error, StopIteration):
        return None


def _check_header(first_line: bytes) -> None:
    expected = f"ligne 1 : l'en-tête ne correspond pas au format attendu ({HEADER})"
    try:
        header = first_line.decode("utf-8")
    except UnicodeDecodeError:
        raise LegacyFileError(f"{expected} : caractères non UTF-8.") from None
    if header == HEADER:
        return
    names = header.split(";")
    if len(names) != len(COLUMNS):
        raise LegacyFileError(
            f"{expected} : {len(COLUMNS)} colonnes séparées par des points-virgules attendues, "
            f"{len(names)} trouvée(s)."
        )
    position = next(index for index, (found, wanted) in enumerate(zip(names, COLUMNS, strict=True)) if found != wanted)
    raise LegacyFileError(f"{expected} : la colonne {position + 1} doit s'appeler « {COLUMNS[position]} ».")
