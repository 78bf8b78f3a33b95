"""checkov finds nothing on the rendered manifests of every release; skips live in chart/.checkov.yaml."""

from __future__ import annotations

import json

import yaml


def write_manifests(releases, directory) -> int:
    """One file per object, one folder per rendering; returns how many objects were written."""
    count = 0
    for index, release in enumerate(releases):
        folder = directory / f"{index:02d}-{release.env}-{release.name}"
        folder.mkdir()
        for obj in release.objects:
            (folder / f"{obj['kind'].lower()}-{obj['metadata']['name']}.yaml").write_text(yaml.safe_dump(obj, sort_keys=False))
            count += 1
    return count


def test_checkov_passes_on_every_rendered_manifest(all_releases, optional_release, kind_release, tmp_path, repo_root, run_checkov):
    written = write_manifests([*all_releases, optional_release, kind_release], tmp_path)
    result = run_checkov(repo_root / "chart" / ".checkov.yaml", "-d", str(tmp_path), "--framework", "kubernetes", "-o", "json")
    assert result.returncode in (0, 1), result.stderr[-2000:]
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    summary = {key: sum(r["summary"][key] for r in reports) for key in ("passed", "failed", "resource_count", "parsing_errors")}
    failed = [
        f"{check['check_id']} {check['resource']} ({check['file_path']})"
        for report in reports
        for check in report["results"]["failed_checks"]
    ]
    assert failed == [], "\n".join(failed)
    assert summary["parsing_errors"] == 0
    assert summary["resource_count"] >= written, summary  # checkov also counts the pod templates inside
    assert summary["passed"] > 0
