"""Resources pre-filled from the partners (the real simulator, tests/conftest.py `partners`): shown with their source
and date, corrected by the person with the source's value kept beside, and a partner down never breaks the page."""

import pytest

from moncompte.procedures.activity_bonus import last_quarter
from moncompte.procedures.housing_aid import income_year
from moncompte.procedures.models import Draft, Submission
from tests.helpers import page_text
from tests.procedures.helpers import HOUSING, activity_answers, housing_draft
from tests.web.procedures.helpers import as_, post_step, receipt_url, step_url

UNAVAILABLE = 'data-testid="partner-unavailable"'
NOT_REGISTERED = {"inscrit": False, "categorie": "", "date_inscription": None, "allocations": []}


def _notice(income: int, parts: str = "1") -> dict:
    return {"annee_revenus": income_year(), "revenu_fiscal_de_reference": income, "nombre_parts": parts}


def _person(notice: dict | None, france_travail: dict | None = None) -> dict:
    return {"avis": {str(income_year()): notice}, "france_travail": france_travail or NOT_REGISTERED}


def _input_value(response, name: str) -> str:
    tag = response.content.decode().split(f'name="{name}"')[1].split(">")[0]
    return tag.split('value="')[1].split('"')[0] if 'value="' in tag else ""


@pytest.fixture
def at_resources(fam):
    return housing_draft(fam.holder, fam.case, upto="ressources")


def test_the_tax_income_is_shown_with_its_source_and_date(fam, partners, at_resources):
    partners.push({"people": {fam.holder.nir: _person(_notice(21450))}})
    page = as_(fam.holder_account).get(step_url(at_resources, "ressources"))
    assert page.status_code == 200
    assert _input_value(page, "income") == "21 450,00"
    text = page_text(page)
    assert "Données transmises par la DGFiP le " in text
    assert "La Caf gardera la valeur transmise à côté de celle que vous déclarez." in text
    assert UNAVAILABLE not in page.content.decode()


def test_a_corrected_income_is_kept_beside_the_value_the_dgfip_sent(fam, partners, at_resources):
    partners.push({"people": {fam.holder.nir: _person(_notice(21450))}})
    client = as_(fam.holder_account)
    response = post_step(client, at_resources, "ressources", {"income": "19 800"})
    assert response.status_code == 302
    prefill = Draft.objects.get(pk=at_resources.pk).prefill["ressources"]
    assert prefill["income"]["value"] == "21450" and prefill["income"]["source"] == "la DGFiP"
    post_step(client, at_resources, "banque", HOUSING["banque"])
    summary = client.get(step_url(at_resources, "recapitulatif"))
    assert "Vous avez corrigé « Votre revenu fiscal de référence" in page_text(summary)
    response = post_step(client, at_resources, "recapitulatif", {"certify": "on"}, action="submit")
    submission = Submission.objects.get()
    (correction,) = submission.corrections
    assert correction["field"] == "income" and correction["step"] == "ressources"
    assert (correction["source_value"], correction["declared_value"]) == ("21450", "19800.00")
    assert correction["source"] == "la DGFiP" and correction["at"]
    receipt = page_text(client.get(receipt_url(submission.reference)))
    assert "Données des partenaires que vous avez corrigées" in receipt


def test_an_income_kept_as_sent_is_no_correction(fam, partners, at_resources):
    partners.push({"people": {fam.holder.nir: _person(_notice(21450))}})
    client = as_(fam.holder_account)
    post_step(client, at_resources, "ressources", {"income": "21 450,00"})
    post_step(client, at_resources, "banque", HOUSING["banque"])
    post_step(client, at_resources, "recapitulatif", {"certify": "on"}, action="submit")
    assert Submission.objects.get().corrections == []


def test_no_tax_return_means_nothing_pre_filled_and_no_notice(fam, partners, at_resources):
    partners.push({"people": {fam.holder.nir: _person(None)}})
    page = as_(fam.holder_account).get(step_url(at_resources, "ressources"))
    assert page.status_code == 200 and _input_value(page, "income") == ""
    assert UNAVAILABLE not in page.content.decode() and "Données transmises" not in page_text(page)


@pytest.mark.parametrize("mode", ["down", "fail", "slow", "malformed"])
def test_the_dgfip_unavailable_leaves_the_fields_empty_with_the_notice(fam, partners, at_resources, mode):
    partners.push({"people": {fam.holder.nir: _person(_notice(21450))}})
    partners.mode("dgfip", mode, delay=1.0)
    client = as_(fam.holder_account)
    page = client.get(step_url(at_resources, "ressources"))
    assert page.status_code == 200
    assert UNAVAILABLE in page.content.decode()
    assert "Les données de la DGFiP sont indisponibles pour le moment" in page_text(page)
    assert _input_value(page, "income") == ""
    # The person types it and goes on; the partner sent nothing, so there is nothing to correct.
    response = post_step(client, at_resources, "ressources", {"income": "18 000"})
    assert response.status_code == 302
    assert Draft.objects.get(pk=at_resources.pk).prefill.get("ressources") == {}


