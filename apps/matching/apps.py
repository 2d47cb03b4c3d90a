from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "apps.matching"
    verbose_name = "Matching engine and matcher"

    def ready(self) -> None:
        from apps.audit.retention import recovery_floor_register

        recovery_floor_register(latest_snapshot_seq)


def latest_snapshot_seq(shard: int) -> int:
    """How far the retention purge may go on a matcher shard: recovery starts from the latest
    engine snapshot, so the rows it covers are no longer needed to rebuild the books."""
    from apps.matching.models import EngineSnapshot

    seq = EngineSnapshot.objects.filter(shard=shard).order_by("-seq").values_list("seq", flat=True)
    return seq.first() or 0
