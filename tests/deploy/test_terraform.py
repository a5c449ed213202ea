"""deploy/terraform/: ``terraform fmt -check`` and the seed's facts, read from the HCL with
python-hcl2 (8.x, pinned in pyproject.toml: its output shape changed across versions).

``terraform validate`` and ``plan`` need the AWS provider, downloaded from the Terraform
registry by ``terraform init``; no registry is reachable from these machines, so they are not
run here (deploy/README.md)."""

from __future__ import annotations

import ipaddress
import re
import subprocess
from functools import cache
from typing import Any

import hcl2
import pytest
from hcl2.utils import SerializationOptions

from tests.deploy.tools import REPO, find_tool

TERRAFORM = REPO / "deploy" / "terraform"
# Labels and strings without their quotes, blocks as lists, no comments (python-hcl2 8.x).
OPTIONS = SerializationOptions(strip_string_quotes=True, with_comments=False, explicit_blocks=False)
VARIABLE = re.compile(r"\$\{var\.(\w+)\}")


@cache
def parsed() -> dict[str, dict[str, Any]]:
    files = sorted(TERRAFORM.glob("*.tf"))
    assert files
    found = {}
    for path in files:
        with path.open() as handle:
            found[path.name] = hcl2.load(handle, serialization_options=OPTIONS)
    return found


def blocks(kind: str) -> list[dict[str, Any]]:
    return [block for document in parsed().values() for block in document.get(kind, [])]


def resources(kind: str) -> dict[str, dict[str, Any]]:
    """Resources of type ``kind`` by name."""
    return {
        name: body
        for block in blocks("resource")
        for kind_, named in block.items()
        if kind_ == kind
        for name, body in named.items()
    }


def resource(kind: str, name: str = "main") -> dict[str, Any]:
    found = resources(kind)
    assert name in found, f"no {kind}.{name}"
    return found[name]


@cache
def defaults() -> dict[str, Any]:
    found = {}
    for block in blocks("variable"):
        for name, body in block.items():
            found[name] = body.get("default")
    return found


def value(expression: Any) -> Any:
    """A literal, or the default of the variable an expression is exactly."""
    if isinstance(expression, str) and (match := VARIABLE.fullmatch(expression)):
        return defaults()[match[1]]
    return expression


def count_of(body: dict[str, Any]) -> int:
    match = re.fullmatch(r"\$\{length\(var\.(\w+)\)\}", body["count"])
    assert match, body["count"]
    return len(defaults()[match[1]])


def one(body: dict[str, Any], block: str) -> dict[str, Any]:
    (inner,) = body[block]
    return inner


