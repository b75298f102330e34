"""Python functions the model may call, with their JSON schema built from the signature.

    @function_tool
    async def book_table(people: int, time: str, outdoor: bool = False) -> str:
        '''Book a table at the restaurant.

        Args:
            people: How many guests.
            time: When, like "19:30".
            outdoor: Whether to sit outside.
        '''
        return f"booked for {people} at {time}"

    book_table.schema           # {"type": "function", "name": "book_table", "parameters": {...}}
    await book_table.execute('{"people": 2, "time": "19:30"}')   # -> ToolResult

The schema comes from the type hints (str, int, float, bool, list[...], dict, Literal,
Enum, `X | None`) and the Google-style docstring (the first paragraph is the
description, `Args:` gives each parameter's). A tool that raises returns its error to the
model as the tool output (`ToolResult.is_error`) instead of failing the session: raise
`ToolError("...")` to choose the message the model sees.
"""

from __future__ import annotations

import enum
import inspect
import json
import logging
import re
import types
import typing
from collections.abc import Callable, Sequence
from typing import Any, overload

import attrs

__all__ = ["FunctionTool", "ToolError", "ToolResult", "find_function_tools", "function_tool"]

logger = logging.getLogger("voxtrio.tools")


class ToolError(Exception):
    """Raise inside a tool to send `str(error)` back to the model as an error output."""


@attrs.frozen(slots=True)
class ToolResult:
    """What one tool execution produced: the output text and whether it is an error."""

    output: str
    is_error: bool = False
    reply_required: bool = True


@attrs.define(slots=True, eq=False)
class FunctionTool:
    """A callable the model can invoke; made by `@function_tool`."""

    fn: Callable[..., Any]
    name: str
    description: str
    parameters: dict[str, Any]
    converters: dict[str, Callable[[Any], Any]] = attrs.field(factory=dict)
    _bound_self: Any = None

    @property
    def schema(self) -> dict[str, Any]:
        """The tool in OpenAI Realtime / Responses form (`type`, `name`, ...)."""
        return {
            "type": "function",
            "name": self.name,
            "description": self.description,
            "parameters": self.parameters,
        }

    @property
    def chat_completions_schema(self) -> dict[str, Any]:
        """The tool in OpenAI chat-completions form (nested under `function`)."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }

    def __get__(self, instance: Any, owner: type | None = None) -> FunctionTool:
        # Tools declared as methods of an agent class bind like methods.
        if instance is None:
            return self
        return attrs.evolve(self, bound_self=instance)

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._bound_self is not None:
            args = (self._bound_self, *args)
        result = self.fn(*args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result

    async def execute(self, arguments: str | dict[str, Any]) -> ToolResult:
        """Run the tool on the model's JSON arguments; errors become error outputs."""
        try:
            kwargs = json.loads(arguments or "{}") if isinstance(arguments, str) else dict(arguments)
            if not isinstance(kwargs, dict):
                raise ToolError(f"arguments for {self.name} must be a JSON object")
            kwargs = self._checked_arguments(kwargs)
            value = await self(**kwargs)
        except ToolError as exc:
            return ToolResult(output=str(exc), is_error=True)
        except json.JSONDecodeError as exc:
            return ToolResult(output=f"invalid JSON arguments for {self.name}: {exc}", is_error=True)
        except Exception as exc:  # a tool bug must not take the conversation down
            logger.exception("tool %s raised", self.name)
            return ToolResult(output=f"error in {self.name}: {type(exc).__name__}: {exc}", is_error=True)
        if value is None:
            return ToolResult(output="", reply_required=False)
        if isinstance(value, str):
            return ToolResult(output=value)
        try:
            return ToolResult(output=json.dumps(value))
        except TypeError:
            return ToolResult(output=str(value))

    def _checked_arguments(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        properties = self.parameters.get("properties", {})
        unknown = sorted(set(kwargs) - set(properties))
        if unknown:
            raise ToolError(f"{self.name} got unknown arguments {unknown}; it accepts {sorted(properties)}")
        missing = [name for name in self.parameters.get("required", []) if name not in kwargs]
        if missing:
            raise ToolError(f"{self.name} is missing required arguments {missing}")
        for key, convert in self.converters.items():
            if kwargs.get(key) is not None:
                try:
                    kwargs[key] = convert(kwargs[key])
                except ValueError as exc:
                    raise ToolError(f"{self.name}: bad value for {key}: {exc}") from exc
        return kwargs


@overload
def function_tool(fn: Callable[..., Any], /) -> FunctionTool: ...
@overload
def function_tool(
    *, name: str | None = None, description: str | None = None
) -> Callable[[Callable[..., Any]], FunctionTool]: ...


def function_tool(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
) -> FunctionTool | Callable[[Callable[..., Any]], FunctionTool]:
    """Turn a function (sync or async) into a `FunctionTool`; usable with or without ()."""

    def decorate(func: Callable[..., Any]) -> FunctionTool:
        summary, arg_docs = _parse_docstring(inspect.getdoc(func) or "")
        parameters = _parameters_schema(func, arg_docs)
        tool = FunctionTool(
            fn=func,
            name=name or func.__name__,
            description=description if description is not None else summary,
            parameters=parameters,
            converters=_enum_converters(func),
        )
        return tool

    if fn is not None:
        return decorate(fn)
    return decorate


def find_function_tools(obj: Any) -> list[FunctionTool]:
    """The tools declared on an object or class (bound to the object)."""
    found: list[FunctionTool] = []
    for attr_name in dir(type(obj) if not isinstance(obj, type) else obj):
        value = getattr(obj, attr_name, None)
        if isinstance(value, FunctionTool):
            found.append(value)
    return found


_ARGS_HEADER = re.compile(r"^\s*(Args|Arguments|Parameters)\s*:\s*$")
_ARG_LINE = re.compile(r"^\s*(\*{0,2}\w+)\s*(\([^)]*\))?\s*:\s*(.*)$")
_SECTION = re.compile(r"^\s*(Returns|Raises|Yields|Examples?|Notes?)\s*:\s*$")


def _parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    lines = doc.splitlines()
    summary_lines: list[str] = []
    for line in lines:
        if not line.strip() or _ARGS_HEADER.match(line) or _SECTION.match(line):
            break
        summary_lines.append(line.strip())
    args: dict[str, str] = {}
    current: str | None = None
    in_args = False
    for line in lines:
        if _ARGS_HEADER.match(line):
            in_args = True
            continue
        if in_args and _SECTION.match(line):
            break
        if not in_args or not line.strip():
            continue
        match = _ARG_LINE.match(line)
        if match and (current is None or len(line) - len(line.lstrip()) <= _indent_of_args(lines)):
            current = match.group(1).lstrip("*")
            args[current] = match.group(3).strip()
        elif current is not None:
            args[current] = f"{args[current]} {line.strip()}".strip()
    return " ".join(summary_lines), args


def _indent_of_args(lines: Sequence[str]) -> int:
    for index, line in enumerate(lines):
        if _ARGS_HEADER.match(line):
            for following in lines[index + 1 :]:
                if following.strip():
                    return len(following) - len(following.lstrip())
    return 0


def _parameters_schema(func: Callable[..., Any], arg_docs: dict[str, str]) -> dict[str, Any]:
    signature = inspect.signature(func)
    try:
        hints = typing.get_type_hints(func)
    except Exception as exc:
        raise TypeError(f"cannot read the type hints of tool {func.__name__}: {exc}") from exc
    properties: dict[str, Any] = {}
    required: list[str] = []
    for index, (param_name, param) in enumerate(signature.parameters.items()):
        if index == 0 and param_name in ("self", "cls"):
            continue
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise TypeError(f"tool {func.__name__} cannot take *{param_name}: the model needs named arguments")
        if param_name not in hints:
            raise TypeError(f"tool {func.__name__}: parameter {param_name!r} needs a type hint")
        schema = _type_schema(hints[param_name], f"{func.__name__}.{param_name}")
        if param_name in arg_docs:
            schema["description"] = arg_docs[param_name]
        if param.default is inspect.Parameter.empty:
            required.append(param_name)
        elif param.default is not None and _json_value(param.default):
            schema["default"] = param.default.value if isinstance(param.default, enum.Enum) else param.default
        properties[param_name] = schema
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


def _enum_converters(func: Callable[..., Any]) -> dict[str, Callable[[Any], Any]]:
    # The model sends enum values; the function expects Enum members.
    converters: dict[str, Callable[[Any], Any]] = {}
    for param_name, hint in typing.get_type_hints(func).items():
        candidates = [hint, *typing.get_args(hint)]
        for candidate in candidates:
            if isinstance(candidate, type) and issubclass(candidate, enum.Enum):
                converters[param_name] = candidate
    return converters


def _json_value(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool, enum.Enum))


