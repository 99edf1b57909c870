"""What a code request or a code try can be refused with; each carries a message for the person, in the active
language (French unless they chose English)."""

from __future__ import annotations


class CodeError(Exception):
    def __init__(self, message: str, *, retry_after: int | None = None):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class CodeThrottled(CodeError):
    """A code request refused for now (resend delay, hourly quota, a ceiling)."""


class CodeInvalid(CodeError):
    """A code try refused (wrong, expired, exhausted, or a ceiling on tries)."""


class CeilingReached(CodeThrottled):
    """A ceiling of verification.ceilings: per NIR over a day, per client address or for the whole service."""
