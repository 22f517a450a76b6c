"""Keep query strings out of gunicorn's error log (issue #20, smaller findings).

The access log leaves query strings out on purpose (they can carry search terms), but
gunicorn's error log printed the full URI of a request it gave up on ("Error handling
request GET /api/search/?q=..." after a worker timeout). This filter, on the error log's
handler, cuts every ``?query`` from a line down to ``?…``.
"""

from __future__ import annotations

import logging
import re

_QUERY = re.compile(r"\?[^\s'\"]*")


class QueryStringFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "?" in message:
            record.msg, record.args = _QUERY.sub("?…", message), ()
        return True
