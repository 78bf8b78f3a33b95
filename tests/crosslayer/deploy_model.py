"""The first deploy as an operator runs it, modelled offline from the files that drive it.

- Terraform: the subnets the VPC module would create, computed from terraform/network.tf and
  environments/<env>/terraform.tfvars (python-hcl2, `cidrsubnet` done with ipaddress), and the
  deploy-outputs SSM parameter as terraform/deploy-outputs.tf would publish it. Values only AWS can
  assign (ARNs, DNS names) are stand-ins, named as such.
- The deploy workflow: its own `tf` and `digest` step scripts (fed the SSM parameter and the image's
  digest by a stand-in `aws`, tests/workflows/registry_stand_in.py) and .github/scripts/roll-release.sh
  (run against a stand-in `helm` that records its arguments), with the job environment wired exactly
  as deploy.yml wires it.
- The chart: rendered by Helm's own engine (helm-python-sdk) from the arguments the script passed,
  parsed by Helm's own --set parsers, so the schema checks every value the deploy hands over.

A key, expression or reference this model does not know raises, so a change to one layer that
the model cannot follow fails loudly instead of passing by accident.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import helm_python
import yaml

from stack.deploy.releases import deep_merge, releases
from tests.terraform.terraform_support import TERRAFORM_DIR, load_stack, load_tfvars
from tests.workflows import registry_stand_in
from tests.workflows.stand_ins import install

REPO_ROOT = Path(__file__).resolve().parents[2]
CHART_DIR = REPO_ROOT / "chart"
DEPLOY_WORKFLOW = REPO_ROOT / ".github" / "workflows" / "deploy.yml"
ROLL_RELEASE = REPO_ROOT / ".github" / "scripts" / "roll-release.sh"
IMAGE_TAG = "0123456789abcdef0123456789abcdef01234567"
# The digest of IMAGE_TAG's one build (dev pushed it; qa and prod hold a copy with the same digest).
IMAGE_DIGEST = registry_stand_in.digest(f"the one build of {IMAGE_TAG}")
# Stand-ins for what only AWS assigns.
ACCOUNT = "000000000000"


def read_yaml(text: str):
    """yaml.safe_load's result through libyaml (the model parses every render of every release)."""
    return yaml.load(text, Loader=yaml.CSafeLoader)


def alb_dns_name(env: str, region: str) -> str:
    return f"pizza-{env}-1234567890.{region}.elb.amazonaws.com"


def edge_domain_name(env: str) -> str:
    return f"d{env}0123456789.cloudfront.net"


def proxy_host(env: str, region: str) -> str:
    return f"pizza-{env}.proxy-abcdefghijkl.{region}.rds.amazonaws.com"


def replica_host(env: str, region: str) -> str:
    return f"pizza-{env}-replica.abcdefghijkl.{region}.rds.amazonaws.com"


# --- Terraform ------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def stack():
    return load_stack(TERRAFORM_DIR)


def variables(env: str, overrides: dict | None = None) -> dict:
    """Every variable's value for `env`: defaults from variables.tf, then the tfvars, then overrides."""
    values = {name: body.get("default") for name, body in stack().variables.items()}
    values.update(load_tfvars(REPO_ROOT / "environments" / env / "terraform.tfvars"))
    values.update(overrides or {})
    return values


CIDRSUBNET = re.compile(r"^\$\{\[for i, _ in var\.azs : cidrsubnet\(var\.vpc_cidr, (\d+), i(?: \+ (\d+))?\)\]\}$")


def cidrsubnet(prefix: str, newbits: int, netnum: int) -> ipaddress.IPv4Network:
    """Terraform's cidrsubnet(): the netnum-th block of prefix length +newbits inside prefix."""
    base = ipaddress.ip_network(prefix)
    size = 2 ** (base.max_prefixlen - base.prefixlen - newbits)
    return ipaddress.ip_network((int(base.network_address) + netnum * size, base.prefixlen + newbits))


