#!/usr/bin/env python
from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if "DEBUG" not in os.environ and "SECRET_KEY" not in os.environ:
        # Nothing configured: a developer's checkout, not a server (servers set SECRET_KEY;
        # gunicorn and Celery never pass through here). Local development defaults apply.
        os.environ["DEBUG"] = "true"
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        settings.INSTALLED_APPS  # noqa: B018  (load the settings now, to report them clearly)
    except ImproperlyConfigured as exc:
        sys.exit(
            f"Tandem is not configured: {exc}\n"
            "For local development set DEBUG=true (as `make run` does); for production see "
            ".env.example."
        )
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
