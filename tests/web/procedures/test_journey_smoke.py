"""A housing-aid request through every page (partners not configured: the resources are typed)."""

import io

from moncompte.procedures.models import Draft, Submission
from tests.helpers import page_text

IBAN = "FR7630006000011234567890189"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _post(client, draft, step, data, action="continue", **files):
    draft.refresh_from_db()
    from moncompte.procedures.services import version

    return client.post(
        f"/demarches/en-cours/{draft.token}/etape/{step}/",
        {"version": version(draft), "action": action, **data, **files},
    )


def test_a_holder_fills_in_and_sends_a_housing_aid_request(client, home):
    client.force_login(home.holder_account)
    holder = client
    response = holder.post("/demarches/commencer/aide-au-logement/", {"case": home.case.case_number})
    assert response.status_code == 302, response
    draft = Draft.objects.get()
    page = holder.get(response["Location"])
    assert page.status_code == 200
    assert _post(holder, draft, "foyer", {"situation": "alone", "children": "1"}).status_code == 302
    assert _post(holder, draft, "logement", {
        "address": "12 rue des Lilas", "postcode": "75012", "city": "Paris", "tenure": "empty",
        "moved_in": "2025-09-01", "landlord": "SCI Lilas", "surface": "45",
    }).status_code == 302  # fmt: skip
    upload = io.BytesIO(PDF)
    upload.name = "bail.pdf"
    response = _post(holder, draft, "loyer", {"rent": "650,00", "charges": "50"}, document_bail=upload)
    assert response.status_code == 302, page_text(response)
    response = _post(holder, draft, "ressources", {"income": "18 500"})
    assert response.status_code == 302, page_text(response)
    response = _post(holder, draft, "banque", {"account_holder": "Jean Martin", "iban": IBAN})
    assert response.status_code == 302, page_text(response)
    summary = holder.get(response["Location"])
    assert summary.status_code == 200, page_text(summary)
    assert "FR76 •••• •••• 0189" in page_text(summary)
    response = _post(holder, draft, "recapitulatif", {"certify": "on"}, action="submit")
    assert response.status_code == 302, page_text(response)
    submission = Submission.objects.get()
    assert not Draft.objects.exists()
    receipt = holder.get(response["Location"])
    assert submission.reference in page_text(receipt)
    pdf = holder.get(f"/demarches/recus/{submission.reference}/pdf/")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
