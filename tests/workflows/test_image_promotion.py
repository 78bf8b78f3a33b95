"""Build once, promote the same digest dev -> qa -> prod.

.github/scripts/ecr-image.sh runs against a stand-in ECR (registry_stand_in.py: immutable tags, a copy
source that must exist, buildx's index wrapping); deploy.yml's structure says that only dev builds,
qa and prod promote, every release runs the resolved digest, and an image is marked passed only
after the smoke check. (tests/crosslayer/test_promotion_handoff.py checks the chain against tfvars.)
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from registry_stand_in import digest, install, read, write

from workflow_support import REPO_ROOT, SCRIPTS_DIR

ECR_IMAGE = SCRIPTS_DIR / "ecr-image.sh"
REGISTRY = "000000000000.dkr.ecr.us-east-1.amazonaws.com"
SHA = "0123456789abcdef0123456789abcdef01234567"
BUILT = digest(f"the one build of {SHA}")
PREVIOUS = {"qa": "dev", "prod": "qa"}


def url(env: str) -> str:
    return f"{REGISTRY}/pizza-{env}"


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    """dev's repository holds what dev's build pushed; qa's and prod's are empty."""
    path = tmp_path / "registry.json"
    write(path, {"pizza-dev": {SHA: BUILT}, "pizza-qa": {}, "pizza-prod": {}})
    return path


def ecr_image(command: str, env: str, registry: Path, **extra: str) -> tuple[int, str, dict[str, str], list[list[str]]]:
    """ecr-image.sh <command> as the build or passed job runs it for `env`."""
    tmp = registry.parent
    output, log = tmp / f"output-{env}-{command}", tmp / "calls.log"
    output.write_text("")
    variables = {
        **{k: v for k, v in os.environ.items() if k not in ("PROMOTE_FROM", "SOURCE_REPOSITORY", "IMAGE_DIGEST")},
        "PATH": f"{install(tmp / 'bin')}:{os.environ['PATH']}",
        "MODEL_REGISTRY": str(registry),
        "REGISTRY_LOG": str(log),
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(tmp / "summary.md"),
        "REPOSITORY": url(env),
        "IMAGE_TAG": SHA,
        "DEPLOY_ENV": env,
        **extra,
    }
    if command == "promote" and env in PREVIOUS:
        variables.setdefault("PROMOTE_FROM", PREVIOUS[env])
        variables.setdefault("SOURCE_REPOSITORY", url(PREVIOUS[env]))
    done = subprocess.run(["bash", str(ECR_IMAGE), command], cwd=REPO_ROOT, env=variables, capture_output=True, text=True, timeout=60)
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return done.returncode, done.stdout + done.stderr, outputs, calls


def deploy_and_pass(env: str, registry: Path) -> str:
    """What one environment's deploy does with the image: promote (not dev), resolve, mark passed."""
    if env != "dev":
        rc, out, _, _ = ecr_image("promote", env, registry)
        assert rc == 0, out
    rc, out, outputs, _ = ecr_image("resolve", env, registry)
    assert rc == 0, out
    rc, out, _, _ = ecr_image("mark-passed", env, registry, IMAGE_DIGEST=outputs["digest"])
    assert rc == 0, out
    return outputs["digest"]


def copies(calls: list[list[str]]) -> list[tuple[str, str]]:
    return [(c[c.index("--tag") + 1], c[-1]) for c in calls if c[:4] == ["docker", "buildx", "imagetools", "create"]]


# --- the script against the stand-in registry -------------------------------------------------------


def test_the_digest_dev_built_reaches_prod_unchanged_and_each_environment_marks_it_passed(registry):
    deployed = {env: deploy_and_pass(env, registry) for env in ("dev", "qa", "prod")}
    assert deployed == {"dev": BUILT, "qa": BUILT, "prod": BUILT}
    state = read(registry)
    for env in ("dev", "qa", "prod"):
        assert state[f"pizza-{env}"] == {SHA: BUILT, f"passed-{env}-{SHA}": BUILT}
    _, _, _, calls = ecr_image("resolve", "prod", registry)
    # Each promotion copied from the environment before it, by digest, never by tag.
    assert [(t, s) for t, s in copies(calls) if not t.split(":")[1].startswith("passed-")] == [
        (f"{url('qa')}:{SHA}", f"{url('dev')}@{BUILT}"),
        (f"{url('prod')}:{SHA}", f"{url('qa')}@{BUILT}"),
    ]
    assert all("--prefer-index=false" in c for c in calls if c[:2] == ["docker", "buildx"])


