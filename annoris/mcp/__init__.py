"""The MCP server (issues #8, #15): the assistant's tools, the sessions as resources, a prompt.

``tools`` holds the common ground and the reading tools, ``lists`` the paged and trimmed
lists, ``writing`` the writes (thin over the services, like the API's views); ``shapes`` is
each tool's output schema, ``budget`` how big an answer may be, ``errors`` the one-sentence
refusals and ``prompts`` the ``save_this_session`` guide. ``server`` builds the official
SDK's server and carries it over two transports: streamable HTTP at ``/mcp`` (inside Django,
so gunicorn keeps its sync workers) and stdio (``manage.py mcp``). This package sits at the
top of the import chain: it may import every app.
"""
