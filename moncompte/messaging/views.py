from django.conf import settings
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_safe

from moncompte.messaging.models import OutboxMessage


@require_safe
def dev_outbox_view(request):
    """Development only (DEBUG): the local outbox, so a newcomer can read the codes the app sends."""
    if not settings.DEBUG:
        raise Http404
    return render(request, "messaging/dev_outbox.html", {"outbox": OutboxMessage.objects.all()[:50]})
