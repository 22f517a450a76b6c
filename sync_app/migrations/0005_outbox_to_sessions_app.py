"""The outbox and idempotency keys now live in sessions_app (issue #18): state only, tables kept."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('sync_app', '0004_merge_20261126_0756'),
        ('sessions_app', '0007_outbox_from_sync_app'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name='IdempotencyKey'),
                migrations.DeleteModel(name='PendingWrite'),
            ],
            database_operations=[],
        ),
    ]
