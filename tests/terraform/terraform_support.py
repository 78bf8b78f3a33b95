"""Parsed copies of terraform/ (python-hcl2; nothing is downloaded or applied), for the Terraform
tests and the cross-layer tests (tests/crosslayer) alike."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import hcl2

TERRAFORM_DIR = Path(__file__).resolve().parents[2] / "terraform"


def _unquote(value):
    """python-hcl2 keeps HCL's quotes and adds bookkeeping keys; give back plain Python values."""
    if isinstance(value, str):
        if len(value) >= 2 and value[0] == value[-1] == '"':
            return value[1:-1]
        return value
    if isinstance(value, list):
        return [_unquote(v) for v in value]
    if isinstance(value, dict):
        return {_unquote(k): _unquote(v) for k, v in value.items() if k not in ("__is_block__", "__comments__")}
    return value


@cache
def _parsed(text: str) -> dict:
    return _unquote(hcl2.loads(text))


def parse_hcl(path: Path) -> dict:
    """One HCL file as plain Python values. python-hcl2 takes a tenth of a second or more per file and
    many tests read the same files, so each distinct text is parsed once; every caller gets its own copy."""
    return copy.deepcopy(_parsed(path.read_text()))


@dataclass
class Stack:
    """Everything declared in one Terraform root module, keyed the way Terraform addresses it."""

    path: Path
    files: dict[str, dict] = field(default_factory=dict)
    resources: dict[tuple[str, str], dict] = field(default_factory=dict)
    data: dict[tuple[str, str], dict] = field(default_factory=dict)
    modules: dict[str, dict] = field(default_factory=dict)
    variables: dict[str, dict] = field(default_factory=dict)
    outputs: dict[str, dict] = field(default_factory=dict)
    locals: dict[str, object] = field(default_factory=dict)
    terraform: list[dict] = field(default_factory=list)

    def resource(self, type_: str, name: str) -> dict:
        assert (type_, name) in self.resources, f"{type_}.{name} is not declared in {self.path}"
        return self.resources[(type_, name)]

    def resources_of(self, type_: str) -> dict[str, dict]:
        return {name: body for (t, name), body in self.resources.items() if t == type_}


def load_stack(path: Path) -> Stack:
    stack = Stack(path)
    for tf in sorted(path.glob("*.tf")):
        parsed = parse_hcl(tf)
        stack.files[tf.name] = parsed
        for block in parsed.get("resource", []):
            for type_, named in block.items():
                for name, body in named.items():
                    stack.resources[(type_, name)] = body
        for block in parsed.get("data", []):
            for type_, named in block.items():
                for name, body in named.items():
                    stack.data[(type_, name)] = body
        for block in parsed.get("module", []):
            stack.modules.update(block)
        for block in parsed.get("variable", []):
            stack.variables.update(block)
        for block in parsed.get("output", []):
            stack.outputs.update(block)
        for block in parsed.get("locals", []):
            stack.locals.update(block)
        stack.terraform.extend(parsed.get("terraform", []))
    return stack


def load_tfvars(path: Path) -> dict:
    return parse_hcl(path)


# --- A small subset of Terraform's expression language, to evaluate a parsed expression offline ---------

_TOKEN = re.compile(r'\s+|"(?:[^"\\$]|\\.|\$\{[^}]*\}|\$(?!\{))*"|==|!=|&&|\|\||[!?:()\[\],]|-?\d+|[A-Za-z_][\w.\-]*(?:\[\d+\][\w.\-]*)*')


def template(text: str, refs: dict) -> str:
    """A string with ${...} interpolations, each evaluated."""
    return re.sub(r"\$\{([^}]*)\}", lambda m: str(evaluate("${" + m.group(1) + "}", refs)), text)


def evaluate(expression: str, refs: dict):
    """Evaluate `expression` as python-hcl2 gives it ("${...}" or a template string) with `refs` for
    every reference (var.x, local.y, aws_lb.web.dns_name): literals, strings, lists, ==, !=, !, &&,
    ||, ?:. A reference not in refs, or any other syntax, raises: the test must say what it assumes."""
    text = expression.strip()
    if not (text.startswith("${") and text.endswith("}") and text.count("${") == 1 + text[2:].count('"${')):
        return template(text, refs)
    tokens = [t for t in _TOKEN.findall(text[2:-1]) if not t.isspace()]
    assert "".join(tokens).replace(" ", "") == re.sub(r"\s+", "", text[2:-1]), f"cannot tokenize {expression!r}"
    position = 0

    def peek() -> str | None:
        return tokens[position] if position < len(tokens) else None

    def take(expected: str | None = None) -> str:
        nonlocal position
        token = tokens[position]
        assert expected is None or token == expected, f"expected {expected} at {token} in {expression!r}"
        position += 1
        return token

    def ternary():
        condition = logical()
        if peek() == "?":
            take("?")
            yes = ternary()
            take(":")
            no = ternary()
            return yes if condition else no
        return condition

    def logical():
        value = comparison()
        while peek() in ("&&", "||"):
            operator, right = take(), comparison()
            value = (value and right) if operator == "&&" else (value or right)
        return value

    def comparison():
        value = unary()
        if peek() in ("==", "!="):
            operator, right = take(), unary()
            value = (value == right) if operator == "==" else (value != right)
        return value

    def unary():
        if peek() == "!":
            take("!")
            return not unary()
        return primary()

    def primary():
        token = take()
        if token == "(":
            value = ternary()
            take(")")
            return value
        if token == "[":
            items = []
            while peek() != "]":
                items.append(ternary())
                if peek() == ",":
                    take(",")
            take("]")
            return items
        if token.startswith('"'):
            return template(token[1:-1], refs)
        if re.fullmatch(r"-?\d+", token):
            return int(token)
        if token in ("true", "false"):
            return token == "true"
        assert token in refs, f"the test does not know {token} (in {expression!r})"
        return refs[token]

    value = ternary()
    assert position == len(tokens), f"cannot read all of {expression!r}"
    return value
