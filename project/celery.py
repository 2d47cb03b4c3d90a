"""The Celery application: scheduled, sequenced chores (session clock, reports, verification)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

app = Celery("cwts")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
