from moncompte.identity.models import Person


def person_get_by_nir(nir: str) -> Person | None:
    """`nir` must already be normalised by `identity.nir.parse_nir` (13 characters)."""
    return Person.objects.filter(nir=nir).first()