def test_the_partners_income_is_pre_filled_for_a_couple(fam, partners):
    partners.push({"people": {fam.holder.nir: _person(_notice(30000, "2")), fam.partner.nir: _person(_notice(12000))}})
    draft = housing_draft(fam.holder, fam.case, upto="foyer")
    client = as_(fam.holder_account)
    post_step(client, draft, "foyer", {"situation": "couple", "children": "1"})
    for step in ("logement",):
        post_step(client, draft, step, HOUSING[step])
    from tests.procedures.helpers import add_lease

    add_lease(draft, fam.holder)
    post_step(client, draft, "loyer", HOUSING["loyer"])
    page = client.get(step_url(draft, "ressources"))
    assert _input_value(page, "income") == "30 000,00" and _input_value(page, "partner_income") == "12 000,00"


def test_a_partner_without_delegation_gets_only_their_own_income_pre_filled(fam, partners):
    """They may not see the holder's data (VIEW_CASE): the holder's income is not fetched for them."""
    partners.push({"people": {fam.holder.nir: _person(_notice(30000)), fam.partner.nir: _person(_notice(12000))}})
    draft = housing_draft(fam.partner, fam.case, upto="foyer")
    client = as_(fam.partner_account)
    post_step(client, draft, "foyer", {"situation": "couple", "children": "1"})
    post_step(client, draft, "logement", HOUSING["logement"])
    from tests.procedures.helpers import add_lease

    add_lease(draft, fam.partner)
    post_step(client, draft, "loyer", HOUSING["loyer"])
    before = partners.requests()
    page = client.get(step_url(draft, "ressources"))
    assert _input_value(page, "income") == "12 000,00" and _input_value(page, "partner_income") == ""
    assert "30 000" not in page.content.decode() and "30000" not in page.content.decode()
    asked = {k: v - before.get(k, 0) for k, v in partners.requests().items()}
    assert sum(asked.values()) == 1, asked


# --- France Travail, for the prime d'activité ------------------------------------------------------------------------


def _at_activity_resources(fam, client):
    from moncompte.procedures import services
    from moncompte.procedures.activity_bonus import ACTIVITY_BONUS
    from tests.procedures.helpers import save

    draft = services.draft_start(kind=ACTIVITY_BONUS, person=fam.holder, case=fam.case)
    answers = activity_answers()
    save(draft, "foyer", answers["foyer"], fam.holder)
    return draft


def test_france_travail_allowances_are_pre_filled_by_month(fam, partners):
    months = last_quarter()
    allowance = {"code": "ARE", "libelle": "Allocation d'aide au retour à l'emploi", "montant_journalier": "30.00",
                 "date_debut": months[1].isoformat(), "date_fin": None}  # fmt: skip
    registered = {"inscrit": True, "categorie": "B", "date_inscription": "2024-01-15", "allocations": [allowance]}
    partners.push({"people": {fam.holder.nir: _person(None, registered)}})
    client = as_(fam.holder_account)
    draft = _at_activity_resources(fam, client)
    activity = client.get(step_url(draft, "activite"))
    assert "Données transmises par France Travail le " in page_text(activity)
    assert 'value="yes" checked' in " ".join(activity.content.decode().split())
    post_step(client, draft, "activite", {**activity_answers()["activite"], "registered": "yes"})
    page = client.get(step_url(draft, "ressources"))
    assert page.status_code == 200
    assert _input_value(page, f"allowance_{months[0]:%Y_%m}") == "0,00"
    days = (months[2] - months[1]).days
    assert _input_value(page, f"allowance_{months[1]:%Y_%m}") == f"{30 * days},00"


def test_france_travail_down_leaves_the_activity_and_resources_pages_working(fam, partners):
    partners.mode("france_travail", "down")
    client = as_(fam.holder_account)
    draft = _at_activity_resources(fam, client)
    page = client.get(step_url(draft, "activite"))
    assert page.status_code == 200 and UNAVAILABLE in page.content.decode()
    assert "Les données de France Travail sont indisponibles pour le moment" in page_text(page)
    post_step(client, draft, "activite", activity_answers()["activite"])
    page = client.get(step_url(draft, "ressources"))
    assert page.status_code == 200 and UNAVAILABLE in page.content.decode()


def test_a_corrected_france_travail_answer_reads_in_french_on_the_summary_and_the_receipt(fam, partners):
    """France Travail says « inscrit »; the person answers « Non »: the summary and the receipt say Oui / Non, not the
    form's codes, and no « € » after a yes."""
    registered = {"inscrit": True, "categorie": "A", "date_inscription": "2024-01-15", "allocations": []}
    partners.push({"people": {fam.holder.nir: _person(None, registered)}})
    client = as_(fam.holder_account)
    draft = _at_activity_resources(fam, client)
    answers = activity_answers()
    post_step(client, draft, "activite", {**answers["activite"], "registered": "no"})
    post_step(client, draft, "ressources", answers["ressources"])
    summary = page_text(client.get(step_url(draft, "recapitulatif")))
    assert "France Travail avait transmis Oui." in summary, summary
    assert "yes" not in summary
    post_step(client, draft, "recapitulatif", {"certify": "on"}, action="submit")
    submission = Submission.objects.get()
    corrections = {c["field"]: c for c in submission.corrections}
    assert corrections["registered"]["source_value"] == "yes"
    receipt = page_text(client.get(receipt_url(submission.reference)))
    assert "France Travail avait transmis Oui ; vous avez déclaré Non." in receipt, receipt
