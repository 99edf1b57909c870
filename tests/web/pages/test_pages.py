"""The footer's fixed pages (issue 7, item 16): accessibility statement, legal notice, personal data, cookies; the
footer's links to them on every page; and the accessibility fixes that the server's HTML shows (download buttons with
their text, the household table's scroll region focusable and named, the show-password button hidden until its
script runs)."""

import html as html_module
import re

import pytest
from django.conf import settings
from django.test import override_settings

from tests.helpers import page_text, sign_in

PAGES = {
    "/accessibilite/": "Déclaration d'accessibilité",
    "/mentions-legales/": "Mentions légales",
    "/donnees-personnelles/": "Données personnelles",
    "/cookies/": "Gestion des cookies",
}
PAGES_EN = {
    "/accessibilite/": "Accessibility statement",
    "/mentions-legales/": "Legal notice",
    "/donnees-personnelles/": "Personal data",
    "/cookies/": "Cookie management",
}


def h1(response) -> str:
    return html_module.unescape(re.search(r"<h1[^>]*>(.*?)</h1>", response.content.decode(), re.S).group(1).strip())


def assert_private_no_store(response):
    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"private", "no-store"} <= cache_control, response["Cache-Control"]
    assert "Cookie" in {part.strip() for part in response["Vary"].split(",")}, response["Vary"]


@pytest.mark.django_db
@pytest.mark.parametrize("url", sorted(PAGES))
def test_each_page_answers_in_french_with_the_headers_of_every_page(client, url):
    response = client.get(url)

    assert response.status_code == 200
    assert 'lang="fr"' in response.content.decode()[:200]
    assert h1(response) == PAGES[url]
    assert_private_no_store(response)
    assert response["X-Frame-Options"] == "DENY"
    assert "script-src" in response["Content-Security-Policy"]


@pytest.mark.django_db
@pytest.mark.parametrize("url", sorted(PAGES))
def test_each_page_answers_in_english_to_a_browser_that_asks_for_it(client, url):
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    assert 'lang="en"' in response.content.decode()[:200]
    assert h1(response) == PAGES_EN[url]


@pytest.mark.django_db
@pytest.mark.parametrize("url", sorted(PAGES))
def test_each_page_is_read_only_and_the_same_signed_in(client, migrated, url):
    assert client.post(url).status_code == 405
    assert client.head(url).status_code == 200
    sign_in(client, migrated)
    response = client.get(url)
    assert response.status_code == 200
    assert_private_no_store(response)


@pytest.mark.django_db
def test_the_footer_links_to_the_statement_and_the_three_legal_pages(client):
    html = client.get("/connexion/").content.decode()
    footer = html[html.index('<footer class="fr-footer"') :]

    links = dict(
        (text, href)
        for href, text in re.findall(r'<a class="fr-footer__bottom-link" href="([^"]+)">([^<]+)</a>', footer)
    )
    assert links["Accessibilité : non conforme"] == "/accessibilite/"
    assert links["Mentions légales"] == "/mentions-legales/"
    assert links["Données personnelles"] == "/donnees-personnelles/"
    assert links["Gestion des cookies"] == "/cookies/"


@pytest.mark.django_db
def test_the_statement_follows_the_rgaa_model_without_invented_results(client):
    text = page_text(client.get("/accessibilite/"))

    assert "Mon Compte est non conforme avec le référentiel général d'amélioration de l'accessibilité (RGAA)" in text
    assert "(RGAA), version 4.1, car il n'a encore fait l'objet d'aucun audit de conformité." in text
    for heading in (
        "État de conformité",
        "Résultats des tests",
        "Contenus non accessibles",
        "Établissement de cette déclaration",
        "Technologies utilisées pour la réalisation du site",
        "Environnement de test",
        "Retour d'information et contact",
        "Voies de recours",
    ):
        assert heading in text
    assert "Aucun audit de conformité au RGAA n'a encore été réalisé" in text
    assert "%" not in text  # no compliance rate: nothing was audited
    assert "Cette déclaration a été établie le 1 décembre 2026." in text
    assert "Défenseur des droits" in text and "Libre réponse 71120" in text
    assert settings.ACCESSIBILITY_CONTACT in text


@pytest.mark.django_db
def test_left_unset_the_legal_pages_say_that_this_is_a_demonstration(client):
    response = client.get("/mentions-legales/")
    text = page_text(response)

    assert 'data-testid="demo-notice"' in response.content.decode()
    assert "organisme fictif" in text
    to_complete = "À compléter par l'organisme qui déploie Mon Compte"
    assert f"Directeur de la publication {to_complete} ( LEGAL_PUBLICATION_DIRECTOR )" in text
    assert f"Hébergement {to_complete} ( LEGAL_HOST )" in text


