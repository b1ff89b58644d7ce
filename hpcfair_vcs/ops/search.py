"""``hpcfair search``: find artifacts by words, tags, kind or framework (optionally a remote's).

A plain scan of refs and metadata records; the FTS catalog (docs/architecture.md)
can replace it without changing this function's contract.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..repo import Repo, open_repo
from ..results import LogResult
from .resolve import describe_id


def search(query: str | None = None, *, repo: Repo | str | None = None, tags: Sequence[str] = (),
           kind: str | None = None, framework: str | None = None, remote: str | None = None) -> LogResult:
    """The newest version of every artifact matching all the given conditions.

    *query* words must all appear (case-insensitively) in the name, path, kind,
    description, license, authors or tags. With *remote*, its records are
    fetched first, so artifacts not yet pulled are found too.

    Raises:
        RemoteNotFoundError, RemoteError (with *remote*).
    """
    r = open_repo(repo)
    if remote:
        from .pull import fetch

        fetch(repo=r, remote=remote)
    words = (query or "").lower().split()
    hits = []
    for ref in r.refs.all():
        if not ref.head or (kind and ref.kind != kind) or not set(tags) <= set(ref.tags):
            continue
        info = describe_id(r, ref, ref.head)
        if framework and info.metadata.get("framework") != framework:
            continue
        text = " ".join([info.artifact, info.path, info.kind, *ref.tags,
                         *(" ".join(v) if isinstance(v, list) else str(v) for v in info.metadata.values())])
        if all(word in text.lower() for word in words):
            hits.append(info)
    return LogResult(hits)