def test_terraform_fmt_is_clean():
    done = subprocess.run(
        [find_tool("terraform"), "fmt", "-check", "-recursive", "-diff", str(TERRAFORM)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_providers_and_terraform_are_pinned():
    (settings,) = blocks("terraform")
    assert settings["required_version"].startswith(">= 1.5")
    (providers,) = settings["required_providers"]
    assert set(providers) == {"aws", "random"}
    for provider in providers.values():
        assert re.fullmatch(r"\d+\.\d+\.\d+", provider["version"]), provider
    assert providers["aws"]["source"] == "hashicorp/aws"
    assert providers["aws"]["version"].startswith("5.")


def test_variables_and_outputs_are_described():
    for block in blocks("variable"):
        for name, body in block.items():
            assert body.get("description"), name
            assert body.get("type"), name
    outputs = {name for block in blocks("output") for name in block}
    assert {"rds_endpoint", "s3_uploads_bucket", "s3_results_bucket", "eks_cluster_name"} <= outputs
    for block in blocks("output"):
        for name, body in block.items():
            assert body.get("description"), name


def test_the_vpc_has_two_public_and_two_private_subnets():
    vpc = resource("aws_vpc")
    assert value(vpc["cidr_block"]) == "10.0.0.0/16"
    network = ipaddress.ip_network(value(vpc["cidr_block"]))
    public, private = resource("aws_subnet", "public"), resource("aws_subnet", "private")
    assert count_of(public) == 2
    assert count_of(private) == 2
    assert defaults()["public_subnet_cidrs"] == ["10.0.1.0/24", "10.0.2.0/24"]
    assert defaults()["private_subnet_cidrs"] == ["10.0.10.0/24", "10.0.11.0/24"]
    subnets = [ipaddress.ip_network(cidr) for cidr in defaults()["public_subnet_cidrs"]]
    subnets += [ipaddress.ip_network(cidr) for cidr in defaults()["private_subnet_cidrs"]]
    assert all(subnet.subnet_of(network) for subnet in subnets)
    assert not any(a.overlaps(b) for i, a in enumerate(subnets) for b in subnets[i + 1 :])
    assert public["map_public_ip_on_launch"] is True
    assert "map_public_ip_on_launch" not in private
    # two zones, not one
    assert "count.index" in public["availability_zone"]
    assert "count.index" in private["availability_zone"]


def test_public_subnets_route_to_the_internet_gateway_and_private_ones_to_nat():
    assert resource("aws_internet_gateway")["vpc_id"] == "${aws_vpc.main.id}"
    nat = resource("aws_nat_gateway")
    assert nat["subnet_id"] == "${aws_subnet.public[0].id}"
    public_route = one(resource("aws_route_table", "public"), "route")
    private_route = one(resource("aws_route_table", "private"), "route")
    assert public_route == {
        "cidr_block": "0.0.0.0/0",
        "gateway_id": "${aws_internet_gateway.main.id}",
    }
    assert private_route == {
        "cidr_block": "0.0.0.0/0",
        "nat_gateway_id": "${aws_nat_gateway.main.id}",
    }
    associations = resources("aws_route_table_association")
    assert associations["public"]["route_table_id"] == "${aws_route_table.public.id}"
    assert associations["private"]["route_table_id"] == "${aws_route_table.private.id}"


def test_rds_is_postgresql_15_with_its_password_in_secrets_manager():
    database = resource("aws_db_instance")
    assert database["engine"] == "postgres"
    assert str(value(database["engine_version"])).split(".")[0] == "15"
    assert value(database["instance_class"]) == "db.t3.micro"
    assert database["manage_master_user_password"] is True
    assert "password" not in database
    assert database["storage_encrypted"] is True
    assert database["publicly_accessible"] is False
    assert value(database["backup_retention_period"]) == 7
    assert resource("aws_db_subnet_group")["subnet_ids"] == "${aws_subnet.private[*].id}"
    assert resource("aws_db_parameter_group", "postgres")["family"] == "postgres15"


def test_rds_is_reachable_only_from_the_eks_nodes():
    group = resource("aws_security_group", "rds")
    assert "ingress" not in group  # rules only as their own resources
    assert "egress" not in group
    rules = [
        rule
        for rule in resources("aws_vpc_security_group_ingress_rule").values()
        if rule["security_group_id"] == "${aws_security_group.rds.id}"
    ]
    assert rules == [
        {
            "security_group_id": "${aws_security_group.rds.id}",
            "description": "PostgreSQL from the EKS nodes",
            "ip_protocol": "tcp",
            "from_port": 5432,
            "to_port": 5432,
            "referenced_security_group_id": (
                "${aws_eks_cluster.main.vpc_config[0].cluster_security_group_id}"
            ),
        }
    ]
    assert not resources("aws_security_group_rule")  # no other way in
    assert resource("aws_db_instance")["vpc_security_group_ids"] == ["${aws_security_group.rds.id}"]
    # the nodes do run in that group: a managed node group without a launch template
    assert "launch_template" not in resource("aws_eks_node_group")


def test_both_buckets_are_versioned_encrypted_private_and_go_to_glacier_after_30_days():
    """Current objects go to Glacier; old versions expire instead (deleted means deleted)."""
    (local,) = [block for block in blocks("locals") if "buckets" in block]
    assert set(local["buckets"]) == {"uploads", "results"}
    assert resource("aws_s3_bucket")["for_each"] == "${local.buckets}"
    per_bucket = [
        "aws_s3_bucket_versioning",
        "aws_s3_bucket_server_side_encryption_configuration",
        "aws_s3_bucket_public_access_block",
        "aws_s3_bucket_lifecycle_configuration",
        "aws_s3_bucket_ownership_controls",
    ]
    for kind in per_bucket:  # one of each for every bucket
        assert resource(kind)["for_each"] == "${aws_s3_bucket.main}", kind
        assert resource(kind)["bucket"] == "${each.value.id}", kind

    versioning = one(resource("aws_s3_bucket_versioning"), "versioning_configuration")
    assert versioning["status"] == "Enabled"
    encryption = one(resource("aws_s3_bucket_server_side_encryption_configuration"), "rule")
    default = one(encryption, "apply_server_side_encryption_by_default")
    assert default["sse_algorithm"] in {"AES256", "aws:kms"}
    block = resource("aws_s3_bucket_public_access_block")
    for setting in (
        "block_public_acls",
        "block_public_policy",
        "ignore_public_acls",
        "restrict_public_buckets",
    ):
        assert block[setting] is True, setting

    rules = resource("aws_s3_bucket_lifecycle_configuration")["rule"]
    assert all(rule["status"] == "Enabled" for rule in rules)
    transitions = [t for rule in rules for t in rule.get("transition", [])]
    assert [(value(t["days"]), t["storage_class"]) for t in transitions] == [(30, "GLACIER")]
    assert not [t for rule in rules for t in rule.get("noncurrent_version_transition", [])]
    aborts = [a for rule in rules for a in rule.get("abort_incomplete_multipart_upload", [])]
    assert len(aborts) == 1
    assert 1 <= value(aborts[0]["days_after_initiation"]) <= 30


def test_eks_is_1_28_or_later_with_a_node_group_of_2_to_10():
    cluster = resource("aws_eks_cluster")
    major, minor = map(int, value(cluster["version"]).split("."))
    assert (major, minor) >= (1, 28)
    assert cluster["name"] == "${local.name}"
    nodes = resource("aws_eks_node_group")
    scaling = one(nodes, "scaling_config")
    assert value(scaling["min_size"]) == 2
    assert value(scaling["max_size"]) == 10
    assert (
        value(scaling["min_size"]) <= value(scaling["desired_size"]) <= value(scaling["max_size"])
    )
    assert nodes["subnet_ids"] == "${aws_subnet.private[*].id}"
    assert one(cluster, "encryption_config")["resources"] == ["secrets"]


def _literal_secrets(node: Any, path: str = "") -> list[str]:
    """Attributes named like a secret whose value is a literal, not a reference."""
    found = []
    if isinstance(node, dict):
        for key, item in node.items():
            where = f"{path}.{key}"
            secret_name = re.search(r"password|secret_string|secret_key|access_key", key)
            if secret_name and isinstance(item, str) and "${" not in item:
                found.append(where)
            found += _literal_secrets(item, where)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            found += _literal_secrets(item, f"{path}[{index}]")
    return found


@pytest.mark.parametrize("name", sorted(path.name for path in TERRAFORM.glob("*.tf")))
def test_no_plaintext_password(name: str):
    assert not _literal_secrets(parsed()[name])
    text = (TERRAFORM / name).read_text()
    assert not re.search(r'^\s*(password|secret_string)\s*=\s*"', text, re.MULTILINE)
    for block in parsed()[name].get("variable", []):
        for variable in block:
            assert not re.search("password|secret", variable), f"a secret as variable {variable}"


def test_the_jwt_secret_is_generated_into_secrets_manager():
    assert resource("random_password", "jwt_secret")["length"] >= 32
    secret = resource("aws_secretsmanager_secret", "jwt_secret")
    assert secret["recovery_window_in_days"] == 0  # the seed's recovery window
    version = resource("aws_secretsmanager_secret_version", "jwt_secret")
    assert version["secret_string"] == "${random_password.jwt_secret.result}"


def test_every_file_parses():
    expected = {"versions.tf", "variables.tf", "outputs.tf", "vpc.tf", "rds.tf", "s3.tf", "eks.tf"}
    assert set(parsed()) >= expected


def test_unconfirmed_uploads_expire_and_confirmed_sources_do_not():
    rules = resource("aws_s3_bucket_lifecycle_configuration")["rule"]
    [expiring] = [rule for rule in rules if "days" in rule.get("expiration", [{}])[0]]
    assert expiring["status"] == "Enabled"
    assert one(expiring, "filter") == {"prefix": "uploads/"}  # not sources/, nor the results
    assert 1 <= value(one(expiring, "expiration")["days"]) <= 2
    # every other rule keeps current objects: nothing else deletes a confirmed source
    others = [rule for rule in rules if rule != expiring]
    assert all("days" not in one(rule, "expiration") for rule in others if "expiration" in rule)


def test_old_versions_and_delete_markers_expire_promptly_on_every_prefix():
    """Versioning keeps what a delete removes as a noncurrent version: on every prefix of
    both buckets it expires a day after (variable noncurrent_version_days, 1 to 7), and the
    delete marker left alone then goes too. No rule moves old versions to Glacier instead
    (S3 refuses a transition later than the expiration, and it would only keep them)."""
    rules = resource("aws_s3_bucket_lifecycle_configuration")["rule"]
    expiring = [rule for rule in rules if rule.get("noncurrent_version_expiration")]
    assert len(expiring) == 1
    [rule] = expiring
    assert rule["status"] == "Enabled"
    assert one(rule, "filter") == {}  # every prefix: uploads/, sources/, frames/, results/...
    days = one(rule, "noncurrent_version_expiration")["noncurrent_days"]
    assert days == "${var.noncurrent_version_days}"
    assert value(days) == 1
    assert one(rule, "expiration") == {"expired_object_delete_marker": True}
    [variable] = [
        b["noncurrent_version_days"] for b in blocks("variable") if "noncurrent_version_days" in b
    ]
    condition = one(variable, "validation")["condition"]
    assert ">= 1" in condition
    assert "<= 7" in condition


def test_the_web_page_may_upload_to_the_uploads_bucket_from_its_own_origins_only():
    cors = resource("aws_s3_bucket_cors_configuration", "uploads")
    assert "uploads" in cors["bucket"]  # not the results bucket
    rule = one(cors, "cors_rule")
    assert value(rule["allowed_methods"]) == ["PUT"]
    assert rule["allowed_origins"] == "${var.web_origins}"  # no wildcard
    assert defaults()["web_origins"] == []  # none unless the operator names the page's origin


def test_the_pods_may_delete_every_version_of_an_object():
    """The S3 store deletes a video version by version (list_object_versions, then
    DeleteObjects with VersionId): the pods' role must allow both, or deleting fails."""
    documents = {
        name: body
        for block in blocks("data")
        for kind, named in block.items()
        if kind == "aws_iam_policy_document"
        for name, body in named.items()
    }
    statements = {s["sid"]: s for s in documents["frameforge_pods"]["statement"]}
    assert "s3:ListBucketVersions" in statements["Buckets"]["actions"]
    assert {"s3:DeleteObject", "s3:DeleteObjectVersion"} <= set(statements["Objects"]["actions"])
