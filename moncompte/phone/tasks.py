from celery import shared_task

from moncompte.journal.context import acting
from moncompte.journal.models import Channel
from moncompte.phone.services import calls_forget


@shared_task
def calls_housekeeping() -> int:
    """Forget the records of old calls (services.calls_forget). Safe to run at any time, twice."""
    with acting(channel=Channel.SYSTEM):
        return calls_forget()
