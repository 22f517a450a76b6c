from django.db import migrations

_INDEXES = {  # name -> column of sessions_app_searchdocument
    "search_document_pairs": "pairs",
    "search_document_prefixes": "prefixes",
}


def create(apps, schema_editor) -> None:  # noqa: ANN001 - Django's migration signature
    """GIN indexes answer ``set @> ARRAY[hash]`` on PostgreSQL: a phrase or a prefix finds its
    sessions without reading every document's set. SQLite has no such index (nor needs one)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, column in _INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON sessions_app_searchdocument USING gin ({column})"
        )


def drop(apps, schema_editor) -> None:  # noqa: ANN001
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in _INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("sessions_app", "0012_search_pairs_prefixes_per_session"),
    ]

    operations = [migrations.RunPython(create, drop)]
