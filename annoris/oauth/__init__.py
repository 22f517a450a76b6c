"""The OAuth 2.1 authorization server for ``/mcp`` (issue #16), over django-oauth-toolkit.

django-oauth-toolkit (DOT) gives the models, the authorization, token and revocation
endpoints, PKCE, refresh rotation with reuse detection, hashed token storage, RFC 8414 and
RFC 9728 metadata, dynamic registration and client metadata documents. This package adds
what Annoris needs on top, one module each:

- ``config``: the issuer and DOT's settings, from ``ANNORIS_PUBLIC_URL`` alone;
- ``resources``: the protected resources (``/mcp``, ``/api/``) and their 401 challenge;
- ``redirects``: https, or http on a loopback host only;
- ``validator``: codes hashed at rest, a code replay revokes its tokens, tokens bound to a
  resource of ours (RFC 8707);
- ``access`` and ``authentication``: a bearer token checked at most once per
  ``ANNORIS_TOKEN_RECHECK`` per process, as API tokens are;
- ``registration``, ``cimd``, ``views``: rate-limited registration, the bounded metadata
  fetch, the consent page and the metadata documents;
- ``models``, ``connections``, ``admin``: a connection per consent, which a person sees and
  revokes in the admin; ``tasks``/``schedules``: the hourly purge of what expired;
- ``schema``: OAuth in the API's OpenAPI document.
"""
