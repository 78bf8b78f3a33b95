"""What must hold for every release of every environment, asserted on the rendered objects.
The migration hook and the database connection: test_chart_database.py."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from chart_support import CHART_DIR, pod_specs, release_values, render_release, web_container

SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|CREDENTIAL|DATABASE_URL", re.I)
APP_PORT = 8000


def test_deployment_probes_hit_the_health_endpoints(all_releases):
    for release in all_releases:
        web = web_container(release)
        assert web["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert web["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert web["startupProbe"]["httpGet"]["path"] == "/healthz"
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            assert web[probe]["httpGet"]["port"] == "http"
        assert {"name": "http", "containerPort": APP_PORT, "protocol": "TCP"} in web["ports"]


def test_rollout_never_drops_below_the_desired_count(all_releases):
    for release in all_releases:
        strategy = release.one("Deployment")["spec"]["strategy"]
        assert strategy["type"] == "RollingUpdate"
        assert strategy["rollingUpdate"]["maxUnavailable"] == 0


def test_shutdown_outlasts_the_prestop_sleep_and_gunicorns_graceful_timeout(all_releases):
    for release in all_releases:
        pod = release.one("Deployment")["spec"]["template"]["spec"]
        web = pod["containers"][0]
        command = web["lifecycle"]["preStop"]["exec"]["command"]
        assert command[0] == "sleep"
        graceful = int(release.settings()["data"]["GUNICORN_GRACEFUL_TIMEOUT"])
        assert pod["terminationGracePeriodSeconds"] > int(command[1]) + graceful


def test_every_pod_runs_restricted(all_releases):
    for release in all_releases:
        for where, spec in pod_specs(release).items():
            context = spec["securityContext"]
            assert context["runAsNonRoot"] is True, where
            assert context["seccompProfile"]["type"] == "RuntimeDefault", where
            assert spec["automountServiceAccountToken"] is False, where
            assert not spec.get("hostNetwork") and not spec.get("hostPID") and not spec.get("hostIPC"), where
            volumes = {v["name"]: v for v in spec.get("volumes", [])}
            for container in spec["containers"]:
                sc = container["securityContext"]
                assert sc["allowPrivilegeEscalation"] is False, where
                assert sc["readOnlyRootFilesystem"] is True, where
                assert sc["capabilities"]["drop"] == ["ALL"] and "add" not in sc["capabilities"], where
                assert sc["runAsUser"] == 10001, where
                mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
                assert "emptyDir" in volumes[mounts["/tmp"]], f"{where}: /tmp must be an emptyDir"
                assert {"cpu", "memory"} <= set(container["resources"]["requests"]), where
                assert {"cpu", "memory"} <= set(container["resources"]["limits"]), where


def test_pods_spread_over_zones_and_nodes(all_releases):
    for release in all_releases:
        spec = release.one("Deployment")["spec"]
        keys = {c["topologyKey"] for c in spec["template"]["spec"]["topologySpreadConstraints"]}
        assert keys == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}
        for constraint in spec["template"]["spec"]["topologySpreadConstraints"]:
            assert constraint["labelSelector"]["matchLabels"] == spec["selector"]["matchLabels"]


def test_a_settings_change_rolls_the_pods(chart, all_releases):
    release = all_releases[0]
    before = release.one("Deployment")["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
    changed = render_release(chart, release.env, release.spec, {"logLevel": "WARNING"})
    after = changed.one("Deployment")["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
    assert before != after


def test_replicas_come_from_the_autoscaler_within_values(all_releases):
    for release in all_releases:
        hpa = release.one("HorizontalPodAutoscaler")
        scaling = release.values["autoscaling"]
        assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (scaling["minReplicas"], scaling["maxReplicas"])
        assert hpa["spec"]["scaleTargetRef"]["name"] == release.one("Deployment")["metadata"]["name"]
        assert "replicas" not in release.one("Deployment")["spec"]


def test_disruption_budget_never_blocks_a_drain(all_releases):
    for release in all_releases:
        pdb = release.one("PodDisruptionBudget")["spec"]
        assert pdb == {"maxUnavailable": 1, "selector": release.one("Deployment")["spec"]["selector"]}


def test_network_policy_lets_in_the_app_port_and_out_only_dns_and_the_database(all_releases):
    for release in all_releases:
        policies = [p for p in release.installed() if p["kind"] == "NetworkPolicy"]
        assert len(policies) == 1
        spec = policies[0]["spec"]
        assert spec["policyTypes"] == ["Ingress", "Egress"]
        assert spec["podSelector"]["matchLabels"] == {
            "app.kubernetes.io/name": "pizza",
            "app.kubernetes.io/instance": release.name,
        }
        # From the ALB's subnets (the app port), the scraper's namespace (the metrics port:
        # tests/chart/test_chart_observability.py) and the release's own helm test pod (the app port).
        assert [rule["ports"] for rule in spec["ingress"]] == [
            [{"port": APP_PORT, "protocol": "TCP"}],
            [{"port": 9100, "protocol": "TCP"}],
            [{"port": APP_PORT, "protocol": "TCP"}],
        ]
        assert [peer["ipBlock"]["cidr"] for peer in spec["ingress"][0]["from"]] == release.values["networkPolicy"]["ingressCidrs"]
        egress_ports = sorted((p["port"], p["protocol"]) for rule in spec["egress"] for p in rule["ports"])
        cache = [(6379, "TCP")] if release.values["cache"]["enabled"] else []  # ElastiCache
        assert egress_ports == sorted([(53, "TCP"), (53, "UDP"), (release.values["database"]["port"], "TCP"), *cache])
        db_rule = spec["egress"][1]
        assert [peer["ipBlock"]["cidr"] for peer in db_rule["to"]] == release.values["database"]["cidrs"]
        assert db_rule["ports"] == [{"port": release.values["database"]["port"], "protocol": "TCP"}]
        if cache:  # 6379 only to the cache's subnets, its own rule
            cache_rule = spec["egress"][2]
            assert cache_rule["ports"] == [{"port": 6379, "protocol": "TCP"}]
            assert [peer["ipBlock"]["cidr"] for peer in cache_rule["to"]] == release.values["cache"]["cidrs"]


def test_cache_enabled_without_its_subnets_refuses_to_render(chart):
    spec, values = release_values("dev")
    values["cache"] = {"enabled": True, "cidrs": []}
    with pytest.raises(Exception, match="cache.cidrs"):
        chart.render(values, name=spec["name"], namespace=spec["namespace"], is_install=True)


def test_each_release_serves_its_own_variant_and_theme(rendered, variant_sets):
    for env, env_releases in rendered.items():
        served = {r.settings()["data"]["VARIANT"]: r.settings()["data"]["THEME"] for r in env_releases}
        assert served == {name: v.theme for name, v in variant_sets[env].variants.items()}
        assert len(set(served.values())) == len(served), f"{env}: themes must differ"
        for release in env_releases:
            data = release.settings()["data"]
            assert data["DEPLOY_ENV"] == env
            assert data["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
            assert data["APP_VERSION"] == release.values["image"]["tag"]
            assert release.name == release.namespace == f"pizza-{data['VARIANT']}"


SHOW_ZONE = "import django, json; django.setup(); from django.conf import settings as s; print(json.dumps([s.SHOP_TIME_ZONE, s.TIME_ZONE]))"


def app_zone(**env: str) -> list[str]:
    """[SHOP_TIME_ZONE, TIME_ZONE] as the app's production settings read them from `env`."""
    from ops.tests.test_settings import PRODUCTION, run

    base = {k: v for k, v in PRODUCTION.items() if k != "DATABASE_URL"}
    result = run(["-c", SHOW_ZONE], **{**base, "DATABASE_USER": "pizza", "DATABASE_PASSWORD": "", **env})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_shop_time_zone_goes_from_the_chart_to_the_apps_setting(chart, all_releases, monkeypatch):
    """shopTimeZone -> SHOP_TIME_ZONE in the pods' ConfigMap and the migration Job -> the zone the app
    runs in; the chart's default is the app's own, so a release that leaves it alone agrees with `make up`."""
    monkeypatch.delenv("SHOP_TIME_ZONE", raising=False)
    chart_default = yaml.safe_load((CHART_DIR / "values.yaml").read_text())["shopTimeZone"]
    for release in all_releases:
        zone = release.values.get("shopTimeZone", chart_default)
        assert release.settings()["data"]["SHOP_TIME_ZONE"] == zone, release.name
        for job in release.of_kind("Job"):
            env_vars = {e["name"]: e.get("value") for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
            assert env_vars["SHOP_TIME_ZONE"] == zone, release.name
    # The app's default (no SHOP_TIME_ZONE at all) is the chart's.
    assert app_zone() == [chart_default, chart_default]
    # A zone set on the chart is the one the app runs in, through the rendered ConfigMap's variable name.
    spec, _ = release_values("prod")
    settings = render_release(chart, "prod", spec, {"shopTimeZone": "America/New_York"}).settings()["data"]
    assert app_zone(**settings) == ["America/New_York", "America/New_York"]


def test_names_and_selectors_never_collide_across_releases(rendered):
    for env, env_releases in rendered.items():
        seen: dict[tuple, str] = {}
        for release in env_releases:
            for obj in release.objects:
                assert obj["metadata"]["namespace"] == release.namespace
                key = (obj["kind"], obj["metadata"]["name"])
                assert key not in seen, f"{env}: {key} in both {seen[key]} and {release.name}"
                seen[key] = release.name
        for release in env_releases:
            selector = release.one("Deployment")["spec"]["selector"]["matchLabels"]
            assert release.one("Service")["spec"]["selector"] == selector
            for other in env_releases:
                if other is release:
                    continue
                for spec_obj in other.objects:
                    if spec_obj["kind"] in ("Deployment", "Job"):
                        labels = spec_obj["spec"]["template"]["metadata"]["labels"]
                    elif spec_obj["kind"] == "Pod":
                        labels = spec_obj["metadata"]["labels"]
                    else:
                        continue
                    assert not selector.items() <= labels.items(), f"{release.name} selects {other.name}'s pods"


def test_no_plain_text_secret_anywhere(all_releases):
    for release in all_releases:
        assert not release.of_kind("Secret"), "credentials come from an existing Secret or an ExternalSecret"
        for data in (cm["data"] for cm in release.of_kind("ConfigMap")):
            assert not [k for k in data if SECRET_NAME.search(k)], data
        for where, spec in pod_specs(release).items():
            for container in spec["containers"]:
                for var in container.get("env", []):
                    if SECRET_NAME.search(var["name"]) or var["name"] == "DATABASE_USER":
                        assert "value" not in var and "secretKeyRef" in var["valueFrom"], f"{where}: {var['name']}"
        web = web_container(release)
        refs = {e["name"]: e["valueFrom"]["secretKeyRef"]["key"] for e in web["env"] if "valueFrom" in e}
        assert refs == {"DATABASE_USER": "username", "DATABASE_PASSWORD": "password", "SECRET_KEY": "SECRET_KEY", "REDIS_URL": "REDIS_URL"}


def test_each_release_binds_its_own_target_group(rendered):
    for env, env_releases in rendered.items():
        for release in env_releases:
            spec = release.one("TargetGroupBinding")["spec"]
            assert spec["serviceRef"] == {
                "name": release.one("Service")["metadata"]["name"],
                "port": release.one("Service")["spec"]["ports"][0]["port"],
            }
            assert spec["targetType"] == "ip"
            assert spec["targetGroupName"] == f"pizza-{env}-{release.spec['variant']}"
            assert spec["targetGroupName"] in release.notes


def test_a_target_group_arn_wins_over_the_name(optional_release):
    spec = optional_release.one("TargetGroupBinding")["spec"]
    assert spec["targetGroupARN"].startswith("arn:aws:elasticloadbalancing:")
    assert "targetGroupName" not in spec
    assert spec["networking"]["ingress"][0]["from"] == [{"securityGroup": {"groupID": "sg-0123456789abcdef0"}}]


def test_service_account_carries_the_iam_role_annotation(optional_release):
    account = optional_release.one("ServiceAccount")
    assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].startswith("arn:aws:iam::")
    assert account["automountServiceAccountToken"] is False


