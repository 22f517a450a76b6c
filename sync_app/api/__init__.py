"""The REST API's top: the router (``urls.py``) and the sync endpoints.

sync_app sits at the top of the import chain, so the router that names every app's
viewsets lives here and ``annoris/urls.py`` includes it under ``api/``.
"""