def vpc_layout(tfvars: dict) -> dict[str, list[ipaddress.IPv4Network]]:
    """private/public/database subnets, as module "vpc" in network.tf computes them from the tfvars."""
    vpc = stack().modules["vpc"]
    assert vpc["cidr"] == "${var.vpc_cidr}", f"network.tf: unexpected VPC cidr {vpc['cidr']}"
    layout = {}
    for kind in ("private", "public", "database"):
        match = CIDRSUBNET.match(vpc[f"{kind}_subnets"])
        assert match, f"network.tf: {kind}_subnets is not a cidrsubnet() layout this model knows: {vpc[f'{kind}_subnets']}"
        newbits, offset = int(match.group(1)), int(match.group(2) or 0)
        layout[kind] = [cidrsubnet(tfvars["vpc_cidr"], newbits, i + offset) for i in range(len(tfvars["azs"]))]
    return layout


def terraform_references(env: str, tfvars: dict) -> dict[str, object]:
    """What each Terraform reference used by the deploy outputs evaluates to in `env`."""
    layout = vpc_layout(tfvars)
    https = tfvars["domain_name"] != ""
    region = tfvars["region"]
    variants = read_yaml((REPO_ROOT / "environments" / env / "variants.yaml").read_text())["variants"]
    dns = alb_dns_name(env, region)
    refs = {
        "var.region": region,
        "module.eks.cluster_name": f"pizza-{env}",
        "aws_ecr_repository.app.repository_url": repository_url(env, region),
        "{for name, tg in aws_lb_target_group.variant : name => tg.arn}": {
            v: f"arn:aws:elasticloadbalancing:{region}:{ACCOUNT}:targetgroup/pizza-{env}-{v}/0123456789abcdef" for v in variants
        },
        "aws_db_instance.orders.address": f"pizza-{env}.abcdefghijkl.{region}.rds.amazonaws.com",
        "aws_lb.web.dns_name": dns,
        "aws_security_group.alb.id": "sg-0123456789abcdef0",
        "module.vpc.public_subnets_cidr_blocks": [str(n) for n in layout["public"]],
        "module.vpc.database_subnets_cidr_blocks": [str(n) for n in layout["database"]],
        "module.vpc.private_subnets_cidr_blocks": [str(n) for n in layout["private"]],
        "aws_db_proxy.web.endpoint": proxy_host(env, region),
        'var.db_replica_enabled ? aws_db_instance.replica[0].address : ""': replica_host(env, region)
        if tfvars["db_replica_enabled"]
        else "",
    }
    # The locals are modelled; where one is used, main.tf must still say what the model assumes.
    locals_ = stack().locals
    if "public_host" in locals_:
        assert locals_["https"] == '${var.domain_name != ""}'
        assert locals_["public_host"] == "${local.https ? var.domain_name : aws_cloudfront_distribution.web.domain_name}"
        assert locals_["public_scheme"] == '${local.https ? "https" : "http"}'
        refs["local.public_host"] = tfvars["domain_name"] if https else edge_domain_name(env)
        refs["local.public_scheme"] = "https" if https else "http"
    if "promote_from_repository_url" in locals_:
        refs["var.promote_from_environment"] = tfvars["promote_from_environment"]
        refs["local.promote_from_repository_url"] = promote_from_repository_url(tfvars)
    return refs


def repository_url(env: str, region: str) -> str:
    """aws_ecr_repository.app's URL: <account>.dkr.ecr.<region>.amazonaws.com/<local.name> (pizza-<env>)."""
    assert stack().resource("aws_ecr_repository", "app")["name"] == "${local.name}"
    return f"{ACCOUNT}.dkr.ecr.{region}.amazonaws.com/pizza-{env}"


