"""A logging filter that masks what must never reach a log: NIRs, one-time codes, PINs and passwords."""

import logging
import re

# 13 or 15 characters that look like a NIR (digits, possibly 2A/2B, spaces or dots between groups).
_NIR = re.compile(
    r"\b[1-478][\s.]?\d{2}[\s.]?\d{2}[\s.]?(?:\d{2}|2[AB])[\s.]?\d{3}[\s.]?\d{3}(?:[\s.]?\d{2})?\b", re.I
)
# Runs of 6 to 8 digits: one-time codes and case PINs.
_SECRET_DIGITS = re.compile(r"\b\d{6,8}\b")
_PASSWORD_FIELD = re.compile(r"(password|mot_de_passe|pin|code|secret)(['\"]?\s*[:=]\s*['\"]?)[^\s,'\"&]+", re.I)


def redact(text: str) -> str:
    text = _PASSWORD_FIELD.sub(r"\1\2[masqué]", text)
    text = _NIR.sub("[NIR masqué]", text)
    return _SECRET_DIGITS.sub("[masqué]", text)


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
