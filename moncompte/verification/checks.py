"""System checks: settings that would weaken the one-time codes below the product's rules refuse to start."""

from __future__ import annotations

from django.conf import settings
from django.core import checks

from moncompte.verification.ceilings import MAX_YEARLY_GUESS_PROBABILITY, yearly_guess_probability


@checks.register(checks.Tags.security, deploy=False)
def code_strength(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """The yearly chance of guessing one NIR's anonymous code must stay under MAX_YEARLY_GUESS_PROBABILITY."""
    probability = yearly_guess_probability(
        tries_per_day=settings.OTP_ANONYMOUS_TRIES_PER_DAY, digits=settings.OTP_ANONYMOUS_DIGITS
    )
    if probability < MAX_YEARLY_GUESS_PROBABILITY:
        return []
    return [
        checks.Error(
            f"OTP_ANONYMOUS_TRIES_PER_DAY={settings.OTP_ANONYMOUS_TRIES_PER_DAY} with "
            f"OTP_ANONYMOUS_DIGITS={settings.OTP_ANONYMOUS_DIGITS} gives a yearly chance of {probability:.1e} of "
            f"guessing one person's code (the rule is under {MAX_YEARLY_GUESS_PROBABILITY:.0e}).",
            hint="Lower OTP_ANONYMOUS_TRIES_PER_DAY or raise OTP_ANONYMOUS_DIGITS.",
            id="moncompte.verification.E001",
        )
    ]
