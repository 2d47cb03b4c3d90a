from django.apps import AppConfig


class DeskConfig(AppConfig):
    name = "apps.desk"
    verbose_name = "Desk pages and live connection"
