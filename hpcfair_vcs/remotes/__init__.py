"""Remotes: DVC-style storage (local folder, ssh, webdav, s3, http, ...) for objects and records.

settings.py edits the remote configuration; connect.py opens a remote through
DVC's schema and filesystem plugins; sync.py pushes, fetches and pulls with
dvc-data's transfer.
"""
