"""The providers' published samples (each folder's README names their sources) and the
shape comparison that holds the sandbox to them.

An answer has a sample's shape when, wherever the sample has a key, the answer has it too,
holding a value of the same JSON type, recursively; every element of an answer's array has
the shape of one of the sample array's elements (a CDC section mixes changed and deleted
objects), and an array the sample fills is not empty. Values are never compared: the
sandbox answers for its own companies, not Intuit's.
"""

import json
from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).resolve().parent


def sample(path: str) -> Any:
    """The parsed JSON of a sample, by its path under tests/samples/."""
    return json.loads((SAMPLES / path).read_text())


def sample_bytes(path: str) -> bytes:
    return (SAMPLES / path).read_bytes()


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def shape_differences(sample: Any, answer: Any, path: str = "$") -> list[str]:
    """Where `answer` departs from the shape of `sample` (empty: it has the shape)."""
    expected, found = json_type(sample), json_type(answer)
    if expected != found:
        return [f"{path}: {found} where the sample has {expected}"]
    if expected == "object":
        differences = []
        for key, value in sample.items():
            if key not in answer:
                differences.append(f"{path}.{key}: missing")
            else:
                differences += shape_differences(value, answer[key], f"{path}.{key}")
        return differences
    if expected == "array" and sample:
        if not answer:
            return [f"{path}: empty where the sample has elements"]
        differences = []
        for position, item in enumerate(answer):
            tries = [shape_differences(kind, item, f"{path}[{position}]") for kind in sample]
            differences += min(tries, key=len)
        return differences
    return []
