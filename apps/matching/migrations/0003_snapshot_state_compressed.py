import json
import zlib
from typing import Any

from django.db import migrations, models


def compress_states(apps: Any, schema_editor: Any) -> None:
    # After a purge, recovery needs the snapshot: every stored state is kept, compressed.
    snapshots = apps.get_model("matching", "EngineSnapshot")
    for snapshot in snapshots.objects.all().iterator(chunk_size=10):
        text = json.dumps(snapshot.state, separators=(",", ":")).encode()
        snapshot.state_zlib = zlib.compress(text, 1)
        snapshot.save(update_fields=["state_zlib"])


def expand_states(apps: Any, schema_editor: Any) -> None:
    snapshots = apps.get_model("matching", "EngineSnapshot")
    for snapshot in snapshots.objects.all().iterator(chunk_size=10):
        snapshot.state = json.loads(zlib.decompress(bytes(snapshot.state_zlib)))
        snapshot.save(update_fields=["state"])


class Migration(migrations.Migration):
    dependencies = [
        ("matching", "0002_snapshot_state_encoder"),
    ]

    operations = [
        migrations.AddField(
            model_name="enginesnapshot",
            name="state_zlib",
            field=models.BinaryField(
                default=b"", help_text="The state: pack_state's compressed JSON."
            ),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="enginesnapshot",
            name="state",
            field=models.JSONField(null=True),
        ),
        migrations.RunPython(compress_states, expand_states),
        migrations.RemoveField(model_name="enginesnapshot", name="state"),
    ]
