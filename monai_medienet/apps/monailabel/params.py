"""Validation of MONAI Label request parameters (JSON values arrive as str / int / float / bool / None)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["request_bool", "request_float", "request_int", "request_str"]


def request_bool(request: Mapping[str, Any], key: str, default: bool, owner: str) -> bool:
    """A boolean request parameter (``true``/``false``, ``1``/``0`` or the strings ``"true"``/``"false"``).

    Args:
        request: the request dict.
        key: parameter name.
        default: value when the parameter is absent or ``None``.
        owner: class name used in error messages.

    Returns:
        The value.

    Raises:
        ValueError: a value that is not a boolean, naming ``owner``, ``key`` and the value.
    """
    value = request.get(key)
    if value is None:
        return bool(default)
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.strip().lower() in ("true", "1", "yes")
    raise ValueError(f"{owner}: {key} must be a boolean (true/false), got {value!r}.")


def request_int(request: Mapping[str, Any], key: str, default: int, owner: str, minimum: int | None = None) -> int:
    """An integer request parameter (an int, an integral float or a decimal string).

    Args:
        request: the request dict.
        key: parameter name.
        default: value when the parameter is absent or ``None``.
        owner: class name used in error messages.
        minimum: smallest allowed value (``None``: no bound).

    Returns:
        The value.

    Raises:
        ValueError: a value that is not an integer or is below ``minimum``, naming ``owner``, ``key`` and the value.
    """
    value = request.get(key)
    if value is None:
        out = int(default)
    elif isinstance(value, bool):
        raise ValueError(f"{owner}: {key} must be an integer, got {value!r}.")
    elif isinstance(value, int):
        out = value
    elif isinstance(value, float) and value.is_integer():
        out = int(value)
    elif isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        out = int(value.strip())
    else:
        raise ValueError(f"{owner}: {key} must be an integer, got {value!r}.")
    if minimum is not None and out < minimum:
        raise ValueError(f"{owner}: {key} must be >= {minimum}, got {value!r}.")
    return out


def request_float(
    request: Mapping[str, Any], key: str, default: float, owner: str, minimum: float | None = None
) -> float:
    """A finite real request parameter (an int, a float or a numeric string).

    Args:
        request: the request dict.
        key: parameter name.
        default: value when the parameter is absent or ``None``.
        owner: class name used in error messages.
        minimum: smallest allowed value (``None``: no bound).

    Returns:
        The value.

    Raises:
        ValueError: a value that is not a finite number or is below ``minimum``, naming ``owner``, ``key`` and the
            value.
    """
    value = request.get(key)
    if value is None:
        return float(default)
    if isinstance(value, bool):
        raise ValueError(f"{owner}: {key} must be a number, got {value!r}.")
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{owner}: {key} must be a number, got {value!r}.") from None
    if out != out or out in (float("inf"), float("-inf")):
        raise ValueError(f"{owner}: {key} must be a finite number, got {value!r}.")
    if minimum is not None and out < minimum:
        raise ValueError(f"{owner}: {key} must be >= {minimum}, got {value!r}.")
    return out


def request_str(
    request: Mapping[str, Any], key: str, default: str | None, owner: str, choices: tuple[str, ...] | list[str] = ()
) -> str:
    """A string request parameter, optionally one of ``choices``.

    Args:
        request: the request dict.
        key: parameter name.
        default: value when the parameter is absent or ``None`` (``None``: the parameter is required).
        owner: class name used in error messages.
        choices: allowed values (empty: any non-empty string).

    Returns:
        The value.

    Raises:
        ValueError: a missing required parameter, a non-string or empty value, or a value outside ``choices``,
            naming ``owner``, ``key`` and the value.
    """
    value = request.get(key)
    if value is None:
        if default is None:
            raise ValueError(
                f"{owner}: the request needs {key!r}" + (f" (one of {list(choices)})." if choices else ".")
            )
        return default
    if not isinstance(value, str) or not value:
        raise ValueError(f"{owner}: {key} must be a non-empty string, got {value!r}.")
    if choices and value not in choices:
        raise ValueError(f"{owner}: {key} must be one of {list(choices)}, got {value!r}.")
    return value
