"""The REST API's viewsets and router (sessions are read and written here)."""
