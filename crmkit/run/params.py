"""Unit parameters: the registry's defaults, ``defaults.yaml``, then ``<unit>.yaml``.

Later files override earlier ones key by key; nested mappings (``column_map``, ``tables``) are
merged rather than replaced, unlike papermill's own ``-f`` merging.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from crmkit.core.errors import ParameterError
from crmkit.topics.registry import check_unit_keys, parameter_defaults, unit_parameters

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
    """The merged parameters of one unit: the registry's defaults, ``defaults.yaml``, the
    unit file.

    Relative ``data_source`` paths are made absolute against the folder holding the
    parameters folder (the project root), so a run works from any working directory.

    Raises
    ------
    ParameterError
        If a file is not a YAML mapping, holds a key no topic reads, or the unit lacks a
        required parameter (``business_unit``, ``currency``, ``data_source``).
    """
    unit_file = Path(unit_file).resolve()
    params = parameter_defaults()
    defaults = unit_file.parent / DEFAULTS_FILE
    if defaults.exists():
        shared = read_yaml(defaults)
        check_unit_keys(shared, where=str(defaults))
        params = deep_merge(params, shared)
    own = read_yaml(unit_file)
    check_unit_keys(own, where=str(unit_file))
    params = deep_merge(params, own)
    if not params.get("business_unit"):
        raise ParameterError(
            f"Parameter file {unit_file} must name its unit: add `business_unit: <id>`."
        )
    required = [name for name, p in unit_parameters().items() if p.required]
    missing = [name for name in required if params.get(name) in (None, "")]
    if missing:
        examples = {"currency": "CNY", "data_source": "data/"}
        raise ParameterError(
            f"Parameter file {unit_file} does not set {missing}; add "
            + ", ".join(f"`{m}: {examples.get(m, '...')}`" for m in missing)
            + f" to it (or to {DEFAULTS_FILE} beside it)."
        )
    params["business_unit"] = str(params["business_unit"])
    source = str(params["data_source"])
    if "://" not in source and not Path(source).is_absolute():
        params["data_source"] = str((unit_file.parent.parent / source).resolve())
    return params
