"""Issue 8, item 7 (OWASP ASVS 5.0 6.1.1, 6.1.3): docs/authentication.md lists every authentication pathway with its
factors and throttles. This keeps the table true.

Every number the document takes from the code is a code span `NAME = value` (a setting, in its own unit as
django.conf.settings holds it; a timedelta as `15 min`) or `module.NAME = value` (a constant of moncompte/<module>.py).
Each span is compared with the code, so a default changed without the document, or the document without the code,
fails here. The table must have a row per pathway, every throttle setting must be stated, and a new `OTP_*`,
`LOGIN_LIMIT_*` or `INVITATIONS_PER_HOUR_*` setting cannot be added without being named in the document.
"""

import ast
import importlib
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings

#: The document states the pages' real minimum response times: keep them (tests/conftest.py).
pytestmark = pytest.mark.real_durations

DOC = Path(settings.BASE_DIR) / "docs" / "authentication.md"

#: The table's first column, in order: one row per way into the product.
PATHWAYS = [
    "NIR + personal password",
    "Step-up login code",
    "NIR + case PIN (first login)",
    "Provisional identifier + password or case PIN",
    "Password reset by code",
    "Member signup by code",
    "Invitation",
    "« Ce n'était pas moi »",
    "Re-authentication and password change",
    "Agents' sign-in (desk and admin)",
    "Reset code from an agent",
    "FranceConnect",
]

#: The throttles that matter: each must be stated with its value (a checked span) somewhere in the document.
THROTTLE_SETTINGS = [
    "AXES_FAILURE_LIMIT",
    "AXES_COOLOFF_TIME",
    "LOGIN_LIMIT_PER_IP",
    "LOGIN_LIMIT_WINDOW",
    "LOGIN_LIMIT_PER_IDENTIFIER",
    "LOGIN_LIMIT_PER_DEVICE",
    "LOGIN_STEP_UP_HOURS",
    "DEVICE_TRUST_DAYS",
    "REAUTH_MAX_AGE",
    "OTP_DIGITS",
    "OTP_LIFETIME",
    "OTP_MAX_ATTEMPTS",
    "OTP_RESEND_DELAY",
    "OTP_MAX_SENDS_PER_HOUR",
    "OTP_ANONYMOUS_DIGITS",
    "OTP_ANONYMOUS_TRIES_PER_DAY",
    "OTP_ANONYMOUS_SENDS_PER_DAY",
    "OTP_REQUESTS_PER_ADDRESS_PER_HOUR",
    "OTP_TRIES_PER_ADDRESS_PER_HOUR",
    "OTP_REQUESTS_PER_HOUR",
    "OTP_TRIES_PER_HOUR",
    "INVITATION_LIFETIME_HOURS",
    "INVITATIONS_PER_HOUR_PER_DESTINATION",
    "INVITATIONS_PER_HOUR_PER_HOLDER",
    "web.account.views.REAUTH_MAX_FAILURES",
    "web.account.views.STEP_UP_MAX_AGE",
    "signup.services.INVITATION_MAX_BIRTH_DATE_FAILURES",
    "web.signup.views.INVITATION_CODE_MAX_FAILURES",
    "web.signup.views.INVITATION_CODE_COOL_OFF",
]

#: Settings of these families are throttles: a new one must be named in the document.
THROTTLE_PREFIXES = ("OTP_", "LOGIN_LIMIT_", "INVITATIONS_PER_HOUR_")

#: Any code span with an equals sign in it: each one must be a checkable `NAME = value`.
SPAN = re.compile(r"`([^`\n]*=[^`\n]*)`")
ASSIGNMENT = re.compile(r"(?P<module>(?:[a-z_][a-z0-9_]*\.)*)(?P<name>[A-Z][A-Z0-9_]*) = (?P<value>.+)")
DURATION = re.compile(r"(?P<amount>\d+) (?P<unit>s|min|h|days)")
UNITS = {"s": "seconds", "min": "minutes", "h": "hours", "days": "days"}


def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def stated(text: str) -> list[tuple[str, str]]:
    """(`module.NAME` or `NAME`, value as written) for every `NAME = value` span; ValueError for a span with an
    equals sign that is not one (it would escape the check)."""
    found = []
    for span in SPAN.findall(text):
        match = ASSIGNMENT.fullmatch(span)
        if match is None:
            raise ValueError(f"`{span}`: write a setting as `NAME = value`, a constant as `module.NAME = value`")
        found.append((match["module"] + match["name"], match["value"]))
    return found


def code_value(dotted: str):
    """The value the code holds: a setting, or a constant of moncompte.<module> (KeyError when there is none)."""
    module, _dot, name = dotted.rpartition(".")
    holder = importlib.import_module(f"moncompte.{module}") if module else settings
    if not hasattr(holder, name):
        raise KeyError(dotted)
    return getattr(holder, name)


