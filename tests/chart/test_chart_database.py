"""The migration hook and the database, for every release of every environment: one release migrates
(the schema owner) in a bounded hook, contract steps only when allowed, the others wait for the
schema, one database per environment, the web pods as the web role and only the hook as the owner."""

from __future__ import annotations

import yaml

from chart_support import HOOK, RenderedRelease, render_release, web_container


def test_exactly_one_release_per_environment_migrates_and_it_is_the_schema_owner(rendered, variant_sets):
    for env, env_releases in rendered.items():
        migrating = [r.spec["variant"] for r in env_releases if r.hooks("pre-install")]
        assert migrating == [variant_sets[env].schema_owner], env


def test_migration_job_is_a_bounded_pre_install_and_pre_upgrade_hook(all_releases):
    for release in all_releases:
        for job in (hook for hook in release.hooks("pre-install") if hook["kind"] == "Job"):
            annotations = job["metadata"]["annotations"]
            assert set(annotations[HOOK].split(",")) == {"pre-install", "pre-upgrade"}
            assert "helm.sh/hook-weight" in annotations
            assert "before-hook-creation" in annotations["helm.sh/hook-delete-policy"]
            assert job["spec"]["backoffLimit"] >= 0
            assert job["spec"]["activeDeadlineSeconds"] > 0
            container = job["spec"]["template"]["spec"]["containers"][0]
            assert container["command"] == ["python", "manage.py", "migrate_safely"]
            assert "serviceAccountName" not in job["spec"]["template"]["spec"], "the release's ServiceAccount is not there at pre-install"
            assert "envFrom" not in container, "the release's ConfigMap is not there at pre-install"


def migrate_command(release: RenderedRelease) -> list[str]:
    (job,) = [hook for hook in release.hooks("pre-upgrade") if hook["kind"] == "Job"]
    return job["spec"]["template"]["spec"]["containers"][0]["command"]


def test_contract_steps_are_refused_by_default_and_applied_only_when_allowed(chart, rendered, variant_sets):
    for env, env_releases in rendered.items():
        (owner,) = [r for r in env_releases if r.spec["variant"] == variant_sets[env].schema_owner]
        assert owner.values["migrations"]["allowContract"] is False
        # Without the flag, migrate_safely refuses pending contract steps.
        assert migrate_command(owner) == ["python", "manage.py", "migrate_safely"]
        allowed = render_release(chart, env, owner.spec, {"migrations": {"allowContract": True}})
        assert migrate_command(allowed) == ["python", "manage.py", "migrate_safely", "--allow-contract"]


def test_allow_contract_on_a_release_that_does_not_migrate_renders_no_job(chart, rendered, variant_sets):
    others = [r for r in rendered["dev"] if r.spec["variant"] != variant_sets["dev"].schema_owner]
    for other in others:
        again = render_release(chart, "dev", other.spec, {"migrations": {"allowContract": True}})
        assert [o for o in again.objects if o["kind"] == "Job" and "migrate" in o["metadata"]["name"]] == []


def test_environment_values_leave_the_database_host_to_the_deploy(repo_root, variant_sets):
    """No placeholder host can reach a cluster: the deploy sets Terraform's database_host, the schema refuses none."""
    for env in variant_sets:
        values = yaml.safe_load((repo_root / "environments" / env / "values.yaml").read_text())
        assert values["database"]["host"] == "", env


def test_migration_hook_reads_a_secret_that_exists_before_it_runs(all_releases):
    for release in all_releases:
        for job in (hook for hook in release.hooks("pre-install") if hook["kind"] == "Job"):
            weight = int(job["metadata"]["annotations"]["helm.sh/hook-weight"])
            env = job["spec"]["template"]["spec"]["containers"][0]["env"]
            names = {e["valueFrom"]["secretKeyRef"]["name"] for e in env if "valueFrom" in e}
            assert len(names) == 1
            (secret,) = names
            release_made = {es["spec"]["target"]["name"] for es in release.installed() if es["kind"] == "ExternalSecret"}
            assert secret not in release_made, "the release's own ExternalSecret is created after pre-install hooks"
            makers = [
                es for es in release.hooks("pre-install") if es["kind"] == "ExternalSecret" and es["spec"]["target"]["name"] == secret
            ]
            if release.values["secrets"]["existingSecret"]:
                assert secret == release.values["secrets"]["existingSecret"]
            else:
                assert len(makers) == 1, f"{release.name}: nothing makes {secret} before the hook"
                maker = makers[0]["metadata"]["annotations"]
                assert int(maker["helm.sh/hook-weight"]) < weight
                assert "pre-upgrade" in maker[HOOK]


def test_releases_that_do_not_migrate_wait_for_the_schema(all_releases, variant_sets):
    for release in all_releases:
        owner = f"pizza-{variant_sets[release.env].schema_owner}"
        if not release.spec["schemaOwner"]:
            assert not release.hooks("pre-install") and not release.hooks("pre-upgrade")
            assert web_container(release)["readinessProbe"]["httpGet"]["path"] == "/readyz"
            assert release.spec["needs"] == [f"{owner}/{owner}"], "installed after the schema owner"


def test_all_releases_of_an_environment_share_one_database(rendered):
    for env, env_releases in rendered.items():
        settings = {
            tuple(r.settings()["data"][k] for k in ("DATABASE_HOST", "DATABASE_PORT", "DATABASE_NAME", "DATABASE_SSLMODE"))
            for r in env_releases
        }
        assert len(settings) == 1, f"{env}: {settings}"
        remote_keys = {
            tuple(sorted({d["remoteRef"]["key"] for d in es["spec"]["data"]}))
            for r in env_releases
            for es in r.installed()
            if es["kind"] == "ExternalSecret"
        }
        assert remote_keys == {(f"pizza/{env}/cache", f"pizza/{env}/database", f"pizza/{env}/django")}, env
        # The owner role's secret goes only to the schema owner's migration hook.
        hook_keys = {
            d["remoteRef"]["key"]
            for r in env_releases
            for es in r.hooks("pre-install")
            if es["kind"] == "ExternalSecret"
            for d in es["spec"]["data"]
        }
        assert hook_keys == {f"pizza/{env}/cache", f"pizza/{env}/database", f"pizza/{env}/database-owner", f"pizza/{env}/django"}, env


def test_web_pods_connect_as_the_web_role_and_only_the_hook_as_the_owner(rendered):
    for _env, env_releases in rendered.items():
        for release in env_releases:
            web = web_container(release)
            users = {e["name"]: e["valueFrom"]["secretKeyRef"]["key"] for e in web["env"] if "valueFrom" in e}
            assert users["DATABASE_USER"] == "username" and users["DATABASE_PASSWORD"] == "password"
            assert not any(key.startswith("owner_") for key in users.values())
            for job in release.of_kind("Job"):
                spec = job["spec"]["template"]["spec"]
                (first,) = spec["initContainers"]
                assert first["command"] == ["python", "manage.py", "ensure_web_role"]
                for container in (first, spec["containers"][0]):
                    keys = {e["name"]: e["valueFrom"]["secretKeyRef"]["key"] for e in container["env"] if "valueFrom" in e}
                    assert keys["DATABASE_USER"] == "owner_username" and keys["WEB_DATABASE_USER"] == "username"
        stores = {
            (es["spec"]["secretStoreRef"]["kind"], es["spec"]["secretStoreRef"]["name"])
            for r in env_releases
            for es in r.of_kind("ExternalSecret")
        }
        assert stores == {("ClusterSecretStore", "aws-secrets-manager")}
