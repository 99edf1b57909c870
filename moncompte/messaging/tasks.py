from celery import shared_task

from moncompte.messaging import services


@shared_task(bind=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=4)
def send_message(self, message_id: int) -> str:
    return services.message_send(message_id).status
