"""Agents in tests: their accounts, roles and second factor (accounts.agents), and clients signed in as they are
after the desk's login (password, then a TOTP code)."""

from __future__ import annotations

import time

from django.contrib.auth.models import Permission
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from moncompte.accounts import agents
from moncompte.accounts.models import Account

STAFF_BACKEND = "moncompte.accounts.authentication.StaffBackend"
AGENT_PASSWORD = "Ag3nt-Secret-Guichet!"
DESK_LOGIN = "/guichet/connexion/"
SECOND_FACTOR = "/guichet/connexion/code/"
ENROL = "/guichet/connexion/activation/"


def agent_make(
    login_id: str = "agent",
    *,
    roles: tuple[str, ...] = (),
    permissions: tuple[str, ...] = (),
    superuser: bool = False,
    enrolled: bool = True,
    password: str = AGENT_PASSWORD,
) -> Account:
    """An agent with these roles (accounts.agents keys) and extra permissions ("app_label.codename"), and, unless
    `enrolled` is False, a confirmed TOTP device."""
    agents.roles_sync()
    account = agents.agent_create(login_id=login_id, password=password, roles=list(roles), reason="test")
    if superuser:
        Account.objects.filter(pk=account.pk).update(is_superuser=True)
        account.refresh_from_db()
    for name in permissions:
        app_label, codename = name.split(".")
        account.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    if enrolled:
        TOTPDevice.objects.create(user=account, name=agents.TOTP_DEVICE_NAME, confirmed=True)
    return account


def totp_code(device: TOTPDevice, *, at: float | None = None) -> str:
    """The code the agent's application shows now (or at `at`)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = at if at is not None else time.time()
    return f"{totp.token():0{device.digits}d}"


def totp_next_code(device: TOTPDevice) -> str:
    """A code the device has not accepted yet (a code is good once: the next time step's, within the tolerance)."""
    device.refresh_from_db()
    now = time.time()
    current = int((now - device.t0) // device.step) + device.drift  # the step the device checks against now
    if device.last_t < current:
        return totp_code(device, at=now)
    return totp_code(device, at=now + device.step * (device.last_t - current + 1))


def agent_client(account: Account, client: Client | None = None) -> Client:
    """A client signed in as the agent with the second factor proven, as the desk's login leaves it."""
    client = client or Client(HTTP_HOST="localhost")
    client.force_login(account, backend=STAFF_BACKEND)
    device = agents.totp_confirmed(account)
    assert device is not None, "agent_client needs an enrolled agent"
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    client.agent = account
    return client


def agent_sign_in(client: Client, account: Account, password: str = AGENT_PASSWORD) -> Client:
    """Through the pages: password, then the application's code."""
    response = client.post(DESK_LOGIN, {"username": account.login_id, "password": password})
    assert response.status_code == 302 and response["Location"] == SECOND_FACTOR, response.content.decode()[:500]
    response = client.post(SECOND_FACTOR, {"code": totp_next_code(agents.totp_confirmed(account))})
    assert response.status_code == 302, response.content.decode()[:500]
    return client
