provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project     = "pizza-abc"
      Environment = var.environment
      ManagedBy   = "terraform-bootstrap"
    }
  }
}
