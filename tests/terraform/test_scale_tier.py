"""The scale tier's Terraform (rds-proxy.tf, replica.tf, cache.tf, edge.tf), read with python-hcl2."""

from __future__ import annotations


def block(body: dict, name: str) -> dict:
    value = body[name]
    return value[0] if isinstance(value, list) else value


def test_web_traffic_is_pooled_by_rds_proxy_over_tls_with_secrets_manager_logins(main_stack):
    proxy = main_stack.resource("aws_db_proxy", "web")
    assert proxy["engine_family"] == "POSTGRESQL" and proxy["require_tls"] is True
    auth = block(proxy["dynamic"][0]["auth"] if isinstance(proxy["dynamic"], list) else proxy["dynamic"]["auth"], "content")
    assert auth["auth_scheme"] == "SECRETS"
    assert main_stack.locals["db_proxy_secret_arns"] == ["${aws_secretsmanager_secret.database.arn}"]
    target = main_stack.resource("aws_db_proxy_target", "web")
    assert target["db_instance_identifier"] == "${aws_db_instance.orders.identifier}"
    pool = block(main_stack.resource("aws_db_proxy_default_target_group", "web"), "connection_pool_config")
    assert pool["max_connections_percent"] == "${var.db_proxy_max_connections_percent}"


def test_a_read_replica_exists_in_qa_and_prod_only(main_stack, tfvars):
    replica = main_stack.resource("aws_db_instance", "replica")
    assert replica["count"] == "${var.db_replica_enabled ? 1 : 0}"
    assert replica["replicate_source_db"] == "${aws_db_instance.orders.identifier}"
    assert replica["storage_encrypted"] is True and replica["publicly_accessible"] is False
    assert {env: values.get("db_replica_enabled", False) for env, values in tfvars.items()} == {"dev": False, "qa": True, "prod": True}


def test_the_cache_requires_tls_and_an_auth_token_kept_in_secrets_manager(main_stack):
    cache = main_stack.resource("aws_elasticache_replication_group", "cache")
    assert cache["transit_encryption_enabled"] is True and cache["transit_encryption_mode"] == "required"
    assert cache["at_rest_encryption_enabled"] is True
    assert cache["auth_token"] == "${random_password.cache_auth.result}"
    secret = main_stack.resource("aws_secretsmanager_secret_version", "cache")["secret_string"]
    assert "rediss://:${random_password.cache_auth.result}@" in secret  # TLS scheme, token inside the URL


def test_the_edge_caches_static_files_and_passes_everything_else_with_its_cookies(main_stack):
    edge = main_stack.resource("aws_cloudfront_distribution", "web")
    assert edge["http_version"].startswith("http2") and edge["web_acl_id"] == "${aws_wafv2_web_acl.edge.arn}"
    assert block(edge, "origin")["domain_name"] == "${aws_lb.web.dns_name}"
    behaviours = {b["path_pattern"]: b for b in edge["ordered_cache_behavior"]}
    static = behaviours["/static/*"]
    assert static["cache_policy_id"] == "${data.aws_cloudfront_cache_policy.optimized.id}" and static["compress"] is True
    passed = [block(edge, "default_cache_behavior"), behaviours["/api/*"]]
    for behaviour in passed:
        assert behaviour["cache_policy_id"] == "${data.aws_cloudfront_cache_policy.disabled.id}"
        assert behaviour["origin_request_policy_id"] == "${aws_cloudfront_origin_request_policy.app.id}"
        assert "POST" in behaviour["allowed_methods"] and behaviour["compress"] is True
    policy = main_stack.resource("aws_cloudfront_origin_request_policy", "app")
    # every cookie: the ALB's stickiness, the variant cookie PZV, session, CSRF and the PZ_PRIMARY pin
    assert block(policy, "cookies_config")["cookie_behavior"] == "all"
    assert block(policy, "headers_config")["header_behavior"] == "allViewer"


def test_the_api_has_its_own_rate_limit_at_the_edge(main_stack):
    acl = main_stack.resource("aws_wafv2_web_acl", "edge")
    assert acl["scope"] == "CLOUDFRONT" and acl["provider"] == "${aws.edge}"
    rules = {rule["name"]: rule for rule in acl["rule"]}
    limit = block(block(rules["api-rate-limit-per-ip"], "statement"), "rate_based_statement")
    assert limit["limit"] == "${var.edge_api_rate_limit}"
    match = block(block(limit, "scope_down_statement"), "byte_match_statement")
    assert (match["search_string"], match["positional_constraint"]) == ("/api/", "STARTS_WITH")
    assert "aws-known-bad-inputs" in rules and "rate-limit-per-ip" in rules
