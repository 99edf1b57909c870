import logging

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval

from moncompte.messaging import services
from moncompte.messaging.models import Status

logger = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=4)
def send_message(self, message_id: int) -> str:
    """Send one outbox row. On a worker, a failure is retried with exponential back-off (1 s, 2 s, … ≤ 10 min).

    Run eagerly (embedded default, tests) there is no back-off: Celery would retry at once, in the same request,
    and use up every attempt of the row in a burst. The row stays failed instead and `send_pending_messages`
    tries it again later."""
    try:
        return services.message_send(message_id).status
    except Exception as exc:
        if self.request.is_eager:
            logger.warning("Outbox message %s failed; send_pending_messages will retry it", message_id)
            return Status.FAILED
        countdown = get_exponential_backoff_interval(
            factor=1, retries=self.request.retries, maximum=600, full_jitter=True
        )
        raise self.retry(exc=exc, countdown=countdown) from exc