@override_settings(
    LEGAL_PUBLISHER="Caf de Test",
    LEGAL_PUBLISHER_ADDRESS="1 rue de l'Essai, 00000 Test",
    LEGAL_PUBLICATION_DIRECTOR="Camille Directrice",
    LEGAL_HOST="Hébergeur Exemple",
    DPO_CONTACT="dpo@caf-test.example",
    ACCESSIBILITY_CONTACT="a11y@caf-test.example",
)
@pytest.mark.django_db
def test_the_deployer_s_settings_fill_the_legal_pages(client):
    legal = page_text(client.get("/mentions-legales/"))
    data = page_text(client.get("/donnees-personnelles/"))
    statement = page_text(client.get("/accessibilite/"))

    assert "Caf de Test" in legal and "Camille Directrice" in legal and "Hébergeur Exemple" in legal
    assert "1 rue de l'Essai, 00000 Test" in legal
    assert "Déploiement de démonstration" not in legal + data + statement
    assert "dpo@caf-test.example" in data and "Caf de Test" in data
    assert "a11y@caf-test.example" in statement and "démonstration" not in statement


@pytest.mark.django_db
def test_the_personal_data_page_names_the_data_the_rights_and_the_cnil(client):
    text = page_text(client.get("/donnees-personnelles/"))

    for words in ("Votre identité", "Vos coordonnées", "Le journal de vos actions", "Vos sessions"):
        assert words in text
    assert "article 6.1.e du règlement général sur la protection des données" in text
    assert settings.DPO_CONTACT in text
    assert "CNIL" in text
    assert "10 minutes" in text and "30 minutes sans activité" in text and "12 heures" in text


@pytest.mark.django_db
def test_the_cookie_page_lists_every_cookie_the_site_sets_with_its_real_duration(client):
    response = client.get("/cookies/")
    text = page_text(response)
    names = re.findall(r"<td><code>([^<]+)</code></td>", response.content.decode())

    assert names == [
        settings.SESSION_COOKIE_NAME,
        settings.CSRF_COOKIE_NAME,
        settings.LANGUAGE_COOKIE_NAME,
        "messages",
        settings.REMEMBER_ME_COOKIE_NAME,
        settings.DEVICE_COOKIE_NAME,
    ]
    assert "moncompte_session" in names and "moncompte_identifiant" in names and "moncompte_appareil" in names
    assert f"{settings.REMEMBER_ME_MAX_AGE // 86400} jours" in text
    assert f"{settings.DEVICE_TRUST_DAYS} jours" in text
    assert "aucun cookie de mesure d'audience" in text
    # The cookie table scrolls on a small screen: its scroll region takes the focus and has a name.
    assert re.search(
        r'<div class="fr-table__container" tabindex="0" role="region" aria-labelledby="cookies-caption">',
        response.content.decode(),
    )


@pytest.mark.django_db
def test_the_download_buttons_show_their_text(client, migrated):
    sign_in(client, migrated)
    html = client.get("/mon-espace/mes-informations/").content.decode()

    group = re.search(r'<ul class="([^"]*)">\s*<li><a class="fr-btn[^"]*fr-icon-download-line', html)
    # In a DSFR button group, a button with an icon shows only the icon unless the group is --icon-left.
    assert "fr-btns-group--icon-left" in group.group(1).split()
    buttons = re.findall(r'<a class="([^"]*fr-icon-download-line[^"]*)" href="[^"]+">([^<]+)</a>', html)
    assert [text for _classes, text in buttons] == [
        "Télécharger un document lisible (HTML)",
        "Télécharger au format JSON",
    ]
    assert all("fr-btn--icon-left" in classes.split() for classes, _text in buttons)


@pytest.mark.django_db
def test_the_household_table_scroll_region_is_focusable_and_named(client, migrated):
    sign_in(client, migrated)
    html = client.get("/mon-foyer/").content.decode()
    number = migrated.case.case_number

    container = re.search(r'<div class="fr-table__container"([^>]*)>', html).group(1)
    assert 'tabindex="0"' in container and 'role="region"' in container
    assert f'aria-labelledby="case-{number} members-{number}"' in container
    assert f'<caption id="members-{number}">' in html and f'<h2 id="case-{number}">' in html


@pytest.mark.django_db
def test_the_show_password_button_is_hidden_until_its_script_runs(client):
    html = client.get("/connexion/").content.decode()

    box = re.search(r"<div hidden data-password-toggle-box><button [^>]*data-password-toggle=", html)
    assert box, "the show-password button must sit in a hidden box that password-rules.js reveals"
