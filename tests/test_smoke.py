import pytest

from tests.helpers import errors, last_code


@pytest.mark.django_db
def test_holder_migrates_with_the_case_pin_then_logs_in_with_the_new_password(client, household):
    nir = household.holder.nir
    response = client.post("/connexion/", {"identifier": nir, "password": household.case.pin})
    assert response.status_code == 302
    assert client.get("/mon-espace/")["Location"] == "/premiere-connexion/mot-de-passe/"
    response = client.post(
        "/premiere-connexion/mot-de-passe/", {"password1": "Tr0mbone-Vert", "password2": "Tr0mbone-Vert"}
    )
    assert response["Location"] == "/premiere-connexion/coordonnees/", errors(response)
    client.post("/premiere-connexion/coordonnees/", {"medium": "email", "email": "paul@exemple.fr"})
    response = client.post("/premiere-connexion/coordonnees/code/", {"code": last_code()})
    assert response["Location"] == "/premiere-connexion/bienvenue/"
    client.post("/premiere-connexion/bienvenue/")
    assert client.get("/mon-espace/").status_code == 200
