"""The meeting view's part in the weekly alignment meeting's record: starting it (the meeting's
page itself is alignment's, /meetings/<pk>/).

Anyone signed in may start it: it is the whole team's meeting, and whoever runs the shared
screen clicks the button. A second click the same day opens the meeting already started.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from kpis.services_meetings import weekly_meeting_start


@require_POST
def meeting_start(request: HttpRequest) -> HttpResponse:
    meeting, created = weekly_meeting_start(by=request.user)
    if created:
        messages.success(request, "This week's alignment meeting has started; the agenda is "
                         "filled in from the numbers.")  # fmt: skip
    else:
        messages.info(request, "Today's alignment meeting was already started: here it is.")
    return redirect("meeting-detail", pk=meeting.pk)
