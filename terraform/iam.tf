# GitHub Actions reach AWS only through OIDC: no access key exists anywhere. The provider is
# account-wide, so bootstrap/ creates it once. Each role below trusts exactly one GitHub
# environment of this repository, matching the workflows:
#   plan   <- environment "<env>-plan"  (terraform.yml plan job; no reviewers, so read-only)
#   apply  <- environment "<env>-apply" (terraform.yml apply job; required reviewers)
#   deploy <- environment "<env>"       (deploy.yml: push the image, roll the Helm releases)

data "aws_iam_openid_connect_provider" "github" {
  url = "https://token.actions.githubusercontent.com"
}

locals {
  github_subjects = {
    plan   = "repo:${var.github_repository}:environment:${var.environment}-plan"
    apply  = "repo:${var.github_repository}:environment:${var.environment}-apply"
    deploy = "repo:${var.github_repository}:environment:${var.environment}"
  }
}

data "aws_iam_policy_document" "github_trust" {
  for_each = local.github_subjects

  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [data.aws_iam_openid_connect_provider.github.arn]
    }
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = [each.value]
    }
  }
}

# ---------------------------------------------------------------------------------------------
# plan: reads everything this stack manages, writes nothing but the state lock
# ---------------------------------------------------------------------------------------------

resource "aws_iam_role" "plan" {
  name                 = "${local.name}-github-plan"
  description          = "GitHub Actions (${local.github_subjects.plan}) running terraform plan"
  assume_role_policy   = data.aws_iam_policy_document.github_trust["plan"].json
  max_session_duration = 3600
}

resource "aws_iam_role_policy_attachment" "plan_read_only" {
  role       = aws_iam_role.plan.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/ReadOnlyAccess"
}