def test_helm_test_checks_readiness_and_the_theme_marker(all_releases):
    for release in all_releases:
        # A Pod named like the hook: `helm test --logs` reads the logs of the pod of that name.
        (pod,) = [hook for hook in release.hooks("test") if hook["kind"] == "Pod"]
        assert pod["spec"]["restartPolicy"] == "Never" and pod["spec"]["activeDeadlineSeconds"] > 0
        container = pod["spec"]["containers"][0]
        env = {e["name"]: e["value"] for e in container["env"]}
        assert env["PIZZA_THEME"] == release.values["theme"] and env["PIZZA_VARIANT"] == release.values["variant"]
        assert env["PIZZA_URL"].startswith(f"http://{release.one('Service')['metadata']['name']}.{release.namespace}.svc:")
        script = container["args"][0]
        assert "/readyz" in script and 'data-theme="{theme}"' in script and "X-Forwarded-Proto" in script
        assert container["image"] == web_container(release)["image"]
        compile(script, "helm-test", "exec")


def test_notes_tell_the_operator_what_was_installed(all_releases):
    for release in all_releases:
        notes = release.notes
        assert f"variant      {release.values['variant']}" in notes
        assert f"theme        {release.values['theme']}" in notes
        assert "target group" in notes and f"helm test {release.name}" in notes


