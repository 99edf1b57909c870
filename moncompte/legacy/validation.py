"""Validating the legacy export (DESIGN §6): each row's fields, then the rules across the rows of a case and of a NIR.

Validation covers the whole file before anything is written: every row is checked, every error is reported as
"ligne N : message", and a case with any bad row is not imported at all (its other rows are reported as
"dossier non importé : erreur ligne N"). Messages never repeat a field's value (see reader.py). Mobile numbers are
read by `identity.phones`, the same rule as on the web.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils import timezone

from moncompte.households.models import Role
from moncompte.identity.models import FRANCE, PERSON_DATA_FIELDS
from moncompte.identity.nir import NirError, parse_nir
from moncompte.identity.phones import PhoneError, parse_mobile
from moncompte.legacy.reader import read_lines

ROLES = {"allocataire": Role.HOLDER, "conjoint": Role.PARTNER, "enfant": Role.CHILD, "autre": Role.OTHER}
ROLE_NAMES = {role: name for name, role in ROLES.items()}

MAX_NAME_LENGTH = 100
MAX_GIVEN_NAMES_LENGTH = 200
MAX_EMAIL_LENGTH = 254
OLDEST_BIRTH_DATE = date(1900, 1, 1)

_CASE_NUMBER = re.compile(r"[0-9]{7}")
_PIN = re.compile(r"[0-9]{8}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_BIRTHPLACE = re.compile(r"[0-9]{5}|2[AB][0-9]{3}")
_COUNTRY = re.compile(r"99[0-9]{3}")
_email_validator = EmailValidator()

#: Person fields the file sets (the names of PersonRow's attributes are the model's).
PERSON_FIELDS = PERSON_DATA_FIELDS


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"ligne {self.line} : {self.message}"


@dataclass(frozen=True, slots=True)
class PersonRow:
    """One valid row: a member of a case, with values already normalised (NIR without key, E.164 mobile)."""

    line: int
    role: str
    nir: str
    birth_name: str
    usage_name: str
    given_names: str
    birth_date: date
    sex: str
    birthplace: str
    birth_country: str
    email_on_file: str
    mobile_on_file: str

    @property
    def match_key(self) -> tuple[str, str, date]:
        """How a person without a NIR is recognised inside a case."""
        return (self.birth_name.casefold(), self.given_names.casefold(), self.birth_date)

    def values(self) -> tuple:
        return tuple(getattr(self, name) for name in PERSON_FIELDS)

    def __repr__(self) -> str:
        # No NIR nor name in tracebacks and logs.
        return f"PersonRow(line={self.line}, role={self.role!s})"


@dataclass
class LegacyCase:
    """A valid case of the file. The PIN is kept out of repr() so that no traceback or log shows it."""

    number: str
    pin: str = field(repr=False)
    rows: list[PersonRow]


@dataclass
class ParsedFile:
    cases: list[LegacyCase]
    errors: list[RowError]
    rows: int
    cases_in_file: int

    @property
    def rejected_cases(self) -> int:
        return self.cases_in_file - len(self.cases)


def _has_control_characters(value: str) -> bool:
    # isprintable() is the fast path; it is also False for spaces other than " " (no-break space…), which are fine.
    return not value.isprintable() and any(unicodedata.category(char).startswith("C") for char in value)


def _clean_name(value: str) -> str:
    return " ".join(value.split())


def mobile_to_e164(raw: str) -> str | None:
    """A French or overseas mobile number in E.164 (`identity.phones.parse_mobile`), or None if it is not one."""
    try:
        return parse_mobile(raw)
    except PhoneError:
        return None


def _check_name(value: str, label: str, max_length: int, *, required: bool, errors: list[str]) -> str:
    value = _clean_name(value)
    plural = "s" if label.endswith("s") else ""
    if not value:
        if required:
            errors.append(f"{label} manquant{plural}")
    elif len(value) > max_length:
        errors.append(f"{label} trop long{plural} ({len(value)} caractères, {max_length} au plus)")
    elif _has_control_characters(value):
        errors.append(f"{label} : caractères de contrôle interdits")
    return value


def _validate_row(line: int, fields: list[str], today: date) -> tuple[PersonRow | None, str | None, list[str]]:
    """Check the 13 fields of one row. Returns the row (None if invalid), its PIN and the French error messages."""
    errors: list[str] = []
    (
        number,
        pin,
        role,
        nir,
        birth_name,
        usage_name,
        given_names,
        birth_date,
        sex,
        birthplace,
        country,
        email,
        mobile,
    ) = (value.strip() for value in fields)

    if not _CASE_NUMBER.fullmatch(number):
        errors.append("numéro allocataire invalide : 7 chiffres attendus")
    if not _PIN.fullmatch(pin):
        errors.append("mot de passe dossier invalide : 8 chiffres attendus")
        pin = None
    role_value = ROLES.get(role.lower())
    if role_value is None:
        errors.append("rôle inconnu : allocataire, conjoint, enfant ou autre attendu")

    nir_value = ""
    if nir:
        try:
            nir_value = parse_nir(nir).value
        except NirError as exc:
            errors.append(f"NIR invalide : {exc.message}")

    birth_name = _check_name(birth_name, "nom de naissance", MAX_NAME_LENGTH, required=True, errors=errors)
    usage_name = _check_name(usage_name, "nom d'usage", MAX_NAME_LENGTH, required=False, errors=errors)
    given_names = _check_name(given_names, "prénoms", MAX_GIVEN_NAMES_LENGTH, required=True, errors=errors)

    birth_date_value = None
    if not _ISO_DATE.fullmatch(birth_date):
        errors.append("date de naissance invalide : format AAAA-MM-JJ attendu")
    else:
        try:
            birth_date_value = date.fromisoformat(birth_date)
        except ValueError:
            errors.append("date de naissance inexistante")
        else:
            if birth_date_value > today:
                errors.append("date de naissance dans le futur")
            elif birth_date_value < OLDEST_BIRTH_DATE:
                errors.append("date de naissance antérieure au 1er janvier 1900")

    sex = sex.upper()
    if sex not in ("M", "F"):
        errors.append("sexe invalide : M ou F attendu")

    birthplace = birthplace.upper()
    if not _COUNTRY.fullmatch(country):
        errors.append(
            "pays de naissance invalide : code INSEE à 5 chiffres commençant par 99 attendu (99100 : France)"
        )
    elif country == FRANCE:
        if not birthplace:
            errors.append("lieu de naissance manquant : obligatoire pour une naissance en France (pays 99100)")
        elif not _BIRTHPLACE.fullmatch(birthplace):
            errors.append(
                "lieu de naissance invalide : code INSEE de commune à 5 caractères attendu (ex. 75112, 2A004)"
            )
    elif birthplace:
        errors.append("lieu de naissance : doit être vide pour une naissance à l'étranger (pays différent de 99100)")

    if email:
        if len(email) > MAX_EMAIL_LENGTH:
            errors.append(f"adresse e-mail trop longue ({MAX_EMAIL_LENGTH} caractères au plus)")
        else:
            try:
                _email_validator(email)
            except ValidationError:
                errors.append("adresse e-mail invalide")

    mobile_value = ""
    if mobile:
        mobile_value = mobile_to_e164(mobile) or ""
        if not mobile_value:
            errors.append("téléphone mobile invalide : numéro de mobile français ou d'outre-mer attendu")

    if errors:
        return None, pin, errors
    row = PersonRow(
        line=line,
        role=role_value,
        nir=nir_value,
        birth_name=birth_name,
        usage_name=usage_name,
        given_names=given_names,
        birth_date=birth_date_value,
        sex=sex,
        birthplace=birthplace,
        birth_country=country,
        email_on_file=email,
        mobile_on_file=mobile_value,
    )
    return row, pin, []


@dataclass
class _Group:
    """The rows of one case number while reading, valid or not."""

    number: str
    lines: list[int] = field(default_factory=list)
    rows: list[PersonRow] = field(default_factory=list)
    pins: list[tuple[int, str]] = field(default_factory=list, repr=False)


def parse_legacy_file(data: bytes, *, today: date | None = None) -> ParsedFile:
    """Read and validate a whole export. Raises LegacyFileError if the file itself is unusable."""
    today = today or timezone.localdate()
    messages: dict[int, list[str]] = {}
    groups: dict[str, _Group] = {}
    row_count = 0

    for line in read_lines(data):
        row_count += 1
        row = pin = None
        problems = line.problems
        if not problems:
            row, pin, problems = _validate_row(line.number, line.fields, today)
        number = line.fields[0].strip() if line.fields else ""
        if _CASE_NUMBER.fullmatch(number):
            group = groups.setdefault(number, _Group(number))
            group.lines.append(line.number)
            if row is not None:
                group.rows.append(row)
            if pin is not None:
                group.pins.append((line.number, pin))
        if problems:
            messages[line.number] = problems

    _check_cases(groups, messages)
    _check_nir_identities(groups, messages)

    cases: list[LegacyCase] = []
    for group in groups.values():
        error_lines = [line for line in group.lines if line in messages]
        if error_lines:
            first = error_lines[0]
            for line in group.lines:
                messages.setdefault(line, [f"dossier non importé : erreur ligne {first}"])
        else:
            cases.append(LegacyCase(number=group.number, pin=group.pins[0][1], rows=group.rows))

    errors = [RowError(line, message) for line in sorted(messages) for message in messages[line]]
    return ParsedFile(cases=cases, errors=errors, rows=row_count, cases_in_file=len(groups))


def _check_cases(groups: dict[str, _Group], messages: dict[int, list[str]]) -> None:
    """Rules across the rows of a case: one PIN, exactly one holder, at most one partner, nobody twice."""
    for group in groups.values():
        if group.pins:
            first_line, first_pin = group.pins[0]
            for line, pin in group.pins[1:]:
                if pin != first_pin:
                    messages.setdefault(line, []).append(
                        f"mot de passe dossier différent de celui de la ligne {first_line} (un seul par dossier)"
                    )
        seen_roles: dict[str, int] = {}
        seen_nirs: dict[str, int] = {}
        seen_keys: dict[tuple, int] = {}
        for row in group.rows:
            if row.role in (Role.HOLDER, Role.PARTNER):
                if row.role in seen_roles:
                    name = ROLE_NAMES[row.role]
                    messages.setdefault(row.line, []).append(
                        f"un seul {name} par dossier : le dossier en a déjà un ligne {seen_roles[row.role]}"
                    )
                else:
                    seen_roles[row.role] = row.line
            duplicate = seen_nirs.get(row.nir) if row.nir else None
            duplicate = duplicate or seen_keys.get(row.match_key)
            if duplicate:
                messages.setdefault(row.line, []).append(
                    f"cette personne figure déjà ligne {duplicate} dans le même dossier"
                )
            if row.nir:
                seen_nirs.setdefault(row.nir, row.line)
            seen_keys.setdefault(row.match_key, row.line)
        all_rows_valid = len(group.rows) == len(group.lines)
        if all_rows_valid and Role.HOLDER not in seen_roles:
            messages.setdefault(group.lines[0], []).append("le dossier n'a pas d'allocataire (un et un seul attendu)")


def _check_nir_identities(groups: dict[str, _Group], messages: dict[int, list[str]]) -> None:
    """A NIR is one person: its rows in different cases must carry the same identity and contacts."""
    by_nir: dict[str, list[tuple[str, PersonRow]]] = {}
    for group in groups.values():
        for row in group.rows:
            if row.nir:
                by_nir.setdefault(row.nir, []).append((group.number, row))
    for occurrences in by_nir.values():
        if len(occurrences) < 2:
            continue
        for number, row in occurrences:
            others = [
                other.line
                for other_number, other in occurrences
                if other_number != number and other.values() != row.values()
            ]
            if others:
                lines = ", ".join(str(line) for line in others)
                messages.setdefault(row.line, []).append(
                    f"le même NIR figure ligne {lines} avec une identité ou des coordonnées différentes"
                )
