"""A separation declared by the holder from "Mon foyer", then processed by an agent in the admin: the partner who
leaves becomes holder of a new case with the child who lives with them."""

import datetime
import re

from django.utils import timezone
from playwright.sync_api import Page, expect

from moncompte.accounts import agents
from moncompte.households.models import Membership, Role, SeparationRequest
from moncompte.messaging.models import OutboxMessage
from tests.agents import AGENT_PASSWORD, SECOND_FACTOR, agent_make, totp_next_code
from tests.browser.helpers import choose, click, field, login
from tests.factories import family


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def test_the_holder_declares_a_separation_and_an_agent_processes_it_in_the_admin(
    open_page, new_context, transactional_db
):
    f = family(children=1)
    child = f.children[0]
    agent = agent_make("agent-durand", superuser=True)  # authenticator application enrolled

    # The holder declares: the partner leaves, the child goes with them.
    holder_page = open_page()
    login(holder_page, f.holder.nir, f.holder_account.raw_password)
    holder_page.goto("/mon-foyer/")
    holder_page.get_by_role("link", name="Déclarer une séparation").click()
    expect(heading(holder_page)).to_have_text("Déclarer une séparation")

    # A date in the future is refused, with a French message next to the field.
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    field(holder_page, "Date de la séparation").fill(tomorrow.isoformat())
    choose(holder_page, f"{f.partner.full_name} (Conjoint)")
    field(holder_page, "Nouvelle adresse").fill("12 avenue de la Gare\n69003 Lyon")
    choose(holder_page, "Avec la personne qui part")
    click(holder_page, "Envoyer ma déclaration")
    expect(holder_page.locator(".fr-message--error")).to_have_text(
        "La date de séparation ne peut pas être dans le futur."
    )
    assert not SeparationRequest.objects.exists()

    separated_on = timezone.localdate() - datetime.timedelta(days=20)
    field(holder_page, "Date de la séparation").fill(separated_on.isoformat())
    click(holder_page, "Envoyer ma déclaration")
    expect(holder_page.get_by_role("status")).to_contain_text("Votre déclaration de séparation est enregistrée")
    expect(holder_page.get_by_test_id("separation-status")).to_contain_text("Déclaration reçue")
    expect(holder_page.get_by_test_id("separation-status")).to_contain_text(
        f"{f.partner.full_name} quitte le logement"
    )
    request = SeparationRequest.objects.get()
    assert request.separation_date == separated_on and request.children == {str(child.pk): "leaving"}
    assert OutboxMessage.objects.filter(to=f.partner_account.email, template__endswith="separation_declared").exists()

    # An agent processes it in the admin. Django's admin pages are not held to the citizen pages' console checks
    # (accessibility of the admin's own search forms is Django's): a plain page, without `open_page`. The admin sends
    # the signed-out agent to the desk's login: the password, then the application's code, then back to the admin.
    agent_page = new_context().new_page()
    agent_page.goto("/admin/households/separationrequest/")
    expect(agent_page).to_have_url(re.compile(r"/guichet/connexion/\?next="))
    field(agent_page, "Identifiant").fill("agent-durand")
    field(agent_page, "Mot de passe").fill(AGENT_PASSWORD)
    agent_page.get_by_role("button", name="Continuer").click()
    expect(agent_page).to_have_url(re.compile(rf"{SECOND_FACTOR}$"))
    field(agent_page, "Code").fill(totp_next_code(agents.totp_confirmed(agent)))
    agent_page.get_by_role("button", name="Me connecter").click()
    expect(agent_page).to_have_url(re.compile(r"/admin/households/separationrequest/$"))
    row = agent_page.get_by_role("row").filter(has_text=f.case.case_number)
    expect(row).to_contain_text("À traiter")
    row.get_by_role("checkbox").check()
    agent_page.locator("select[name=action]").select_option(label="Traiter la séparation")
    agent_page.get_by_role("button", name="Envoyer").click()
    expect(agent_page.locator(".messagelist")).to_contain_text(f"Séparation du dossier {f.case.case_number} traitée")

    request.refresh_from_db()
    new_case = request.new_case
    assert request.status == SeparationRequest.Status.PROCESSED and re.fullmatch(r"\d{7}", new_case.case_number)
    expect(agent_page.locator(".messagelist")).to_contain_text(f"nouveau dossier n° {new_case.case_number}")
    assert set(Membership.objects.filter(case=new_case).values_list("person_id", "role")) == {
        (f.partner.pk, Role.HOLDER),
        (child.pk, Role.CHILD),
    }

    # The partner now holds the new case, with the child; the old case is no longer theirs.
    partner_page = open_page()
    login(partner_page, f.partner.nir, f.partner_account.raw_password)
    partner_page.goto("/mon-foyer/")
    expect(partner_page.get_by_role("heading", name=f"Dossier n° {new_case.case_number}")).to_be_visible()
    expect(partner_page.get_by_test_id("role")).to_have_text("Allocataire (responsable de dossier)")
    expect(partner_page.get_by_role("main")).to_contain_text(child.full_name)
    expect(partner_page.get_by_role("main")).not_to_contain_text(f.holder.full_name)
    assert new_case.case_number in OutboxMessage.objects.filter(to=f.partner_account.email).latest("id").body

    # The holder's household: themselves only.
    holder_page.goto("/mon-foyer/")
    expect(holder_page.get_by_role("main")).not_to_contain_text(f.partner.full_name)
    expect(holder_page.get_by_role("main")).not_to_contain_text(child.full_name)
    expect(holder_page.get_by_test_id("delegation-status")).to_contain_text("Aucun conjoint")
