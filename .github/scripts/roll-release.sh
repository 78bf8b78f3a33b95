#!/usr/bin/env bash
# roll-release.sh upgrades (or installs) one Helm release of ./chart, waits for it, rolls it back
# if it does not become ready, runs its `helm test`, and writes a job summary line.
#
# The release's values files and per-release flags come from `python -m stack.deploy.releases
# --format helm-args` (the one implementation, shared with ci.yml's chart and kind-install jobs);
# this script adds only what exists at deploy time, from the build and Terraform's outputs.
#
# Environment:
#   DEPLOY_ENV         the environment (dev, qa, prod): which environments/<env>/ the release reads
#   RELEASE            one object from `python -m stack.deploy.releases --env <env> --format json`
#   IMAGE_REPOSITORY   ECR repository URL (terraform output ecr_repository_url)
#   IMAGE_TAG          image tag to run (the commit SHA): names the image, shown as its version
#   IMAGE_DIGEST       the digest the pods run (sha256:...; the build job's `ecr-image.sh resolve`):
#                      image.digest, so qa and prod run exactly what dev and qa ran, never a moved tag
#   TARGET_GROUP_ARNS  JSON map variant -> target group ARN (terraform output target_group_arns)
#   DATABASE_HOST      the environment's PostgreSQL host name (terraform output database_host)
#   ALB_SUBNET_CIDRS, DATABASE_SUBNET_CIDRS  JSON lists (terraform outputs alb_subnet_cidrs,
#                      database_subnet_cidrs): the NetworkPolicy's ingress and database egress ranges
#   PUBLIC_HOST, PUBLIC_SCHEME  the name visitors use and the ALB listener's scheme (terraform outputs
#                      public_host, public_scheme): ALLOWED_HOSTS, and the app's own HTTPS redirect
#   SITE_URL           where visitors are (terraform output site_url, always https): the CSRF origin
#   DATABASE_PROXY_HOST  RDS Proxy (terraform output database_proxy_host): the pods' database.host,
#                      pooled; DATABASE_HOST then goes to database.directHost (the migration hook)
#   DATABASE_REPLICA_HOST  the read replica (terraform output database_replica_host); may be empty
#   CACHE_SUBNET_CIDRS JSON list (terraform output cache_subnet_cidrs): the NetworkPolicy's egress to 6379
#   CONTRACT_CHECKED   "true" once `migrate_safely --check-contract` passed in this job; only then,
#                      and only for the schema owner, is migrations.allowContract=true passed, so its
#                      pre-upgrade hook runs `migrate_safely --allow-contract`
#   HELM_TIMEOUT       how long to wait for the rollout, the migration hook included (default 10m)
set -euo pipefail

name=$(jq -r '.name' <<<"$RELEASE")
namespace=$(jq -r '.namespace' <<<"$RELEASE")
variant=$(jq -r '.variant' <<<"$RELEASE")
theme=$(jq -r '.theme' <<<"$RELEASE")
owner=$(jq -r '.schemaOwner' <<<"$RELEASE")
target_group=$(jq -r --arg v "$variant" '.[$v] // empty' <<<"$TARGET_GROUP_ARNS")
# fail MESSAGE: a GitHub error annotation, then stop (a deploy input is missing or malformed).
fail() {
  echo "::error::$1"
  exit 1
}
[[ -n "$target_group" ]] || fail "terraform output target_group_arns has no entry for variant $variant"
[[ -n "${DEPLOY_ENV:-}" ]] || fail "no DEPLOY_ENV: which environment's values files and flags to use"
[[ "${IMAGE_DIGEST:-}" =~ ^sha256:[0-9a-f]{64}$ ]] ||
  fail "no IMAGE_DIGEST (sha256:...): the releases are deployed by digest, never by tag alone"
[[ -n "${DATABASE_HOST:-}" ]] || fail "no DATABASE_HOST (terraform output database_host)"
[[ -n "${DATABASE_PROXY_HOST:-}" ]] || fail "no DATABASE_PROXY_HOST (terraform output database_proxy_host)"
for cidrs in ALB_SUBNET_CIDRS DATABASE_SUBNET_CIDRS CACHE_SUBNET_CIDRS; do
  jq -e 'type == "array" and length > 0' <<<"${!cidrs:-null}" > /dev/null 2>&1 ||
    fail "no $cidrs (terraform output ${cidrs,,}): the NetworkPolicy would cut the pods off"
