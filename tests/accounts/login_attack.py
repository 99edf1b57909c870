"""What the login-attack tests share: browsers on loopback addresses, the login and reset requests, and the attack
(wrong passwords for one NIR from several addresses)."""

from django.test import Client

LOGIN = "/connexion/"
LOGIN_CODE = "/connexion/code/"
LOGOUT = "/deconnexion/"
DASHBOARD = "/mon-espace/"
RESET = "/mot-de-passe-oublie/"
RESET_CODE = "/mot-de-passe-oublie/code/"
WRONG = "Pas-le-bon-1"
NEW_PASSWORD = "Cl4rinette-Jaune"


def browser(ip: str, **extra) -> Client:
    client = Client(REMOTE_ADDR=ip, **extra)
    client.defaults["HTTP_HOST"] = "localhost"
    return client


def trusted_browser(account, ip: str) -> Client:
    """The account owner's own browser, where they signed in once (a trusted device), signed out since."""
    client = browser(ip)
    assert login(client, account.person.nir, account.raw_password)["Location"] == DASHBOARD
    client.post(LOGOUT)
    return client


def login(client, nir, password, **data):
    return client.post(LOGIN, {"identifier": nir, "password": password, **data})


def reset_request(client, nir, medium="email"):
    return client.post(RESET, {"identifier": nir, "medium": medium})


def reset_complete(client, code, password=NEW_PASSWORD):
    return client.post(RESET_CODE, {"code": code, "password1": password, "password2": password})


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"


def attack_passwords(nir: str, addresses: list[str]) -> list[int]:
    """Five wrong passwords from each address (axes cools each off at its fifth); the statuses, in order."""
    statuses = []
    for ip in addresses:
        attacker = browser(ip)
        statuses += [login(attacker, nir, WRONG).status_code for _ in range(5)]
    return statuses