def promote_from_repository_url(tfvars: dict) -> str:
    """ecr.tf's local.promote_from_repository_url, for these tfvars (the locals it uses must read as modelled)."""
    locals_ = stack().locals
    assert locals_["promotes"] == '${var.promote_from_environment != "" && var.region_role == "primary"}'
    assert locals_["promote_from_repository"] == "pizza-${var.promote_from_environment}"
    assert locals_["promote_from_repository_url"] == (
        '${local.promotes ? "${split("/", aws_ecr_repository.app.repository_url)[0]}/${local.promote_from_repository}" : ""}'
    )
    if not (tfvars["promote_from_environment"] and tfvars.get("region_role", "primary") == "primary"):
        return ""
    registry = repository_url(tfvars["environment"], tfvars["region"]).split("/")[0]
    return f"{registry}/pizza-{tfvars['promote_from_environment']}"


def split_top_level(text: str) -> list[str]:
    """Split `a = {..}, b = {..}` at the commas outside braces, brackets and parentheses."""
    parts, depth, current = [], 0, ""
    for char in text:
        if char in "{[(":
            depth += 1
        elif char in "}])":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    if current.strip():
        parts.append(current.strip())
    return parts


def evaluate(expression: str, refs: dict) -> object:
    expression = expression.strip()
    if expression in refs:
        return refs[expression]
    if expression.startswith('"') and expression.endswith('"'):  # "${a}://${b}"

        def sub(match):
            assert match.group(1) in refs, f"the model does not know {match.group(1)}"
            return str(refs[match.group(1)])

        return re.sub(r"\$\{([^}]+)\}", sub, expression[1:-1])
    raise AssertionError(f"deploy-outputs.tf: the model does not know the expression {expression!r}")


def deploy_outputs(env: str, tfvars_overrides: dict | None = None) -> dict:
    """The SSM parameter /pizza/<env>/deploy-outputs as Terraform would write it for `env`."""
    tfvars = variables(env, tfvars_overrides)
    parameter = stack().resource("aws_ssm_parameter", "deploy_outputs")
    match = re.fullmatch(r"\$\{jsonencode\(\{(.*)\}\)\}", parameter["value"], re.S)
    assert match, "deploy-outputs.tf: value is not jsonencode({...})"
    refs = terraform_references(env, tfvars)
    published = {}
    for item in split_top_level(match.group(1)):
        key, _, rest = item.partition("=")
        inner = re.fullmatch(r"\{value = (.*)\}", rest.strip(), re.S)
        assert inner, f"deploy-outputs.tf: {key.strip()} is not {{value = ...}}"
        published[key.strip()] = {"value": evaluate(inner.group(1), refs)}
    return published


# --- The deploy workflow ----------------------------------------------------------------------------

STAND_IN_HELM = r"""#!/usr/bin/env python3
# Stand-in for the helm CLI (no cluster here): records its arguments; the model renders with helm-python-sdk.
import json, os, sys
with open(os.environ["MODEL_HELM_LOG"], "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\n")
if sys.argv[1] == "history":
    print(json.dumps([{"revision": 1, "chart": "pizza"}]))
"""


@lru_cache(maxsize=1)
def _parsed_workflow() -> dict:
    data = read_yaml(DEPLOY_WORKFLOW.read_text())
    if True in data:
        data["on"] = data.pop(True)
    return data


def load_workflow() -> dict:
    """deploy.yml, parsed once per session; each caller gets its own copy."""
    return copy.deepcopy(_parsed_workflow())


def stand_ins(tmp: Path) -> Path:
    bin_dir = install(tmp / "bin", {"helm": STAND_IN_HELM, "kubectl": "#!/bin/sh\nexit 0\n"})
    return registry_stand_in.install(bin_dir)  # aws (ssm, ecr) and docker (imagetools)


def step_environment(step: dict, step_outputs: dict[str, dict[str, str]]) -> dict[str, str]:
    """A step's env: block with its ${{ steps.<id>.outputs.<name> }} resolved."""
    resolved = {}
    for name, expression in (step.get("env") or {}).items():
        match = re.fullmatch(r"\$\{\{ steps\.(\w+)\.outputs\.(\w+) \}\}", expression)
        assert match, f"the model does not know the step env {name}: {expression}"
        resolved[name] = step_outputs.get(match.group(1), {}).get(match.group(2), "")
    return resolved


