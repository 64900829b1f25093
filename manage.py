#!/usr/bin/env python
from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
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
