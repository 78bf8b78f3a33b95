"""The canary objects (templates/canary.yaml): valid, inside the variant's own target group, and never
confused with the stable pods by a selector; their Prometheus labels are what the analysis queries."""

from __future__ import annotations

import pytest
from test_chart_render import validate_objects

from chart_support import MONITORING_API_VERSIONS, render_release
from stack.deploy.analysis import selectors
from stack.deploy.releases import releases

NEW_TAG = "0123456789abcdef0123456789abcdef01234567"
CANARY = {"canary": {"enabled": True, "image": {"tag": NEW_TAG}, "replicas": 2}}


@pytest.fixture(scope="module")
def with_canary(chart):
    return [render_release(chart, "prod", spec, CANARY, api_versions=MONITORING_API_VERSIONS) for spec in releases("prod")]


def named(release, kind: str, name: str) -> dict:
    found = [o for o in release.of_kind(kind) if o["metadata"]["name"] == name]
    assert len(found) == 1, f"{release.name}: expected one {kind} {name}, found {len(found)}"
    return found[0]


def selects(selector: dict, labels: dict) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def test_no_canary_unless_enabled(chart):
    for spec in releases("prod"):
        names = [o["metadata"]["name"] for o in render_release(chart, "prod", spec, api_versions=MONITORING_API_VERSIONS).objects]
        assert not [n for n in names if n.endswith("-canary")]


def test_canary_objects_are_valid(with_canary, kube_version):
    for release in with_canary:
        assert validate_objects(release.objects, kube_version) == []


def test_the_canary_runs_the_new_image_and_reports_its_version(with_canary):
    for release in with_canary:
        stable = named(release, "Deployment", release.name)["spec"]["template"]["spec"]["containers"][0]
        canary_deployment = named(release, "Deployment", f"{release.name}-canary")
        canary = canary_deployment["spec"]["template"]["spec"]["containers"][0]
        assert canary["image"].endswith(":" + NEW_TAG) and not stable["image"].endswith(":" + NEW_TAG)
        assert {"name": "APP_VERSION", "value": NEW_TAG} in canary["env"]
        assert canary_deployment["spec"]["replicas"] == 2
        assert canary["readinessProbe"] == stable["readinessProbe"]  # same gates, same pod spec


def test_stable_and_canary_selectors_never_pick_each_others_pods(with_canary):
    for release in with_canary:
        pods = {
            name: named(release, "Deployment", name)["spec"]["template"]["metadata"]["labels"]
            for name in (release.name, f"{release.name}-canary")
        }
        for name, own in pods.items():
            other = pods[f"{release.name}-canary" if name == release.name else release.name]
            for kind in ("Deployment", "Service"):
                obj = named(release, kind, name)
                selector = obj["spec"]["selector"].get("matchLabels", obj["spec"]["selector"])
                assert selects(selector, own) and not selects(selector, other), f"{kind}/{name}"
            monitor = named(release, "ServiceMonitor", name)["spec"]["selector"]["matchLabels"]
            service_labels = named(release, "Service", name)["metadata"]["labels"]
            other_service = named(release, "Service", f"{release.name}-canary" if name == release.name else release.name)
            assert selects(monitor, service_labels) and not selects(monitor, other_service["metadata"]["labels"])


def test_the_canary_joins_the_variants_own_target_group(with_canary):
    """Visitors keep their variant: the listener rule is untouched, the canary is one more target."""
    for release in with_canary:
        stable = named(release, "TargetGroupBinding", release.name)["spec"]
        canary = named(release, "TargetGroupBinding", f"{release.name}-canary")["spec"]
        assert canary["targetGroupName"] == stable["targetGroupName"] == release.values["targetGroupBinding"]["targetGroupName"]
        assert canary["serviceRef"]["name"] == f"{release.name}-canary"
        # Two bindings on one target group: the controller's webhook refuses it unless both say so.
        assert stable["multiClusterTargetGroup"] is True and canary["multiClusterTargetGroup"] is True


def test_the_analysis_queries_the_services_the_monitors_scrape(with_canary):
    """kube-prometheus-stack labels each series with the namespace and the Service it scraped."""
    for release in with_canary:
        canary_selector, stable_selector = selectors(release.name)
        for selector, name in ((canary_selector, f"{release.name}-canary"), (stable_selector, release.name)):
            service = named(release, "Service", name)
            assert selector == f'namespace="{service["metadata"]["namespace"]}",service="{service["metadata"]["name"]}"'
            assert named(release, "ServiceMonitor", name)["metadata"]["namespace"] == service["metadata"]["namespace"]