def run_step(step: dict, env: str, tmp: Path, step_outputs: dict[str, dict[str, str]], **extra: str) -> dict[str, str]:
    """One `run:` step of deploy.yml as the runner runs it (bash -e -o pipefail); returns its outputs."""
    github_output = tmp / f"output-{step.get('id', 'step')}"
    github_output.write_text("")
    env_vars = {
        **os.environ,
        "PATH": f"{stand_ins(tmp)}:{os.environ['PATH']}",
        "DEPLOY_ENV": env,
        "IMAGE_TAG": IMAGE_TAG,
        "GITHUB_OUTPUT": str(github_output),
        "GITHUB_STEP_SUMMARY": str(tmp / "summary.md"),
        **step_environment(step, step_outputs),
        **extra,
    }
    done = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", step["run"]],
        cwd=REPO_ROOT if ".github/scripts" in step["run"] else tmp,
        env=env_vars,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, f"deploy.yml build step {step.get('name') or step.get('id')} failed: {done.stdout}{done.stderr}"
    return dict(line.split("=", 1) for line in github_output.read_text().splitlines() if "=" in line)


def run_build_tf_step(env: str, outputs: dict, tmp: Path) -> dict[str, str]:
    """The build job's `tf` step (Terraform's outputs from SSM) and `digest` step (the digest the releases
    run), run as written in deploy.yml against a registry holding this commit's image; the job's outputs."""
    build = load_workflow()["jobs"]["build"]
    (tmp / "ssm.json").write_text(json.dumps(outputs))
    registry = tmp / "registry.json"
    own = outputs["ecr_repository_url"]["value"].split("/", 1)[1]
    registry_stand_in.write(registry, {own: {IMAGE_TAG: IMAGE_DIGEST}})
    model = {"MODEL_SSM_VALUE": str(tmp / "ssm.json"), "MODEL_REGISTRY": str(registry)}
    step_outputs: dict[str, dict[str, str]] = {}
    for step_id in ("tf", "digest"):
        step = next(s for s in build["steps"] if s.get("id") == step_id)
        step_outputs[step_id] = run_step(step, env, tmp, step_outputs, **model)
    job_outputs = {}
    for name, expression in build["outputs"].items():
        match = re.fullmatch(r"\$\{\{ steps\.(\w+)\.outputs\.(\w+) \}\}", expression)
        if match:
            job_outputs[name] = step_outputs.get(match.group(1), {}).get(match.group(2), "")
    return job_outputs


def job_environment(job: str, build_outputs: dict[str, str], release: dict, all_releases: list[dict]) -> dict[str, str]:
    """The env: block of a deploy job, with its ${{ needs.* }} and ${{ matrix.* }} resolved."""
    workflow = load_workflow()
    resolved = {"IMAGE_TAG": IMAGE_TAG}
    for name, expression in workflow["jobs"][job]["env"].items():
        if m := re.fullmatch(r"\$\{\{ needs\.build\.outputs\.(\w+) \}\}", expression):
            assert m.group(1) in build_outputs, f"{job}: needs.build.outputs.{m.group(1)} is not a build output"
            resolved[name] = build_outputs[m.group(1)]
        elif expression in ("${{ needs.releases.outputs.owner }}", "${{ toJSON(matrix.release) }}"):
            resolved[name] = json.dumps(release)
        elif expression == "${{ needs.releases.outputs.all }}":
            resolved[name] = json.dumps(all_releases)
        else:
            raise AssertionError(f"{job}: the model does not know env {name}: {expression}")
    return resolved