def parse(written: str, current):
    """The value a span states, read in the unit of the code's value."""
    if isinstance(current, timedelta):
        match = DURATION.fullmatch(written)
        if match is None:
            raise ValueError(f"{written!r}: write a duration as '<number> s|min|h|days'")
        return timedelta(**{UNITS[match["unit"]]: int(match["amount"])})
    return ast.literal_eval(written)


def mismatches(text: str) -> list[str]:
    problems = []
    for dotted, written in stated(text):
        try:
            current = code_value(dotted)
        except (KeyError, ImportError):
            problems.append(f"`{dotted} = {written}`: no such setting or constant")
            continue
        try:
            value = parse(written, current)
        except (ValueError, SyntaxError) as error:
            problems.append(f"`{dotted} = {written}`: cannot read the value ({error})")
            continue
        if type(value) is not type(current) and not (isinstance(current, float) and isinstance(value, int)):
            problems.append(f"`{dotted} = {written}`: a {type(value).__name__}, the code holds a {current!r}")
        elif value != current:
            problems.append(f"`{dotted} = {written}`: the code holds {current!r}")
    return problems


def pathway_rows(text: str) -> list[list[str]]:
    """The cells of each row of the table under "## The pathways"."""
    section = text.split("\n## The pathways\n", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:]]


def named(text: str) -> set[str]:
    return {dotted for dotted, _written in stated(text)}


# --- The numbers ---------------------------------------------------------------------------------------------------


def test_every_number_the_document_takes_from_the_code_is_the_code_s():
    text = doc_text()
    assert len(stated(text)) >= 60, "the document states fewer settings than it should: is the span format intact?"
    problems = mismatches(text)
    assert not problems, "docs/authentication.md disagrees with the code:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    "dotted", ["OTP_LIFETIME", "AXES_COOLOFF_TIME", "REMEMBER_ME_MAX_AGE", "web.account.views.REAUTH_MAX_FAILURES"]
)
def test_one_number_changed_in_the_document_fails_the_check(dotted):
    text = doc_text()
    span = next(re.finditer(rf"`{re.escape(dotted)} = (\d+)", text))
    changed = text[: span.start(1)] + str(int(span[1]) + 1) + text[span.end(1) :]

    assert any(problem.startswith(f"`{dotted} = ") for problem in mismatches(changed))


def test_a_span_with_an_equals_sign_that_is_not_a_setting_is_refused():
    with pytest.raises(ValueError):
        stated("the code lasts `OTP_LIFETIME=600` seconds")
    assert mismatches("`NO_SUCH_SETTING = 1` and `web.account.views.NO_SUCH_CONSTANT = 1`") == [
        "`NO_SUCH_SETTING = 1`: no such setting or constant",
        "`web.account.views.NO_SUCH_CONSTANT = 1`: no such setting or constant",
    ]


# --- The pathways --------------------------------------------------------------------------------------------------


def test_the_table_has_one_row_per_pathway_in_order():
    rows = pathway_rows(doc_text())

    assert [row[0].strip("*") for row in rows] == PATHWAYS
    assert all(len(row) == 5 for row in rows), "each row: pathway, where, factors, throttles, on success"


def test_the_rows_that_offer_less_say_so_plainly():
    rows = {row[0].strip("*"): row for row in pathway_rows(doc_text())}

    # The agents' second factor exists now (issue 13): their row names both factors and the backup codes' storage.
    agents = rows["Agents' sign-in (desk and admin)"][2]
    assert "Two factors" in agents and "TOTP" in agents and "HMAC" in agents
    # FranceConnect exists now (issue 10): its row says what is checked and how the person is found.
    assert "never by e-mail" in rows["FranceConnect"][2] and "exactly one candidate" in rows["FranceConnect"][2]
    assert SPAN.search(rows["FranceConnect"][3]), "FranceConnect's throttles are stated with their numbers"
    assert "Not a login" in rows["« Ce n'était pas moi »"][2]


# --- The throttles -------------------------------------------------------------------------------------------------


def test_every_throttle_that_matters_is_stated_with_its_number():
    for dotted in THROTTLE_SETTINGS:
        code_value(dotted)  # the list itself names only what exists
    missing = [dotted for dotted in THROTTLE_SETTINGS if dotted not in named(doc_text())]

    assert not missing, f"docs/authentication.md does not state: {', '.join(missing)}"


def test_a_new_throttle_setting_cannot_be_added_without_the_document():
    throttles = sorted(name for name in dir(settings) if name.startswith(THROTTLE_PREFIXES))
    missing = [name for name in throttles if name not in named(doc_text())]

    assert "OTP_LIFETIME" in throttles and "LOGIN_LIMIT_PER_IP" in throttles
    assert not missing, f"new throttle settings, not in docs/authentication.md: {', '.join(missing)}"
