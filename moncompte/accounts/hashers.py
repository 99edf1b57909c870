"""Password and case-PIN hashers whose argon2id parameters come from settings.

Django re-hashes a password at a successful login when its parameters differ from the configured ones
(`must_update`), so raising the cost in settings upgrades every hash over time.
"""

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher


class ConfiguredArgon2PasswordHasher(Argon2PasswordHasher):
    """argon2id with ARGON2_MEMORY_COST (KiB), ARGON2_TIME_COST and ARGON2_PARALLELISM."""

    @property
    def time_cost(self) -> int:
        return settings.ARGON2_TIME_COST

    @property
    def memory_cost(self) -> int:
        return settings.ARGON2_MEMORY_COST

    @property
    def parallelism(self) -> int:
        return settings.ARGON2_PARALLELISM


class CasePinHasher(ConfiguredArgon2PasswordHasher):
    """The legacy 8-digit case PIN: only 10^8 values, so a strong hash, never a fast one and never the clear PIN.

    A distinct algorithm name keeps a PIN hash from ever being mistaken for a personal password hash.
    """

    algorithm = "case_pin_argon2"