data "aws_iam_policy_document" "plan" {
  # Refreshing the secret versions reads their values; ReadOnlyAccess leaves that out.
  statement {
    sid       = "RefreshAppSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.database.arn, aws_secretsmanager_secret.database_owner.arn, aws_secretsmanager_secret.django.arn, aws_secretsmanager_secret.cache.arn]
  }

  statement {
    sid       = "DecryptAppSecrets"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.secrets.arn]
  }

  # Refreshing the deploy outputs SecureString decrypts it with its key (the ECR key); only through
  # SSM, so the plan role still cannot decrypt the images' data keys directly.
  statement {
    sid       = "RefreshDeployOutputs"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.ecr.arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["ssm.${var.region}.amazonaws.com"]
    }
  }

  # The S3 backend writes and removes <key>.tflock beside the state (use_lockfile).
  statement {
    sid       = "StateLockFile"
    actions   = ["s3:PutObject", "s3:DeleteObject"]
    resources = ["arn:${local.partition}:s3:::*/pizza/${var.environment}/terraform.tfstate.tflock"]
  }

  # The saved plan embeds the state, so it is kept beside the state (private, KMS-encrypted) for
  # the apply job, never uploaded as a workflow artifact.
  statement {
    sid       = "SavedPlans"
    actions   = ["s3:PutObject"]
    resources = ["arn:${local.partition}:s3:::*/pizza/${var.environment}/plans/*"]
  }

  # The state bucket is encrypted with its own key (bootstrap/), used only through S3.
  statement {
    sid       = "StateKeyThroughS3"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = ["arn:${local.partition}:kms:${var.region}:${local.account_id}:key/*"]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${var.region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "plan" {
  name   = "plan-extras"
  role   = aws_iam_role.plan.id
  policy = data.aws_iam_policy_document.plan.json
}

# ---------------------------------------------------------------------------------------------
# apply: changes this stack (after a reviewer approved the plan)
# ---------------------------------------------------------------------------------------------

resource "aws_iam_role" "apply" {
  name                 = "${local.name}-github-apply"
  description          = "GitHub Actions (${local.github_subjects.apply}) running terraform apply/destroy"
  assume_role_policy   = data.aws_iam_policy_document.github_trust["apply"].json
  max_session_duration = 3600
  permissions_boundary = aws_iam_policy.apply_boundary.arn
}


# Everything but IAM and Organizations; IAM is granted below only on this environment's names.
resource "aws_iam_role_policy_attachment" "apply_power_user" {
  role       = aws_iam_role.apply.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/PowerUserAccess"
}

data "aws_iam_policy_document" "apply_iam" {
  statement {
    sid     = "ReadIam"
    actions = ["iam:Get*", "iam:List*"]
    resources = [
      "arn:${local.partition}:iam::${local.account_id}:*",
      "arn:${local.partition}:iam::aws:policy/*",
    ]
  }

  statement {
    sid     = "ManageThisEnvironmentsRolesAndPolicies"
    actions = ["iam:*"]
    resources = [
      "arn:${local.partition}:iam::${local.account_id}:role/${local.name}-*",
      "arn:${local.partition}:iam::${local.account_id}:policy/${local.name}-*",
    ]
  }

  statement {
    sid       = "ServiceLinkedRoles"
    actions   = ["iam:CreateServiceLinkedRole"]
    resources = ["arn:${local.partition}:iam::${local.account_id}:role/aws-service-role/*"]
    condition {
      test     = "StringEquals"
      variable = "iam:AWSServiceName"
      values = [
        "autoscaling.amazonaws.com",
        "eks.amazonaws.com",
        "eks-nodegroup.amazonaws.com",
        "elasticloadbalancing.amazonaws.com",
        "rds.amazonaws.com",
      ]
    }
  }
}

# Said in the role's own policy too, so it holds even before the boundary is attached.
data "aws_iam_policy_document" "apply_not_itself" {
  statement {
    sid    = "NeverChangeItself"
    effect = "Deny"
    actions = [
      "iam:AttachRolePolicy",
      "iam:DeleteRole",
      "iam:DeleteRolePermissionsBoundary",
      "iam:DeleteRolePolicy",
      "iam:DetachRolePolicy",
      "iam:PutRolePermissionsBoundary",
      "iam:PutRolePolicy",
      "iam:UpdateAssumeRolePolicy",
      "iam:UpdateRole",
    ]
    resources = ["arn:${local.partition}:iam::${local.account_id}:role/${local.name}-github-apply"]
  }
}

resource "aws_iam_role_policy" "apply_not_itself" {
  name   = "deny-self-modification"
  role   = aws_iam_role.apply.id
  policy = data.aws_iam_policy_document.apply_not_itself.json
}

resource "aws_iam_role_policy" "apply_iam" {
  name   = "manage-own-iam"
  role   = aws_iam_role.apply.id
  policy = data.aws_iam_policy_document.apply_iam.json
}

# ---------------------------------------------------------------------------------------------
# deploy: pushes the image and rolls the Helm releases
# ---------------------------------------------------------------------------------------------

resource "aws_iam_role" "deploy" {
  name                 = "${local.name}-github-deploy"
  description          = "GitHub Actions (${local.github_subjects.deploy}) pushing images and rolling Helm releases"
  assume_role_policy   = data.aws_iam_policy_document.github_trust["deploy"].json
  max_session_duration = 3600
}

data "aws_iam_policy_document" "deploy" {
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"] # the login token is account-wide by design
  }

  statement {
    sid = "PushAndPullTheAppImage"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:CompleteLayerUpload",
      "ecr:DescribeImageScanFindings",
      "ecr:DescribeImages",
      "ecr:GetDownloadUrlForLayer",
      "ecr:InitiateLayerUpload",
      "ecr:PutImage",
      "ecr:UploadLayerPart",
    ]
    resources = [aws_ecr_repository.app.arn]
  }

  statement {
    sid       = "UseTheImageKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.ecr.arn]
  }

  # qa and prod never build: they copy the digest the previous environment ran and passed (deploy.yml,
  # promote_from_environment), so they may read that one repository, and push nothing to it.
  dynamic "statement" {
    for_each = local.promotes ? [local.promote_from_repository] : []
    content {
      sid = "PullFromThePreviousEnvironment"
      actions = [
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:DescribeImages",
        "ecr:GetDownloadUrlForLayer",
      ]
      resources = ["arn:${local.partition}:ecr:${var.region}:${local.account_id}:repository/${statement.value}"]
    }
  }

  # Its layers are encrypted with that environment's image key (kms.tf: alias/pizza-<env>-ecr). Named
  # by alias, because its key id lives in the other environment's state; usable only through ECR.
  dynamic "statement" {
    for_each = local.promotes ? [local.promote_from_repository] : []
    content {
      sid       = "DecryptThePreviousEnvironmentsImages"
      actions   = ["kms:Decrypt"]
      resources = ["arn:${local.partition}:kms:${var.region}:${local.account_id}:key/*"]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["ecr.${var.region}.amazonaws.com"]
      }
      condition {
        test     = "ForAnyValue:StringEquals"
        variable = "kms:ResourceAliases"
        values   = ["alias/${statement.value}-ecr"]
      }
    }
  }

  statement {
    sid       = "FindTheCluster"
    actions   = ["eks:DescribeCluster"]
    resources = [module.eks.cluster_arn]
  }

  # The deploy reads what it needs from this parameter instead of the state, which it may not read.
  statement {
    sid       = "ReadDeployOutputs"
    actions   = ["ssm:GetParameter"]
    resources = [aws_ssm_parameter.deploy_outputs.arn]
  }
}

resource "aws_iam_role_policy" "deploy" {
  name   = "push-and-release"
  role   = aws_iam_role.deploy.id
  policy = data.aws_iam_policy_document.deploy.json
}
