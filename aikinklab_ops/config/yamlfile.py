"""Safe YAML reading that refuses duplicate keys and remembers where each value stood.

PyYAML keeps the last of two equal keys without a word; in a deploy config that silently drops
the first setting, so here it is an error with both line numbers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from aikinklab_ops.errors import ConfigError, InputError

_MERGE_TAG = "tag:yaml.org,2002:merge"


class _UniqueKeyLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        line = key_node.start_mark.line + 1
        if key_node.tag == _MERGE_TAG:
            continue  # `<<: *base`; flatten_mapping below merges it, and an explicit key may override it
        key = loader.construct_object(key_node, deep=True)  # type: ignore[no-untyped-call]
        try:
            hash(key)
        except TypeError:
            raise ConfigError(
                f"{loader.name}:{line}: a mapping key must be a plain value, found {type(key).__name__} {key!r}",
                hint="write the key as a plain word (quote it if it contains : or [ or {)",
            ) from None
        if key in seen:
            raise ConfigError(
                f"{loader.name}:{line}: duplicate key {key!r} (first at line {seen[key]})",
                hint="keep one of the two; YAML would silently use only the last",
            )
        seen[key] = line
    loader.flatten_mapping(node)
    try:
        return {loader.construct_object(k, deep=deep): loader.construct_object(v, deep=deep) for k, v in node.value}  # type: ignore[no-untyped-call]
    except TypeError as err:  # an unhashable key that came in through a merge
        line = node.start_mark.line + 1
        raise ConfigError(f"{loader.name}:{line}: a mapping key must be a plain value ({err})") from None


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)  # type: ignore[arg-type]


def _construct_timestamp(loader: _UniqueKeyLoader, node: yaml.ScalarNode) -> Any:
    """YAML reads ``2027-13-01`` as a date and Python refuses it; say where, not ValueError."""
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)  # type: ignore[no-untyped-call]
    except (ValueError, AttributeError) as err:  # AttributeError: `!!timestamp foo`, no date at all
        raise ConfigError(
            f"{loader.name}:{node.start_mark.line + 1}: {node.value!r} is not a real date ({err})",
            hint="write a date that exists, as YYYY-MM-DD (e.g. 2027-01-31)",
        ) from None


_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)  # type: ignore[arg-type]


def _lines(node: yaml.Node, path: tuple[str | int, ...], out: dict[tuple[str | int, ...], int]) -> None:
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            _lines(value, (*path, str(key.value)), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _lines(item, (*path, i), out)


def parse_yaml(text: str, name: str) -> tuple[Any, dict[tuple[str | int, ...], int]]:
    """Parse ``text``; return the data and a map from value path to line number."""
    try:
        loader = _UniqueKeyLoader(text)
        loader.name = name
        try:
            data = loader.get_single_data()  # type: ignore[no-untyped-call]
        finally:
            loader.dispose()  # type: ignore[no-untyped-call]
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark
        where = f"{name}:{mark.line + 1}" if mark else name
        raise ConfigError(
            f"{where}: not valid YAML: {err.problem or err}", hint="check indentation and quoting there"
        ) from err
    except yaml.YAMLError as err:
        raise ConfigError(f"{name}: not valid YAML: {err}") from err
    lines: dict[tuple[str | int, ...], int] = {}
    if node is not None:
        _lines(node, (), lines)
    return data, lines


def read_yaml_file(path: Path) -> tuple[Any, dict[tuple[str | int, ...], int]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise InputError(f"{path}: no such file") from err
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: cannot read: {err}") from err
    return parse_yaml(text, str(path))