def test_optional_objects_are_off_by_default_and_render_when_asked(all_releases, optional_release):
    for release in all_releases:
        assert not release.of_kind("Ingress") and not release.of_kind("ServiceMonitor")
    ingress = optional_release.one("Ingress")
    assert ingress["spec"]["rules"][0]["host"] == "a.dev.pizza.example.com"
    monitor = optional_release.one("ServiceMonitor")
    assert monitor["spec"]["selector"]["matchLabels"] == optional_release.one("Service")["spec"]["selector"]


def test_every_values_comment_starts_with_the_key_it_documents(repo_root):
    files = [CHART_DIR / "values.yaml", CHART_DIR / "ci" / "kind-values.yaml", *sorted(repo_root.glob("environments/*/values.yaml"))]
    for path in files:
        assert_documented(path)


def assert_documented(path):
    lines = path.read_text().splitlines()
    for number, line in enumerate(lines):
        match = re.match(r"^(\s*)([A-Za-z][\w-]*):", line)
        if not match:
            continue
        above = lines[number - 1].strip() if number else ""
        assert above.startswith(f"# {match.group(2)} "), (
            f"{path.relative_to(CHART_DIR.parent)} line {number + 1}: {line.strip()!r} needs '# {match.group(2)} ...' above it"
        )


