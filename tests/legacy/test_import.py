"""The legacy import (`manage.py import_legacy`) and the demo data generator (`manage.py generate_demo_data`)."""

import csv
import re
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from moncompte.households.models import Case, Membership, Role
from moncompte.identity.models import Person
from moncompte.identity.nir import parse_nir
from moncompte.identity.provisional import new_provisional_id
from moncompte.journal.models import Channel, Entry
from moncompte.legacy import writer
from moncompte.legacy.demo import build_demo_cases, write_demo_csv
from moncompte.legacy.models import ImportRun
from moncompte.legacy.reader import HEADER
from moncompte.legacy.validation import PERSON_FIELDS, mobile_to_e164, parse_legacy_file

DATA = Path(__file__).parent / "data"
VALID_PINS = {"1000001": "11112222", "1000002": "33334444", "1000003": "55556666", "1000004": "77778888"}


def run_import(path, *args, **options) -> tuple[str, str, int]:
    """Run the command as an operator would; returns (stdout, stderr, exit code)."""
    out, err = StringIO(), StringIO()
    options.setdefault("workers", 1)
    try:
        call_command("import_legacy", str(path), *args, stdout=out, stderr=err, **options)
        code = 0
    except CommandError as exc:
        err.write(str(exc))
        code = exc.returncode
    return out.getvalue(), err.getvalue(), code


