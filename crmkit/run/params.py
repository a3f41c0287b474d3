"""Unit parameters: the registry's defaults, ``defaults.yaml``, then ``<unit>.yaml``.

Later files override earlier ones key by key; nested mappings (``column_map``, ``tables``) are
merged rather than replaced, unlike papermill's own ``-f`` merging.

Values are read as written. YAML 1.1 guesses types from the look of a word: ``NO`` becomes
``False``, ``0101`` the octal 65, ``2026-10-15`` a date, ``1.0`` a float. Ids, names, stage
and column names are text whatever they look like, so every value is read as the text in the
file; only the numeric parameters (those whose default is a number, and the counts in
``lifecycle_rules``) are then read as decimal numbers. A plain empty value, ``~`` or ``null``
is "not set".
"""

from __future__ import annotations

import copy
import math
import unicodedata
from pathlib import Path
from typing import Any

import yaml

from crmkit.core.errors import ParameterError
from crmkit.load.sources import absolute_data_source
from crmkit.present.language import LANGUAGES
from crmkit.topics.registry import check_unit_keys, parameter_defaults, unit_parameters

DEFAULTS_FILE = "defaults.yaml"

SINGLE_VALUES = frozenset({"business_unit", "display_name", "currency", "data_source", "as_of"})
"""Text parameters that hold one value. Other text parameters (``date_format``, ``decimal``)
may also be a mapping per table or column, which loading checks."""
NUMBER_MAPPINGS = frozenset({"lifecycle_rules"})
"""Mapping parameters whose values are numbers (day and order counts); their defaults are
empty, so the registry's default cannot say so."""

_NULL_TAG = "tag:yaml.org,2002:null"
_WINDOWS_NAMES = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{base}{n}" for base in ("COM", "LPT") for n in [*"123456789", "¹", "²", "³"]}
)
_NOT_IN_FILE_NAMES = '<>:"|?*'
_FLAGS = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}


def deep_merge(base: dict, override: dict) -> dict:
    """A new dict: ``override`` on top of ``base``, merging nested dicts key by key."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


class _YamlShapeError(ValueError):
    """A mistake found while reading a parameter file's YAML nodes."""


def _as_written(node: yaml.Node) -> Any:
    """The value of a YAML node with every scalar as the text written in the file (a plain
    empty, ``~`` or ``null`` scalar is ``None``); a key given twice is an error."""
    if isinstance(node, yaml.ScalarNode):
        if node.style is None and node.tag == _NULL_TAG:
            return None
        return node.value
    if isinstance(node, yaml.SequenceNode):
        return [_as_written(item) for item in node.value]
    mapping: dict[Any, Any] = {}
    lines: dict[Any, int] = {}
    for key_node, value_node in node.value:
        key = _as_written(key_node)
        if not isinstance(key, str):
            raise _YamlShapeError(
                f"line {key_node.start_mark.line + 1}: a key must be a name; got {key!r}."
            )
        line = key_node.start_mark.line + 1
        if key in mapping:
            raise _YamlShapeError(f"'{key}' is set twice (lines {lines[key]} and {line}).")
        mapping[key], lines[key] = _as_written(value_node), line
    return mapping


