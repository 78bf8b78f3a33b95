"""Build once, promote the same digest: Terraform (tfvars' promote_from_environment, the published
deploy outputs), the deploy workflow's build job (its own step scripts against a stand-in ECR) and the
chart (every pod runs the digest) agree for every environment."""

from __future__ import annotations

import json

from tests.crosslayer.deploy_model import IMAGE_DIGEST, IMAGE_TAG, deploy_outputs, load_workflow, run_step, variables
from tests.workflows import registry_stand_in

# What each environment's repository holds when it is qa's or prod's turn: the environment before it
# ran IMAGE_DIGEST and passed it. Every other environment holds a different build under the same commit,
# so a promotion from the wrong one deploys the wrong digest and the test sees it.
DECOY = registry_stand_in.digest("another build of the same commit, never tested")


def promote(env: str, tmp_path) -> tuple[dict[str, str], dict, list[list[str]]]:
    """The build job's steps for `env`, as deploy.yml runs them: tf, the build/promote guard, the
    promotion (where its `if` lets it run) and the digest; returns the step outputs, the registry, the calls."""
    build = load_workflow()["jobs"]["build"]
    outputs = deploy_outputs(env)
    previous = variables(env)["promote_from_environment"]
    own = outputs["ecr_repository_url"]["value"].split("/", 1)[1]
    state = {f"pizza-{e}": {IMAGE_TAG: DECOY, f"passed-{e}-{IMAGE_TAG}": DECOY} for e in ("dev", "qa", "prod")}
    state[own] = {IMAGE_TAG: IMAGE_DIGEST} if env == "dev" else {}  # dev: what its build pushed
    if previous:
        state[f"pizza-{previous}"] = {IMAGE_TAG: IMAGE_DIGEST, f"passed-{previous}-{IMAGE_TAG}": IMAGE_DIGEST}
    registry, log = tmp_path / "registry.json", tmp_path / "calls.log"
    registry_stand_in.write(registry, state)
    (tmp_path / "ssm.json").write_text(json.dumps(outputs))
    model = {"MODEL_SSM_VALUE": str(tmp_path / "ssm.json"), "MODEL_REGISTRY": str(registry), "REGISTRY_LOG": str(log)}
    step_outputs: dict[str, dict[str, str]] = {}
    for step in build["steps"]:
        if "run" not in step or "DEPLOY_ENV == 'dev'" in step.get("if", "") and env != "dev":
            continue
        if "DEPLOY_ENV != 'dev'" in step.get("if", "") and env == "dev":
            continue
        if "Is this commit's image already in ECR" in step.get("name", ""):
            continue  # dev's build-or-skip check (the build itself cannot run here)
        step_outputs[step.get("id", step["name"])] = run_step(step, env, tmp_path, step_outputs, **model)
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return step_outputs, registry_stand_in.read(registry), calls


def test_the_build_job_promotes_from_the_environment_the_tfvars_name(env_name, tmp_path):
    step_outputs, state, calls = promote(env_name, tmp_path)
    previous = variables(env_name)["promote_from_environment"]
    assert step_outputs["tf"]["promote_from"] == previous
    copied = [c for c in calls if c[:4] == ["docker", "buildx", "imagetools", "create"]]
    if env_name == "dev":
        assert copied == [] and step_outputs["tf"]["promote_from_repository"] == ""
    else:
        registry = step_outputs["tf"]["repository"].split("/")[0]
        assert [c[-1] for c in copied] == [f"{registry}/pizza-{previous}@{IMAGE_DIGEST}"]
        assert state[f"pizza-{env_name}"][IMAGE_TAG] == IMAGE_DIGEST
    # What every release of this environment is then deployed with.
    assert step_outputs["digest"] == {"digest": IMAGE_DIGEST}


def pod_spec(obj: dict) -> dict | None:
    """The pod spec of a Deployment, Job, CronJob or Pod; None for other kinds."""
    spec = obj.get("spec", {})
    if obj["kind"] == "Pod":
        return spec
    if obj["kind"] == "CronJob":
        return spec["jobTemplate"]["spec"]["template"]["spec"]
    return spec.get("template", {}).get("spec")


def test_every_release_runs_the_promoted_digest_not_a_tag(deployed, env_name):
    for release in deployed(env_name):
        assert f"image.digest={IMAGE_DIGEST}" in release.helm_args, release.release["name"]
        pods = [spec for obj in release.objects if (spec := pod_spec(obj))]
        images = [c["image"] for pod in pods for c in pod.get("initContainers", []) + pod["containers"]]
        assert images, release.release["name"]
        assert all(image.endswith(f":{IMAGE_TAG}@{IMAGE_DIGEST}") for image in images), images
