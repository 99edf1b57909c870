"""FranceConnect end to end, in Chromium, against an independent OpenID provider: the npm package `oidc-provider`
(panva), configured like FranceConnect v2 by scripts/franceconnect/provider.mjs (ES256, userinfo as a JWT, acr
eidas1, the pivot-identity claims, RP-initiated logout), started here on loopback."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from moncompte.accounts.models import Account
from moncompte.franceconnect.models import Link
from moncompte.journal.models import Entry
from tests.browser.helpers import PASSWORD_LABEL, click, field, in_a_household, through_franceconnect
from tests.factories import AccountFactory
from tests.helpers import LEA, lea_person


def test_an_existing_account_is_linked_once_then_signs_in_and_out_at_both_ends(page, franceconnect, transactional_db):
    account = AccountFactory(person=in_a_household(lea_person()))
    franceconnect({"lea": {"label": "Léa Martin", **LEA}})

    through_franceconnect(page, "Léa Martin")
    expect(page.get_by_role("heading", name="Reliez votre compte à FranceConnect")).to_be_visible()
    field(page, PASSWORD_LABEL).fill(account.raw_password)
    click(page, "Relier mon compte")
    expect(page).to_have_url(re.compile(r"/mon-espace/$"))
    expect(page.get_by_text("Votre compte est relié à FranceConnect")).to_be_visible()
    link = Link.objects.get(account=account)
    assert re.fullmatch(r"[0-9a-f]{64}", link.sub)

    click(page, "Se déconnecter")  # out of Mon Compte, then out of FranceConnect, then back here
    expect(page).to_have_url(re.compile(r"/franceconnect/deconnexion/\?state="))
    expect(page.get_by_text("Vous êtes déconnecté de Mon Compte et de FranceConnect.")).to_be_visible()

    through_franceconnect(page, "Léa Martin")  # FranceConnect asks again (prompt=login): the link is enough here
    expect(page).to_have_url(re.compile(r"/mon-espace/$"))
    logins = Entry.objects.filter(kind="login.succeeded", person_id=account.person_id)
    assert [entry.after["via"] for entry in logins.order_by("id")] == ["franceconnect", "franceconnect"]


def test_a_member_without_an_account_gets_one(page, franceconnect, transactional_db):
    person = in_a_household(lea_person())
    franceconnect({"lea": {"label": "Léa Martin", **LEA}})

    through_franceconnect(page, "Léa Martin")
    expect(page.get_by_role("heading", name="Créez votre compte avec FranceConnect")).to_be_visible()
    click(page, "Créer mon compte")
    expect(page).to_have_url(re.compile(r"/premiere-connexion/mot-de-passe/$"))
    expect(page.get_by_text("Votre compte est créé et relié à FranceConnect")).to_be_visible()
    account = Account.objects.get(person=person)
    assert Link.objects.filter(account=account).exists()


@pytest.mark.parametrize(
    ("situation", "heading"),
    [("nobody", "Nous ne vous avons pas trouvé"), ("twins", "Nous ne pouvons pas vous reconnaître avec certitude")],
)
def test_nobody_and_two_candidates_are_refused_with_their_explanation(
    page, franceconnect, transactional_db, situation, heading
):
    if situation == "twins":
        in_a_household(lea_person(given_names="Léa Anne"))
        in_a_household(lea_person(given_names="Léa Claire", nir="2090575112002"))
    franceconnect({"lea": {"label": "Léa Martin", **LEA}})

    through_franceconnect(page, "Léa Martin")
    expect(page.get_by_role("heading", name=heading)).to_be_visible()
    expect(page.get_by_role("link", name="Se connecter avec mon numéro de Sécurité sociale")).to_be_visible()
    expect(page.get_by_role("link", name="Créer mon compte")).to_be_visible()
    assert not Link.objects.exists()
    assert not Account.objects.filter(person__given_names__startswith="Léa").exists()


def test_cancelling_at_franceconnect_comes_back_with_the_other_ways_in(page, franceconnect, transactional_db):
    franceconnect({"lea": {"label": "Léa Martin", **LEA}})
    page.goto("/connexion/")
    page.get_by_role("button", name=re.compile("identifier avec")).click()
    page.get_by_role("button", name="Annuler et revenir sur le site").click()
    expect(page.get_by_role("heading", name="Connexion avec FranceConnect annulée")).to_be_visible()
    expect(page.get_by_role("link", name="Créer mon compte")).to_be_visible()


def test_a_new_signing_key_of_the_provider_is_fetched_when_it_rotates(page, franceconnect, transactional_db):
    account = AccountFactory(person=in_a_household(lea_person()))
    identities = {"lea": {"label": "Léa Martin", **LEA}}
    franceconnect(identities)
    through_franceconnect(page, "Léa Martin")
    assert len(cache.get("franceconnect:jwks")["keys"]) == 1
    field(page, PASSWORD_LABEL).fill(account.raw_password)
    click(page, "Relier mon compte")
    expect(page).to_have_url(re.compile(r"/mon-espace/$"))
    click(page, "Se déconnecter")
    expect(page.get_by_text("Vous êtes déconnecté de Mon Compte et de FranceConnect.")).to_be_visible()

    franceconnect(identities, rotate=True)  # the site still holds the old key set in its cache
    through_franceconnect(page, "Léa Martin")
    expect(page).to_have_url(re.compile(r"/mon-espace/$"))
    assert len(cache.get("franceconnect:jwks")["keys"]) == 2  # fetched again for the new key's kid
    assert not Entry.objects.filter(kind="franceconnect.refused").exists()
