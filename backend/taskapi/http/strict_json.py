"""JSON read strictly (I-JSON, RFC 7493), for request bodies and token segments alike.

Python's `json` takes what other parsers refuse or read differently: NaN and Infinity, numbers beyond any
double (1e400 becomes inf), the last of duplicate keys, and nesting until the interpreter's stack runs out.
Each of those is refused here with a sentence saying which; nothing deeper down ever sees such a value.
"""

import json
import math

# Deeper than any body of this API; deep enough for any JSON a client means to send. Bounded so that what
# walks a body afterwards (schema validation, serialisers) can never exhaust the stack.
MAX_DEPTH = 32
# Longer integers are not quantities anyone means (and converting one costs time quadratic in its length).
MAX_INTEGER_DIGITS = 40


class StrictJsonError(ValueError):
    """Why the text is not JSON this API accepts, as a predicate: "is not valid JSON: …", "contains NaN, …"."""


class DuplicateKey(StrictJsonError):
    def __init__(self, name: str) -> None:
        super().__init__(f"repeats the key {name!r}; keys of a JSON object must be unique")
        self.name = name


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    value = dict(pairs)
    if len(value) != len(pairs):
        seen: set[str] = set()
        raise DuplicateKey(next(name for name, _ in pairs if name in seen or seen.add(name)))
    return value


def _constant(name: str):
    raise StrictJsonError(f"contains {name}, which is not a JSON number")


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise StrictJsonError(f"contains a number of {len(text.lstrip('-'))} digits; at most {MAX_INTEGER_DIGITS}")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise StrictJsonError(f"contains the number {text[:20]}, beyond what a double can hold")
    return value


def _depth_within(value: object, limit: int) -> bool:
    """Whether no container lies more than `limit` levels down; iterative, so it cannot exhaust the stack."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > limit:
            return False
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return True


def loads(text: str | bytes) -> object:
    """The JSON value, or StrictJsonError saying what is wrong with it."""
    try:
        value = json.loads(
            text, object_pairs_hook=_unique_keys, parse_constant=_constant, parse_int=_integer, parse_float=_float
        )
    except RecursionError:
        raise StrictJsonError(f"is nested more than {MAX_DEPTH} levels deep") from None
    except StrictJsonError:
        raise
    except json.JSONDecodeError as error:
        raise StrictJsonError(f"is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}") from None
    if not _depth_within(value, MAX_DEPTH):
        raise StrictJsonError(f"is nested more than {MAX_DEPTH} levels deep")
    return value
