# Sourced by tools/run.sh and tools/test.sh: installs the Debian packages the build
# needs, only those that are missing, quietly. Needs root (or sudo) when something is
# missing; does nothing when everything is present.
# rapidjson-dev: the HTTP API's JSON (header-only; README "HTTP API").
# chromium: the admin page's browser tests (headless, driven by puppeteer-core;
# README "Admin page").
ATTRIB_PACKAGES=(cmake g++ make pkg-config libabsl-dev libboost-dev capnproto
  libcapnp-dev libgtest-dev libgmock-dev libbenchmark-dev libidn2-dev libssl-dev openssl
  rapidjson-dev etcd-server etcd-client chromium)
# The HTTP API tests run Node (an OpenAPI 3.1 linter, ajv): Debian's nodejs and npm,
# unless node and npm are already on PATH (e.g. from nodesource, which bundles npm).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  ATTRIB_PACKAGES+=(nodejs npm)
fi

attrib_missing_packages() {
  local p
  for p in "${ATTRIB_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
      echo "$p"
  done
}

attrib_install_deps() {
  local missing
  missing=$(attrib_missing_packages)
  [ -z "$missing" ] && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing missing Debian packages:" $missing >&2
  $sudo apt-get update -qq >/dev/null
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    $missing >/dev/null
}

attrib_install_deps
