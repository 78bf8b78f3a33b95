# One image repository per environment; every variant runs an image from it (tags are immutable,
# so a tag names one build forever and A, B and C can pin different ones). Only dev's repository
# receives builds: qa and prod receive, by digest, the image the environment before them ran and
# passed (deploy.yml copies it and tags it passed-<env>-<commit> after each successful deploy).
locals {
  # The repository images are promoted from: the previous environment's, in this account and region
  # (its local.name is pizza-<env>, main.tf). The standby region gets prod's images by replication
  # (dr.tf) and promotes nothing, so it neither publishes a source nor may read one.
  promotes                    = var.promote_from_environment != "" && var.region_role == "primary"
  promote_from_repository     = "pizza-${var.promote_from_environment}"
  promote_from_repository_url = local.promotes ? "${split("/", aws_ecr_repository.app.repository_url)[0]}/${local.promote_from_repository}" : ""
}

resource "aws_ecr_repository" "app" {
  name                 = local.name
  image_tag_mutability = "IMMUTABLE"
  force_delete         = !var.deletion_protection

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = aws_kms_key.ecr.arn
  }
}

resource "aws_ecr_lifecycle_policy" "app" {
  repository = aws_ecr_repository.app.name
  policy = jsonencode({
    rules = [
      {
        rulePriority = 1
        description  = "Drop untagged layers after a week"
        selection = {
          tagStatus   = "untagged"
          countType   = "sinceImagePushed"
          countUnit   = "days"
          countNumber = 7
        }
        action = { type = "expire" }
      },
      {
        rulePriority = 2
        description  = "Keep the 50 newest tagged images (enough to roll any variant back)"
        selection = {
          tagStatus   = "any"
          countType   = "imageCountMoreThan"
          countNumber = 50
        }
        action = { type = "expire" }
      },
    ]
  })
}
