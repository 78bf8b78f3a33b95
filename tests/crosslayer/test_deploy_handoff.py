"""What Terraform publishes, what the deploy workflow reads and passes on, and what the chart and
the app accept, agree: no value falls between two layers."""

from __future__ import annotations

import json
import re

import pytest

from tests.crosslayer.deploy_model import CHART_DIR, load_workflow, stack

SCHEMA = json.loads((CHART_DIR / "values.schema.json").read_text())
DOMAIN = {"domain_name": "shop.example.org", "route53_zone_name": "example.org"}


def schema_has(path: list[str]) -> bool:
    node = SCHEMA
    for key in path:
        props = node.get("properties", {})
        if key not in props:
            return False
        node = props[key]
    return True


def set_keys(args: list[str]) -> list[str]:
    keys = []
    for i, arg in enumerate(args):
        if arg in ("--set", "--set-string", "--set-json"):
            keys.append(args[i + 1].split("=", 1)[0])
    return keys


def test_every_value_the_deploy_passes_to_helm_is_in_the_chart_schema(deployed, env_name):
    for release in deployed(env_name):
        keys = set_keys(release.helm_args)
        assert {"networkPolicy.ingressCidrs", "database.cidrs", "allowedHosts", "publicScheme", "database.host"} <= set(keys)
        for key in keys:
            assert schema_has(key.split(".")), f"{release.release['name']}: --set {key} is not in values.schema.json"


def test_every_terraform_output_the_workflow_reads_is_published_and_declared():
    build = load_workflow()["jobs"]["build"]
    script = next(s for s in build["steps"] if s.get("id") == "tf")["run"]
    read = set(re.findall(r"'\.(\w+)\.value'", script)) | set(re.findall(r"\.(\w+),?\s", script.split("jq -e")[1].split("]")[0] + " "))
    parameter = stack().resource("aws_ssm_parameter", "deploy_outputs")["value"]
    published = set(re.findall(r"(\w+) = \{value = ", parameter))
    assert read, "the workflow reads no Terraform output?"
    assert read <= published, f"the deploy reads {sorted(read - published)}, which the SSM parameter does not publish"
    # Each published value is also a declared output with the same value, so `terraform output` agrees with SSM.
    for key in published:
        assert key in stack().outputs, f"{key} is in the SSM parameter but not an output in outputs.tf"
        expression = re.search(rf"{key} = \{{value = (.+?)\}}(?:, \w+ = \{{value|\}}\)\}})", parameter).group(1)
        assert stack().outputs[key]["value"] == f"${{{expression}}}" or stack().outputs[key]["value"] == expression.strip('"'), key


def listener_scheme(tfvars_https: bool) -> str:
    """Which listener carries the weighted split: alb.tf's own conditions, evaluated for `https`."""
    https_listener = stack().resource("aws_lb_listener", "https")
    split = stack().resource("aws_lb_listener_rule", "split")
    assert https_listener["count"] == "${local.https ? 1 : 0}"
    assert split["listener_arn"] == "${local.https ? aws_lb_listener.https[0].arn : aws_lb_listener.http.arn}"
    return "https" if tfvars_https else "http"


@pytest.mark.parametrize("env,tfvars", [("dev", {}), ("qa", {}), ("qa", DOMAIN), ("prod", DOMAIN)])
def test_allowed_hosts_and_csrf_origins_match_the_listener_the_alb_has(deployed, env, tfvars):
    releases = deployed(env, **tfvars)
    scheme = listener_scheme(bool(tfvars))
    host = tfvars.get("domain_name") or releases[0].outputs["alb_dns_name"]["value"]
    for release in releases:
        (config,) = [c for c in release.of_kind("ConfigMap") if not c["metadata"]["name"].endswith("-variants")]
        data = config["data"]
        assert data["ALLOWED_HOSTS"].split(",") == [host], release.release["name"]
        assert data["CSRF_TRUSTED_ORIGINS"].split(",") == [f"{scheme}://{host}"]
        # The app turns its HTTPS redirect and secure-only cookies off exactly when there is no 443 listener
        # (app/ops/tests/test_settings.py drives that setting).
        assert data["PUBLIC_SCHEME"] == scheme
        # The migration hook gets the same settings.
        for job in release.of_kind("Job"):
            env_vars = {e["name"]: e.get("value") for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
            assert env_vars["ALLOWED_HOSTS"] == data["ALLOWED_HOSTS"] and env_vars["PUBLIC_SCHEME"] == scheme
    # The smoke check goes where customers go.
    assert releases[0].outputs["site_url"]["value"] == f"{scheme}://{host}"


def test_the_pods_read_the_deployed_variants_file_the_listener_rule_was_built_from(deployed, env_name, tmp_path):
    """A weights-only change (variants.yaml -> terraform apply -> deploy) reaches the Experiment page."""
    from config.variants import load_variants

    main_tf_variants = stack().locals["variants_file"]
    assert main_tf_variants == '${yamldecode(file("${path.module}/../environments/${var.environment}/variants.yaml"))}'
    repo_file = (CHART_DIR.parent / "environments" / env_name / "variants.yaml").read_text()
    for release in deployed(env_name):
        (config,) = [c for c in release.of_kind("ConfigMap") if c["metadata"]["name"].endswith("-variants")]
        assert config["data"]["variants.yaml"] == repo_file
        pod = release.of_kind("Deployment")[0]["spec"]["template"]
        (web,) = pod["spec"]["containers"]
        root = next(e["value"] for e in web["env"] if e["name"] == "VARIANTS_ROOT")
        (mount,) = [m for m in web["volumeMounts"] if m["name"] == "variants"]
        (volume,) = [v for v in pod["spec"]["volumes"] if v["name"] == "variants"]
        assert volume["configMap"]["name"] == config["metadata"]["name"]
        # Lay the mount out as the kubelet would, and let the app's own loader read it.
        target = tmp_path / mount["mountPath"].lstrip("/")
        target.mkdir(parents=True, exist_ok=True)
        (target / "variants.yaml").write_text(config["data"]["variants.yaml"])
        loaded = load_variants(env_name, root=tmp_path / root.lstrip("/"))
        assert {name: v.weight for name, v in loaded.variants.items()} == {
            name: v.weight for name, v in load_variants(env_name).variants.items()
        }