def write_csv(tmp_path: Path, lines: list[str], *, header: str = HEADER, name: str = "export.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def demo_file(tmp_path: Path, count: int = 12, seed: int = 11) -> tuple[Path, list]:
    cases = build_demo_cases(seed=seed, count=count)
    return write_demo_csv(cases, tmp_path / f"demo-{seed}-{count}.csv"), cases


def snapshot() -> dict:
    """Everything the import writes, without ids, salts and random provisional identifiers."""
    state = {}
    for case in Case.objects.prefetch_related("memberships__person"):
        state[case.case_number] = sorted(
            (
                membership.role,
                membership.person.nir or "",
                bool(membership.person.provisional_id),
                *(str(getattr(membership.person, name)) for name in PERSON_FIELDS),
            )
            for membership in case.memberships.all()
        )
    return state


# --- Validation ------------------------------------------------------------------------------------------------------

EXPECTED_ERRORS = [
    "ligne 2 : dossier non importé : erreur ligne 3",
    "ligne 3 : NIR invalide : La clé de contrôle ne correspond pas au numéro saisi. "
    "Vérifiez les deux derniers chiffres sur votre carte Vitale.",
    "ligne 5 : numéro allocataire invalide : 7 chiffres attendus",
    "ligne 6 : mot de passe dossier invalide : 8 chiffres attendus",
    "ligne 7 : rôle inconnu : allocataire, conjoint, enfant ou autre attendu",
    "ligne 8 : date de naissance inexistante",
    "ligne 9 : date de naissance dans le futur",
    "ligne 10 : date de naissance antérieure au 1er janvier 1900",
    "ligne 11 : sexe invalide : M ou F attendu",
    "ligne 12 : lieu de naissance manquant : obligatoire pour une naissance en France (pays 99100)",
    "ligne 13 : lieu de naissance invalide : code INSEE de commune à 5 caractères attendu (ex. 75112, 2A004)",
    "ligne 14 : pays de naissance invalide : code INSEE à 5 chiffres commençant par 99 attendu (99100 : France)",
    "ligne 15 : lieu de naissance : doit être vide pour une naissance à l'étranger (pays différent de 99100)",
    "ligne 16 : adresse e-mail invalide",
    "ligne 17 : téléphone mobile invalide : numéro de mobile français ou d'outre-mer attendu",
    "ligne 18 : nom de naissance manquant",
    "ligne 19 : nom de naissance trop long (101 caractères, 100 au plus)",
    "ligne 20 : 12 colonne(s) au lieu de 13",
    "ligne 21 : dossier non importé : erreur ligne 22",
    "ligne 22 : un seul allocataire par dossier : le dossier en a déjà un ligne 21",
    "ligne 23 : le dossier n'a pas d'allocataire (un et un seul attendu)",
    "ligne 24 : dossier non importé : erreur ligne 25",
    "ligne 25 : mot de passe dossier différent de celui de la ligne 24 (un seul par dossier)",
    "ligne 26 : le même NIR figure ligne 27 avec une identité ou des coordonnées différentes",
    "ligne 27 : le même NIR figure ligne 26 avec une identité ou des coordonnées différentes",
    "ligne 28 : dossier non importé : erreur ligne 30",
    "ligne 29 : dossier non importé : erreur ligne 30",
    "ligne 30 : un seul conjoint par dossier : le dossier en a déjà un ligne 29",
    "ligne 31 : dossier non importé : erreur ligne 32",
    "ligne 32 : cette personne figure déjà ligne 31 dans le même dossier",
    "ligne 33 : téléphone mobile invalide : numéro de mobile français ou d'outre-mer attendu",
    "ligne 34 : date de naissance invalide : format AAAA-MM-JJ attendu",
]


@pytest.mark.django_db
def test_every_validation_error_is_reported_with_its_line_number():
    out, err, code = run_import(DATA / "errors.csv")

    assert err.splitlines()[: len(EXPECTED_ERRORS)] == EXPECTED_ERRORS
    assert "32 erreurs : 25 dossiers non importés." in err
    assert code == 1
    assert "Traceback" not in out + err


@pytest.mark.django_db
def test_a_broken_case_is_not_imported_while_the_valid_ones_are():
    run_import(DATA / "errors.csv")

    assert list(Case.objects.values_list("case_number", flat=True)) == ["2000002"]
    assert Person.objects.count() == 1
    assert Membership.objects.get().role == Role.HOLDER


@pytest.mark.django_db
def test_error_messages_never_repeat_a_nir_a_pin_or_a_name():
    _, err, _ = run_import(DATA / "errors.csv")

    for secret in ("287067511200245", "10000001", "21000021", "Durand", "Xxxxxxxxxx", "rose@"):
        assert secret not in err


@pytest.mark.django_db
def test_a_file_without_the_exact_header_is_refused_and_nothing_is_imported(tmp_path):
    header = HEADER.replace("nir", "NIR")
    path = write_csv(
        tmp_path, ["1000001;11112222;allocataire;;Martin;;Paul;1980-01-01;M;75112;99100;;"], header=header
    )

    _, err, code = run_import(path)

    assert code == 1
    assert "Fichier refusé (rien n'a été importé) : ligne 1 : l'en-tête ne correspond pas au format attendu" in err
    assert "la colonne 4 doit s'appeler « nir »" in err
    assert not Case.objects.exists()
    assert not ImportRun.objects.exists()


@pytest.mark.django_db
def test_a_comma_separated_file_is_refused_with_the_column_count(tmp_path):
    path = write_csv(tmp_path, [], header=HEADER.replace(";", ","))

    _, err, code = run_import(path)

    assert code == 1
    assert "13 colonnes séparées par des points-virgules attendues, 1 trouvée(s)" in err


@pytest.mark.django_db
def test_an_empty_or_missing_file_is_refused_in_french(tmp_path):
    (tmp_path / "empty.csv").write_bytes(b"")

    _, empty_err, empty_code = run_import(tmp_path / "empty.csv")
    _, missing_err, missing_code = run_import(tmp_path / "nowhere.csv")

    assert empty_code == missing_code == 1
    assert "le fichier est vide" in empty_err
    assert "Fichier refusé (rien n'a été importé) : fichier introuvable." in missing_err


@pytest.mark.django_db
def test_a_file_with_a_bom_and_windows_line_endings_is_accepted(tmp_path):
    content = (DATA / "valid.csv").read_text(encoding="utf-8").replace("\n", "\r\n")
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + content.encode("utf-8"))

    _, err, code = run_import(path)

    assert (code, err) == (0, "")
    assert Case.objects.count() == 4


