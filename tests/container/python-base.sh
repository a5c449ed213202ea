#!/usr/bin/env bash
# The Dockerfile's base image, for machines that cannot pull it (no registry reachable).
#
#   tests/container/python-base.sh IMAGE
#
# Does nothing when IMAGE is in podman's storage already (the cache between runs) or can be
# pulled. Otherwise builds a stand-in under that exact name from Debian's own packages:
# debootstrap --variant=minbase bookworm from the mirror apt uses here, imported into podman,
# with Debian's python3.11, python3-venv and python3-pip laid out as the upstream python image
# is (python, python3, pip in /usr/local/bin, no EXTERNALLY-MANAGED marker). Needs root.
# The Dockerfile itself stays the one users build against the real base.
set -euo pipefail

image=${1:?usage: $0 IMAGE}
say() { printf 'python-base: %s\n' "$*" >&2; }

if podman image exists "$image"; then
    say "$image is in podman's storage"
    exit 0
fi
if podman pull --quiet "$image" >/dev/null 2>&1; then
    say "pulled $image"
    exit 0
fi
say "cannot pull $image: building a stand-in from Debian's packages"

# The mirror apt already uses here (deb822 sources first, then a one-line sources.list).
mirror=$(awk '$1 == "URIs:" && $2 ~ /\/debian\/?$/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
if [ -z "$mirror" ]; then
    mirror=$(awk '$1 == "deb" && $3 == "bookworm" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
fi
mirror=${mirror:-http://deb.debian.org/debian}
security=${mirror%/debian}/debian-security

rootfs=$(mktemp -d /var/tmp/python-base.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
debootstrap --variant=minbase --include=ca-certificates,python3.11,python3-venv,python3-pip \
    bookworm "$rootfs" "$mirror" >/dev/null

# apt inside the image: the same suites as Debian's own container images.
rm -f "$rootfs/etc/apt/sources.list"
cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES

# Laid out as the upstream image: its commands in /usr/local/bin, pip free to install.
ln -sf /usr/bin/python3.11 "$rootfs/usr/local/bin/python3"
ln -sf /usr/bin/python3.11 "$rootfs/usr/local/bin/python"
printf '#!/bin/sh\nexec /usr/bin/python3.11 -m pip "$@"\n' >"$rootfs/usr/local/bin/pip"
chmod 755 "$rootfs/usr/local/bin/pip"
ln -sf pip "$rootfs/usr/local/bin/pip3"
rm -f "$rootfs"/usr/lib/python3*/EXTERNALLY-MANAGED
# as Debian's own images: apt keeps no package cache (its *.bin files are 80 MB a layer)
printf '%s\n' 'Dir::Cache::pkgcache "";' 'Dir::Cache::srcpkgcache "";' \
    >"$rootfs/etc/apt/apt.conf.d/docker-clean"
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb

tar -C "$rootfs" -c . | podman import --quiet \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["python3"]' \
    - "$image" >/dev/null
say "built $image ($(podman run --rm "$image" python --version))"
