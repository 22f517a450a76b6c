"""The authorization server's routes, included at the root by annoris/urls.py when
``ANNORIS_PUBLIC_URL`` is set. The namespace is DOT's: its metadata view reverses these names."""

from __future__ import annotations

from django.urls import path
from oauth2_provider import views as dot

from annoris.oauth import views
from annoris.oauth.registration import RegistrationManagementView, RegistrationView

app_name = "oauth2_provider"
WELL_KNOWN = ".well-known/"
resource_metadata = dot.OAuthProtectedResourceMetadataView.as_view()  # configured for /mcp

urlpatterns = [
    path(WELL_KNOWN + "oauth-authorization-server", dot.OAuthServerMetadataView.as_view(),
         name="oauth-server-metadata"),
    path(WELL_KNOWN + "oauth-protected-resource", resource_metadata, name="oauth-resource-metadata"),
    path(WELL_KNOWN + "oauth-protected-resource/mcp", resource_metadata, name="oauth-resource-metadata-mcp"),
    path(WELL_KNOWN + "oauth-protected-resource/api", views.ApiResourceMetadataView.as_view(),
         name="oauth-resource-metadata-api"),
    path("oauth/authorize/", views.ConsentView.as_view(), name="authorize"),
    path("oauth/token/", dot.TokenView.as_view(), name="token"),
    path("oauth/revoke/", dot.RevokeTokenView.as_view(), name="revoke-token"),
    path("oauth/register/", RegistrationView.as_view(), name="dcr-register"),
    path("oauth/register/<str:client_id>/", RegistrationManagementView.as_view(),
         name="dcr-register-management"),
]  # fmt: skip
