from django.core.management.base import BaseCommand

from moncompte.phone.tasks import calls_housekeeping


class Command(BaseCommand):
    help = "Supprime les traces d'appels au serveur vocal plus anciennes que PHONE_CALL_DAYS (le journal les garde)."

    def handle(self, *args, **options):
        self.stdout.write(f"Appels oubliés : {calls_housekeeping()}.")