@pytest.mark.django_db
def test_non_utf8_bytes_are_reported_with_their_line_number_without_a_traceback(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(
        (HEADER + "\n").encode()
        + b"1000001;11112222;allocataire;;Martin;;Paul;1980-01-01;M;75112;99100;;\n"
        + "1000001;11112222;enfant;;Martin;;Léa;2012-01-01;F;75112;99100;;\n".encode("latin-1")
        + "1000002;33334444;allocataire;;Petit;;Zoé;1980-01-01;F;75112;99100;;\n".encode()
    )

    out, err, code = run_import(path)

    assert err.splitlines()[:2] == [
        "ligne 2 : dossier non importé : erreur ligne 3",
        "ligne 3 : caractère non UTF-8 (octet n° 35 de la ligne) : encodez le fichier en UTF-8",
    ]
    assert code == 1
    assert "Traceback" not in out + err
    assert list(Case.objects.values_list("case_number", flat=True)) == ["1000002"]


@pytest.mark.django_db
def test_oversized_fields_long_lines_and_broken_quotes_are_refused(tmp_path):
    row = "{number};11112222;allocataire;;Martin;{usage};{given};1980-01-01;M;75112;99100;;"
    path = write_csv(
        tmp_path,
        [
            row.format(number="1000001", usage="", given="Paul " * 40 + "Pierre"),  # 206 characters
            row.format(number="1000002", usage="U" * 101, given="Paul"),
            row.format(number="1000003", usage="", given="Paul" + "x" * 3000),
            row.format(number="1000004", usage='"Martin', given="Paul"),
            row.format(number="1000005", usage="", given="Paul") + ";en trop",
            row.format(number="1000006", usage="", given="Paul\x07"),
        ],
    )

    _, err, _ = run_import(path)

    assert err.splitlines()[:6] == [
        "ligne 2 : prénoms trop longs (206 caractères, 200 au plus)",
        "ligne 3 : nom d'usage trop long (101 caractères, 100 au plus)",
        "ligne 4 : ligne trop longue (3069 octets, 2048 au plus)",
        "ligne 5 : guillemet mal placé ou non fermé",
        "ligne 6 : 14 colonne(s) au lieu de 13",
        "ligne 7 : prénoms : caractères de contrôle interdits",
    ]
    assert not Case.objects.exists()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("06 00 00 01 01", "+33600000101"),
        ("+33 6 00 00 01 02", "+33600000101"[:-1] + "2"),
        ("0692 00 04 02", "+262692000402"),
        ("+262 692 00 04 01", "+262692000401"),
        ("0690 00 11 01", "+590690001101"),
        ("0696 00 11 01", "+596696001101"),
        ("0694 00 11 01", "+594694001101"),
        ("0639 00 11 01", "+262639001101"),
        ("+269 321 23 45", "+2693212345"),  # the web's rule (identity.phones): a Comoros mobile of Mayotte
        ("01 00 00 00 00", None),  # a landline
        ("+32 470 00 00 00", None),  # a Belgian mobile
        ("06 00 00 01", None),
        ("06 AB 00 01 01", None),
    ],
)
def test_mobiles_are_french_or_overseas_and_stored_in_e164(raw, expected):
    assert mobile_to_e164(raw) == expected


def test_a_provisional_id_is_p_then_ten_digits_and_their_mod_97_key():
    for _ in range(50):
        provisional = new_provisional_id()
        assert re.fullmatch(r"P[0-9]{12}", provisional)
        assert int(provisional[11:]) == 97 - int(provisional[1:11]) % 97


