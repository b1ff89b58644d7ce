#!/usr/bin/env bash
# Run hpcfair's test suite on a fresh machine: installs what the tests need, then runs pytest.
#   bash tests/run.sh              # everything
#   bash tests/run.sh -k checkout  # extra arguments go to the main run's pytest
# First the core tests run at the declared minimum versions of the core dependencies.
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
# podman with runc, and debootstrap for the runtime image (tests/test_containers.py, docs/containers.md)
command -v podman >/dev/null || missing+=(podman)
command -v runc >/dev/null || missing+=(runc)
command -v debootstrap >/dev/null || missing+=(debootstrap)
# a one-node Slurm (munge, slurmctld, slurmd) for infer --scheduler slurm (tests/slurm.py, docs/scaleout.md)
command -v slurmctld >/dev/null || missing+=(slurm-wlm)
command -v munged >/dev/null || [ -x /usr/sbin/munged ] || missing+=(munge)
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "tests/run.sh: please install: ${missing[*]}" >&2
    exit 4
  fi
fi

PYTHON=${PYTHON:-python3}
pip_install() { quiet "$1/bin/python" -m pip install -q --disable-pip-version-check "${@:2}"; }

# The export formats' real validators (tests/validators.py), for both runs below; apart, because
# roc-validator pins rich<14 and import-linter needs 14
[ -x .venv-validators/bin/python ] || "$PYTHON" -m venv .venv-validators
pip_install .venv-validators "roc-validator==0.13.*" "rocrate==0.16.*" "mlcroissant==1.1.*" "datacite==1.4.*"

# The lowest versions pyproject.toml declares (tests/constraints-min.txt), proven on the tests
# that need no framework and no server. HPCFAIR_TEST_MINIMUMS=0 leaves this run out.
if [ "${HPCFAIR_TEST_MINIMUMS:-1}" != 0 ]; then
  [ -x .venv-min/bin/python ] || "$PYTHON" -m venv .venv-min
  pip_install .venv-min -c tests/constraints-min.txt -e . "pytest>=8" "pytest-timeout>=2.3" "pyte>=0.8.2" "hypothesis>=6.100" "import-linter>=2.1" "prov>=2.1,<4"
  echo "tests/run.sh: the core tests at the declared minimum versions (.venv-min)"
  .venv-min/bin/python -m pytest -p no:cacheprovider -q -m "not servers and not frameworks and not containers and not scaleout"
fi

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
pip_install .venv -e ".[test]"
.venv/bin/python -c "import hpcfair_vcs" # fail early when the install failed

exec .venv/bin/python -m pytest -p no:cacheprovider "$@"
