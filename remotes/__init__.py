"""Real remote servers on 127.0.0.1, for hpcfair's tests and for trying a remote out (remotes/servers.py).

From the repository root::

    python -m remotes ssh|webdav|s3 DIR     # starts one, prints its `hpcfair remote add` line, waits

Not part of the installed package: it lives beside it, like the tests that import it
(``from remotes.servers import SSHServer``).
"""