def read_yaml(path: Path) -> dict:
    """A YAML mapping from ``path``, every value as written (text, lists, mappings), with a
    clear error for anything else."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ParameterError(f"Parameter file {path} does not exist.") from None
    except UnicodeDecodeError as exc:
        raise ParameterError(f"Parameter file {path} is not UTF-8 text: {exc}.") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        content = None if node is None else _as_written(node)
    except yaml.YAMLError as exc:
        raise ParameterError(f"Parameter file {path} is not valid YAML: {exc}") from None
    except _YamlShapeError as exc:
        raise ParameterError(f"Parameter file {path}: {exc}") from None
    if content is None:
        return {}
    if not isinstance(content, dict):
        raise ParameterError(
            f"Parameter file {path} must hold a mapping of names to values; "
            f"got a {type(content).__name__}."
        )
    return content


def _number(text: Any) -> int | float | None:
    """A decimal number from text (``90``, ``0.01``, ``1_000``, ``1e-3``), or ``None``."""
    if not isinstance(text, str):
        return None
    text = text.strip().replace("_", "")
    try:
        return int(text, 10)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _kind(name: str) -> str:
    """How a parameter's value is read: flag, number, text, list (of text), mapping, numbers
    (a mapping of numbers), from the type of its default."""
    if name in NUMBER_MAPPINGS:
        return "numbers"
    default = unit_parameters()[name].default
    if isinstance(default, bool):
        return "flag"
    if isinstance(default, int | float):
        return "number"
    if isinstance(default, list):
        return "list"
    if isinstance(default, dict):
        return "mapping"
    return "text"


def _typed(name: str, value: Any, where: Path) -> Any:
    """``value`` as the kind of value parameter ``name`` holds, or a ParameterError saying
    what it must be, what the default looks like and what was found."""
    kind = _kind(name)
    parameter = unit_parameters()[name]
    default = parameter.default

    def wrong(what: str) -> ParameterError:
        shown = not parameter.required and default not in ("", None)
        example = f" (default: {default!r})" if shown else ""
        got = "nothing" if value is None else repr(value)
        return ParameterError(
            f"Parameter file {where}: '{name}' must be {what}{example}; got {got}."
        )

    if kind == "text":
        if name in SINGLE_VALUES and value is not None and not isinstance(value, str):
            raise wrong("a single value, not a list or mapping")
        return value
    if kind == "flag":
        flag = _FLAGS.get(value.lower()) if isinstance(value, str) else None
        if flag is None:
            raise wrong("true or false")
        return flag
    if kind == "number":
        number = _number(value)
        if number is None:
            raise wrong("a number")
        return number
    if kind == "list":
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise wrong("a list of names, like [a, b]")
        return value
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise wrong("a mapping of names to values, like {a: b}")
    if kind == "numbers":
        numbers = {key: _number(v) for key, v in value.items()}
        bad = [key for key, number in numbers.items() if number is None]
        if bad:
            raise wrong(f"a mapping of names to numbers ({bad[0]!r} is not a number)")
        return numbers
    return value


def read_unit_file(path: Path) -> dict:
    """A unit file or ``defaults.yaml``: keys checked against the registry, each value read as
    the kind its parameter holds (text, number, list, mapping).

    Raises
    ------
    ParameterError
        For a file that is not a YAML mapping, a key set twice, a key no topic reads (naming
        the nearest known one), or a value of the wrong kind (a list where a name belongs, a
        word where a number belongs).
    """
    content = read_yaml(path)
    check_unit_keys(content, where=str(path))
    return {name: _typed(name, value, path) for name, value in content.items()}


def unit_id_problem(unit: str) -> str:
    """Why ``unit`` cannot name a folder of reports on every system, or '' if it can.

    A unit id becomes ``<out>/<period>/<unit>/``: it must be one plain file name on Linux,
    macOS and Windows (reports are copied to shares), so no path separators, no ``.``/``..``
    or leading dot, no control characters, none of ``<>:"|?*``, no trailing dot or space,
    and none of the names Windows reserves for devices (``CON``, ``aux``, ``COM1`` ...).
    """
    if not unit:
        return "it is empty"
    if "/" in unit or "\\" in unit:
        return "it contains a path separator ('/' or '\\')"
    if unit.startswith("."):
        return "it starts with '.' (a hidden file, or '..', the folder above)"
    control = [c for c in unit if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")]
    if control:
        return f"it contains the control character {control[0]!r}"
    bad = sorted({c for c in unit if c in _NOT_IN_FILE_NAMES})
    if bad:
        return f"it contains {', '.join(repr(c) for c in bad)}, which Windows file names cannot"
    if unit[-1] in ". ":
        return "it ends with a dot or a space, which Windows drops from file names"
    if unit.split(".")[0].rstrip(" ").upper() in _WINDOWS_NAMES:
        return f"'{unit.split('.')[0]}' is a device name on Windows, not a file name"
    if len(unit.encode("utf-8")) > 200:
        return "it is longer than 200 bytes"
    return ""


def check_unit_id(unit: str, *, where: Path | str) -> str:
    """``unit`` if it can name a folder of reports, else a ParameterError naming the file."""
    problem = unit_id_problem(unit)
    if problem:
        raise ParameterError(
            f"Parameter file {where}: business_unit {unit!r} cannot name the unit's reports "
            f"folder: {problem}. Use letters, digits, '_' or '-' (any language)."
        )
    return unit


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


def portfolio_language(params_dir: Path) -> str:
    """The portfolio page's language: ``language`` in ``defaults.yaml``, else English."""
    defaults = Path(params_dir) / DEFAULTS_FILE
    language = read_unit_file(defaults).get("language") if defaults.exists() else None
    if language in (None, ""):
        return "en"
    if language not in LANGUAGES:
        raise ParameterError(
            f"Parameter file {defaults}: 'language' must be one of {sorted(LANGUAGES)}; "
            f"got {language!r}."
        )
    return language


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
        params = deep_merge(params, read_unit_file(defaults))
    params = deep_merge(params, read_unit_file(unit_file))
    if not params.get("business_unit"):
        raise ParameterError(
            f"Parameter file {unit_file} must name its unit: add `business_unit: <id>`."
        )
    required = [name for name, p in unit_parameters().items() if p.required]
    missing = [name for name in required if params.get(name) in (None, "")]
    if missing:
        examples = {"currency": "<ISO code: CNY, USD, EUR ...>", "data_source": "data/"}
        raise ParameterError(
            f"Parameter file {unit_file} does not set {missing}; add "
            + ", ".join(f"`{m}: {examples.get(m, '...')}`" for m in missing)
            + f" to it (or to {DEFAULTS_FILE} beside it)."
            + (
                " Reports show amounts in it; crmkit never guesses it."
                if "currency" in missing
                else ""
            )
        )
    params["business_unit"] = check_unit_id(str(params["business_unit"]), where=unit_file)
    if params.get("language") not in LANGUAGES:
        raise ParameterError(
            f"Parameter file {unit_file}: 'language' must be one of {sorted(LANGUAGES)} "
            f"(the report language); got {params.get('language')!r}."
        )
    params["currency"] = currency_code(params["currency"], where=unit_file)
    params["data_source"] = absolute_data_source(
        str(params["data_source"]), root=unit_file.parent.parent
    )
    return params


def currency_code(value: Any, *, where: Path) -> str:
    """``value`` as an ISO 4217 currency code (``usd`` read as ``USD``); a ParameterError
    otherwise: reports print amounts with it, so ``123`` or ``US Dollar`` would misprint
    every figure."""
    from babel.numbers import list_currencies

    code = str(value).strip().upper()
    if code not in list_currencies():
        raise ParameterError(
            f"Parameter file {where}: 'currency' must be an ISO 4217 code such as CNY, USD or "
            f"EUR; got {value!r}."
        )
    return code
