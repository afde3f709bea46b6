"""A person's functions as tools: the schema a model sees, the arguments checked before
the call, and what comes back (tools/schema.py, types_schema.py, arguments.py,
docstrings.py, output.py)."""

from __future__ import annotations

import base64
import enum
from typing import Annotated, Any, Literal, Optional

import pydantic
import pytest

from livechat_widget.tools.schema import function_schema, output_of, tool_from_function


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


def obj(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def test_scalars_defaults_and_google_docstring():
    def area(width: float, height: float = 1.0, label: str = "", exact: bool = False) -> str:
        """The area of a rectangle.

        Longer text that is not the summary.

        Args:
            width (float): in metres,
                measured inside.
            height: in metres.
        """
        return ""

    tool = tool_from_function(area)
    assert tool.name == "area" and tool.source == "python" and not tool.needs_consent
    assert tool.description == "The area of a rectangle."
    assert tool.parameters == obj(
        {
            "width": {"type": "number", "description": "in metres, measured inside."},
            "height": {"type": "number", "description": "in metres.", "default": 1.0},
            "label": {"type": "string", "default": ""},
            "exact": {"type": "boolean", "default": False},
        },
        ["width"],
    )


def test_containers_literal_enum_optional_annotated_and_unannotated():
    def f(
        names: list[str],
        pair: tuple[int, str],
        many: tuple[float, ...],
        counts: dict[str, int],
        mode: Literal["fast", "slow"],
        color: Color = Color.RED,
        limit: Optional[int] = None,  # noqa: UP045 - the old spelling is the point
        tag: str | None = None,
        note: Annotated[str, "what to remember"] = "",
        anything=None,
        raw: Any = 1,
    ) -> None:
        pass

    assert function_schema(f) == obj(
        {
            "names": {"type": "array", "items": {"type": "string"}},
            "pair": {
                "type": "array",
                "prefixItems": [{"type": "integer"}, {"type": "string"}],
                "minItems": 2,
                "maxItems": 2,
            },
            "many": {"type": "array", "items": {"type": "number"}},
            "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
            "mode": {"type": "string", "enum": ["fast", "slow"]},
            "color": {"type": "string", "enum": ["red", "blue"], "default": "red"},
            "limit": {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": None},
            "tag": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
            "note": {"type": "string", "description": "what to remember", "default": ""},
            "anything": {"default": None},
            "raw": {"default": 1},
        },
        ["names", "pair", "many", "counts", "mode"],
    )


def test_numpy_and_rest_docstrings():
    def numpy_style(a: int, b: int) -> int:
        """Add two numbers.

        Parameters
        ----------
        a : int
            The first
            number.
        b : int
            The second.

        Returns
        -------
        int
        """
        return a + b

    def rest_style(a: int, b: int) -> int:
        """Add two numbers.

        :param a: The first
            number.
        :param int b: The second.
        :returns: the sum.
        """
        return a + b

    for fn in (numpy_style, rest_style):
        tool = tool_from_function(fn)
        assert tool.description == "Add two numbers."
        assert tool.parameters["properties"] == {
            "a": {"type": "integer", "description": "The first number."},
            "b": {"type": "integer", "description": "The second."},
        }


def test_name_description_consent_and_methods():
    class Counter:
        def __init__(self) -> None:
            self.n = 0

        def bump(self, by: int = 1) -> int:
            self.n += by
            return self.n

    counter = Counter()
    tool = tool_from_function(counter.bump, name="bump_it", description="Bump.", needs_consent=True)
    assert (tool.name, tool.description, tool.needs_consent) == ("bump_it", "Bump.", True)
    assert tool.parameters == obj({"by": {"type": "integer", "default": 1}}, [])
    assert tool.interruptible  # a plain function runs on the kernel's main thread
    assert tool_from_function(counter.bump).description.startswith("The Python function bump")


def test_signatures_a_model_cannot_call_are_refused():
    def star(*values: int) -> None:
        pass

    def stars(**options: str) -> None:
        pass

    with pytest.raises(TypeError, match=r"\*values"):
        tool_from_function(star)
    with pytest.raises(TypeError, match=r"\*\*options"):
        tool_from_function(stars)
    with pytest.raises(ValueError, match="name="):
        tool_from_function(lambda x: x)

    def frame(data: pytest.MonkeyPatch) -> None:
        pass

    with pytest.raises(TypeError, match="parameter 'data'.*no JSON form"):
        tool_from_function(frame)


async def test_arguments_are_checked_before_the_call():
    calls: list[tuple[Any, ...]] = []

    def f(n: int, x: float, mode: Literal["a", "b"], tags: list[str], color: Color = Color.RED):
        calls.append((n, x, mode, tags, color))
        return "done"

    tool = tool_from_function(f)
    bad = await tool.run({"n": "3", "x": True, "mode": "c", "tags": ["ok", 2], "extra": 1})
    assert bad.is_error and not calls
    assert bad.text == (
        "The call was not made: 'n' must be an integer, not \"3\". "
        "'x' must be a number, not true. "
        '\'mode\' is "c"; it must be one of "a", "b". '
        "'tags'[1] must be a string, not 2. "
        "There is no argument 'extra' (this tool takes: n, x, mode, tags, color)."
    )
    missing = await tool.run({"n": 1})
    assert missing.is_error and "The required argument 'x' is missing." in missing.text
    assert not calls

    # ints for floats, 3.0 for an int, an enum by its value
    good = await tool.run({"n": 3.0, "x": 2, "mode": "a", "tags": [], "color": "blue"})
    assert good.text == "done" and not good.is_error
    assert calls == [(3, 2.0, "a", [], Color.BLUE)]
    assert type(calls[0][0]) is int and type(calls[0][1]) is float


async def test_sync_and_async_functions_and_what_they_raise():
    def divide(a: float, b: float) -> float:
        return a / b

    async def greet(name: str) -> str:
        return f"hello {name}"

    async def broken() -> None:
        raise KeyError("nope")

    sync_tool, async_tool = tool_from_function(divide), tool_from_function(greet)
    assert sync_tool.interruptible and not async_tool.interruptible
    assert (await sync_tool.run({"a": 1, "b": 4})).text == "0.25"
    assert (await async_tool.run({"name": "Ada"})).text == "hello Ada"
    failed = await sync_tool.run({"a": 1, "b": 0})
    assert failed.is_error
    first, where = failed.text.split("\n")
    assert first == "ZeroDivisionError: float division by zero"
    assert "test_tool_schema.py" in where and "in divide" in where and "a / b" in where
    raised = await tool_from_function(broken).run({})
    assert raised.is_error and raised.text.startswith("KeyError: 'nope'")


async def test_keyboard_interrupt_propagates():
    def slow() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        await tool_from_function(slow).run({})


# At module level: the hints are strings (``from __future__ import annotations``).


class Point(pydantic.BaseModel):
    x: int
    y: int = pydantic.Field(default=0, ge=0)


class Shape(pydantic.BaseModel):
    corners: list[Point]


def corners(shape: Shape, scale: float = 1.0) -> int:
    """Count corners."""
    return len(shape.corners)


async def test_a_pydantic_model_parameter():
    tool = tool_from_function(corners)
    point = {
        "properties": {
            "x": {"title": "X", "type": "integer"},
            "y": {"default": 0, "minimum": 0, "title": "Y", "type": "integer"},
        },
        "required": ["x"],
        "title": "Point",
        "type": "object",
    }
    shape = {
        "properties": {
            "corners": {"items": {"$ref": "#/$defs/Point"}, "title": "Corners", "type": "array"}
        },
        "required": ["corners"],
        "title": "Shape",
        "type": "object",
    }
    # The model's own definitions move to the top, where its "$ref"s resolve.
    assert tool.parameters == {
        **obj({"shape": shape, "scale": {"type": "number", "default": 1.0}}, ["shape"]),
        "$defs": {"Point": point},
    }
    ok = await tool.run({"shape": {"corners": [{"x": 1}, {"x": 2, "y": 3}]}})
    assert ok.text == "2" and not ok.is_error
    wrong = await tool.run({"shape": {"corners": [{"y": 1}]}})
    assert wrong.is_error
    assert wrong.text == "The call was not made: 'shape'.corners[0] lacks its required key 'x'."
    # What the schema check leaves to pydantic (a minimum), pydantic tells in its words.
    negative = await tool.run({"shape": {"corners": [{"x": 1, "y": -1}]}})
    assert negative.is_error and negative.text.startswith("The call was not made: 1 validation")
    assert "corners.0.y" in negative.text and "greater than or equal to 0" in negative.text


def test_output_of_plain_values():
    assert output_of("text").text == "text"
    assert output_of(None).text == "(no return value)"
    assert output_of([1, 2]).text == "[1, 2]"
    long = output_of("x" * 30_000)
    assert long.text.startswith("x" * 20_000) and "output truncated: 30,000 characters" in long.text


def test_output_of_a_matplotlib_figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(2, 1), dpi=50)
    axes.plot([1, 2, 3])
    axes.set_title("line")
    try:
        out = output_of(figure)
        assert out.text == "(a matplotlib figure, 100×50 px, 1 axes; titles: 'line')"
        assert len(out.images) == 1
        assert base64.b64decode(out.images[0]).startswith(b"\x89PNG")
        assert output_of(axes).images  # axes stand for their figure
    finally:
        plt.close(figure)


def test_output_of_a_dataframe():
    import pandas

    frame = pandas.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    out = output_of(frame)
    assert out.text == repr(frame) and not out.images and not out.is_error