def run_roll_release(env: str, job_env: dict[str, str], tmp: Path) -> list[str]:
    """roll-release.sh against the stand-in helm: the `helm upgrade` arguments it passed."""
    log = tmp / "helm.log"
    log.write_text("")
    assert load_workflow()["env"]["DEPLOY_ENV"] == "${{ inputs.environment || 'dev' }}", "the model sets DEPLOY_ENV to env"
    env_vars = {
        **{k: v for k, v in os.environ.items() if k != "CONTRACT_CHECKED"},
        **job_env,
        "DEPLOY_ENV": env,
        # The job's `python` (setup-python and the runtime lock) runs stack.deploy.releases.
        "PATH": f"{stand_ins(tmp)}:{Path(sys.executable).parent}:{os.environ['PATH']}",
        "MODEL_HELM_LOG": str(log),
        "GITHUB_STEP_SUMMARY": str(tmp / "summary.md"),
    }
    done = subprocess.run(["bash", str(ROLL_RELEASE)], cwd=REPO_ROOT, env=env_vars, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"roll-release.sh failed: {done.stdout}{done.stderr}"
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    return next(call for call in calls if call[0] == "upgrade")


def values_from_helm_args(args: list[str]) -> dict:
    """The values `helm upgrade` builds from -f and --set*, parsed by Helm's own parsers, in order."""
    values: dict = {}
    parsers = {
        "--set": helm_python.parse_set_string,
        "--set-string": helm_python.parse_set_string_values,
        "--set-json": helm_python.parse_set_json,
    }
    for i, arg in enumerate(args):
        if arg in ("-f", "--values"):
            values = deep_merge(values, read_yaml((REPO_ROOT / args[i + 1]).read_text()) or {})
        elif arg in parsers:
            values = deep_merge(values, parsers[arg](args[i + 1]))
        elif arg == "--set-file":
            key, _, path = args[i + 1].partition("=")
            values = deep_merge(values, helm_python.parse_set_string_values(f"{key}=x"))
            node = values
            *parents, leaf = key.split(".")
            for part in parents:
                node = node[part]
            node[leaf] = (REPO_ROOT / path).read_text()
    return values


@dataclass
class Deployed:
    """One release as the first deploy would install it."""

    env: str
    release: dict
    helm_args: list[str]
    values: dict
    objects: list[dict]
    outputs: dict

    def of_kind(self, kind: str) -> list[dict]:
        return [o for o in self.objects if o["kind"] == kind]


def deploy_environment(chart: helm_python.Chart, env: str, tmp: Path, tfvars_overrides: dict | None = None) -> list[Deployed]:
    """Every release of `env`, through Terraform's outputs, the workflow's scripts and the chart."""
    tmp.mkdir(parents=True, exist_ok=True)
    outputs = deploy_outputs(env, tfvars_overrides)
    build_outputs = run_build_tf_step(env, outputs, tmp)
    specs = [{k: v for k, v in spec.items() if k != "values"} for spec in releases(env)]

    def roll(spec: dict) -> list[str]:
        job = "deploy-owner" if spec["schemaOwner"] else "deploy-others"
        work = tmp / spec["name"]
        work.mkdir(exist_ok=True)
        return run_roll_release(env, job_environment(job, build_outputs, spec, specs), work)

    # Each release's script in a directory of its own, side by side: they only record what they would
    # pass to helm, and the model spends its time waiting on their jq and python processes.
    with ThreadPoolExecutor(max_workers=len(specs)) as pool:
        rolled = list(pool.map(roll, specs))
    deployed = []
    for spec, args in zip(specs, rolled, strict=True):
        assert args[:4] == ["upgrade", "--install", spec["name"], "./chart"], args
        namespace = args[args.index("--namespace") + 1]
        values = values_from_helm_args(args)
        files = chart.render(values, name=spec["name"], namespace=namespace, is_install=True)
        objects = [
            doc
            for path, text in sorted(files.items())
            if path.endswith(".yaml")
            for doc in yaml.load_all(text, Loader=yaml.CSafeLoader)
            if doc
        ]
        deployed.append(Deployed(env, spec, args, deep_merge(read_yaml((CHART_DIR / "values.yaml").read_text()), values), objects, outputs))
    return deployed


if __name__ == "__main__":  # a quick look: python tests/crosslayer/deploy_model.py dev
    print(json.dumps(deploy_outputs(sys.argv[1] if len(sys.argv) > 1 else "dev"), indent=2))
