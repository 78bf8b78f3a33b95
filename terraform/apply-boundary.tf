# The apply role may manage this environment's roles (iam:* on pizza-<env>-*), which includes its
# own name. The boundary caps what it can ever do, whatever policy gets attached to it: it cannot
# change itself or the boundary, cannot hop into another role, and cannot hand a role it made to a
# service that would run arbitrary code as it. Changes to the apply role are a human admin's apply.
data "aws_iam_policy_document" "apply_boundary" {
  # A boundary grants nothing by itself: it caps the role's own policies (PowerUserAccess and
  # manage-own-iam). Users, keys and the organisation stay outside the cap.
  statement {
    sid         = "AtMostWhatThePoliciesAllow"
    not_actions = ["iam:CreateUser", "iam:CreateAccessKey", "iam:CreateLoginProfile", "organizations:*", "account:*"]
    resources   = ["*"]
  }

  statement {
    sid    = "NeverChangeItselfOrThisBoundary"
    effect = "Deny"
    # Everything but reading (terraform refresh reads both).
    not_actions = ["iam:Get*", "iam:List*"]
    resources = [
      "arn:${local.partition}:iam::${local.account_id}:role/${local.name}-github-apply",
      "arn:${local.partition}:iam::${local.account_id}:policy/${local.name}-apply-boundary",
    ]
  }

  statement {
    sid       = "NoRoleHopping"
    effect    = "Deny"
    actions   = ["sts:AssumeRole"]
    resources = ["*"]
  }

  statement {
    sid       = "NoAdministratorPolicies"
    effect    = "Deny"
    actions   = ["iam:AttachRolePolicy", "iam:AttachUserPolicy", "iam:AttachGroupPolicy"]
    resources = ["*"]
    condition {
      test     = "ArnLike"
      variable = "iam:PolicyARN"
      values = [
        "arn:${local.partition}:iam::aws:policy/AdministratorAccess",
        "arn:${local.partition}:iam::aws:policy/IAMFullAccess",
        "arn:${local.partition}:iam::aws:policy/PowerUserAccess",
      ]
    }
  }

  # Roles go only to the services this stack runs them in (nodes, EKS, pods, RDS monitoring, flow logs).
  statement {
    sid       = "PassRolesOnlyToThisStacksServices"
    effect    = "Deny"
    actions   = ["iam:PassRole"]
    resources = ["*"]
    condition {
      test     = "StringNotEquals"
      variable = "iam:PassedToService"
      values = [
        "ec2.amazonaws.com",
        "eks.amazonaws.com",
        "pods.eks.amazonaws.com",
        "monitoring.rds.amazonaws.com",
        "vpc-flow-logs.amazonaws.com",
      ]
    }
  }

}

resource "aws_iam_policy" "apply_boundary" {
  name        = "${local.name}-apply-boundary"
  description = "Permissions boundary of ${local.name}-github-apply: no self-modification, no role hopping"
  policy      = data.aws_iam_policy_document.apply_boundary.json
}
