from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "apps.matching"
    verbose_name = "Matching engine and matcher"
