"""A small reader for the Dockerfile and .dockerignore, enough for the image tests (no Docker here)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO_ROOT / "Dockerfile"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"


@dataclass(frozen=True)
class Instruction:
    stage: int  # 0 for the first FROM, 1 for the second, ...
    keyword: str  # FROM, RUN, COPY, ... (upper case)
    args: str  # everything after the keyword, continuations joined


def instructions(path: Path = DOCKERFILE) -> list[Instruction]:
    result: list[Instruction] = []
    stage = -1
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.rstrip()
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if pending and line.lstrip().startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        keyword, _, args = full.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        result.append(Instruction(stage, keyword, re.sub(r"\s+", " ", args.strip())))
    return result


def final_stage(items: list[Instruction]) -> list[Instruction]:
    last = max(i.stage for i in items)
    return [i for i in items if i.stage == last]


def exec_form(args: str) -> list[str] | None:
    """The JSON array of an exec-form CMD/ENTRYPOINT/HEALTHCHECK CMD, or None for shell form."""
    try:
        value = json.loads(args)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, list) else None


def env_values(items: list[Instruction]) -> dict[str, str]:
    """ENV key=value pairs, in order (later wins)."""
    values: dict[str, str] = {}
    for item in items:
        if item.keyword == "ENV":
            for key, value in re.findall(r'(\w+)=("[^"]*"|\S+)', item.args):
                values[key] = value.strip('"')
    return values


def _pattern_regex(pattern: str) -> re.Pattern:
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            out += ".*"
            i += 2
            if pattern.startswith("/", i):
                out += "/?"
                i += 1
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(f"^{out}$")


def dockerignore_rules(path: Path = DOCKERIGNORE) -> list[tuple[bool, re.Pattern]]:
    rules = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        include = line.startswith("!")
        pattern = line[1:] if include else line
        rules.append((include, _pattern_regex(pattern.strip("/"))))
    return rules


def in_build_context(relative: str, rules=None) -> bool:
    """Docker's rule: the last pattern matching the path, or any of its parent folders, decides."""
    rules = dockerignore_rules() if rules is None else rules
    parts = relative.strip("/").split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    included = True
    for include, regex in rules:
        if any(regex.match(c) for c in candidates):
            included = include
    return included
