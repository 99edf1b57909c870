"""Import of the legacy system's export (DESIGN §6): cases, their members and the case PIN.

The file is `;`-separated UTF-8 (a BOM is tolerated), one row per person, with the exact header `HEADER`.

Validation comes first and covers the whole file: every row is checked, every error is reported as
"ligne N : message", and a case with any bad row is not imported at all (its other rows are reported as
"dossier non importé : erreur ligne N"). Messages never repeat a field's value: the file holds NIRs, PINs and
names, and the report ends up in terminals and logs.

Then the valid cases are written in batches (500 cases, fewer in a small file). Each batch is one transaction holding
its cases, people, memberships, one journal entry per case ("case.imported") and the checkpoint of the run
(`ImportRun`, keyed by the SHA-256 of the file). A run that was killed is resumed by running the same command on
the same file again: committed batches are skipped. A finished file is only applied again with `again=True`.

Writing is an upsert, so that running a file twice never duplicates anything:
- people are matched by NIR; people without a NIR by case + birth name + given names + birth date (and a person
  who had only a provisional identifier and now comes with a NIR gets that NIR: the NIR is linked, not duplicated);
- cases are matched by number; the memberships of a case become exactly the file's (members absent from the file
  leave the case, roles are updated); contacts on file and identity fields take the file's values.
Rows write `identity.Person` directly, in bulk: per-person service calls would cost more than the hashing.

PIN hashing. The PIN is the only expensive part (argon2id with the settings' parameters, through
`households.services.hash_case_pin`), so PINs are hashed in a pool of processes (`workers`, default: every core),
once per case, pipelined: while the main process writes batch N, the pool already hashes batches N+1 and N+2.
Policy for a case that already exists: its PIN is simply hashed again and the new hash stored. Checking the file's
PIN against the stored hash first would cost exactly one argon2 computation too (verifying is hashing), then a
second one when the PIN did change: re-hashing is never more expensive, the cost of a run is predictable (one hash
per case, whatever the database holds) and every hash comes out with the current parameters. So `pin_changed_at`
means "hash last written", by this import or by the phone channel. PINs live in memory only for the run; they are
never logged, printed or journaled, and the repr of a LegacyCase hides them.

People without a NIR get a provisional identifier (`new_provisional_id`: "P", 10 random digits, their mod-97 key).
"""

from __future__ import annotations

import csv
import hashlib
import math
import os
import re
import secrets
import signal
import time
import unicodedata
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import connection, models, transaction
from django.utils import timezone

from moncompte.households.models import Case, Membership, Role
from moncompte.households.services import hash_case_pin
from moncompte.identity.models import FRANCE, PERSON_DATA_FIELDS, Person
from moncompte.identity.nir import NirError, parse_nir
from moncompte.journal import services as journal
from moncompte.journal.context import acting
from moncompte.journal.models import Channel
from moncompte.legacy.models import ImportRun

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
ROLES = {"allocataire": Role.HOLDER, "conjoint": Role.PARTNER, "enfant": Role.CHILD, "autre": Role.OTHER}
ROLE_NAMES = {role: name for name, role in ROLES.items()}

DEFAULT_BATCH_SIZE = 500
#: Without an explicit batch size, a file is cut in at least this many batches (of at least MIN_AUTO_BATCH_SIZE
#: cases): the pool hashes one batch while the previous one is written, and the last write, which nothing overlaps,
#: stays short.
AUTO_BATCHES = 10
MIN_AUTO_BATCH_SIZE = 20
#: Batches hashed ahead of the one being written: the pool never waits for the database.
HASH_LOOKAHEAD = 2
#: A legacy row is about 150 bytes; anything far longer is a broken line, refused before parsing.
MAX_LINE_BYTES = 2048
MAX_NAME_LENGTH = 100
MAX_GIVEN_NAMES_LENGTH = 200
MAX_EMAIL_LENGTH = 254
MAX_PHONE_LENGTH = 32
OLDEST_BIRTH_DATE = date(1900, 1, 1)

