"""Issue 7, item 3: the password-change form counted like the re-authentication page: each wrong current password
journaled, the fifth in a row signs out."""

import pytest

from moncompte.journal.models import Entry
from tests.helpers import errors, sign_in

PASSWORD_CHANGE = "/mon-espace/mot-de-passe/"
NEW_PASSWORD = "Cl4rinette-Jaune"


def change(client, current):
    return client.post(
        PASSWORD_CHANGE, {"current_password": current, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )


@pytest.mark.django_db
def test_a_wrong_current_password_is_refused_and_journaled(client, migrated):
    sign_in(client, migrated)

    response = change(client, "Pas-le-bon-1")

    assert response.status_code == 400
    assert errors(response)
    assert Entry.objects.filter(kind="reauth.failed", person_id=migrated.person_id).count() == 1


@pytest.mark.django_db
def test_five_wrong_current_passwords_sign_out_and_the_password_is_unchanged(client, migrated):
    sign_in(client, migrated)
    for _ in range(4):
        assert change(client, "Pas-le-bon-1").status_code == 400

    response = change(client, "Pas-le-bon-1")

    assert response.status_code == 302 and response["Location"] == "/connexion/"
    assert client.get("/mon-espace/")["Location"].startswith("/connexion/")
    assert Entry.objects.filter(kind="reauth.failed", person_id=migrated.person_id).count() == 5
    migrated.refresh_from_db()
    assert migrated.check_password(migrated.raw_password)


@pytest.mark.django_db
def test_the_right_password_starts_the_count_again(client, migrated):
    sign_in(client, migrated)
    for _ in range(4):
        change(client, "Pas-le-bon-1")

    assert change(client, migrated.raw_password)["Location"] == "/mon-espace/"
    assert change(client, "Pas-le-bon-1").status_code == 400  # one failure, not the fifth
