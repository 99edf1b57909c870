from celery import shared_task

from moncompte.journal.context import acting
from moncompte.journal.models import Channel
from moncompte.procedures.services import drafts_expire, drafts_remind


@shared_task
def drafts_housekeeping() -> dict[str, int]:
    """Remind the drafts that expire within a week, then delete the expired ones. Safe to run at any time, twice."""
    with acting(channel=Channel.SYSTEM):
        return {"reminded": drafts_remind(), "expired": drafts_expire()}
