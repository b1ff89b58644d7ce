"""``hpcfair search``: find artifacts by words and exact filters (optionally a remote's), through the catalog.

storage/catalog.py ranks the words (bm25 over names, paths, descriptions, tags,
authors, licenses, tasks, domains) and applies the filters; this verb turns the
names it returns into versions.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..repo import Repo, open_repo
from ..results import IndexResult, SearchResult
from .resolve import describe_id


def search(query: str | None = None, *, repo: Repo | str | None = None, tags: Sequence[str] = (),
           kind: str | None = None, framework: str | None = None, task: str | None = None,
           license: str | None = None, author: str | None = None, remote: str | None = None,
           limit: int | None = 100) -> SearchResult:
    """The newest version of every artifact matching all the given conditions, best match first.

    Each word of *query* must begin a word of the name, path, kind or a metadata value
    (description, tags, authors, license, task, domain, framework, citation), ignoring
    case and accents. *tags* match version tags or metadata tags; *license* is one SPDX
    id of the license expression; *author* a name or an ORCID iD. With *remote*, its
    records are fetched first and only the artifacts it holds are found. At most
    *limit* versions are returned (None: all); ``total`` counts every match.

    Raises:
        RemoteNotFoundError, RemoteError (with *remote*).
    """
    r = open_repo(repo)
    names = None
    if remote:
        from .pull import fetch_holding

        names = fetch_holding(r, remote)
    hits = r.catalog.search(query, tags=tags, kind=kind, framework=framework, task=task, license=license,
                            author=author, names=names)
    versions = []
    for name in hits if limit is None else hits[:limit]:
        ref = r.refs.get(name)
        versions.append(describe_id(r, ref, ref.head))
    return SearchResult(versions, total=len(hits))


def index_rebuild(*, repo: Repo | str | None = None) -> IndexResult:
    """Build the catalog again from the refs and records (it rebuilds itself when missing or unreadable)."""
    r = open_repo(repo)
    with r.lock:
        return IndexResult(artifacts=r.catalog.rebuild())
