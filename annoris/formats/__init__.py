"""Date formats for every page (``FORMAT_MODULE_PATH``): one way to show a moment across the admin,
/health and the sync pages, ``2026-12-06 11:50 UTC``, and a day as ``2026-12-06`` (issue #19)."""
