"""Checking a login identifier and a secret: the personal password once migrated, else the case PIN (holder or
partner). The identifier is a NIR, or the provisional identifier of a person who has no NIR yet (once their NIR is
linked, that identifier finds nobody: it is retired).

Exactly one argon2 computation per attempt whatever the outcome (unknown identifier, retired provisional identifier,
child, migrated or not), so timing does not tell whether an identifier is known or which secret it expects — as
`django.contrib.auth.authenticate` does.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.backends import BaseBackend, ModelBackend

from moncompte.accounts import services
from moncompte.accounts.hashers import ConfiguredArgon2PasswordHasher
from moncompte.accounts.models import Account
from moncompte.households.selectors import pin_memberships_for_person
from moncompte.households.services import case_check_pin
from moncompte.identity.provisional import parse_login_identifier
from moncompte.identity.selectors import login_lookup, person_get_by_login_id

AUTH_VIA_PASSWORD = "password"  # noqa: S105 (a method name, not a secret)
AUTH_VIA_CASE_PIN = "case_pin"


@dataclass(frozen=True)
class Credentials:
    account: Account | None
    via: str = ""
    person_id: int | None = None


def _spend_one_hash(secret: str) -> None:
    ConfiguredArgon2PasswordHasher().encode(secret, "timing-equaliser")


def check_credentials(identifier: str, secret: str) -> Credentials:
    """`identifier`: a NIR's 13 characters or a provisional identifier, as `parse_login_identifier` returns them."""
    # One query in the common case (a person with an account), two otherwise.
    account = Account.objects.select_related("person").filter(**login_lookup(identifier, "person__")).first()
    person = account.person if account is not None else person_get_by_login_id(identifier)
    if person is None:
        _spend_one_hash(secret)
        return Credentials(None)
    if account is not None and account.has_usable_password():
        ok = account.check_password(secret)  # upgrades an old-parameter hash on success
        return Credentials(account if ok and account.is_active else None, AUTH_VIA_PASSWORD, person.pk)
    if account is not None and account.password_changed_at is not None:
        # Had a personal password, now unusable ("Ce n'était pas moi", an undone change): only "Mot de passe
        # oublié ?" reopens the account. The case PIN, known to the whole household, never does again.
        _spend_one_hash(secret)
        return Credentials(None, person_id=person.pk)
    memberships = list(pin_memberships_for_person(person)) if secret.isdigit() and len(secret) == 8 else []
    if not memberships:
        _spend_one_hash(secret)
        return Credentials(None, person_id=person.pk)
    for membership in memberships:
        if case_check_pin(membership.case, secret):
            if account is None:
                account = services.account_open_with_case_pin(person=person, case_number=membership.case.case_number)
            return Credentials(account if account.is_active else None, AUTH_VIA_CASE_PIN, person.pk)
    return Credentials(None, person_id=person.pk)


class NirBackend(BaseBackend):
    """authenticate(request, identifier=<NIR or provisional identifier as typed>, password=<password or case PIN>)."""

    def authenticate(self, request, identifier: str | None = None, password: str | None = None, **kwargs):
        if identifier is None or password is None:
            return None
        try:
            value = parse_login_identifier(identifier)
        except ValueError:
            _spend_one_hash(password)
            return None
        result = check_credentials(value, password)
        if request is not None:
            request.auth_result = result
        return result.account

    def get_user(self, user_id):
        return Account.objects.select_related("person").filter(pk=user_id, is_active=True).first()


class StaffBackend(ModelBackend):
    """Agents sign in to the admin with their staff login id; citizens never authenticate through it."""

    def user_can_authenticate(self, user) -> bool:
        return super().user_can_authenticate(user) and user.is_staff
