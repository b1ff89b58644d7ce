"""``hpcfair remote add|modify|list|remove|default|import-dvc``."""

from __future__ import annotations

from typing import Any

from ..remotes import settings
from ..repo import Repo, open_repo
from ..results import RemoteInfo, RemoteListResult


def remote_add(name: str, url: str, options: dict[str, Any] | None = None, *, repo: Repo | str | None = None,
               local: bool = False, default: bool = False) -> RemoteListResult:
    """Add a remote (DVC URL and options); secrets go to config.local.yaml.

    Raises:
        RemoteExistsError, ConfigError (DVC's schema rejected an option).
    """
    r = open_repo(repo)
    settings.add(r, name, url, dict(options or {}), local=local, default=default)
    return _listing(r)


def remote_modify(name: str, options: dict[str, Any] | None = None, *, unset: list[str] | None = None,
                  repo: Repo | str | None = None, local: bool = False) -> RemoteListResult:
    """Raises RemoteNotFoundError, ConfigError."""
    r = open_repo(repo)
    settings.modify(r, name, dict(options or {}), unset=list(unset or []), local=local)
    return _listing(r)


def remote_remove(name: str, *, repo: Repo | str | None = None) -> RemoteListResult:
    """Raises RemoteNotFoundError."""
    r = open_repo(repo)
    settings.remove(r, name)
    return _listing(r)


def remote_default(name: str, *, repo: Repo | str | None = None, local: bool = False) -> RemoteListResult:
    """Raises RemoteNotFoundError."""
    r = open_repo(repo)
    settings.set_default(r, name, local=local)
    return _listing(r)


def remote_list(*, repo: Repo | str | None = None) -> RemoteListResult:
    """Every remote with secrets redacted."""
    return _listing(open_repo(repo))


def remote_import_dvc(*, repo: Repo | str | None = None, dvc_dir: str | None = None) -> RemoteListResult:
    """Take the remotes of ``.dvc/config`` and ``.dvc/config.local``.

    Raises:
        ConfigError: no or invalid DVC configuration.
    """
    from pathlib import Path

    r = open_repo(repo)
    settings.import_dvc(r, Path(dvc_dir) if dvc_dir else None)
    return _listing(r)


def _listing(r: Repo) -> RemoteListResult:
    remotes = []
    for doc in settings.listing(r):
        options = dict(doc)
        remotes.append(RemoteInfo(options.pop("name"), options.pop("default"), options.pop("url"), options))
    return RemoteListResult(remotes)
