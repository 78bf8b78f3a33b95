# The edge: CloudFront in front of the shared ALB. /static/* (hashed names, immutable) is cached
# at the edge; everything else passes through uncached with every cookie, header and query string,
# so the weighted split's stickiness (AWSALB* cookies), the app's variant cookie PZV, the session,
# CSRF and the read-your-writes pin PZ_PRIMARY all survive. A web ACL of its own (CLOUDFRONT scope)
# blocks known-bad inputs and rate-limits per IP, with a tighter limit on the mobile API (/api/).
# No API Gateway: the API is a few JSON views of the same app on the same pods; a gateway would add
# a hop, a second auth and throttling layer and a per-request price, where CloudFront + WAF already
# give TLS, HTTP/2 and a per-client rate limit for /api/ at the same edge as the pages.

data "aws_cloudfront_cache_policy" "optimized" {
  name = "Managed-CachingOptimized"
}

data "aws_cloudfront_cache_policy" "disabled" {
  name = "Managed-CachingDisabled"
}

data "aws_cloudfront_response_headers_policy" "security" {
  name = "Managed-SecurityHeadersPolicy"
}

# Dynamic pages and the API: the origin sees the request as the viewer sent it.
resource "aws_cloudfront_origin_request_policy" "app" {
  name    = "${local.name}-app"
  comment = "All cookies (split stickiness, PZV, session, CSRF, PZ_PRIMARY), viewer headers and query strings"

  cookies_config {
    cookie_behavior = "all"
  }
  headers_config {
    header_behavior = "allViewer"
  }
  query_strings_config {
    query_string_behavior = "all"
  }
}

resource "aws_kms_key" "edge_logs" {
  provider = aws.edge

  description             = "${local.name}: the edge web ACL's log group (us-east-1)"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      local.key_admin_statement,
      {
        Sid       = "CloudWatchLogsUse"
        Effect    = "Allow"
        Principal = { Service = "logs.us-east-1.amazonaws.com" }
        Action    = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        Resource  = "*"
        Condition = {
          ArnLike = {
            "kms:EncryptionContext:aws:logs:arn" = "arn:${local.partition}:logs:us-east-1:${local.account_id}:log-group:*"
          }
        }
      },
    ]
  })
}

resource "aws_wafv2_web_acl" "edge" {
  provider = aws.edge

  name        = "${local.name}-edge"
  description = "${local.name}: managed rule sets, a per-IP rate limit and a tighter one for the API"
  scope       = "CLOUDFRONT"

  default_action {
    allow {}
  }

  rule {
    name     = "aws-common"
    priority = 10
    override_action {
      none {}
    }
    statement {
      managed_rule_group_statement {
        name        = "AWSManagedRulesCommonRuleSet"
        vendor_name = "AWS"
      }
    }
    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${local.name}-edge-aws-common"
      sampled_requests_enabled   = true
    }
  }

  rule {
    name     = "aws-known-bad-inputs"
    priority = 20
    override_action {
      none {}
    }
    statement {
      managed_rule_group_statement {
        name        = "AWSManagedRulesKnownBadInputsRuleSet"
        vendor_name = "AWS"
      }
    }
    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${local.name}-edge-aws-known-bad-inputs"
      sampled_requests_enabled   = true
    }
  }

  # The mobile API's own limit, counted on /api/ requests only.
  rule {
    name     = "api-rate-limit-per-ip"
    priority = 30
    action {
      block {}
    }
    statement {
      rate_based_statement {
        limit                 = var.edge_api_rate_limit
        evaluation_window_sec = 300
        aggregate_key_type    = "IP"
        scope_down_statement {
          byte_match_statement {
            search_string         = "/api/"
            positional_constraint = "STARTS_WITH"
            field_to_match {
              uri_path {}
            }
            text_transformation {
              priority = 0
              type     = "NONE"
            }
          }
        }
      }
    }
    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${local.name}-edge-api-rate-limit"
      sampled_requests_enabled   = true
    }
  }

  rule {
    name     = "rate-limit-per-ip"
    priority = 40
    action {
      block {}
    }
    statement {
      rate_based_statement {
        limit                 = var.waf_rate_limit
        evaluation_window_sec = 300
        aggregate_key_type    = "IP"
      }
    }
    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${local.name}-edge-rate-limit"
      sampled_requests_enabled   = true
    }
  }

  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = "${local.name}-edge"
    sampled_requests_enabled   = true
  }
}

# WAF insists that its log group name starts with aws-waf-logs-.
resource "aws_cloudwatch_log_group" "edge_waf" {
  provider = aws.edge

  name              = "aws-waf-logs-${local.name}-edge"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.edge_logs.arn
}

resource "aws_wafv2_web_acl_logging_configuration" "edge" {
  provider = aws.edge

  resource_arn            = aws_wafv2_web_acl.edge.arn
  log_destination_configs = [aws_cloudwatch_log_group.edge_waf.arn]
}

resource "aws_cloudfront_distribution" "web" {
  enabled         = true
  comment         = "${local.name}: the shop's edge in front of the shared ALB"
  http_version    = "http2and3"
  is_ipv6_enabled = true
  price_class     = "PriceClass_100"
  aliases         = var.edge_certificate_arn != "" ? [var.domain_name] : []
  web_acl_id      = aws_wafv2_web_acl.edge.arn

  origin {
    origin_id   = "alb"
    domain_name = aws_lb.web.dns_name

    custom_origin_config {
      http_port              = 80
      https_port             = 443
      origin_protocol_policy = local.https ? "https-only" : "http-only"
      origin_ssl_protocols   = ["TLSv1.2"]
      # Longer than any request the app lets run (statement_timeout 15 s, gunicorn timeout 30 s).
      origin_read_timeout = 60
    }
  }

  # Hashed, immutable file names (WhiteNoise's manifest): cached at the edge, compressed.
  ordered_cache_behavior {
    path_pattern               = "/static/*"
    target_origin_id           = "alb"
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD", "OPTIONS"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = data.aws_cloudfront_cache_policy.optimized.id
    response_headers_policy_id = data.aws_cloudfront_response_headers_policy.security.id
  }

  # The mobile API: same origin, never cached, its own WAF rate limit (rule api-rate-limit-per-ip).
  ordered_cache_behavior {
    path_pattern               = "/api/*"
    target_origin_id           = "alb"
    viewer_protocol_policy     = "https-only"
    allowed_methods            = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = data.aws_cloudfront_cache_policy.disabled.id
    origin_request_policy_id   = aws_cloudfront_origin_request_policy.app.id
    response_headers_policy_id = data.aws_cloudfront_response_headers_policy.security.id
  }

  # Pages and forms: never cached, every cookie and header passed (the split and the session need them).
  default_cache_behavior {
    target_origin_id           = "alb"
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = data.aws_cloudfront_cache_policy.disabled.id
    origin_request_policy_id   = aws_cloudfront_origin_request_policy.app.id
    response_headers_policy_id = data.aws_cloudfront_response_headers_policy.security.id
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    cloudfront_default_certificate = var.edge_certificate_arn == ""
    acm_certificate_arn            = var.edge_certificate_arn != "" ? var.edge_certificate_arn : null
    ssl_support_method             = var.edge_certificate_arn != "" ? "sni-only" : null
    minimum_protocol_version       = var.edge_certificate_arn != "" ? "TLSv1.2_2021" : "TLSv1"
  }
}
