"""The weighted split: one target group per variant, weights and stickiness from variants.yaml."""

from __future__ import annotations

import pytest

from config.variants import VariantsError, parse_variants


def test_variants_come_from_the_shared_file(main_stack):
    assert main_stack.locals["variants_file"] == ('${yamldecode(file("${path.module}/../environments/${var.environment}/variants.yaml"))}')
    assert main_stack.locals["variants"] == "${local.variants_file.variants}"
    assert "local.variants_file.stickinessSeconds" in main_stack.locals["stickiness_seconds"]


def test_one_target_group_per_variant(main_stack):
    groups = main_stack.resources_of("aws_lb_target_group")
    assert list(groups) == ["variant"]
    tg = groups["variant"]
    assert tg["for_each"] == "${local.variants}"
    assert tg["name"] == "${local.name}-${each.key}"
    assert tg["target_type"] == "ip"
    assert tg["port"] == 8000 and tg["protocol"] == "HTTP"
    assert tg["deregistration_delay"] < 45, "must drain before the pod's preStop + graceful window ends"
    check = tg["health_check"][0]
    assert check["path"] == "/readyz" and check["matcher"] == "200"
    assert check["healthy_threshold"] >= 2 and check["unhealthy_threshold"] >= 2
    assert check["timeout"] < check["interval"]


def test_target_group_names_fit_the_alb_limit(variant_sets):
    for env, variant_set in variant_sets.items():
        for name in variant_set.variants:
            assert len(f"pizza-{env}-{name}") <= 32


def test_listener_rule_forwards_by_the_files_weights_with_group_stickiness(main_stack):
    rules = main_stack.resources_of("aws_lb_listener_rule")
    # assigned: tests/terraform/test_experiment_routing.py; metrics_denied: /metrics never through the ALB.
    assert sorted(rules) == ["assigned", "metrics_denied", "split"]
    action = rules["split"]["action"][0]
    assert action["type"] == "forward"
    forward = action["forward"][0]
    dynamic = forward["dynamic"][0]["target_group"]
    assert dynamic["for_each"] == "${local.variants}"
    assert dynamic["content"][0]["arn"] == "${aws_lb_target_group.variant[target_group.key].arn}"
    assert dynamic["content"][0]["weight"] == "${target_group.value.weight}"
    stickiness = forward["stickiness"][0]
    assert stickiness["enabled"] is True
    assert stickiness["duration"] == "${local.stickiness_seconds}"


def test_preconditions_refuse_what_the_alb_cannot_serve(main_stack):
    preconditions = main_stack.resource("aws_lb_listener_rule", "split")["lifecycle"][0]["precondition"]
    conditions = [p["condition"] for p in preconditions]
    assert any("length(local.variants) <= 5" in c for c in conditions), "more than five variants"
    assert any("v.weight <= 999" in c and "v.weight >= 0" in c and "floor(v.weight) == v.weight" in c for c in conditions), (
        "weights that are not integers 0-999"
    )
    assert any(c.startswith("${sum(") and c.endswith("> 0}") for c in conditions), "all-zero weights"


def test_http_redirects_to_https_when_a_domain_is_given(main_stack):
    http = main_stack.resource("aws_lb_listener", "http")
    assert http["default_action"][0]["type"] == '${local.https ? "redirect" : "fixed-response"}'
    https = main_stack.resource("aws_lb_listener", "https")
    assert https["protocol"] == "HTTPS" and https["ssl_policy"].startswith("ELBSecurityPolicy-TLS13")
    assert main_stack.locals["https"] == '${var.domain_name != ""}'


def test_waf_guards_the_alb(main_stack):
    acl = main_stack.resource("aws_wafv2_web_acl", "web")
    statements = [rule["statement"][0] for rule in acl["rule"]]
    managed = {s["managed_rule_group_statement"][0]["name"] for s in statements if "managed_rule_group_statement" in s}
    assert "AWSManagedRulesCommonRuleSet" in managed
    rate = [s["rate_based_statement"][0] for s in statements if "rate_based_statement" in s]
    assert rate and rate[0]["aggregate_key_type"] == "IP"
    association = main_stack.resource("aws_wafv2_web_acl_association", "web")
    assert association["resource_arn"] == "${aws_lb.web.arn}"


# The Terraform preconditions and the Python loader (which the chart, the stack and the app use)
# must refuse the same files; the loader is exercised here on the same bad inputs.
def _variants(**weights):
    return {"variants": {name: {"theme": "classic", "weight": w} for name, w in weights.items()}, "schemaOwner": "a"}


@pytest.mark.parametrize(
    "data",
    [
        _variants(a=1000, b=1),
        _variants(a=-1, b=1),
        _variants(a=2.5, b=1),
        _variants(a="34", b=1),
        _variants(a=True, b=1),
        _variants(a=0, b=0),
        _variants(a=1, b=1, c=1, d=1, e=1, f=1),
    ],
    ids=["over-999", "negative", "fraction", "string", "bool", "all-zero", "six-variants"],
)
def test_loader_refuses_what_the_preconditions_refuse(data):
    with pytest.raises(VariantsError):
        parse_variants(data, "test")


def test_every_environment_fits_one_rule(variant_sets):
    for variant_set in variant_sets.values():
        assert 1 <= len(variant_set.variants) <= 5
        assert variant_set.total_weight > 0
        assert 1 <= variant_set.stickiness_seconds <= 604800