def test_a_canary_without_a_tag_is_refused(chart):
    spec = releases("dev")[0]
    with pytest.raises(Exception, match="canary"):
        render_release(chart, "dev", spec, {"canary": {"enabled": True}})


def test_the_schema_owner_migrates_with_the_canarys_code_before_any_canary_pod(chart):
    """Migrations run once, before any code: the owner's pre-upgrade hook that starts a canary runs the new image."""
    owner = next(spec for spec in releases("prod") if spec["schemaOwner"])
    release = render_release(chart, "prod", owner, CANARY)
    hook = [obj for obj in release.hooks("pre-upgrade") if obj["kind"] == "Job"]
    assert hook and all(c["image"].endswith(":" + NEW_TAG) for job in hook for c in job["spec"]["template"]["spec"]["containers"])
    plain = render_release(chart, "prod", owner)
    assert not any(
        c["image"].endswith(":" + NEW_TAG)
        for job in plain.hooks("pre-upgrade")
        if job["kind"] == "Job"
        for c in job["spec"]["template"]["spec"]["containers"]
    )


def test_checkov_finds_nothing_on_the_canary_objects(with_canary, tmp_path, repo_root, run_checkov):
    import json

    from test_chart_checkov import write_manifests

    canaries = [
        type(r)(
            env=r.env,
            spec=r.spec,
            values=r.values,
            files={},
            # With the release's NetworkPolicies: they select the canary's pods too (CKV2_K8S_6).
            objects=[o for o in r.objects if o["metadata"]["name"].endswith("-canary") or o["kind"] == "NetworkPolicy"],
        )
        for r in with_canary
    ]
    assert write_manifests(canaries, tmp_path) > 0
    result = run_checkov(repo_root / "chart" / ".checkov.yaml", "-d", str(tmp_path), "--framework", "kubernetes", "-o", "json")
    assert result.returncode in (0, 1), result.stderr[-2000:]
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    failed = [f"{c['check_id']} {c['resource']}" for r in reports for c in r["results"]["failed_checks"]]
    assert failed == [], "\n".join(failed)
    assert sum(r["summary"]["passed"] for r in reports) > 0


# --- image.digest: the deploy runs every pod by digest (docs/deploy.md, "Build once, promote the digest") ---

STABLE_DIGEST, CANARY_DIGEST = "sha256:" + "1" * 64, "sha256:" + "2" * 64


def containers(release) -> list[dict]:
    """Every container of every pod the release creates, hooks and test pods included."""
    found = []
    for obj in release.objects:
        spec = obj.get("spec", {})
        pod = spec.get("jobTemplate", {}).get("spec", {}).get("template", {}).get("spec") or spec.get("template", {}).get("spec")
        pod = pod or (spec if obj["kind"] == "Pod" else None)
        if pod:
            found += [(obj["metadata"]["name"], c) for c in pod.get("initContainers", []) + pod["containers"]]
    return found


def test_with_a_digest_every_pod_runs_that_digest_and_keeps_the_tag_for_display(chart):
    pinned = {"image": {"digest": STABLE_DIGEST}}
    for spec in releases("prod"):
        release = render_release(chart, "prod", spec, pinned, api_versions=MONITORING_API_VERSIONS)
        images = {name: c["image"] for name, c in containers(release)}
        assert images and all(image.endswith(f":{release.values['image']['tag']}@{STABLE_DIGEST}") for image in images.values()), images


def test_a_canary_runs_its_own_digest_and_its_migration_hook_too(chart):
    spec = next(s for s in releases("prod") if s["schemaOwner"])
    extra = {"image": {"digest": STABLE_DIGEST}, "canary": {**CANARY["canary"], "image": {"tag": NEW_TAG, "digest": CANARY_DIGEST}}}
    release = render_release(chart, "prod", spec, extra, api_versions=MONITORING_API_VERSIONS)
    canary = named(release, "Deployment", f"{release.name}-canary")["spec"]["template"]["spec"]["containers"][0]
    assert canary["image"].endswith(f":{NEW_TAG}@{CANARY_DIGEST}")
    stable = named(release, "Deployment", release.name)["spec"]["template"]["spec"]["containers"][0]
    assert stable["image"].endswith(f"@{STABLE_DIGEST}")
    hook = [j for j in release.hooks("pre-upgrade") if j["kind"] == "Job"]
    assert hook and any(
        c["image"].endswith(f":{NEW_TAG}@{CANARY_DIGEST}") for j in hook for c in j["spec"]["template"]["spec"]["containers"]
    )
