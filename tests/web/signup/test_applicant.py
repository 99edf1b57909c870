"""A new applicant (« Faire une demande » without an account): identity checked by the registry, contact code,
password, then « Mes démarches »; without a NIR, a provisional identifier."""

import pytest

from moncompte.accounts.models import Account
from moncompte.identity import places
from moncompte.identity.models import Person
from moncompte.messaging.models import OutboxMessage
from moncompte.partners.dataset import NOT_REGISTERED, civil_status, new_applicants
from tests.helpers import last_code, page_text

START, CONTACT, CODE = "/faire-une-demande/", "/faire-une-demande/coordonnees/", "/faire-une-demande/code/"
pytestmark = pytest.mark.django_db
PASSWORD = "Lilas-Bleus-2026"
EMAIL = "nouvelle.personne@exemple.fr"


@pytest.fixture
def applicant(partners):
    person = new_applicants()[0]
    partners.push(
        {"people": {person.nir: {"etat_civil": civil_status(person), "avis": {}, "france_travail": NOT_REGISTERED}}}
    )
    return person


def identity_form(person, **changes):
    place = places.place(person.birthplace) if person.birthplace else None
    data = {
        "nir": person.nir_with_key,
        "birth_name": person.birth_name,
        "given_names": person.given_names,
        "sex": person.sex,
        "birth_date": person.birth_date.isoformat(),
        "born": "france" if person.birthplace else "abroad",
        "birthplace_name": place.name if place else "",
        "birthplace": person.birthplace,
        "country_name": "" if person.birthplace else places.country_name(person.birth_country),
    }
    return {**data, **changes}


def test_a_new_applicant_opens_an_account_and_lands_on_the_procedures(client, applicant):
    response = client.post(START, identity_form(applicant))
    assert response.status_code == 302, page_text(response)
    assert response["Location"] == CONTACT
    response = client.post(CONTACT, {"medium": "email", "email": EMAIL})
    assert response.status_code == 302, page_text(response)
    code = last_code(EMAIL)
    response = client.post(CODE, {"code": code, "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302, page_text(response)
    person = Person.objects.get(nir=applicant.nir)
    assert person.account.email == EMAIL and person.account.migration_done
    page = client.get(response["Location"])
    assert "Votre compte est ouvert" in page_text(page)
    assert "Faire une demande" in page_text(client.get("/demarches/"))


def test_a_wrong_name_and_an_unknown_nir_get_the_same_answer(client, applicant):
    wrong_name = client.post(START, identity_form(applicant, birth_name="Autrenom"))
    other = new_applicants(count=5)[1]  # not pushed: unknown to the registry
    unknown = client.post(START, identity_form(other))
    assert wrong_name.status_code == unknown.status_code == 400
    assert "Votre identité n'a pas pu être confirmée" in page_text(wrong_name)
    assert page_text(wrong_name).replace(applicant.birth_name, "").count("Vérifiez") == page_text(unknown).count(
        "Vérifiez"
    )
    assert not Person.objects.exists()


def test_without_a_nir_the_applicant_gets_a_provisional_identifier(client, partners):
    person = new_applicants()[0]
    response = client.post(START, identity_form(person, nir="", no_nir="on"))
    assert response.status_code == 302, page_text(response)
    client.post(CONTACT, {"medium": "email", "email": EMAIL})
    client.post(CODE, {"code": last_code(EMAIL), "password1": PASSWORD, "password2": PASSWORD})
    created = Person.objects.get()
    assert created.nir is None and created.provisional_id.startswith("P")
    welcome = page_text(client.get("/faire-une-demande/bienvenue/"))
    assert created.provisional_id[1:6] in welcome
    assert any(created.provisional_id[1:6] in m.body for m in OutboxMessage.objects.filter(to=EMAIL))
    assert Account.objects.get().login_id == created.provisional_id
