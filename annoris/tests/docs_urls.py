"""A URLconf with Swagger UI at /api/docs/, for the CSP test (the real one may live elsewhere)."""

from django.urls import path
from drf_spectacular.views import SpectacularSwaggerView

from annoris.urls import urlpatterns as base

urlpatterns = [path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema")), *base]
