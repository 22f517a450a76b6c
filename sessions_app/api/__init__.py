"""The sessions API: one viewset over the read path and the write services."""
