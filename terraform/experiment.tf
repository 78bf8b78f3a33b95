# Deterministic assignment on the ALB. The ALB's own stickiness cannot hash a visitor id, so the
# app sets pz_arm=<variant> beside pz_visitor (the variant the id's hash picks with the experiment
# salt, app/experiment/assignment.py) and one rule per variant forwards a request carrying it to
# that variant's target group, ahead of the weighted split (priority 100), which still places new
# visitors by weight. The cookie only routes: orders are credited by the visitor's first exposure.
resource "aws_lb_listener_rule" "assigned" {
  for_each     = { for name, v in local.variants : name => v if v.weight > 0 }
  listener_arn = local.https ? aws_lb_listener.https[0].arn : aws_lb_listener.http.arn
  priority     = 10 + index(sort(keys(local.variants)), each.key)

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.variant[each.key].arn
  }

  condition {
    http_header {
      http_header_name = "Cookie"
      values           = ["*pz_arm=${each.key}*"]
    }
  }
}
