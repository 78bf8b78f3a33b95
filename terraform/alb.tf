# The shared load balancer: one target group per variant and one listener rule that splits
# visitors by the weights in environments/<env>/variants.yaml, keeping each visitor on the
# variant they first got (group stickiness). Pods join their target group through the AWS
# Load Balancer Controller's TargetGroupBinding, created by each Helm release.

resource "aws_security_group" "alb" {
  name        = "${local.name}-alb"
  description = "Public web traffic to the shared ALB"
  vpc_id      = module.vpc.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "alb_http" {
  security_group_id = aws_security_group.alb.id
  description       = "HTTP from anyone (redirected to HTTPS when a domain is configured)"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_ingress_rule" "alb_https" {
  security_group_id = aws_security_group.alb.id
  description       = "HTTPS from anyone"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "alb_to_pods" {
  security_group_id            = aws_security_group.alb.id
  description                  = "To the app pods (gunicorn on 8000)"
  ip_protocol                  = "tcp"
  from_port                    = 8000
  to_port                      = 8000
  referenced_security_group_id = module.eks.node_security_group_id
}

resource "aws_vpc_security_group_ingress_rule" "pods_from_alb" {
  security_group_id            = module.eks.node_security_group_id
  description                  = "App pods (gunicorn on 8000) from the shared ALB"
  ip_protocol                  = "tcp"
  from_port                    = 8000
  to_port                      = 8000
  referenced_security_group_id = aws_security_group.alb.id
}

resource "aws_lb" "web" {
  name               = local.name
  load_balancer_type = "application"
  internal           = false
  subnets            = module.vpc.public_subnets
  security_groups    = [aws_security_group.alb.id]

  drop_invalid_header_fields = true
  enable_deletion_protection = var.deletion_protection
  idle_timeout               = 60

  access_logs {
    bucket  = aws_s3_bucket.alb_logs.id
    prefix  = "alb"
    enabled = true
  }

  depends_on = [aws_s3_bucket_policy.alb_logs]
}

resource "aws_lb_target_group" "variant" {
  for_each = local.variants

  name        = "${local.name}-${each.key}"
  target_type = "ip"
  port        = 8000
  protocol    = "HTTP"
  vpc_id      = module.vpc.vpc_id

  # Shorter than the pod's preStop sleep plus graceful shutdown (45 s), so the ALB stops
  # sending before gunicorn stops answering.
  deregistration_delay = 30

  health_check {
    path                = "/readyz"
    matcher             = "200"
    protocol            = "HTTP"
    port                = "traffic-port"
    interval            = 10
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }

  tags = {
    Variant = each.key
    Theme   = each.value.theme
  }
}

# ---------------------------------------------------------------------------------------------
# Listeners
# ---------------------------------------------------------------------------------------------

resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.web.arn
  port              = 80
  protocol          = "HTTP"

  # With a domain, HTTP only redirects; without one (no certificate possible) it serves the split.
  default_action {
    type = local.https ? "redirect" : "fixed-response"

    dynamic "redirect" {
      for_each = local.https ? [1] : []
      content {
        port        = "443"
        protocol    = "HTTPS"
        status_code = "HTTP_301"
      }
    }

    dynamic "fixed_response" {
      for_each = local.https ? [] : [1]
      content {
        content_type = "text/plain"
        message_body = "Not found"
        status_code  = "404"
      }
    }
  }
}

resource "aws_lb_listener" "https" {
  count = local.https ? 1 : 0

  load_balancer_arn = aws_lb.web.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = aws_acm_certificate_validation.web[0].certificate_arn

  default_action {
    type = "fixed-response"
    fixed_response {
      content_type = "text/plain"
      message_body = "Not found"
      status_code  = "404"
    }
  }
}

# The weighted split. The preconditions refuse what the ALB cannot serve, with the same rules
# as app/config/variants.py (the Python loader every other reader uses). A weight must be a
# YAML number (jsonencode of a quoted "34" differs from its tostring), whole, from 0 to 999.
resource "aws_lb_listener_rule" "split" {
  listener_arn = local.https ? aws_lb_listener.https[0].arn : aws_lb_listener.http.arn
  priority     = 100

  action {
    type = "forward"
    forward {
      dynamic "target_group" {
        for_each = local.variants
        content {
          arn    = aws_lb_target_group.variant[target_group.key].arn
          weight = target_group.value.weight
        }
      }
      stickiness {
        enabled  = true
        duration = local.stickiness_seconds
      }
    }
  }

  condition {
    path_pattern {
      values = ["/*"]
    }
  }

  lifecycle {
    precondition {
      condition     = length(local.variants) >= 1 && length(local.variants) <= 5
      error_message = "variants.yaml must list from 1 to 5 variants (the ALB forwards to at most 5 target groups per rule)."
    }
    precondition {
      condition     = alltrue([for name, _ in local.variants : can(regex("^[a-e]$", name))])
      error_message = "variants.yaml: variant names must be one of a, b, c, d, e."
    }
    precondition {
      condition     = alltrue([for v in values(local.variants) : try(jsonencode(v.weight) == tostring(v.weight) && floor(v.weight) == v.weight && v.weight >= 0 && v.weight <= 999, false)])
      error_message = "variants.yaml: every weight must be an integer from 0 to 999."
    }
    precondition {
      condition     = sum(concat([0], [for v in values(local.variants) : try(tonumber(v.weight), 0)])) > 0
      error_message = "variants.yaml: at least one weight must be above 0."
    }
    precondition {
      condition     = try(jsonencode(local.stickiness_seconds) == tostring(local.stickiness_seconds) && floor(local.stickiness_seconds) == local.stickiness_seconds && local.stickiness_seconds >= 1 && local.stickiness_seconds <= 604800, false)
      error_message = "variants.yaml: stickinessSeconds must be an integer from 1 to 604800."
    }
  }
}

# ---------------------------------------------------------------------------------------------
# Certificate and DNS (only when domain_name is set)
# ---------------------------------------------------------------------------------------------

data "aws_route53_zone" "web" {
  count = local.https ? 1 : 0

  name         = var.route53_zone_name
  private_zone = false
}

resource "aws_acm_certificate" "web" {
  count = local.https ? 1 : 0

  domain_name       = var.domain_name
  validation_method = "DNS"

  lifecycle {
    create_before_destroy = true
    precondition {
      condition     = var.route53_zone_name != ""
      error_message = "domain_name needs route53_zone_name: the certificate is validated through that zone."
    }
  }
}

resource "aws_route53_record" "certificate_validation" {
  for_each = local.https ? {
    for option in aws_acm_certificate.web[0].domain_validation_options : option.domain_name => option
  } : {}

  zone_id         = data.aws_route53_zone.web[0].zone_id
  name            = each.value.resource_record_name
  type            = each.value.resource_record_type
  records         = [each.value.resource_record_value]
  ttl             = 60
  allow_overwrite = true
}

resource "aws_acm_certificate_validation" "web" {
  count = local.https ? 1 : 0

  certificate_arn         = aws_acm_certificate.web[0].arn
  validation_record_fqdns = [for record in aws_route53_record.certificate_validation : record.fqdn]
}

locals {
  # The edge serves domain_name when it holds its certificate (edge.tf: aliases); visitors must then
  # reach CloudFront (cache, edge WAF, API rate limit), not the ALB behind it.
  edge_serves_domain = local.https && var.edge_certificate_arn != ""
}

# The public name: an alias of the edge when it serves the name, else of the ALB. With dns_failover
# the name is dr.tf's failover records instead (on the two ALBs; variables.tf refuses them with the edge).
resource "aws_route53_record" "web" {
  count = local.https && !local.dns_failover ? 1 : 0

  zone_id = data.aws_route53_zone.web[0].zone_id
  name    = var.domain_name
  type    = "A"

  alias {
    name    = local.edge_serves_domain ? aws_cloudfront_distribution.web.domain_name : aws_lb.web.dns_name
    zone_id = local.edge_serves_domain ? aws_cloudfront_distribution.web.hosted_zone_id : aws_lb.web.zone_id
    # Route 53 cannot evaluate a CloudFront distribution's health (it must be false there).
    evaluate_target_health = !local.edge_serves_domain
  }
}

# The edge answers IPv6 too (is_ipv6_enabled); the ALB is IPv4 only, so AAAA exists with the edge alone.
resource "aws_route53_record" "web_ipv6" {
  count = local.edge_serves_domain && !local.dns_failover ? 1 : 0

  zone_id = data.aws_route53_zone.web[0].zone_id
  name    = var.domain_name
  type    = "AAAA"

  alias {
    name                   = aws_cloudfront_distribution.web.domain_name
    zone_id                = aws_cloudfront_distribution.web.hosted_zone_id
    evaluate_target_health = false
  }
}

# ---------------------------------------------------------------------------------------------
# Access logs (which variant a request reached is in the target group field)
# ---------------------------------------------------------------------------------------------

data "aws_elb_service_account" "current" {}

resource "aws_s3_bucket" "alb_logs" {
  bucket        = "${local.name}-alb-logs-${local.account_id}"
  force_destroy = !var.deletion_protection
}

resource "aws_s3_bucket_public_access_block" "alb_logs" {
  bucket                  = aws_s3_bucket.alb_logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "alb_logs" {
  bucket = aws_s3_bucket.alb_logs.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "alb_logs" {
  bucket = aws_s3_bucket.alb_logs.id
  versioning_configuration {
    status = "Enabled"
  }
}

# ALB access logs can only be written with S3-managed keys (SSE-S3), not KMS.
resource "aws_s3_bucket_server_side_encryption_configuration" "alb_logs" {
  bucket = aws_s3_bucket.alb_logs.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "alb_logs" {
  bucket = aws_s3_bucket.alb_logs.id

  rule {
    id     = "expire"
    status = "Enabled"
    filter {}
    expiration {
      days = var.log_retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 7
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

data "aws_iam_policy_document" "alb_logs" {
  statement {
    sid       = "ElbWritesLogs"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.alb_logs.arn}/alb/AWSLogs/${local.account_id}/*"]
    principals {
      type        = "AWS"
      identifiers = [data.aws_elb_service_account.current.arn]
    }
  }

  statement {
    sid       = "ElbLogDeliveryWritesLogs"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.alb_logs.arn}/alb/AWSLogs/${local.account_id}/*"]
    principals {
      type        = "Service"
      identifiers = ["logdelivery.elasticloadbalancing.amazonaws.com"]
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.alb_logs.arn, "${aws_s3_bucket.alb_logs.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "alb_logs" {
  bucket = aws_s3_bucket.alb_logs.id
  policy = data.aws_iam_policy_document.alb_logs.json

  depends_on = [aws_s3_bucket_public_access_block.alb_logs]
}
