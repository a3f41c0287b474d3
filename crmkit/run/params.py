"""Unit parameters: the package's built-in defaults, ``defaults.yaml``, then ``<unit>.yaml``.

Later files override earlier ones key by key; nested mappings (``column_map``, ``tables``) are
merged rather than replaced, unlike papermill's own ``-f`` merging.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from crmkit.core.errors import ParameterError

BUILTIN_DEFAULTS: dict[str, Any] = {
    "display_name": "",  # empty: the business_unit id is shown
    "data_source": "sample_data",
    "currency": "CNY",
    "funnel_stages": ["lead", "intent", "negotiation", "won"],
    "conversion_window_days": 90,
    "funnel_breakdowns": ["source", "owner"],
    "satisfaction_breakdowns": ["region", "segment", "touchpoint"],
    "churn_inactivity_days": 180,
    "column_map": {},
    "tables": {},
    "pii_columns": [],
    "as_of": "",  # empty: today
    "clv_horizon_months": 12,
    "clv_discount_rate": 0.01,
    "clv_holdout_weeks": 26,
    "lifecycle_rules": {},
    "segment_actions": {},
}

DEFAULTS_FILE = "defaults.yaml"


def deep_merge(base: dict, override: dict) -> dict:
    """A new dict: ``override`` on top of ``base``, merging nested dicts key by key."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def read_yaml(path: Path) -> dict:
    """A YAML mapping from ``path``, with a clear error for anything else."""
    try:
        content = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ParameterError(f"Parameter file {path} does not exist.") from None
    except yaml.YAMLError as exc:
        raise ParameterError(f"Parameter file {path} is not valid YAML: {exc}") from None
    if content is None:
        return {}
    if not isinstance(content, dict):
        raise ParameterError(
            f"Parameter file {path} must hold a mapping of names to values; "
            f"got a {type(content).__name__}."
        )
    return content


def unit_files(params_dir: Path) -> list[Path]:
    """The unit parameter files in ``params_dir`` (every ``*.yaml`` but ``defaults.yaml``)."""
    params_dir = Path(params_dir)
    if not params_dir.is_dir():
        raise ParameterError(f"Parameters folder {params_dir} does not exist.")
    files = sorted(
        p
        for p in params_dir.glob("*.y*ml")
        if p.suffix in (".yaml", ".yml") and p.name not in (DEFAULTS_FILE, "defaults.yml")
    )
    if not files:
        raise ParameterError(f"Parameters folder {params_dir} holds no unit YAML files.")
    return files


def load_params(unit_file: Path) -> dict[str, Any]:
    """The merged parameters of one unit: built-in defaults, ``defaults.yaml``, the unit file.

    Relative ``data_source`` paths are made absolute against the folder holding the
    parameters folder (the project root), so a run works from any working directory.

    Raises
    ------
    ParameterError
        If a file is not a YAML mapping or the unit file names no ``business_unit``.
    """
    unit_file = Path(unit_file).resolve()
    params = copy.deepcopy(BUILTIN_DEFAULTS)
    defaults = unit_file.parent / DEFAULTS_FILE
    if defaults.exists():
        params = deep_merge(params, read_yaml(defaults))
    params = deep_merge(params, read_yaml(unit_file))
    if not params.get("business_unit"):
        raise ParameterError(
            f"Parameter file {unit_file} must name its unit: add `business_unit: <id>`."
        )
    params["business_unit"] = str(params["business_unit"])
    source = str(params["data_source"])
    if "://" not in source and not Path(source).is_absolute():
        params["data_source"] = str((unit_file.parent.parent / source).resolve())
    return params
