"""The ALB honours the app's deterministic assignment: a rule per variant on the cookie the app sets."""

from __future__ import annotations

from experiment.middleware import ROUTE_COOKIE


def test_one_rule_per_variant_forwards_on_the_apps_route_cookie(main_stack):
    rule = main_stack.resource("aws_lb_listener_rule", "assigned")
    assert "local.variants" in rule["for_each"] and "v.weight > 0" in rule["for_each"]
    assert rule["action"][0]["target_group_arn"] == "${aws_lb_target_group.variant[each.key].arn}"
    header = rule["condition"][0]["http_header"][0]
    assert header["http_header_name"] == "Cookie"
    # The name the middleware writes: a rename on either side fails here.
    assert header["values"] == [f"*{ROUTE_COOKIE}=${{each.key}}*"]


def test_assigned_rules_come_before_the_weighted_split(main_stack):
    assigned = main_stack.resource("aws_lb_listener_rule", "assigned")["priority"]
    split = main_stack.resource("aws_lb_listener_rule", "split")["priority"]
    assert assigned.startswith("${10 + index(") and 10 + 5 <= split  # five variants at most: priorities 10-14
    assert (
        main_stack.resource("aws_lb_listener_rule", "assigned")["listener_arn"]
        == main_stack.resource("aws_lb_listener_rule", "split")["listener_arn"]
    )
