#!/usr/bin/env bash
# ecr-image.sh: build once, promote the same digest dev -> qa -> prod. Only dev builds (deploy.yml);
# every other environment copies, by digest, the image the environment before it ran and passed.
#
#   ecr-image.sh resolve      the digest of REPOSITORY:IMAGE_TAG -> "digest=sha256:..." in GITHUB_OUTPUT
#                             (what the releases are deployed with: image.digest)
#   ecr-image.sh promote      SOURCE_REPOSITORY:IMAGE_TAG must carry the tag passed-<PROMOTE_FROM>-<IMAGE_TAG>
#                             on the same digest (that environment ran it and its smoke check passed);
#                             that digest is copied to REPOSITORY:IMAGE_TAG and checked to be the same
#   ecr-image.sh mark-passed  after a deploy whose smoke check passed: REPOSITORY:IMAGE_TAG (still
#                             IMAGE_DIGEST) gets the immutable tag passed-<DEPLOY_ENV>-<IMAGE_TAG>
#
# Environment:
#   REPOSITORY         this environment's ECR repository URL (Terraform's ecr_repository_url)
#   IMAGE_TAG          the commit SHA (every image is tagged with its commit)
#   DEPLOY_ENV         dev, qa or prod
#   PROMOTE_FROM       promote: the previous environment (Terraform's promote_from_environment)
#   SOURCE_REPOSITORY  promote: its repository URL (Terraform's promote_from_repository_url)
#   IMAGE_DIGEST       mark-passed: the digest the releases were deployed with
#
# Copies go through `docker buildx imagetools create --prefer-index=false`, which copies one manifest or
# index as it is (same bytes, same digest); the registry login is amazon-ecr-login's (one account).
set -euo pipefail

DIGEST_PATTERN='^sha256:[0-9a-f]{64}$'

fail() {
  echo "::error title=Image promotion::$1"
  echo "| image | $DEPLOY_ENV | $IMAGE_TAG | refused: $1 |" >> "${GITHUB_STEP_SUMMARY:-/dev/null}"
  exit 1
}

# digest_of URL TAG: the digest URL:TAG points at, or nothing when the tag does not exist; any other
# answer (no access, throttled, not a digest) is an error, said on stderr, and a non-zero status.
digest_of() {
  local err status=0 out
  err=$(mktemp)
  out=$(aws ecr describe-images --repository-name "${1#*/}" --image-ids "imageTag=$2" \
    --query 'imageDetails[0].imageDigest' --output text 2> "$err") || status=$?
  if ((status != 0)) && grep -q ImageNotFoundException "$err"; then
    out="" status=0
  fi
  if ((status != 0)); then
    echo "aws ecr describe-images $1:$2 failed: $(cat "$err")" >&2
  elif [[ -n "$out" && ! "$out" =~ $DIGEST_PATTERN ]]; then
    echo "$1:$2 has no sha256 digest: '$out'" >&2
    status=3
  fi
  rm -f "$err"
  ((status == 0)) && echo "$out"
  return "$status"
}

# copy SOURCE@DIGEST TARGET_URL TAG: put exactly that manifest under TAG (tags are immutable: never moved).
copy() {
  local existing
  existing=$(digest_of "$2" "$3") || fail "cannot read $2:$3"
  if [[ -z "$existing" ]]; then
    docker buildx imagetools create --prefer-index=false --tag "$2:$3" "$1" || fail "could not copy $1 to $2:$3"
    existing=$(digest_of "$2" "$3") || fail "cannot read $2:$3"
  fi
  [[ "$existing" == "${1##*@}" ]] || fail "$2:$3 is ${existing:-missing}, not ${1##*@}: the copy did not keep the digest"
}

for name in REPOSITORY IMAGE_TAG DEPLOY_ENV; do
  [[ -n "${!name:-}" ]] || { echo "::error::$name is not set"; exit 1; }
done

case "${1:-}" in
  resolve)
    digest=$(digest_of "$REPOSITORY" "$IMAGE_TAG") || fail "cannot read $REPOSITORY:$IMAGE_TAG"
    [[ -n "$digest" ]] || fail "$REPOSITORY:$IMAGE_TAG does not exist"
    echo "digest=$digest" >> "$GITHUB_OUTPUT"
    echo "Deploying $REPOSITORY:$IMAGE_TAG@$digest" >> "${GITHUB_STEP_SUMMARY:-/dev/null}"
    ;;
  promote)
    [[ -n "${PROMOTE_FROM:-}" && -n "${SOURCE_REPOSITORY:-}" ]] ||
      fail "$DEPLOY_ENV builds nothing and has nothing to promote from (Terraform's promote_from_environment / promote_from_repository_url are empty): deploy to dev builds, qa and prod promote"
    source_digest=$(digest_of "$SOURCE_REPOSITORY" "$IMAGE_TAG") || fail "cannot read $SOURCE_REPOSITORY:$IMAGE_TAG"
    [[ -n "$source_digest" ]] ||
      fail "commit $IMAGE_TAG has no image in $PROMOTE_FROM ($SOURCE_REPOSITORY): deploy it to $PROMOTE_FROM first"
    passed_digest=$(digest_of "$SOURCE_REPOSITORY" "passed-$PROMOTE_FROM-$IMAGE_TAG") || fail "cannot read $SOURCE_REPOSITORY"
    [[ -n "$passed_digest" ]] ||
      fail "commit $IMAGE_TAG was never deployed to $PROMOTE_FROM with a passing smoke check (no tag passed-$PROMOTE_FROM-$IMAGE_TAG): deploy it to $PROMOTE_FROM first"
    [[ "$passed_digest" == "$source_digest" ]] ||
      fail "$PROMOTE_FROM passed $passed_digest for $IMAGE_TAG, but $SOURCE_REPOSITORY:$IMAGE_TAG is $source_digest"
    copy "$SOURCE_REPOSITORY@$source_digest" "$REPOSITORY" "$IMAGE_TAG"
    echo "| image | promoted $PROMOTE_FROM -> $DEPLOY_ENV | $IMAGE_TAG | $source_digest |" >> "${GITHUB_STEP_SUMMARY:-/dev/null}"
    ;;
  mark-passed)
    [[ "${IMAGE_DIGEST:-}" =~ $DIGEST_PATTERN ]] || fail "IMAGE_DIGEST is not a sha256 digest: '${IMAGE_DIGEST:-}'"
    current=$(digest_of "$REPOSITORY" "$IMAGE_TAG") || fail "cannot read $REPOSITORY:$IMAGE_TAG"
    [[ "$current" == "$IMAGE_DIGEST" ]] || fail "$REPOSITORY:$IMAGE_TAG is ${current:-missing}, not the deployed $IMAGE_DIGEST"
    copy "$REPOSITORY@$IMAGE_DIGEST" "$REPOSITORY" "passed-$DEPLOY_ENV-$IMAGE_TAG"
    echo "| image | passed in $DEPLOY_ENV | $IMAGE_TAG | $IMAGE_DIGEST |" >> "${GITHUB_STEP_SUMMARY:-/dev/null}"
    ;;
  *)
    echo "usage: $0 resolve|promote|mark-passed" >&2
    exit 2
    ;;
esac