def test_qa_refuses_a_commit_dev_built_but_never_passed(registry):
    rc, out, _, _ = ecr_image("promote", "qa", registry)
    assert rc != 0
    assert f"never deployed to dev with a passing smoke check (no tag passed-dev-{SHA})" in out
    assert read(registry)["pizza-qa"] == {}


def test_prod_refuses_a_commit_qa_never_ran_even_when_dev_passed_it(registry):
    deploy_and_pass("dev", registry)
    rc, out, _, _ = ecr_image("promote", "prod", registry)
    assert rc != 0 and f"commit {SHA} has no image in qa" in out
    assert read(registry)["pizza-prod"] == {}


def test_a_copy_that_does_not_keep_the_digest_fails(registry):
    deploy_and_pass("dev", registry)
    rc, out, _, _ = ecr_image("promote", "qa", registry, REGISTRY_COPY_CHANGES_DIGEST="1")
    assert rc != 0 and "the copy did not keep the digest" in out


def test_a_promotion_is_repeatable_and_never_moves_a_tag(registry):
    deploy_and_pass("dev", registry)
    for _ in range(2):
        rc, out, _, _ = ecr_image("promote", "qa", registry)
        assert rc == 0, out
    _, _, _, calls = ecr_image("resolve", "qa", registry)
    assert len([c for c in copies(calls) if c[0] == f"{url('qa')}:{SHA}"]) == 1, "the second run found the image already there"
    state = read(registry)
    state["pizza-qa"][SHA] = digest("something else pushed under the same tag")
    write(registry, state)
    rc, out, _, _ = ecr_image("promote", "qa", registry)
    assert rc != 0 and "the copy did not keep the digest" in out


def test_a_passed_tag_on_another_digest_is_refused(registry):
    state = read(registry)
    state["pizza-dev"][f"passed-dev-{SHA}"] = digest("an older build")
    write(registry, state)
    rc, out, _, _ = ecr_image("promote", "qa", registry)
    assert rc != 0 and f"dev passed {digest('an older build')} for {SHA}" in out


def test_no_access_is_an_error_not_a_missing_image(registry):
    deploy_and_pass("dev", registry)
    rc, out, _, _ = ecr_image("promote", "qa", registry, REGISTRY_DENY="pizza-dev")
    assert rc != 0 and "AccessDeniedException" in out and "never deployed" not in out


def test_dev_has_nothing_to_promote_from(registry):
    rc, out, _, _ = ecr_image("promote", "dev", registry, PROMOTE_FROM="", SOURCE_REPOSITORY="")
    assert rc != 0 and "dev builds nothing and has nothing to promote from" in out


def test_only_the_deployed_digest_is_marked_passed(registry):
    rc, out, _, _ = ecr_image("mark-passed", "dev", registry, IMAGE_DIGEST=digest("not what dev runs"))
    assert rc != 0 and "not the deployed" in out
    assert f"passed-dev-{SHA}" not in read(registry)["pizza-dev"]
    rc, out, _, _ = ecr_image("mark-passed", "dev", registry, IMAGE_DIGEST="latest")
    assert rc != 0 and "IMAGE_DIGEST is not a sha256 digest" in out


def test_resolve_fails_without_the_image_and_names_the_digest_with_it(registry):
    rc, out, outputs, _ = ecr_image("resolve", "qa", registry)
    assert rc != 0 and outputs == {} and f"{url('qa')}:{SHA} does not exist" in out
    rc, out, outputs, _ = ecr_image("resolve", "dev", registry)
    assert rc == 0 and outputs == {"digest": BUILT}, out


# --- deploy.yml: who builds, who promotes, what the releases run --------------------------------------

