from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

from config.middleware import ChunkedBodies  # noqa: E402  (after the settings are set up)

application = ChunkedBodies(application)
