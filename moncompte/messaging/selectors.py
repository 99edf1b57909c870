from django.db.models import QuerySet

from moncompte.messaging.models import OutboxMessage


def outbox_recent(limit: int = 50) -> QuerySet[OutboxMessage]:
    """The newest messages of the outbox (the development outbox page)."""
    return OutboxMessage.objects.all()[:limit]
