#!/usr/bin/env bash
# Run hpcfair's test suite on a fresh machine: installs what the tests need, then runs pytest.
#   bash tests/run.sh              # everything
#   bash tests/run.sh -k checkout  # extra arguments go to pytest
# With CI=true a skipped test counts as a failure (tests/conftest.py).
set -euo pipefail
quiet() { local log; log=$(mktemp); "$@" >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; return 1; }; rm -f "$log"; }  # output only on failure
cd "$(dirname "$0")/.."

# System tools the tests drive for real: git; setpriv (util-linux) to test unreadable files as
# root; sshd, nginx with WebDAV and htpasswd for the remote servers (remotes/servers.py).
missing=()
command -v git >/dev/null || missing+=(git)
command -v setpriv >/dev/null || missing+=(util-linux)
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v ssh-keygen >/dev/null || missing+=(openssh-client)
[ -f /usr/lib/nginx/modules/ngx_http_dav_ext_module.so ] || missing+=(nginx-extras)
command -v htpasswd >/dev/null || missing+=(apache2-utils)
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "tests/run.sh: please install: ${missing[*]}" >&2
    exit 4
  fi
fi

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
quiet .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]"
.venv/bin/python -c "import hpcfair_vcs" # fail early when the install failed

exec .venv/bin/python -m pytest -p no:cacheprovider "$@"
