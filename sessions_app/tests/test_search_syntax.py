"""Search for what people type: identifiers, hyphens, phrases, OR, -word, prefix*, EN/RU inflections.

Every query finds exactly what a decrypt-and-scan with the same semantics finds (``scan``), on
a small corpus written for each kind and on the samples, and ranks exact above stem above part.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rest_framework.test import APIClient

from annoris.api import tokens
from annoris.api.middleware import MAX_QUERY_CHARS as MAX_QUERY_STRING
from sessions_app.models import Session
from sessions_app.search import index_pending, mark_stale, run_search, search_session_ids
from sessions_app.search.freshness import forget
from sessions_app.search.parser import matches, parse, prune
from sessions_app.search.terms import term_set

DOCS = {
    "ident": "# Identifier\n\nSet DEFAULT_AUTO_FIELD in settings; call get_contents() and getContents.",
    "parts": "# Parts\n\nThe default value of the auto field, and get the contents.",
    "default": "# Plain\n\nThe default is fine.",
    "defaults": "# Stem\n\nAll defaults are fine.",
    "deploy": "# Deploy\n\nWe deploy on Fridays.",
    "deployments": "# Failures\n\nThree deployments failed; retries exhausted.",
    "retrying": "# Loop\n\nThe worker kept retrying the job.",
    "hyphen": "# Limits\n\nWe hit the rate-limit and went read-only.",
    "phrase": "# Phrase\n\nThe rate limit was reached at noon.",
    "apart": "# Apart\n\nLimit the rate of calls.",
    "lang": "# Languages\n\nC++ and C# builds, version v2.3.0 shipped.",
    "c": "# Letters\n\nPlan c is the fallback.",
    "ru1": "# Сервер\n\nНастроили сервер, сессия открыта.",
    "ru2": "# Логи\n\nЛоги серверов и сессии за неделю.",
    "webhooks": "# Hooks\n\nGitHub webhooks arrive signed.",
}

QUERIES = [
    "DEFAULT_AUTO_FIELD",
    "AUTO_FIELD_DEFAULT",
    "get_contents",
    "getContents",
    "default",
    "read-only",
    "rate-limit",
    '"rate limit"',
    "rate limit",
    "rate OR fallback",
    "limit -phrase",
    "webho*",
    "webhook*",
    "deployments",
    "retrying",
    "сервер",
    "сессия",
    "C++",
    "C#",
    "v2.3.0",
]


@pytest.fixture
def corpus(db: None, tmp_path: Path) -> dict[str, Session]:
    from annoris.sources.local import LocalSource
    from sync_app.engine import run_sync

    for name, text in DOCS.items():
        (tmp_path / "kinds").mkdir(exist_ok=True)
        (tmp_path / "kinds" / f"2026-01-01-{name}.md").write_text(text, encoding="utf-8")
    run_sync(source=LocalSource(tmp_path, repository="acme/kinds"))
    return {name: Session.objects.get(github_path=f"kinds/2026-01-01-{name}.md") for name in DOCS}


def scan(query: str) -> set:
    """The reference: decrypt every live session and evaluate the parsed query on its terms."""
    decrypted = {row.id: term_set(row.title, row.text) for row in Session.objects.all()}
    parsed = prune(parse(query), set().union(*decrypted.values()))  # the terms the index holds
    live = set(Session.objects.live().values_list("id", flat=True))
    return {sid for sid, terms in decrypted.items() if sid in live and matches(parsed, terms)}


def found(query: str) -> list:
    return search_session_ids(query, limit=None)[0]


def names(ids: list, corpus: dict[str, Session]) -> list[str]:
    by_id = {s.id: name for name, s in corpus.items()}
    return [by_id[i] for i in ids]


@pytest.mark.parametrize("query", QUERIES)
def test_it_finds_what_decrypt_and_scan_finds(corpus: dict[str, Session], query: str) -> None:
    expected = scan(query)
    assert expected, query
    assert set(found(query)) == expected


def test_an_identifier_matches_whole_first_and_parts_as_a_fallback(corpus: dict[str, Session]) -> None:
    assert names(found("DEFAULT_AUTO_FIELD"), corpus) == [
        "ident"
    ]  # "default ... auto field" is no identifier
    assert names(found("get_contents"), corpus)[0] == "ident"
    # No session holds the identifier AUTO_FIELD_DEFAULT whole: its parts in an identifier are the fallback.
    assert names(found("AUTO_FIELD_DEFAULT"), corpus) == ["ident"]
    assert run_search("AUTO_FIELD_DEFAULT", hybrid=False).hits[0].match == "part"
    assert "DEFAULT_AUTO_FIELD" in run_search("DEFAULT_AUTO_FIELD", hybrid=False).hits[0].snippet


def test_it_ranks_exact_above_stem_above_part(corpus: dict[str, Session]) -> None:
    ranked = names(found("default"), corpus)
    assert ranked.index("default") < ranked.index("defaults") < ranked.index("ident")
    hits = run_search("default", hybrid=False).hits
    assert [h.match for h in hits][:3] == ["exact", "exact", "stem"] or hits[0].match == "exact"
    assert hits[-1].match == "part"


def test_inflections_english_and_russian(corpus: dict[str, Session]) -> None:
    assert set(names(found("deployments"), corpus)) == {"deploy", "deployments"}
    assert "deployments" in names(found("deploy"), corpus)
    assert "deployments" in names(found("retrying"), corpus)  # retries
    assert set(names(found("сервер"), corpus)) == {"ru1", "ru2"}  # серверов
    assert set(names(found("сессия"), corpus)) == {"ru1", "ru2"}  # сессии
    assert names(found("webhook"), corpus) == ["webhooks"]


def test_a_phrase_needs_adjacent_words(corpus: dict[str, Session]) -> None:
    assert set(names(found('"rate limit"'), corpus)) == {"phrase", "hyphen"}
    assert "apart" in names(found("rate limit"), corpus)
    assert "**rate limit**" in run_search('"rate limit"', hybrid=False).hits[0].snippet.lower()


def test_or_exclusion_and_prefix(corpus: dict[str, Session]) -> None:
    assert set(names(found("fallback OR fridays"), corpus)) == {"c", "deploy"}
    assert "phrase" not in names(found("limit -phrase"), corpus)
    assert names(found("webho*"), corpus) == ["webhooks"]
    assert names(found("C++"), corpus) == ["lang"]  # not every "c"


@pytest.mark.parametrize(
    "query",
    [
        "****",
        "-",
        "😀😀😀",
        '"unbalanced quote',
        "a OR OR b",
        " OR ".join(f"w{i}" for i in range(60)),
        "x*",
        "-only",
    ],
)
def test_odd_queries_get_a_bounded_answer_that_says_what_was_ignored(
    corpus: dict[str, Session], query: str
) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.issue(name='assistant')[1]}")
    response = client.get("/api/search/", {"q": query})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["ignored"] and len(body["ignored"]) <= 11
    assert body["count"] == len(body["results"]) or body["count"] > len(body["results"])


@pytest.mark.parametrize("query", [" ".join(["word"] * 10_000), "nul\x00byte", " OR ".join(["w"] * 1000)])
def test_overlong_or_binary_queries_get_a_400_with_a_sentence(corpus: dict[str, Session], query: str) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.issue(name='assistant')[1]}")
    response = client.get("/api/search/", {"q": query})
    # A query line longer than the request line allows is refused by the API's own URL limit
    # (414, in the same JSON shape) before gunicorn's HTML one (issue 20).
    too_long = len(response.wsgi_request.META["QUERY_STRING"]) > MAX_QUERY_STRING
    assert response.status_code == (414 if too_long else 400)
    assert response.json()["detail"].endswith(".")


def test_the_incomplete_flag_shows_while_sessions_wait_and_clears_after(corpus: dict[str, Session]) -> None:
    forget()
    assert run_search("deploy", hybrid=False).as_dict()["incomplete"] is False
    mark_stale([corpus["deploy"].id, corpus["ru1"].id])
    forget()
    waiting = run_search("deploy", hybrid=False).as_dict()
    assert waiting["incomplete"] is True and waiting["waiting_to_index"] == 2
    index_pending()
    forget()
    done = run_search("deploy", hybrid=False).as_dict()
    assert done["incomplete"] is False and "waiting_to_index" not in done
    assert corpus["deploy"].id in [h.session_id for h in run_search("deploy", hybrid=False).hits]


def test_the_waiting_count_is_the_live_sessions_without_an_entry_under_the_current_key(
    corpus: dict[str, Session],
) -> None:
    """Soft-deleted sessions never wait (indexed or not); an entry under an older key waits."""
    from django.conf import settings
    from django.utils import timezone

    from sessions_app.models import SearchDocument

    key_id = settings.ANNORIS_KEYRING.keys[0][0]
    Session.objects.filter(id__in=[corpus["deploy"].id, corpus["ident"].id]).update(deleted_at=timezone.now())
    mark_stale([corpus["ident"].id, corpus["parts"].id])  # one deleted, one live
    SearchDocument.objects.filter(session_id=corpus["default"].id).update(key_id="an-older-key")
    forget()
    waiting = run_search("fine", hybrid=False).as_dict()
    # The reference: each live session's entry looked at one by one.
    expected = sum(
        1
        for row in Session.objects.live()
        if not SearchDocument.objects.filter(session_id=row.id, key_id=key_id).exists()
    )
    assert expected == 2 and waiting["waiting_to_index"] == expected


def test_the_api_takes_state_since_and_offset(corpus: dict[str, Session]) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.issue(name='assistant')[1]}")
    everything = client.get("/api/search/", {"q": "the"}).json()
    assert everything["count"] >= 3
    page = client.get("/api/search/", {"q": "the", "offset": 1, "limit": 1}).json()
    assert page["results"][0]["id"] == everything["results"][1]["id"]
    assert client.get("/api/search/", {"q": "the", "since": "2030-01-01"}).json()["count"] == 0
    assert {s.state for s in corpus.values()} == {"unknown"}  # no status in these documents
    assert client.get("/api/search/", {"q": "the", "state": "unknown"}).json()["count"] == everything["count"]
    assert client.get("/api/search/", {"q": "the", "state": "done"}).json()["count"] == 0
    assert client.get("/api/search/", {"q": "the", "state": "nonsense"}).status_code == 400


def test_query_terms_and_their_hashes_never_reach_the_logs(
    corpus: dict[str, Session], caplog: pytest.LogCaptureFixture
) -> None:
    from sessions_app.search.index import index_key
    from sessions_app.search.terms import term_hash

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.issue(name='assistant')[1]}")
    secret = "Zorblatwicket"
    with caplog.at_level("DEBUG"):
        for query in (secret, f'"{secret} deploy"', f"{secret}*", "x" * 600, f"{secret}\x00"):
            client.get("/api/search/", {"q": query})
    _, key = index_key()
    logged = caplog.text.casefold()
    assert secret.casefold() not in logged
    assert str(term_hash(key, "w:" + secret.casefold())) not in logged


def test_a_phrase_of_three_words_is_adjacent_not_only_pair_by_pair(db: None, tmp_path: Path) -> None:
    from annoris.sources.local import LocalSource
    from sync_app.engine import run_sync

    docs = {
        "whole": "# Tuesday\n\nAt noon the queue worker crashed twice.",
        # holds "queue worker" and "worker crashed", never "queue worker crashed"
        "pairs": "# Wednesday\n\nThe queue worker restarted; later the worker crashed.",
        "folded": "# Thursday\n\nQueue-Worker: crashed (OOM).",
    }
    for name, text in docs.items():
        (tmp_path / f"2026-01-0{len(name) % 9}-{name}.md").write_text(text, encoding="utf-8")
    run_sync(source=LocalSource(tmp_path, repository="acme/phrases"))
    for hybrid in (False, True):
        result = run_search('"queue worker crashed"', hybrid=hybrid)
        keyword = [h for h in result.hits if h.match != "meaning"]
        assert sorted(h.title for h in keyword) == ["Thursday", "Tuesday"], hybrid
        assert result.total >= 2 and result.ignored == []
    snippets = {h.title: h.snippet for h in run_search('"queue worker crashed"', hybrid=False).hits}
    assert "the **queue worker crashed** twice" in snippets["Tuesday"]
    assert run_search('"queue worker crashed"', hybrid=False).total == 2
    assert {h.title for h in run_search('"queue worker" crashed', hybrid=False).hits} == set(
        ["Tuesday", "Wednesday", "Thursday"]
    )
