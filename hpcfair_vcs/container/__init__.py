"""Podman: the runtime image (built offline, reproducibly) and locked-down containers; no repository here."""