# --- Import and re-import --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_valid_file_imports_cases_people_roles_and_contacts():
    out, err, code = run_import(DATA / "valid.csv")

    assert (code, err) == (0, "")
    assert "Import terminé" in out
    assert "4 dossiers enregistrés (4 créés, 0 mis à jour), 8 personnes créées" in out
    roles = {
        (m.case.case_number, m.person.given_names): m.role for m in Membership.objects.select_related("case", "person")
    }
    assert roles == {
        ("1000001", "Thomas Jean"): Role.HOLDER,
        ("1000001", "Julie Anne"): Role.PARTNER,
        ("1000001", "Léa"): Role.CHILD,
        ("1000002", "Antoine"): Role.HOLDER,
        ("1000002", "Simone Marie"): Role.OTHER,
        ("1000003", "Jean-Marc"): Role.HOLDER,
        ("1000004", "Karim"): Role.HOLDER,
        ("1000004", "Fatou"): Role.PARTNER,
    }
    thomas = Person.objects.get(nir="1820375112045")  # typed with spaces and its key in the file
    assert (thomas.email_on_file, thomas.mobile_on_file) == ("thomas.martin@exemple.fr", "+33600000101")
    assert Person.objects.get(nir="175062A004012").birthplace == "2A004"
    assert Person.objects.get(nir="1800197411286").mobile_on_file == "+262692000401"
    assert Person.objects.get(nir="8900299341269").mobile_on_file == "+590690001101"
    karim = Person.objects.get(nir="1780499350345")
    assert (karim.birthplace, karim.birth_country) == ("", "99350")
    lea = Person.objects.get(given_names="Léa")
    assert lea.nir is None
    assert re.fullmatch(r"P[0-9]{12}", lea.provisional_id)


@pytest.mark.django_db
def test_rerunning_a_finished_file_says_so_and_changes_nothing():
    run_import(DATA / "valid.csv")
    before = (snapshot(), list(Case.objects.values_list("pin_hash", flat=True)), Entry.objects.count())

    out, err, code = run_import(DATA / "valid.csv")

    assert (code, err) == (0, "")
    assert "Ce fichier a déjà été importé le" in out
    assert "Pour l'appliquer de nouveau, relancez avec --again." in out
    assert (snapshot(), list(Case.objects.values_list("pin_hash", flat=True)), Entry.objects.count()) == before


@pytest.mark.django_db
def test_rerunning_with_again_updates_and_does_not_duplicate():
    run_import(DATA / "valid.csv")
    first = snapshot()
    counts = (Case.objects.count(), Person.objects.count(), Membership.objects.count())
    provisional = Person.objects.get(given_names="Léa").provisional_id

    out, err, code = run_import(DATA / "valid.csv", again=True)

    assert (code, err) == (0, "")
    assert "4 dossiers enregistrés (0 créé, 4 mis à jour), 0 personne créée, 0 personne mise à jour" in out
    assert snapshot() == first
    assert (Case.objects.count(), Person.objects.count(), Membership.objects.count()) == counts
    assert Person.objects.get(given_names="Léa").provisional_id == provisional  # matched by case, names, birth date
    assert ImportRun.objects.count() == 2
    for number, pin in VALID_PINS.items():
        assert check_password(pin, Case.objects.get(case_number=number).pin_hash)


