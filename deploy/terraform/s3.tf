# Buckets for uploads (the seed's frameforge-videos-<env>) and results: versioned, encrypted
# (SSE-S3), never public, TLS only; objects go to Glacier after 30 days, and unfinished
# multipart uploads are aborted after 7. Deleted means deleted: the API and retention
# delete every version of what they remove (frameforge_pipeline/resources/s3_storage.py);
# what an overwrite or a plain delete leaves behind (a noncurrent version, a delete marker)
# expires on every prefix `noncurrent_version_days` (1) after it stopped being current, and
# S3 runs lifecycle actions asynchronously, usually within a day after that: about 2 days
# at most in all. Uploads never confirmed by a job (under uploads/; a confirmed one is moved
# to sources/, out of the upload URL's reach) expire after 2 days; the upload_retention
# sensor sweeps them sooner.

locals {
  buckets = {
    uploads = "${var.project}-videos-${var.environment}${var.bucket_suffix}"
    results = "${var.project}-results-${var.environment}${var.bucket_suffix}"
  }
}

resource "aws_s3_bucket" "main" {
  for_each = local.buckets

  bucket        = each.value
  force_destroy = local.dev

  tags = {
    Name    = each.value
    Purpose = each.key
  }
}

resource "aws_s3_bucket_ownership_controls" "main" {
  for_each = aws_s3_bucket.main

  bucket = each.value.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "main" {
  for_each = aws_s3_bucket.main

  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "main" {
  for_each = aws_s3_bucket.main

  bucket = each.value.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "main" {
  for_each = aws_s3_bucket.main

  bucket = each.value.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "main" {
  for_each = aws_s3_bucket.main

  bucket = each.value.id

  rule {
    id     = "glacier-after-${var.glacier_transition_days}-days"
    status = "Enabled"

    filter {}

    transition {
      days          = var.glacier_transition_days
      storage_class = "GLACIER"
    }
  }

  rule {
    id     = "expire-noncurrent-versions"
    status = "Enabled"

    # every prefix: an overwritten or deleted object's old versions, then its delete marker
    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_days
    }

    expiration {
      expired_object_delete_marker = true
    }
  }

  rule {
    id     = "expire-unconfirmed-uploads"
    status = "Enabled"

    # only the uploads bucket has keys under uploads/; sources/ is left alone
    filter {
      prefix = "uploads/"
    }

    expiration {
      days = 2
    }
  }

  rule {
    id     = "abort-incomplete-multipart-uploads"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = var.incomplete_multipart_upload_days
    }
  }

  # the lifecycle rules apply to versions: versioning must exist first
  depends_on = [aws_s3_bucket_versioning.main]
}

data "aws_iam_policy_document" "tls_only" {
  for_each = aws_s3_bucket.main

  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      each.value.arn,
      "${each.value.arn}/*",
    ]

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

resource "aws_s3_bucket_policy" "tls_only" {
  for_each = aws_s3_bucket.main

  bucket = each.value.id
  policy = data.aws_iam_policy_document.tls_only[each.key].json

  depends_on = [aws_s3_bucket_public_access_block.main]
}

# The web page (served by the API at /) uploads straight to the uploads bucket with the
# presigned PUT the API hands out, from the browser: the bucket must allow that origin.
resource "aws_s3_bucket_cors_configuration" "uploads" {
  count  = length(var.web_origins) > 0 ? 1 : 0
  bucket = aws_s3_bucket.main["uploads"].id

  cors_rule {
    allowed_methods = ["PUT"]
    allowed_origins = var.web_origins
    allowed_headers = ["content-type", "content-length"]
    expose_headers  = ["etag"]
    max_age_seconds = 3600
  }
}
