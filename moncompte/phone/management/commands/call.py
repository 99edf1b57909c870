"""`manage.py call [--from +33612345678] [--url SITE_URL]` (make call): call the voice server of a running site
from the terminal. What the server says is printed; type the keys and Enter (`#` is added for you where a number is
awaited), Enter alone to stay silent, `q` to hang up. Requests are signed with PHONE_AUTH_TOKEN, as the telephony
provider signs them; the demo's case numbers, PINs and birth dates are printed by `make run`."""

import logging

import httpx
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from moncompte.phone.simulator import CallOver, Provider, Turn


def _http(url: str, params: dict[str, str], headers: dict[str, str]) -> tuple[int, str]:
    response = httpx.post(url, data=params, headers=headers, timeout=30)
    return response.status_code, response.text


class Command(BaseCommand):
    help = "Appelle le serveur vocal d'un site lancé (make run), comme le ferait l'opérateur téléphonique."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="caller", default="+33612345678", help="numéro appelant (E.164)")
        parser.add_argument("--url", default="", help="adresse du site (SITE_URL par défaut)")

    def handle(self, *args, caller, url, **options):
        logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request would drown the dialog
        provider = Provider(
            base_url=url or settings.SITE_URL, token=settings.PHONE_AUTH_TOKEN, transport=_http, caller=caller
        )
        self.stdout.write(
            f"Appel de {caller or 'un numéro masqué'} vers {provider.base_url}{reverse('phone:incoming')} …"
        )
        try:
            turn = provider.dial()
        except httpx.HTTPError as error:
            raise CommandError(
                f"Le site ne répond pas ({type(error).__name__}) : lancez-le d'abord (make run)."
            ) from None
        while True:
            self._say(turn)
            if turn.hung_up or not turn.gather_action:
                return
            try:
                typed = input("Touches > ").strip()
            except EOFError:
                typed = "q"
            if typed.lower() == "q":
                self.stdout.write("(vous raccrochez)")
                return
            try:
                turn = provider.press(typed.removesuffix("#")) if typed else provider.wait()
            except CallOver:
                return
            except httpx.HTTPError as error:
                raise CommandError(f"Le site ne répond plus ({type(error).__name__}).") from None

    def _say(self, turn: Turn) -> None:
        for line in turn.said:
            if line:
                self.stdout.write(f"Serveur vocal : {line}")
        if turn.dialled:
            self.stdout.write(f"(appel transféré au {turn.dialled} : la simulation s'arrête ici)")
        elif turn.hung_up:
            self.stdout.write("(fin de l'appel)")