@pytest.mark.django_db
def test_a_changed_file_updates_people_memberships_contacts_and_the_pin(tmp_path):
    run_import(DATA / "valid.csv")
    thomas_id = Person.objects.get(nir="1820375112045").pk
    lea = Person.objects.get(given_names="Léa")
    julie_id = Person.objects.get(nir="2840769383012").pk
    old_hash = Case.objects.get(case_number="1000001").pin_hash
    changed = write_csv(
        tmp_path,
        [
            # new PIN; the holder changed e-mail and has no mobile any more; the partner left the case;
            # Léa got her NIR (same person: her provisional identifier is linked, not duplicated)
            "1000001;99990000;allocataire;182037511204556;Martin;;Thomas Jean;1982-03-14;M;75112;99100;"
            "t.martin@exemple.fr;",
            "1000001;99990000;enfant;2120575112777;Martin;;Léa;2012-05-01;F;75112;99100;;06 00 00 01 09",
            "1000002;33334444;allocataire;175062A00401291;Santoni;;Antoine;1975-06-08;M;2A004;99100;;",
            "1000002;33334444;autre;242033155551267;Moreau;;Simone Marie;1942-03-09;F;31555;99100;;",
            "1000003;55556666;allocataire;180019741128617;Payet;;Jean-Marc;1980-01-19;M;97411;99100;;0692 00 04 01",
            # holder and partner swap roles
            "1000004;77778888;conjoint;178049935034537;Benali;;Karim;1978-04-12;M;;99350;karim.benali@exemple.fr;",
            "1000004;77778888;allocataire;890029934126992;Diop;Benali;Fatou;1990-02-17;F;;99341;;+590 690 00 11 01",
        ],
    )

    out, err, code = run_import(changed)

    assert (code, err) == (0, "")
    assert "1 membre retiré de son dossier" in out
    assert Person.objects.count() == 8  # nobody duplicated, nobody deleted
    thomas = Person.objects.get(pk=thomas_id)
    assert (thomas.email_on_file, thomas.mobile_on_file) == ("t.martin@exemple.fr", "")
    lea.refresh_from_db()
    assert (lea.nir, lea.mobile_on_file) == ("2120575112777", "+33600000109")
    # Linked by identity.linking: the provisional identifier is retired (it no longer signs in), and journaled.
    assert lea.provisional_id is None and lea.retired_provisional_id
    assert Entry.objects.filter(kind="person.nir_linked", person_id=lea.pk).count() == 1
    case = Case.objects.get(case_number="1000001")
    assert set(case.memberships.values_list("person_id", flat=True)) == {thomas_id, lea.pk}
    assert Person.objects.filter(pk=julie_id).exists()
    assert case.pin_hash != old_hash
    assert check_password("99990000", case.pin_hash)
    assert not check_password("11112222", case.pin_hash)
    roles = dict(Membership.objects.filter(case__case_number="1000004").values_list("person__given_names", "role"))
    assert roles == {"Karim": Role.PARTNER, "Fatou": Role.HOLDER}
    assert Person.objects.get(given_names="Fatou").usage_name == "Benali"


@pytest.mark.django_db
def test_a_nir_in_two_cases_with_the_same_identity_is_one_person_in_both(tmp_path):
    child = "enfant;2120575112777;Martin;;Léa;2012-05-01;F;75112;99100;;"
    path = write_csv(
        tmp_path,
        [
            "1000001;11112222;allocataire;1820375112045;Martin;;Thomas;1982-03-14;M;75112;99100;;",
            f"1000001;11112222;{child}",
            "1000002;33334444;allocataire;2840769383012;Bernard;;Julie;1984-07-02;F;69383;99100;;",
            f"1000002;33334444;{child}",
        ],
    )

    _, err, code = run_import(path, batch_size=1)

    assert (code, err) == (0, "")
    lea = Person.objects.get(nir="2120575112777")
    assert sorted(lea.memberships.values_list("case__case_number", flat=True)) == ["1000001", "1000002"]


# --- Resuming --------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_interrupted_import_is_resumed_and_ends_like_a_clean_run(tmp_path, monkeypatch):
    path, cases = demo_file(tmp_path, count=12)
    real_write_batch = writer.write_batch
    calls = []

    def killed_at_third_batch(**kwargs):
        calls.append(kwargs["batch_index"])
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_write_batch(**kwargs)

    monkeypatch.setattr(writer, "write_batch", killed_at_third_batch)
    _, err, code = run_import(path, batch_size=2)

    assert code == 130
    assert "Import interrompu" in err
    assert "relancez la même commande sur le même fichier" in err
    run = ImportRun.objects.get()
    assert (run.batches_done, run.cases_done, run.total_cases, run.finished_at) == (2, 4, 12, None)
    assert Case.objects.count() == 4

    monkeypatch.setattr(writer, "write_batch", real_write_batch)
    out, err, code = run_import(path, batch_size=5)  # the interrupted run's batches are kept, whatever the size

    assert (code, err) == (0, "")
    assert "Reprise de l'import interrompu : 4 / 12 dossiers étaient déjà enregistrés." in out
    assert "  12 / 12 dossiers (100 %)" in out
    run.refresh_from_db()
    assert (run.batches_done, run.cases_done, run.batch_size) == (6, 12, 2)
    assert run.finished_at is not None
    assert Entry.objects.filter(kind="case.imported").count() == 12  # the killed batch left nothing behind
    resumed = snapshot()

    Entry.objects.all().delete()
    Case.objects.all().delete()
    Person.objects.all().delete()
    run_import(path, again=True)

    assert snapshot() == resumed
    for case in cases:
        assert check_password(case.pin, Case.objects.get(case_number=case.number).pin_hash)


