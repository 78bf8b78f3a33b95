"""The one reader of environments/<env>/variants.yaml.

Pure Python (no Django), so the local stack, the tests and the app all parse the file the same way
and refuse the same mistakes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
# Promotion order, not alphabetical: the deploy and the workflows list them this way. A new directory
# under environments/ that is missing here (or the reverse) fails tests/chart/test_chart_schema.py.
ENVIRONMENTS = ("dev", "qa", "prod")


def _theme_dirs() -> tuple[str, ...]:
    """A theme is a directory of app/themes/ with templates: adding one is adding that directory."""
    themes_dir = Path(__file__).resolve().parents[1] / "themes"
    return tuple(sorted(d.name for d in themes_dir.iterdir() if (d / "templates").is_dir()))


THEMES = _theme_dirs()
VARIANT_NAMES = ("a", "b", "c", "d", "e")
VARIANT_NAME = re.compile(rf"^[{''.join(VARIANT_NAMES)}]$")
MAX_VARIANTS = 5  # the ALB allows five target groups in one forward action
MAX_WEIGHT = 999  # the ALB's largest target group weight


class VariantsError(ValueError):
    """variants.yaml is missing or says something the platform cannot serve."""


@dataclass(frozen=True)
class Variant:
    name: str
    theme: str
    weight: int


@dataclass(frozen=True)
class VariantSet:
    env: str
    variants: dict[str, Variant]
    stickiness_seconds: int
    schema_owner: str

    @property
    def total_weight(self) -> int:
        return sum(v.weight for v in self.variants.values())


def variants_path(env: str, root: Path | None = None) -> Path:
    return (root or REPO_ROOT) / "environments" / env / "variants.yaml"


def parse_variants(data: object, env: str = "?") -> VariantSet:
    where = f"environments/{env}/variants.yaml"
    if not isinstance(data, dict) or not isinstance(data.get("variants"), dict) or not data["variants"]:
        raise VariantsError(f"{where}: 'variants' must be a non-empty map of name -> {{theme, weight}}")
    unknown = set(data) - {"variants", "stickinessSeconds", "schemaOwner"}
    if unknown:
        raise VariantsError(f"{where}: unknown keys {sorted(unknown)}")
    if len(data["variants"]) > MAX_VARIANTS:
        raise VariantsError(f"{where}: at most {MAX_VARIANTS} variants (the ALB's limit per rule)")
    variants: dict[str, Variant] = {}
    for name, spec in data["variants"].items():
        name = str(name)
        if not VARIANT_NAME.match(name):
            raise VariantsError(f"{where}: variant name {name!r} must be one of a, b, c, d, e")
        if not isinstance(spec, dict) or set(spec) != {"theme", "weight"}:
            raise VariantsError(f"{where}: variant {name} needs exactly 'theme' and 'weight'")
        theme, weight = spec["theme"], spec["weight"]
        if theme not in THEMES:
            raise VariantsError(f"{where}: variant {name} theme {theme!r} is not one of {', '.join(THEMES)}")
        if not isinstance(weight, int) or isinstance(weight, bool) or not 0 <= weight <= MAX_WEIGHT:
            raise VariantsError(f"{where}: variant {name} weight {weight!r} must be an integer from 0 to {MAX_WEIGHT}")
        variants[name] = Variant(name, theme, weight)
    if sum(v.weight for v in variants.values()) == 0:
        raise VariantsError(f"{where}: at least one weight must be above 0")
    owner = str(data.get("schemaOwner", ""))
    if owner not in variants:
        raise VariantsError(f"{where}: schemaOwner {owner!r} must name one of the variants {sorted(variants)}")
    stickiness = data.get("stickinessSeconds", 86400)
    if not isinstance(stickiness, int) or not 1 <= stickiness <= 604800:
        raise VariantsError(f"{where}: stickinessSeconds must be an integer from 1 to 604800 (the ALB's range)")
    return VariantSet(env=env, variants=variants, stickiness_seconds=stickiness, schema_owner=owner)


def load_variants(env: str, root: Path | None = None, path: Path | None = None) -> VariantSet:
    """Load and validate the variants of `env` (dev, qa, prod), or of an explicit file `path`."""
    if path is None:
        if env not in ENVIRONMENTS:
            raise VariantsError(f"unknown environment {env!r}; allowed: {', '.join(ENVIRONMENTS)}")
        path = variants_path(env, root)
    try:
        data = yaml.safe_load(Path(path).read_text())
    except FileNotFoundError as exc:
        raise VariantsError(f"{path} does not exist") from exc
    return parse_variants(data, env)
