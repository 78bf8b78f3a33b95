"""What Terraform publishes, what the deploy workflow reads and passes on, and what the chart and
the app accept, agree: no value falls between two layers."""

from __future__ import annotations

import json
import re

import pytest

from tests.crosslayer.deploy_model import CHART_DIR, edge_domain_name, load_workflow, proxy_host, replica_host, stack, variables

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
        assert {
            "networkPolicy.ingressCidrs",
            "database.cidrs",
            "allowedHosts",
            "publicScheme",
            "database.host",
            "database.pooled",
            "database.directHost",
            "database.replicaHost",
            "cache.cidrs",
            "csrfTrustedOrigins",
        } <= set(keys)
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


def edge_forwards_the_viewer_host() -> bool:
    """Does CloudFront pass the visitor's Host header to the ALB for pages and the API (edge.tf)?"""
    distribution = stack().resource("aws_cloudfront_distribution", "web")
    policy = stack().resource("aws_cloudfront_origin_request_policy", "app")
    blocks = lambda v: v if isinstance(v, list) else [v]  # noqa: E731 - python-hcl2 gives blocks as lists
    behaviours = [
        *blocks(distribution["default_cache_behavior"]),
        *[b for b in blocks(distribution["ordered_cache_behavior"]) if b["path_pattern"] != "/static/*"],
    ]
    headers = blocks(policy["headers_config"])[0]
    uses_policy = all(b.get("origin_request_policy_id") == "${aws_cloudfront_origin_request_policy.app.id}" for b in behaviours)
    assert uses_policy, "edge.tf: a dynamic behaviour without the app's origin request policy"
    return headers["header_behavior"] in ("allViewer", "allViewerAndWhitelistCloudFront")


# qa with a domain is a whole deploy of its own (~3 s): make test runs it, make check has prod's.
@pytest.mark.parametrize("env,tfvars", [("dev", {}), ("qa", {}), pytest.param("qa", DOMAIN, marks=pytest.mark.slow), ("prod", DOMAIN)])
def test_allowed_hosts_and_csrf_origins_match_the_name_visitors_use(deployed, env, tfvars):
    """With a domain, visitors use it (Route 53 -> the ALB's 443 listener); without one, the edge's
    cloudfront.net name over HTTPS, which CloudFront forwards as the Host header to the ALB's port 80."""
    from django.http.request import validate_host

    releases = deployed(env, **tfvars)
    scheme = listener_scheme(bool(tfvars))
    assert edge_forwards_the_viewer_host(), "edge.tf no longer forwards Host: ALLOWED_HOSTS must then be the ALB's name"
    viewer_host = tfvars.get("domain_name") or edge_domain_name(env)
    for release in releases:
        (config,) = [c for c in release.of_kind("ConfigMap") if not c["metadata"]["name"].endswith("-variants")]
        data = config["data"]
        # Django's own host check, as it runs on the request the edge (or Route 53) delivers.
        assert validate_host(viewer_host, data["ALLOWED_HOSTS"].split(",")), release.release["name"]
        assert data["ALLOWED_HOSTS"].split(",") == [viewer_host], release.release["name"]
        # The browser's Origin is https:// either way (the edge redirects to HTTPS), even where the app is told http.
        assert data["CSRF_TRUSTED_ORIGINS"].split(",") == [f"https://{viewer_host}"]
        # The app turns its HTTPS redirect and secure-only cookies off exactly when there is no 443 listener
        # (app/ops/tests/test_settings.py drives that setting).
        assert data["PUBLIC_SCHEME"] == scheme
        # The migration hook gets the same settings.
        for job in release.of_kind("Job"):
            env_vars = {e["name"]: e.get("value") for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
            assert env_vars["ALLOWED_HOSTS"] == data["ALLOWED_HOSTS"] and env_vars["PUBLIC_SCHEME"] == scheme
    # The smoke check goes where customers go.
    assert releases[0].outputs["site_url"]["value"] == f"https://{viewer_host}"


@pytest.mark.parametrize("env", ["dev", "qa", "prod"])
def test_the_pods_use_the_proxy_the_migration_hook_the_instance_and_reads_the_replica(deployed, env):
    """database_proxy_host, database_host and database_replica_host land where the app reads them."""
    releases = deployed(env)
    outputs = releases[0].outputs
    tfvars = variables(env)
    region = tfvars["region"]
    assert outputs["database_proxy_host"]["value"] == proxy_host(env, region)
    replica = replica_host(env, region) if tfvars["db_replica_enabled"] else ""
    assert outputs["database_replica_host"]["value"] == replica
    for release in releases:
        (config,) = [c for c in release.of_kind("ConfigMap") if not c["metadata"]["name"].endswith("-variants")]
        data = config["data"]
        assert (data["DATABASE_HOST"], data["DATABASE_POOLED"]) == (proxy_host(env, region), "true")
        assert data.get("DATABASE_REPLICA_HOST", "") == replica
        for job in release.of_kind("Job"):
            for container in [*job["spec"]["template"]["spec"].get("initContainers", []), *job["spec"]["template"]["spec"]["containers"]]:
                env_vars = {e["name"]: e.get("value") for e in container.get("env", [])}
                if "DATABASE_HOST" in env_vars:  # the owner: straight to the instance, never pooled
                    assert env_vars["DATABASE_HOST"] == outputs["database_host"]["value"], container["name"]
                    assert env_vars["DATABASE_POOLED"] == "false", container["name"]


def test_rds_proxy_admits_the_pods_and_the_web_role_only():
    """The pods reach RDS Proxy with the EKS node security group (VPC CNI, no security groups per
    pod); the proxy logs in the web role, never the owner (which the migration hook uses directly)."""
    eks = stack().modules["eks"]
    assert not eks.get("enable_security_groups_for_pods"), "pods would carry their own security group"
    ingress = stack().resource("aws_vpc_security_group_ingress_rule", "rds_proxy_from_cluster")
    assert ingress["security_group_id"] == "${aws_security_group.rds_proxy.id}"
    assert (ingress["from_port"], ingress["to_port"], ingress["ip_protocol"]) == (5432, 5432, "tcp")
    assert ingress["referenced_security_group_id"] == "${module.eks.node_security_group_id}"
    proxy = stack().resource("aws_db_proxy", "web")
    assert proxy["vpc_security_group_ids"] == ["${aws_security_group.rds_proxy.id}"]
    assert stack().locals["db_proxy_secret_arns"] == ["${aws_secretsmanager_secret.database.arn}"]
    web_secret = stack().resource("aws_secretsmanager_secret_version", "database")["secret_string"]
    assert "random_password.database_web" in web_secret and "database_owner" not in web_secret


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