_SCALARS: dict[Any, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}


def _type_schema(hint: Any, where: str) -> dict[str, Any]:
    if hint in _SCALARS:
        return {"type": _SCALARS[hint]}
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Annotated:
        annotated = _type_schema(args[0], where)
        for extra in args[1:]:
            if isinstance(extra, str):
                annotated["description"] = extra
        return annotated
    if origin is typing.Literal:
        kinds = {type(a) for a in args}
        schema: dict[str, Any] = {"enum": list(args)}
        if len(kinds) == 1 and next(iter(kinds)) in _SCALARS:
            schema["type"] = _SCALARS[next(iter(kinds))]
        return schema
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        values = [member.value for member in hint]
        return {"type": "string" if all(isinstance(v, str) for v in values) else "integer", "enum": values}
    if origin in (typing.Union, types.UnionType):
        non_null = [a for a in args if a is not type(None)]
        if len(non_null) == 1:
            inner = _type_schema(non_null[0], where)
            if len(non_null) < len(args):
                inner_type = inner.get("type")
                if isinstance(inner_type, str):
                    inner["type"] = [inner_type, "null"]
                if "enum" in inner:
                    inner["enum"] = [*inner["enum"], None]
            return inner
        return {"anyOf": [_type_schema(a, where) for a in args]}
    if origin in (list, tuple, set, frozenset, Sequence) or hint in (list, tuple, set):
        item = args[0] if args else str
        return {"type": "array", "items": _type_schema(item, where)}
    if origin is dict or hint is dict:
        return {"type": "object"}
    raise TypeError(
        f"tool parameter {where} has type {hint!r}, which has no JSON schema; use str, int, "
        "float, bool, list[...], dict, Literal[...], an Enum or X | None"
    )