@pytest.mark.django_db
def test_progress_is_shown_at_each_batch_unless_quiet(tmp_path):
    path, _ = demo_file(tmp_path, count=5)

    out, _, _ = run_import(path, batch_size=2)
    quiet_out, _, _ = run_import(path, batch_size=2, again=True, quiet=True)

    progress = [line for line in out.splitlines() if line.startswith("  ")]
    assert [line.split(" dossiers")[0].strip() for line in progress] == ["2 / 5", "4 / 5", "5 / 5"]
    assert re.fullmatch(r"  2 / 5 dossiers \(40 %\), [0-9,]+ dossiers/s, fin estimée dans \d+ s", progress[0])
    assert not any(line.startswith("  ") for line in quiet_out.splitlines())
    assert "Import terminé" in quiet_out


# --- Journal and secrets ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_imported_case_is_journaled_once_without_nir_pin_or_names():
    run_import(DATA / "valid.csv")

    entries = Entry.objects.filter(kind="case.imported").order_by("case_number")
    assert [(e.case_number, e.after, e.channel) for e in entries] == [
        ("1000001", {"members": 3, "created": True}, Channel.COMMAND),
        ("1000002", {"members": 2, "created": True}, Channel.COMMAND),
        ("1000003", {"members": 1, "created": True}, Channel.COMMAND),
        ("1000004", {"members": 2, "created": True}, Channel.COMMAND),
    ]
    assert Entry.objects.count() == 4

    run_import(DATA / "valid.csv", again=True)

    assert Entry.objects.filter(kind="case.imported", after__created=False).count() == 4


@pytest.mark.django_db
def test_the_pin_is_stored_only_as_an_argon2_hash_and_appears_nowhere_in_clear():
    out, err, _ = run_import(DATA / "valid.csv")

    dump = StringIO()
    call_command("dumpdata", "households", "identity", "journal", stdout=dump)
    for number, pin in VALID_PINS.items():
        pin_hash = Case.objects.get(case_number=number).pin_hash
        assert pin_hash.startswith("case_pin_argon2$argon2id$")
        assert check_password(pin, pin_hash)
        assert pin not in dump.getvalue()
        assert pin not in out + err
    assert "1820375112045" not in out + err


@pytest.mark.django_db
@pytest.mark.parametrize("workers", [1, 2])
def test_pins_are_hashed_in_this_process_or_in_a_pool_of_workers(tmp_path, workers):
    path, cases = demo_file(tmp_path, count=9)

    _, err, code = run_import(path, workers=workers, batch_size=4)

    assert (code, err) == (0, "")
    assert Case.objects.count() == 9
    hashes = set()
    for case in cases:
        pin_hash = Case.objects.get(case_number=case.number).pin_hash
        assert check_password(case.pin, pin_hash)
        hashes.add(pin_hash)
    assert len(hashes) == 9  # one salt per case