def test_liveness_outlasts_the_slowest_database_call_so_a_slow_database_restarts_nothing(all_releases, monkeypatch):
    """/healthz shares gunicorn's threads with requests that may wait on the database up to its
    connect and statement timeouts (the app's own settings); liveness must not fire before those end."""
    import re

    from config.settings.base import database_from_env

    monkeypatch.setenv("DATABASE_HOST", "db.invalid")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    options = database_from_env()["OPTIONS"]
    statement_ms = int(re.search(r"statement_timeout=(\d+)", options["options"]).group(1))
    slowest = options["connect_timeout"] + statement_ms / 1000
    for release in all_releases:
        (web,) = release.one("Deployment")["spec"]["template"]["spec"]["containers"]
        live = web["livenessProbe"]
        assert live["periodSeconds"] * live["failureThreshold"] >= 2 * slowest, release.name
        assert live["timeoutSeconds"] >= 10, release.name


def test_every_release_with_a_disruption_budget_keeps_two_pods(all_releases):
    for release in all_releases:
        if release.of_kind("PodDisruptionBudget"):
            hpa = release.of_kind("HorizontalPodAutoscaler")
            floor = hpa[0]["spec"]["minReplicas"] if hpa else release.one("Deployment")["spec"]["replicas"]
            assert floor >= 2, f"{release.env}/{release.name}: a drain would take the only pod"
