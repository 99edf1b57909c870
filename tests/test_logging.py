"""No NIR, code, PIN or password in logs (DESIGN §7): `moncompte.logging.redact` and its logging filter."""

import logging

import pytest
from django.conf import settings

from moncompte.logging import RedactSecretsFilter, redact


@pytest.mark.parametrize(
    "nir",
    [
        "1840575123456",  # 13 characters
        "184057512345678",  # 15, with the key
        "1 84 05 75 123 456",
        "1 84 05 75 123 456 78",
        "1.84.05.75.123.456.78",
        "2 84 05 2A 123 456 78",  # born in Corsica
        "184052b123456",
        "7 84 05 99 123 456",  # an NIA (waiting number)
    ],
)
def test_nirs_are_masked_in_every_usual_shape(nir):
    assert redact(f"connexion refusée pour {nir} depuis le web") == "connexion refusée pour [NIR masqué] depuis le web"


@pytest.mark.parametrize("secret", ["483920", "000042", "1234567", "12345678"])
def test_codes_and_pins_of_six_to_eight_digits_are_masked(secret):
    assert redact(f"code {secret} envoyé") == "code [masqué] envoyé"


@pytest.mark.parametrize("harmless", ["75001 Paris", "id 12345", "2024-05-01 12:34:56", "+33612345678", "HTTP 500"])
def test_ordinary_numbers_are_left_alone(harmless):
    assert redact(harmless) == harmless


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("password=Tr0mbone-Vert&next=/", "password=[masqué]&next=/"),
        ("POST password=Tr0mbone-Vert remember=on", "POST password=[masqué] remember=on"),
        ("mot_de_passe: Vi0lon-Rouge", "mot_de_passe: [masqué]"),
        ('{"password": "Deux mots, Vi0lon!"}', '{"password": "[masqué]"}'),
        ("{'new_password': 'Tr0mbone-Vert'}", "{'new_password': '[masqué]'}"),
        ("<QueryDict: {'password1': ['Tr0mbone-Vert']}>", "<QueryDict: {'password1': ['[masqué]']}>"),
        ("pin=1234", "pin=[masqué]"),
        ("secret=abc token=xyz", "secret=[masqué] token=[masqué]"),
    ],
)
def test_password_pairs_are_masked_whole(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "password=Tr0mbone-Vert code 483920 NIR 1840575123456",
        "<QueryDict: {'password1': ['Tr0mbone-Vert']}>",
        '{"password": "Deux mots"}',
    ],
)
def test_redacting_twice_changes_nothing_more(text):
    assert redact(redact(text)) == redact(text)


def test_everything_at_once():
    text = "login NIR 1 84 05 2A 123 456 78 password=Tr0mbone-Vert code 483920"
    assert redact(text) == "login NIR [NIR masqué] password=[masqué] code [masqué]"


@pytest.fixture
def redacted_logger(caplog):
    logger = logging.getLogger("tests.redacted")
    redact_filter = RedactSecretsFilter()
    logger.addFilter(redact_filter)
    caplog.set_level(logging.INFO, logger="tests.redacted")
    yield logger
    logger.removeFilter(redact_filter)


def test_the_filter_rewrites_the_log_record(redacted_logger, caplog):
    redacted_logger.info("code %s sent for %s, password=%s", "483920", "1840575123456", "Tr0mbone-Vert")
    (record,) = caplog.records
    assert record.getMessage() == "code [masqué] sent for [NIR masqué], password=[masqué]"
    assert record.args is None
    assert "483920" not in caplog.text and "1840575123456" not in caplog.text and "Tr0mbone" not in caplog.text


def test_the_filter_leaves_a_clean_record_untouched(redacted_logger, caplog):
    redacted_logger.info("outbox message %s sent", 12)
    (record,) = caplog.records
    assert (record.msg, record.args) == ("outbox message %s sent", (12,))


def test_the_filter_masks_the_traceback_too(redacted_logger, caplog):
    try:
        raise ValueError("NIR invalide : 1840575123456")
    except ValueError:
        redacted_logger.exception("import refusé")
    assert "1840575123456" not in caplog.text
    assert "ValueError: NIR invalide : [NIR masqué]" in caplog.text


def test_the_configured_console_handler_uses_the_filter():
    assert settings.LOGGING["filters"]["redact"]["()"] == "moncompte.logging.RedactSecretsFilter"
    assert "redact" in settings.LOGGING["handlers"]["console"]["filters"]
