#!/usr/bin/env bash
# canary-release.sh runs IMAGE_TAG as a canary of one release before roll-release.sh replaces it:
# <release>-canary pods join the variant's own target group (chart templates/canary.yaml), step by
# step, and each step is judged from Prometheus by stack.deploy.analysis. Pass -> next step, and the
# job goes on to roll-release.sh (the promotion). Fail -> the canary is scaled to 0 at once (the
# controller deregisters its pods), removed, and the job fails with the analysis in its annotations,
# which the deploy's notify job copies into the deploy-failure issue and Slack.
#
# Environment (besides roll-release.sh's RELEASE, IMAGE_TAG, IMAGE_DIGEST: the canary runs by digest too):
#   CANARY_STEPS      e.g. "10,50": the canary's share of the variant, percent, per step; empty = no canary
#   CANARY_INTERVAL   seconds per step and per extension when samples are too few (default 300)
#   CANARY_EXTENSIONS extensions a step may take before "too few samples" fails it (default 6)
#   CONTRACT_CHECKED  as for roll-release.sh (the schema owner's hook migrates with the canary's image)
set -euo pipefail

if [[ -z "${CANARY_STEPS:-}" ]]; then
  echo "No CANARY_STEPS: the release is rolled without a canary."
  exit 0
fi
name=$(jq -r '.name' <<<"$RELEASE")
namespace=$(jq -r '.namespace' <<<"$RELEASE")
stable_tag=$(helm get values "$name" --namespace "$namespace" --all -o json 2>/dev/null | jq -r '.image.tag // empty' || true)
if [[ -z "$stable_tag" || "$stable_tag" == "$IMAGE_TAG" ]]; then
  echo "$name runs ${stable_tag:-nothing yet}: nothing to compare a canary with; rolled directly."
  exit 0
fi
interval=${CANARY_INTERVAL:-300}
if [[ ! "${IMAGE_DIGEST:-}" =~ ^sha256:[0-9a-f]{64}$ ]]; then
  echo "::error::no IMAGE_DIGEST (sha256:...): the canary runs by digest, like the release"
  exit 1
fi

canary() {  # canary ENABLED REPLICAS: the stable keeps its values (and image); only canary.* and the hook's rights change
  helm upgrade "$name" ./chart --namespace "$namespace" --reset-then-reuse-values --wait=watcher --timeout 10m \
    --set "canary.enabled=$1" --set-string "canary.image.tag=$IMAGE_TAG" --set-string "canary.image.digest=$IMAGE_DIGEST" \
    --set "canary.replicas=$2" \
    --set "migrations.allowContract=${CONTRACT_CHECKED:-false}"
}

roll_back() {
  echo "::error title=Canary of $name rolled back::$1"
  kubectl -n "$namespace" scale "deployment/$name-canary" --replicas=0 || true  # traffic back to stable now
  canary false 1 || true
  echo "| $name | canary $IMAGE_TAG | rolled back: $1 |" >> "$GITHUB_STEP_SUMMARY"
  exit 1
}

port=${PROMETHEUS_LOCAL_PORT:-9090}
kubectl -n monitoring port-forward svc/kube-prometheus-stack-prometheus "$port:9090" > /dev/null 2>&1 &
trap 'kill $! 2> /dev/null || true' EXIT

IFS=, read -ra steps <<<"$CANARY_STEPS"
for share in "${steps[@]}"; do
  stable=$(kubectl -n "$namespace" get "deployment/$name" -o jsonpath='{.status.readyReplicas}')
  # Pods share the target group evenly: replicas / (stable + replicas) ~ share.
  replicas=$(( (stable * share + (100 - share) - 1) / (100 - share) ))
  ((replicas >= 1)) || replicas=1
  echo "::group::step $share%: $replicas canary pod(s) beside $stable stable"
  canary true "$replicas" || roll_back "the canary's pods never became ready at step $share%"
  echo "::endgroup::"
  for ((waited = 1; waited <= ${CANARY_EXTENSIONS:-6} + 1; waited++)); do
    sleep "$interval"
    status=0
    python -m stack.deploy.analysis --prometheus "http://127.0.0.1:$port" --release "$name" --window $((waited * interval)) \
      > analysis.md || status=$?
    cat analysis.md
    ((status == 3)) || break
  done
  if ((status != 0)); then
    failing=$(grep -E '\| (FAIL|WAIT) \|$' analysis.md | cut -d'|' -f2-4 | tr '\n' ';' || true)
    roll_back "step $share%: $( ((status == 3)) && echo 'too few samples' || echo 'analysis failed'): $failing"
  fi
done
# Promotion: roll-release.sh (next step) moves the stable to IMAGE_TAG with canary.enabled=false.
echo "| $name | canary $IMAGE_TAG | passed ${CANARY_STEPS}% |" >> "$GITHUB_STEP_SUMMARY"
