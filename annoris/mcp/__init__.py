"""The MCP server (issue #8): the assistant's tools and the sessions as resources.

``tools`` holds what the assistant can call (thin over the services, like the API's views);
``server`` builds the official SDK's server and carries it over two transports: streamable
HTTP at ``/mcp`` (inside Django, so gunicorn keeps its sync workers) and stdio
(``manage.py mcp``). This package sits at the top of the import chain: it may import every app.
"""
