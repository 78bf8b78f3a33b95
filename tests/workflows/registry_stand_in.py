"""A stand-in for ECR (no AWS here), for the image promotion tests: `aws ecr describe-images` and
`docker buildx imagetools create` against one JSON file of repositories -> tags -> digests, with
ECR's rules that matter here: tags are immutable (a tag never moves to another digest), a copy
source must exist, and imagetools without --prefer-index=false wraps a single manifest in a new
index (a new digest), as buildx does. It also answers `aws ssm get-parameter` from MODEL_SSM_VALUE,
so the cross-layer model can run the build job's steps with one `aws`.

Environment of the stand-ins: MODEL_REGISTRY (the JSON file), REGISTRY_LOG (calls, one JSON line
each), REGISTRY_COPY_CHANGES_DIGEST=1 (a copy that does not keep the digest),
REGISTRY_DENY=<repo>[,<repo>] (AccessDenied on those repositories).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tests.workflows.stand_ins import install as install_scripts

STAND_IN = r"""#!/usr/bin/env python3
import hashlib, json, os, sys
from pathlib import Path

state_file = Path(os.environ["MODEL_REGISTRY"])
state = json.loads(state_file.read_text()) if state_file.exists() else {}
tool, args = Path(sys.argv[0]).name, sys.argv[1:]
if os.environ.get("REGISTRY_LOG"):
    with open(os.environ["REGISTRY_LOG"], "a") as log:
        log.write(json.dumps([tool, *args]) + "\n")
denied = set(filter(None, os.environ.get("REGISTRY_DENY", "").split(",")))


def option(name):
    return args[args.index(name) + 1] if name in args else None


def aws_error(code, message):
    sys.stderr.write(f"\nAn error occurred ({code}) when calling the DescribeImages operation: {message}\n")
    sys.exit(254)


if tool == "aws" and args[:2] == ["ssm", "get-parameter"]:
    print(open(os.environ["MODEL_SSM_VALUE"]).read())
    sys.exit(0)
if tool == "aws" and args[:2] == ["ecr", "describe-images"]:
    repo, ids = option("--repository-name"), option("--image-ids")
    assert option("--query") == "imageDetails[0].imageDigest" and option("--output") == "text", args
    assert ids.startswith("imageTag="), ids
    if repo in denied:
        aws_error("AccessDeniedException", f"not authorized to perform: ecr:DescribeImages on repository {repo}")
    if repo not in state:
        aws_error("RepositoryNotFoundException", f"The repository with name '{repo}' does not exist")
    tag = ids.split("=", 1)[1]
    if tag not in state[repo]:
        aws_error("ImageNotFoundException", f"The image with imageId {{imageDigest:'null', imageTag:'{tag}'}} does not exist")
    print(state[repo][tag])
    sys.exit(0)
if tool == "docker" and args[:3] == ["buildx", "imagetools", "create"]:
    target, sources = option("--tag"), [a for a in args[3:] if "@" in a]
    assert target and len(sources) == 1, args
    (source,) = sources
    source_host, _, rest = source.partition("/")
    source_repo, _, digest = rest.partition("@")
    target_host, _, rest = target.partition("/")
    target_repo, _, target_tag = rest.partition(":")
    assert source_host == target_host, "one registry (one login) holds every environment's repository"
    if source_repo in denied or target_repo in denied:
        sys.exit(f"ERROR: denied: {source_repo} -> {target_repo}")
    if digest not in state.get(source_repo, {}).values():
        sys.exit(f"ERROR: {source}: not found")
    copied = digest
    if "--prefer-index=false" not in args:  # buildx wraps a single manifest in a new index
        copied = "sha256:" + hashlib.sha256(f"index of {digest}".encode()).hexdigest()
    if os.environ.get("REGISTRY_COPY_CHANGES_DIGEST") == "1":
        copied = "sha256:" + hashlib.sha256(f"rewritten {digest}".encode()).hexdigest()
    if target_repo not in state:
        sys.exit(f"ERROR: repository {target_repo} does not exist")
    held = state[target_repo].get(target_tag)
    if held and held != copied:
        sys.exit(f"ERROR: tag invalid: The image tag '{target_tag}' already exists in the '{target_repo}' repository and cannot be overwritten because the repository is immutable.")
    state[target_repo][target_tag] = copied
    state_file.write_text(json.dumps(state))
    sys.exit(0)
sys.exit(f"stand-in {tool}: {args} is not modelled")
"""


def digest(text: str) -> str:
    """A sha256 digest standing in for one build's manifest."""
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def install(bin_dir: Path) -> Path:
    """Write the stand-in `aws` and `docker` into bin_dir."""
    return install_scripts(bin_dir, {"aws": STAND_IN, "docker": STAND_IN})


def write(path: Path, state: dict[str, dict[str, str]]) -> None:
    path.write_text(json.dumps(state))


def read(path: Path) -> dict[str, dict[str, str]]:
    return json.loads(path.read_text())
