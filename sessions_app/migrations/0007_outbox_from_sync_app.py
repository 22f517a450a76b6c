"""The outbox and idempotency keys move from sync_app to sessions_app (issue #18).

State only: the tables keep their names (``db_table``), so no data moves. sync_app's
0005 removes the models from its state once this has added them here. Content types
(and so admin permissions) follow the models.
"""

import annoris.fields
from django.db import migrations, models


def move_content_types(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    for model in ("pendingwrite", "idempotencykey"):
        if not content_type.objects.filter(app_label="sessions_app", model=model).exists():
            content_type.objects.filter(app_label="sync_app", model=model).update(app_label="sessions_app")


def restore_content_types(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    for model in ("pendingwrite", "idempotencykey"):
        if not content_type.objects.filter(app_label="sync_app", model=model).exists():
            content_type.objects.filter(app_label="sessions_app", model=model).update(app_label="sync_app")


class Migration(migrations.Migration):

    dependencies = [
        ('sessions_app', '0006_merge_0003_session_size_0005_merge_20261126_0746'),
        ('sync_app', '0004_merge_20261126_0756'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='IdempotencyKey',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('owner', models.CharField(help_text='Who sent it: the token or user.', max_length=150)),
                        ('key', models.CharField(max_length=255)),
                        ('fingerprint', models.CharField(help_text='SHA-256 of the method, path and body.', max_length=64)),
                        ('created_at', models.DateTimeField()),
                        ('expires_at', models.DateTimeField(db_index=True)),
                        ('response_status', models.PositiveSmallIntegerField(blank=True, null=True)),
                        ('response_body', models.JSONField(blank=True, null=True)),
                        ('response_headers', models.JSONField(blank=True, default=dict)),
                    ],
                    options={
                        'verbose_name': 'idempotency key',
                        'db_table': 'sync_app_idempotencykey',
                        'constraints': [models.UniqueConstraint(fields=('owner', 'key'), name='idempotency_owner_key')],
                    },
                ),
                migrations.CreateModel(
                    name='PendingWrite',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('operation', models.CharField(choices=[('create', 'Create'), ('update', 'Update'), ('delete', 'Delete')], max_length=10)),
                        ('status', models.CharField(choices=[('pending', 'Pending'), ('landed', 'Landed'), ('conflict', 'Conflict'), ('discarded', 'Discarded')], db_index=True, default='pending', max_length=10)),
                        ('path', models.CharField(db_index=True, max_length=500)),
                        ('session_id', models.UUIDField(help_text='The session the write creates, changes or deletes.')),
                        ('content', annoris.fields.CiphertextField(blank=True, help_text='AES-256-GCM ciphertext of the new document.')),
                        ('content_sha', models.CharField(blank=True, help_text='Blob SHA of the new document (empty for a delete).', max_length=40)),
                        ('base_sha', models.CharField(blank=True, help_text='Blob SHA the write replaces; empty: a new file.', max_length=40, null=True)),
                        ('message', models.CharField(help_text='The commit message.', max_length=300)),
                        ('requested_by', models.CharField(blank=True, max_length=150)),
                        ('created_at', models.DateTimeField(db_index=True)),
                        ('updated_at', models.DateTimeField()),
                        ('attempts', models.PositiveIntegerField(default=0)),
                        ('next_attempt_at', models.DateTimeField(db_index=True)),
                        ('claimed_until', models.DateTimeField(blank=True, help_text="A worker is trying it until then (a lease; a dead worker's expires).", null=True)),
                        ('last_error', models.TextField(blank=True)),
                        ('remote_sha', models.CharField(blank=True, help_text='On a conflict: the blob SHA GitHub holds instead (empty: no file).', max_length=40)),
                        ('landed_at', models.DateTimeField(blank=True, null=True)),
                        ('landed_sha', models.CharField(blank=True, max_length=40)),
                        ('landed_commit', models.CharField(blank=True, max_length=40)),
                    ],
                    options={
                        'verbose_name': 'pending write',
                        'db_table': 'sync_app_pendingwrite',
                        'ordering': ['id'],
                        'indexes': [models.Index(fields=['path', 'status', 'id'], name='pendingwrite_path_status')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, restore_content_types),
    ]
