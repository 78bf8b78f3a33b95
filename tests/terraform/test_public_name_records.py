"""The public name's Route 53 records (alb.tf, dr.tf): an alias of the CloudFront edge when the edge
serves the name, else of the ALB, and dr.tf's failover records never bypassing the edge.

Each configuration is evaluated from the parsed HCL (terraform_support.evaluate); the validations run
in Terraform's own engine (variables.tf alone, as in test_first_apply_inputs.py).
"""

from __future__ import annotations

from test_first_apply_inputs import OPERATOR, PROD_DOMAIN, plan, refused, variables_module  # noqa: F401 - a fixture

from tests.terraform.terraform_support import evaluate

CLOUDFRONT = "d111111abcdef8.cloudfront.net"


def records(main_stack, domain: str, edge_certificate: str, dns_failover: bool = False) -> dict[str, dict]:
    """The Route 53 records of the public name for one configuration, evaluated from alb.tf and dr.tf."""
    locals_ = main_stack.locals
    refs = {
        "var.domain_name": domain,
        "var.edge_certificate_arn": edge_certificate,
        "aws_lb.web.dns_name": "pizza-prod-123.us-east-1.elb.amazonaws.com",
        "aws_lb.web.zone_id": "Z35SXDOTRQ7X7K",
        "aws_cloudfront_distribution.web.domain_name": CLOUDFRONT,
        "aws_cloudfront_distribution.web.hosted_zone_id": "<the distribution's hosted_zone_id attribute>",
    }
    refs["local.https"] = evaluate(locals_["https"], refs)
    refs["local.dns_failover"] = dns_failover and refs["local.https"]
    refs["local.edge_serves_domain"] = evaluate(locals_["edge_serves_domain"], refs)
    found = {}
    for name, body in main_stack.resources_of("aws_route53_record").items():
        if body.get("name") != "${var.domain_name}" or not evaluate(body["count"], refs):
            continue
        alias = body["alias"][0]
        found[name] = {
            "type": body["type"],
            "target": evaluate(alias["name"], refs),
            "zone_id": evaluate(alias["zone_id"], refs),
            "evaluate_target_health": evaluate(str(alias["evaluate_target_health"]), refs)
            if isinstance(alias["evaluate_target_health"], str)
            else alias["evaluate_target_health"],
        }
    # The distribution holds the name exactly when the record points at it (else CloudFront answers 403).
    aliases = evaluate(main_stack.resource("aws_cloudfront_distribution", "web")["aliases"], refs)
    for record in found.values():
        assert (record["target"] == CLOUDFRONT) is (aliases == [domain]), (record, aliases)
    return found


def test_with_the_edge_serving_the_domain_the_name_points_at_cloudfront(main_stack):
    found = records(main_stack, "shop.example.org", "arn:aws:acm:us-east-1:000000000000:certificate/abc")
    assert {r["type"] for r in found.values()} == {"A", "AAAA"}
    for record in found.values():
        assert record["target"] == CLOUDFRONT
        assert record["zone_id"] == "<the distribution's hosted_zone_id attribute>", "never a literal zone id"
        assert record["evaluate_target_health"] is False  # Route 53 refuses true for a CloudFront alias


def test_without_the_edge_certificate_the_name_stays_on_the_alb(main_stack):
    (record,) = records(main_stack, "shop.example.org", "").values()
    assert record == {
        "type": "A",
        "target": "pizza-prod-123.us-east-1.elb.amazonaws.com",
        "zone_id": "Z35SXDOTRQ7X7K",
        "evaluate_target_health": True,
    }


def test_no_domain_no_record(main_stack):
    assert records(main_stack, "", "") == {}


def test_with_dns_failover_only_the_failover_records_hold_the_name(main_stack):
    # dr.tf's failover record (one per region) aliases its ALB; the plain records step aside.
    found = records(main_stack, "shop.example.org", "", dns_failover=True)
    assert list(found) == ["failover"] and found["failover"]["target"] == "pizza-prod-123.us-east-1.elb.amazonaws.com"


def test_terraform_refuses_failover_records_that_would_bypass_the_edge(variables_module):  # noqa: F811
    edge = ["-var", "edge_certificate_arn=arn:aws:acm:us-east-1:123456789012:certificate/abc"]
    errors = refused(plan(variables_module, "prod", *OPERATOR, *PROD_DOMAIN, *edge, "-var", "dns_failover=true"))
    assert "dns_failover and edge_certificate_arn cannot both be set" in errors
    result = plan(variables_module, "prod", *OPERATOR, *PROD_DOMAIN, *edge)
    assert result.returncode == 0, result.stderr


def test_terraform_refuses_an_edge_certificate_without_a_domain(variables_module):  # noqa: F811
    errors = refused(
        plan(variables_module, "dev", *OPERATOR, "-var", "edge_certificate_arn=arn:aws:acm:us-east-1:123456789012:certificate/abc")
    )
    assert "edge_certificate_arn is set but domain_name is empty" in errors