MOBILE_REGIONS = ("FR", "RE", "GP", "MQ", "GF", "YT")
_MOBILE_TYPES = frozenset({phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE})
_PHONE_CHARACTERS = re.compile(r"[0-9+ .()\-]+")
_BOM = b"\xef\xbb\xbf"
_CASE_NUMBER = re.compile(r"[0-9]{7}")
_PIN = re.compile(r"[0-9]{8}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_BIRTHPLACE = re.compile(r"[0-9]{5}|2[AB][0-9]{3}")
_COUNTRY = re.compile(r"99[0-9]{3}")
_email_validator = EmailValidator()

#: Person fields the file sets (the names of PersonRow's attributes are the model's).
PERSON_FIELDS = PERSON_DATA_FIELDS


class LegacyFileError(Exception):
    """The file as a whole cannot be imported (unreadable, empty, wrong header): nothing was written."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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


@dataclass(frozen=True)
class ImportProgress:
    done: int
    total: int
    elapsed: float
    rate: float  # cases per second in this run
    eta: float | None  # seconds


@dataclass
class ImportReport:
    run: ImportRun
    errors: list[RowError] = field(default_factory=list)
    rows: int = 0
    cases_in_file: int = 0
    rejected_cases: int = 0
    already_imported: bool = False
    resumed_cases: int = 0  # committed by an earlier run that was interrupted
    cases_created: int = 0
    cases_updated: int = 0
    people_created: int = 0
    people_updated: int = 0
    members_removed: int = 0
    elapsed: float = 0.0

    @property
    def cases_imported(self) -> int:
        return self.cases_created + self.cases_updated


# --- Reading and validating ------------------------------------------------------------------------------------------


def _has_control_characters(value: str) -> bool:
    # isprintable() is the fast path; it is also False for spaces other than " " (no-break space…), which are fine.
    return not value.isprintable() and any(unicodedata.category(char).startswith("C") for char in value)


def _clean_name(value: str) -> str:
    return " ".join(value.split())


def mobile_to_e164(raw: str) -> str | None:
    """A French or overseas mobile number in E.164, or None if it is not one (tries FR, then RE, GP, MQ, GF, YT)."""
    if len(raw) > MAX_PHONE_LENGTH or not _PHONE_CHARACTERS.fullmatch(raw):
        return None
    for region in MOBILE_REGIONS:
        try:
            number = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException:
            return None
        if (
            phonenumbers.is_valid_number(number)
            and phonenumbers.region_code_for_number(number) in MOBILE_REGIONS
            and phonenumbers.number_type(number) in _MOBILE_TYPES
        ):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
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
    data = data.removeprefix(_BOM)
    lines = data.split(b"\n")
    if lines and not lines[-1]:
        lines.pop()
    if not lines or not lines[0].strip():
        raise LegacyFileError(f"le fichier est vide : l'en-tête {HEADER} est attendu en ligne 1.")
    _check_header(lines[0].removesuffix(b"\r"))

    messages: dict[int, list[str]] = {}
    groups: dict[str, _Group] = {}
    row_count = 0

    for line, raw in enumerate(lines[1:], start=2):
        raw = raw.removesuffix(b"\r")
        if not raw.strip():
            continue
        row_count += 1
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

        row = pin = None
        if not problems:
            row, pin, problems = _validate_row(line, fields, today)
        number = fields[0].strip() if fields else ""
        if _CASE_NUMBER.fullmatch(number):
            group = groups.setdefault(number, _Group(number))
            group.lines.append(line)
            if row is not None:
                group.rows.append(row)
            if pin is not None:
                group.pins.append((line, pin))
        if problems:
            messages[line] = problems

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


# --- Hashing ---------------------------------------------------------------------------------------------------------


def _init_hash_worker() -> None:
    # Ctrl-C goes to the main process, which stops the pool itself; the workers must not die mid-task with a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from django.apps import apps

    if not apps.ready:  # "spawn" start method: a fresh interpreter (with "fork" Django is already set up)
        import django

        django.setup()


def _hash_pins(pins: Sequence[str]) -> list[str]:
    return [hash_case_pin(pin) for pin in pins]


class _PinHasher:
    """Hashes lists of PINs: in a process pool when workers > 1, else in this process when the result is asked."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.pool = ProcessPoolExecutor(max_workers=workers, initializer=_init_hash_worker) if workers > 1 else None

    def submit(self, pins: list[str]) -> Callable[[], list[str]]:
        if self.pool is None:
            return lambda: _hash_pins(pins)
        # Small chunks keep every worker busy to the end of the run, and cost little next to argon2.
        size = max(1, min(8, math.ceil(len(pins) / (self.workers * 4))))
        futures: list[Future] = [self.pool.submit(_hash_pins, pins[i : i + size]) for i in range(0, len(pins), size)]
        return lambda: [pin_hash for future in futures for pin_hash in future.result()]

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


# --- Writing ---------------------------------------------------------------------------------------------------------


def new_provisional_id() -> str:
    """A provisional identifier: "P", 10 random digits and their 2-digit key 97 - (n mod 97); 13 characters."""
    digits = f"{secrets.randbelow(10**10):010d}"
    return f"P{digits}{97 - int(digits) % 97:02d}"


def _free_provisional_ids(count: int) -> list[str]:
    found: set[str] = set()
    while len(found) < count:
        candidates = {new_provisional_id() for _ in range(count - len(found))} - found
        taken = set(Person.objects.filter(provisional_id__in=candidates).values_list("provisional_id", flat=True))
        found |= candidates - taken
    return list(found)


@dataclass
class _BatchStats:
    cases_created: int = 0
    cases_updated: int = 0
    people_created: int = 0
    people_updated: int = 0
    members_removed: int = 0


def _update_rows(model: type[models.Model], objects: Sequence[models.Model], fields: Sequence[str]) -> None:
    """UPDATE … WHERE id = %s, once per object, in one executemany.

    Django's bulk_update builds one CASE WHEN per field and row: on a batch of 500 cases it costs more CPU than the
    rest of the batch together, and that CPU is taken from the argon2 workers.
    """
    if not objects:
        return
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(column.column)} = %s" for column in columns)
    # Only table and column names from the model are interpolated; every value is a query parameter.
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"  # noqa: S608
    rows = [
        [column.get_db_prep_save(getattr(obj, column.attname), connection) for column in columns] + [obj.pk]
        for obj in objects
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _set_fields(person: Person, row: PersonRow) -> bool:
    changed = False
    for name in PERSON_FIELDS:
        value = getattr(row, name)
        if getattr(person, name) != value:
            setattr(person, name, value)
            changed = True
    return changed


def _write_batch(
    *, run: ImportRun, batch_index: int, cases: Sequence[LegacyCase], pin_hashes: Sequence[str]
) -> _BatchStats:
    """Upsert one batch of cases and move the checkpoint, in one transaction."""
    stats = _BatchStats()
    now = timezone.now()
    with transaction.atomic():
        existing_cases = {
            case.case_number: case for case in Case.objects.filter(case_number__in=[c.number for c in cases])
        }
        memberships: dict[int, list[Membership]] = {case.pk: [] for case in existing_cases.values()}
        for membership in Membership.objects.filter(case__in=existing_cases.values()).select_related("person"):
            memberships[membership.case_id].append(membership)
        nirs = {row.nir for case in cases for row in case.rows if row.nir}
        by_nir: dict[str, Person] = {person.nir: person for person in Person.objects.filter(nir__in=nirs)}

        def member_matching(
            case: LegacyCase, row: PersonRow, *, exclude: set[int], without_nir: bool
        ) -> Person | None:
            existing = existing_cases.get(case.number)
            for membership in memberships.get(existing.pk, []) if existing else []:
                person = membership.person
                if person.pk in exclude or (without_nir and person.nir):
                    continue
                if (person.birth_name.casefold(), person.given_names.casefold(), person.birth_date) == row.match_key:
                    return person
            return None

        # A NIR unknown to the database may belong to a member who had only a provisional identifier: link it.
        linked: set[int] = set()
        for case in cases:
            for row in case.rows:
                if row.nir and row.nir not in by_nir:
                    person = member_matching(case, row, exclude=linked, without_nir=True)
                    if person is not None:
                        person.nir = row.nir
                        by_nir[row.nir] = person
                        linked.add(person.pk)

        new_people: list[Person] = []
        changed_people: dict[int, Person] = {}
        resolved: list[dict[int, Person]] = []
        for case in cases:
            people: dict[int, Person] = {}  # row index -> person
            claimed: set[int] = set()
            # Rows with a NIR first, so that a row without one cannot claim a member the file names by NIR.
            order = sorted(range(len(case.rows)), key=lambda i: not case.rows[i].nir)
            for i in order:
                row = case.rows[i]
                if row.nir:
                    person = by_nir.get(row.nir)
                else:
                    person = member_matching(case, row, exclude=claimed, without_nir=False)
                if person is None:
                    person = Person(nir=row.nir or None)
                    _set_fields(person, row)
                    new_people.append(person)
                    if row.nir:
                        by_nir[row.nir] = person
                else:
                    if (_set_fields(person, row) or person.pk in linked) and person.pk is not None:
                        changed_people[person.pk] = person
                    if person.pk is not None:
                        claimed.add(person.pk)
                people[i] = person
            resolved.append(people)

        for person, provisional_id in zip(
            (p for p in new_people if not p.nir),
            _free_provisional_ids(sum(1 for p in new_people if not p.nir)),
            strict=True,
        ):
            person.provisional_id = provisional_id
        Person.objects.bulk_create(new_people)
        for person in changed_people.values():
            person.updated_at = now
        _update_rows(Person, list(changed_people.values()), ["nir", *PERSON_FIELDS, "updated_at"])
        stats.people_created = len(new_people)
        stats.people_updated = len(changed_people)

        new_cases = []
        for case, pin_hash in zip(cases, pin_hashes, strict=True):
            existing = existing_cases.get(case.number)
            if existing is None:
                new_cases.append(Case(case_number=case.number, pin_hash=pin_hash, pin_changed_at=now))
            else:
                existing.pin_hash, existing.pin_changed_at, existing.updated_at = pin_hash, now, now
        Case.objects.bulk_create(new_cases)
        _update_rows(Case, list(existing_cases.values()), ["pin_hash", "pin_changed_at", "updated_at"])
        case_objects = {case.case_number: case for case in [*existing_cases.values(), *new_cases]}

        to_delete: list[int] = []
        demoted: list[Membership] = []
        promoted: list[Membership] = []
        to_create: list[Membership] = []
        for case, people in zip(cases, resolved, strict=True):
            case_object = case_objects[case.number]
            current = {membership.person_id: membership for membership in memberships.get(case_object.pk, [])}
            wanted = {people[i].pk: row.role for i, row in enumerate(case.rows)}
            for person_id, membership in current.items():
                if person_id not in wanted:
                    to_delete.append(membership.pk)
                elif membership.role != wanted[person_id]:
                    membership.role = wanted[person_id]
                    (promoted if membership.role == Role.HOLDER else demoted).append(membership)
            to_create.extend(
                Membership(case=case_object, person_id=person_id, role=role)
                for person_id, role in wanted.items()
                if person_id not in current
            )
        # Order matters for the one-holder-per-case constraint: the old holder leaves or steps down first.
        Membership.objects.filter(pk__in=to_delete).delete()
        Membership.objects.bulk_update(demoted, ["role"])
        Membership.objects.bulk_update(promoted, ["role"])
        Membership.objects.bulk_create(to_create)
        stats.members_removed = len(to_delete)

        for case in cases:
            created = case.number not in existing_cases
            journal.record(
                "case.imported", case_number=case.number, after={"members": len(case.rows), "created": created}
            )
        stats.cases_created = len(new_cases)
        stats.cases_updated = len(existing_cases)

        ImportRun.objects.filter(pk=run.pk).update(
            batches_done=batch_index + 1, cases_done=run.cases_done + len(cases), updated_at=now
        )
        run.batches_done = batch_index + 1
        run.cases_done += len(cases)
    return stats


# --- The import ------------------------------------------------------------------------------------------------------


def import_legacy_file(
    path: str | Path,
    *,
    workers: int | None = None,
    batch_size: int | None = None,
    again: bool = False,
    progress: Callable[[ImportProgress], None] | None = None,
    on_validated: Callable[[ImportReport], None] | None = None,
    today: date | None = None,
) -> ImportReport:
    """Validate the whole file, then upsert its valid cases in batches; resumes an interrupted run of the same file.

    Raises LegacyFileError when the file itself is unusable (then nothing is written). Row errors do not raise: they
    are in the report, and the valid cases are imported anyway. `on_validated` gets the report once the file is
    validated (errors, counts, cases already committed by an interrupted run), before the long part starts;
    `progress` is called after each committed batch. `batch_size` None: DEFAULT_BATCH_SIZE, or less for a small
    file (see AUTO_BATCHES).
    """
    path = Path(path)
    workers = max(1, workers or os.cpu_count() or 1)
    started = time.monotonic()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise LegacyFileError("fichier introuvable.") from None
    except IsADirectoryError:
        raise LegacyFileError("ce chemin est un répertoire, pas un fichier.") from None
    except PermissionError:
        raise LegacyFileError("lecture du fichier non autorisée.") from None
    except OSError as exc:
        raise LegacyFileError(f"impossible de lire le fichier (erreur système {exc.errno}).") from None
    digest = hashlib.sha256(data).hexdigest()

    last_run = ImportRun.objects.filter(file_sha256=digest).order_by("-started_at", "-id").first()
    if last_run is not None and last_run.finished_at is not None and not again:
        return ImportReport(run=last_run, already_imported=True)

    parsed = parse_legacy_file(data, today=today)
    del data
    report = ImportReport(
        run=last_run,
        errors=parsed.errors,
        rows=parsed.rows,
        cases_in_file=parsed.cases_in_file,
        rejected_cases=parsed.rejected_cases,
    )
    total = len(parsed.cases)
    if batch_size is None:
        batch_size = min(DEFAULT_BATCH_SIZE, max(MIN_AUTO_BATCH_SIZE, math.ceil(total / AUTO_BATCHES)))
    batch_size = max(1, batch_size)
    if last_run is not None and last_run.finished_at is None and last_run.total_cases == total:
        run = last_run  # resume: same batches as the interrupted run, whatever batch_size says now
        report.resumed_cases = run.cases_done
    else:
        run = ImportRun.objects.create(
            file_sha256=digest,
            file_name=path.name[:255],
            batch_size=batch_size,
            total_cases=total,
            rejected_cases=parsed.rejected_cases,
            error_count=len(parsed.errors),
        )
    report.run = run
    if on_validated is not None:
        on_validated(report)
    size = run.batch_size
    batches = [(index, parsed.cases[start : start + size]) for index, start in enumerate(range(0, total, size))]
    todo = iter(batches[run.batches_done :])

    with acting(channel=Channel.COMMAND):
        hasher = _PinHasher(workers)
        try:
            pending: deque = deque()

            def feed() -> None:
                batch = next(todo, None)
                if batch is not None:
                    pending.append((batch, hasher.submit([case.pin for case in batch[1]])))

            for _ in range(HASH_LOOKAHEAD):
                feed()
            run_started, done_here = time.monotonic(), 0
            while pending:
                (index, cases), result = pending.popleft()
                pin_hashes = result()
                feed()  # the pool hashes ahead while this batch is written
                stats = _write_batch(run=run, batch_index=index, cases=cases, pin_hashes=pin_hashes)
                del pin_hashes
                for name in ("cases_created", "cases_updated", "people_created", "people_updated", "members_removed"):
                    setattr(report, name, getattr(report, name) + getattr(stats, name))
                done_here += len(cases)
                if progress is not None:
                    elapsed = time.monotonic() - run_started
                    rate = done_here / elapsed if elapsed > 0 else 0.0
                    remaining = total - run.cases_done
                    eta = remaining / rate if rate > 0 else None
                    progress(ImportProgress(done=run.cases_done, total=total, elapsed=elapsed, rate=rate, eta=eta))
        finally:
            hasher.close()

    run.finished_at = timezone.now()
    run.save(update_fields=["finished_at", "updated_at"])
    report.elapsed = time.monotonic() - started
    return report
