from django.core.management.base import BaseCommand

from moncompte.procedures.tasks import drafts_housekeeping


class Command(BaseCommand):
    help = "Rappelle les démarches en cours qui expirent dans la semaine, puis supprime celles qui ont expiré."

    def handle(self, *args, **options):
        done = drafts_housekeeping()
        self.stdout.write(f"Rappels envoyés : {done['reminded']} ; démarches expirées supprimées : {done['expired']}.")