TOKEN = re.compile(r"\s+|'[^']*'|==|!=|&&|\|\||!|\(|\)|[A-Za-z_][\w.-]*")


def runs(condition: str | None, context: dict[str, object]) -> bool:
    """A step's `if:` evaluated for `context`: GitHub's operators on literals and known names only."""
    if condition is None:
        return True
    text = condition.strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2]
    python, position = [], 0
    while position < len(text):
        match = TOKEN.match(text, position)
        assert match, f"the test cannot read {condition!r} at {text[position:]!r}"
        token, position = match.group(0), match.end()
        if token.isspace():
            continue
        if token.startswith("'"):
            python.append(repr(token[1:-1]))
        elif token in ("==", "!=", "(", ")"):
            python.append(token)
        elif token in ("&&", "||", "!"):
            python.append({"&&": "and", "||": "or", "!": "not"}[token])
        else:
            assert token in context, f"the test does not know {token} (in {condition!r})"
            python.append(repr(context[token]))
    return bool(eval(" ".join(python)))  # noqa: S307 - literals and operators only, built above


def builds(step: dict) -> bool:
    return step.get("uses", "").startswith("docker/build-push-action@") or bool(
        re.search(r"\bdocker (build|push)\b|buildx build", step.get("run", ""))
    )


@pytest.mark.parametrize("env", ["dev", "qa", "prod"])
def test_only_dev_builds_and_qa_and_prod_promote(deploy, env):
    context = {"env.DEPLOY_ENV": env, "steps.exists.outputs.found": "false"}
    for name, job in deploy["jobs"].items():
        for step in job.get("steps", []):
            if builds(step):
                assert name == "build", f"{name} builds an image"
                assert runs(step.get("if"), context) is (env == "dev"), f"the build step runs in {env}: {step.get('if')}"
    steps = deploy["jobs"]["build"]["steps"]
    promote = [s for s in steps if "ecr-image.sh promote" in s.get("run", "")]
    assert len(promote) == 1 and runs(promote[0].get("if"), context) is (env != "dev")
    # The promotion's source is Terraform's (the tf step reads it from the deploy outputs), never typed here.
    assert promote[0]["env"]["PROMOTE_FROM"] == "${{ steps.tf.outputs.promote_from }}"
    assert promote[0]["env"]["SOURCE_REPOSITORY"] == "${{ steps.tf.outputs.promote_from_repository }}"
    # Whatever put the image there, the digest every release runs is resolved after it, in every environment.
    resolve = next(i for i, s in enumerate(steps) if s.get("id") == "digest")
    assert steps[resolve]["run"] == ".github/scripts/ecr-image.sh resolve" and runs(steps[resolve].get("if"), context)
    assert resolve > max(i for i, s in enumerate(steps) if builds(s) or s in promote)


def test_the_releases_are_deployed_by_the_resolved_digest(deploy):
    assert deploy["jobs"]["build"]["outputs"]["digest"] == "${{ steps.digest.outputs.digest }}"
    for job in ("deploy-owner", "deploy-others"):
        assert deploy["jobs"][job]["env"]["IMAGE_DIGEST"] == "${{ needs.build.outputs.digest }}", job
    assert '--set-string "image.digest=$IMAGE_DIGEST"' in (SCRIPTS_DIR / "roll-release.sh").read_text()
    assert '--set-string "canary.image.digest=$IMAGE_DIGEST"' in (SCRIPTS_DIR / "canary-release.sh").read_text()


def test_an_image_is_marked_passed_only_after_the_smoke_check(deploy):
    passed = deploy["jobs"]["passed"]
    assert set(passed["needs"]) == {"build", "smoke"}
    assert "needs.smoke.result == 'success'" in passed["if"]
    assert passed["environment"] == deploy["jobs"]["deploy-owner"]["environment"]  # the same deploy role
    assert passed["env"]["IMAGE_DIGEST"] == "${{ needs.build.outputs.digest }}"
    assert [s["run"] for s in passed["steps"] if "run" in s] == [".github/scripts/ecr-image.sh mark-passed"]
    assert "passed" in deploy["jobs"]["notify"]["needs"]