done
if [[ -z "${PUBLIC_HOST:-}" || ! "${PUBLIC_SCHEME:-}" =~ ^https?$ || ! "${SITE_URL:-}" =~ ^https?://[^/,[:space:]]+$ ]]; then
  fail "no PUBLIC_HOST/PUBLIC_SCHEME/SITE_URL (terraform outputs public_host, public_scheme, site_url)"
fi

# The release's values files, then its flags (variant, theme, migrations.enabled only for the schema
# owner, targetGroupBinding.targetGroupName, the variants file): NUL-separated, read into an array.
# The weight is Terraform's (the listener rule), not a chart value.
release_args=$(mktemp)
trap 'rm -f "$release_args"' EXIT
python -m stack.deploy.releases --env "$DEPLOY_ENV" --release "$name" --format helm-args > "$release_args"
mapfile -d '' -t values < "$release_args"
args=(upgrade --install "$name" ./chart --namespace "$namespace" --create-namespace
  --wait=watcher --rollback-on-failure --timeout "${HELM_TIMEOUT:-10m}" "${values[@]}")
args+=(--set-string "image.repository=$IMAGE_REPOSITORY" --set-string "image.tag=$IMAGE_TAG"
  --set-string "image.digest=$IMAGE_DIGEST"
  --set-string "targetGroupBinding.targetGroupARN=$target_group"
  # The pods through RDS Proxy (a transaction pooler), the migration hook straight to the instance.
  --set-string "database.host=$DATABASE_PROXY_HOST" --set database.pooled=true
  --set-string "database.directHost=$DATABASE_HOST" --set-string "database.replicaHost=${DATABASE_REPLICA_HOST:-}"
  --set-json "networkPolicy.ingressCidrs=$ALB_SUBNET_CIDRS" --set-json "database.cidrs=$DATABASE_SUBNET_CIDRS"
  --set-json "cache.cidrs=$CACHE_SUBNET_CIDRS"
  --set-json "allowedHosts=$(jq -cn --arg host "$PUBLIC_HOST" '[$host]')" --set-string "publicScheme=$PUBLIC_SCHEME"
  --set-json "csrfTrustedOrigins=$(jq -cn --arg url "$SITE_URL" '[$url]')")
if [[ "$owner" == true && "${CONTRACT_CHECKED:-}" == true ]]; then
  # The contract check passed for every running release, so the hook may apply contract steps.
  args+=(--set migrations.allowContract=true)
fi

echo "::group::helm upgrade $name (variant $variant, theme $theme, schema owner: $owner)"
status=0
helm "${args[@]}" || status=$?
echo "::endgroup::"
if ((status != 0)); then
  echo "::error::helm upgrade of $name failed and was rolled back (pods not ready in time, or the migration hook failed)"
  kubectl -n "$namespace" get pods -o wide || true
  kubectl -n "$namespace" get events --sort-by=.lastTimestamp | tail -n 30 || true
  echo "| $name | $variant | $theme | $IMAGE_TAG | failed, rolled back |" >> "$GITHUB_STEP_SUMMARY"
  exit "$status"
fi

echo "::group::helm test $name"
status=0
helm test "$name" --namespace "$namespace" --timeout 5m --logs || status=$?
echo "::endgroup::"

revision=$(helm history "$name" --namespace "$namespace" --max 1 -o json | jq -r '.[-1].revision')
chart=$(helm history "$name" --namespace "$namespace" --max 1 -o json | jq -r '.[-1].chart')
{
  echo "| release | variant | theme | version (image tag) | chart | revision | helm test |"
  echo "|---|---|---|---|---|---|---|"
  echo "| $name | $variant | $theme | $IMAGE_TAG | $chart | $revision | $([[ $status == 0 ]] && echo passed || echo FAILED) |"
} >> "$GITHUB_STEP_SUMMARY"
if ((status != 0)); then
  # The pods are ready but the release does not work: put the previous revision back.
  if ((revision > 1)); then
    echo "::error::helm test $name failed; rolling back revision $revision to the previous one"
    helm rollback "$name" --namespace "$namespace" --wait=watcher --timeout "${HELM_TIMEOUT:-10m}" || true
  else
    echo "::error::helm test $name failed on its first install; nothing to roll back to"
  fi
fi
exit "$status"