# --- Demo data -------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_demo_generator_writes_a_file_the_import_accepts_with_zero_errors(tmp_path):
    out = StringIO()
    call_command("generate_demo_data", output=str(tmp_path / "demo.csv"), stdout=out)

    assert "20 dossiers" in out.getvalue()
    parsed = parse_legacy_file((tmp_path / "demo.csv").read_bytes())
    assert parsed.errors == []
    assert len(parsed.cases) == 20

    _, import_err, code = run_import(tmp_path / "demo.csv", workers=2)

    assert (code, import_err) == (0, "")
    assert Case.objects.count() == 20


@pytest.mark.django_db
def test_the_demo_generator_can_import_right_away(tmp_path):
    out = StringIO()
    call_command(
        "generate_demo_data", output=str(tmp_path / "demo.csv"), run_import=True, stdout=out, stderr=StringIO()
    )

    assert "Import terminé" in out.getvalue()
    assert Case.objects.count() == 20


def test_the_demo_file_contains_every_required_profile(tmp_path):
    path = write_demo_csv(build_demo_cases(seed=3), tmp_path / "demo.csv")
    with path.open(encoding="utf-8") as source:
        rows = list(csv.DictReader(source, delimiter=";"))
    cases: dict[str, list[dict]] = {}
    for row in rows:
        cases.setdefault(row["numero_allocataire"], []).append(row)
    today = timezone.localdate()

    def age(row) -> int:
        born = date.fromisoformat(row["date_naissance"])
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))

    def roles(members) -> list[str]:
        return [member["role"] for member in members]

    assert 18 <= len(cases) <= 22
    assert any(
        "conjoint" in roles(m) and any(r["role"] == "enfant" and age(r) == 16 for r in m) for m in cases.values()
    )
    assert any("conjoint" not in roles(m) and "enfant" in roles(m) for m in cases.values())  # single parent
    assert any(row["lieu_naissance"].startswith(("2A", "2B")) for row in rows)
    assert any(row["lieu_naissance"].startswith("974") for row in rows)
    assert any(row["pays_naissance"] == "99350" and row["lieu_naissance"] == "" for row in rows)
    assert any(row["role"] == "allocataire" and row["nir"][:1] in "78" for row in rows if row["nir"])
    assert any(row["nir"] == "" for row in rows)
    assert any(row["email"].endswith("@exemple.fr") for row in rows)
    assert any(mobile_to_e164(row["telephone_mobile"] or "x") == "+262692000401" for row in rows)
    assert any((mobile_to_e164(row["telephone_mobile"] or "x") or "").startswith("+336") for row in rows)
    for row in rows:
        if row["nir"]:
            nir = parse_nir(row["nir"])  # 15 characters: the key is checked
            assert nir.year == row["date_naissance"][2:4]
            assert nir.sex in ("17" if row["sexe"] == "M" else "28")


def test_the_demo_generator_is_deterministic_for_a_seed(tmp_path):
    first = write_demo_csv(build_demo_cases(seed=5, count=40), tmp_path / "a.csv").read_bytes()
    again = write_demo_csv(build_demo_cases(seed=5, count=40), tmp_path / "b.csv").read_bytes()
    other = write_demo_csv(build_demo_cases(seed=6, count=40), tmp_path / "c.csv").read_bytes()

    assert first == again
    assert first != other


@pytest.mark.django_db
def test_the_demo_table_shows_full_nirs_case_numbers_roles_pins_and_contacts(tmp_path):
    out = StringIO()
    call_command("generate_demo_data", output=str(tmp_path / "demo.csv"), seed=9, stdout=out)
    cases = build_demo_cases(seed=9)
    holder = cases[0].members[0]

    table = out.getvalue()
    line = next(line for line in table.splitlines() if holder.nir_spaced in line)
    assert re.fullmatch(r"[0-9] [0-9]{2} [0-9]{2} [0-9]{2} [0-9]{3} [0-9]{3} [0-9]{2}", holder.nir_spaced)
    assert cases[0].number in line
    assert "allocataire" in line
    assert cases[0].pin in line
    assert holder.email in line
    assert "(sans NIR : identifiant provisoire à l'import)" in table
    assert " 974 " in table
