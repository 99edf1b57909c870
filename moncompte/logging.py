"""A logging filter that masks what must never reach a log: NIRs, one-time codes, PINs, passwords, and the bearer
tokens of links (an invitation, "Ce n'était pas moi"). The HTTP server's access log goes through the same `redact`
(moncompte/gunicorn_conf.py)."""

import logging
import re

MASK = "[masqué]"
# 13 or 15 characters that look like a NIR (digits, possibly 2A/2B, spaces or dots between groups).
_NIR = re.compile(
    r"\b[1-478][\s.]?\d{2}[\s.]?\d{2}[\s.]?(?:\d{2}|2[AB])[\s.]?\d{3}[\s.]?\d{3}(?:[\s.]?\d{2})?\b", re.I
)
# Runs of 6 to 8 digits: one-time codes and case PINs.
_SECRET_DIGITS = re.compile(r"\b\d{6,8}\b")
# `password=…`, `"password1": "…"`, `'new_password': ['…']` (a QueryDict), `pin: …`, `code=…`: the whole value goes,
# quoted values included (a password may hold spaces and commas).
_PASSWORD_FIELD = re.compile(
    r"((?:password|mot_de_passe|pin|code|secret|token)\w*['\"]?\s*[:=]\s*\[?\s*)"
    r"('[^']*'|\"[^\"]*\"|[^\s,'\"&\]]+)",
    re.I,
)


#: The routes whose last segment is a bearer token (whoever has the link acts with it). "confirmer" is the
#: placeholder the pages redirect to once the token is in the session, "saisir-le-code" the page where an SMS
#: invitation's code is typed: neither is a secret, both are left readable.
#: tests/test_logging.py checks that every route with a `token` in the URLconf is listed here.
TOKEN_ROUTES = ("invitation", "ce-n-etait-pas-moi", "en-cours")  # the last: a draft's handle
_TOKEN_PATH = re.compile(
    r"(/(?:" + "|".join(map(re.escape, TOKEN_ROUTES)) + r")/)"
    r"(?!(?:confirmer|saisir-le-code)(?:[/?#\s\"']|$))([^/?#\s\"'<>]+)"
)


def _mask_value(match: re.Match) -> str:
    key, value = match.groups()
    if value.strip("'\"") in (MASK, MASK[1:-1]):  # already masked (a record may pass two filters)
        return match.group(0)
    quote = value[0] if value[0] in "'\"" else ""
    return f"{key}{quote}{MASK}{quote}"


def redact_path(text: str) -> str:
    """Mask the token of a link's path (`/invitation/<token>/` → `/invitation/[masqué]/`), anywhere in `text`."""
    return _TOKEN_PATH.sub(lambda m: m.group(1) + MASK, text)


def redact(text: str) -> str:
    """Mask NIRs, runs of 6 to 8 digits (codes, PINs), the values of password, PIN, code, secret and token pairs,
    and the tokens of links' paths. Idempotent: a record may pass two filters."""
    text = redact_path(text)
    text = _PASSWORD_FIELD.sub(_mask_value, text)
    text = _NIR.sub("[NIR masqué]", text)
    return _SECRET_DIGITS.sub(MASK, text)


class RedactSecretsFilter(logging.Filter):
    """Rewrites the message, and the traceback of `logger.exception(…)`: an exception's text may quote a NIR."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
