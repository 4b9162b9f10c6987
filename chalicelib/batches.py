"""One object or a batch of them: the shape every ingest route accepts."""
from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from .errors import InvalidInput, pydantic_details

M = TypeVar("M", bound=BaseModel)


def validate_batch(body: Any, model: type[M], noun: str, max_batch: int,
                   check: Callable[[M], None] | None = None
                   ) -> tuple[list[tuple[int, M]], list[dict[str, Any]], bool]:
    """Validate a JSON body that is one object or an array of 1..``max_batch`` objects.

    Returns the valid items with their index, the refusals ``{"index", "errors": [{"field",
    "message"}]}``, and whether the body was an array. ``check`` may refuse a valid item by
    raising ``InvalidInput`` with details. Raises ``InvalidInput`` for an unusable body.
    """
    if isinstance(body, dict):
        items, batch = [body], False
    elif isinstance(body, list):
        if not body:
            raise InvalidInput(f"the batch is empty; send one {noun} object or an array of 1 to {max_batch}")
        if len(body) > max_batch:
            raise InvalidInput(f"a batch holds at most {max_batch} {noun}s, got {len(body)}")
        items, batch = body, True
    else:
        raise InvalidInput(f"send one {noun} as a JSON object, or an array of them")
    valid, refused = [], []
    try:  # the whole batch in one call: most batches are wholly valid
        items = _list_adapter(model).validate_python(items)
    except ValidationError:
        pass  # item by item below, to say which items are refused and why
    for index, raw in enumerate(items):
        try:
            if isinstance(raw, model):
                item = raw
            elif not isinstance(raw, dict):
                raise InvalidInput(f"each {noun} must be a JSON object",
                                   [{"field": "(item)", "message": "not an object"}])
            else:
                item = model.model_validate(raw)
            if check is not None:
                check(item)
        except ValidationError as exc:
            refused.append({"index": index, "errors": pydantic_details(exc, f"({noun})")})
        except InvalidInput as exc:
            refused.append({"index": index, "errors": exc.details})
        else:
            valid.append((index, item))
    return valid, refused, batch


@functools.lru_cache(maxsize=None)
def _list_adapter(model: type[M]) -> TypeAdapter:
    return TypeAdapter(list[model])  # type: ignore[valid-type]


def batch_status(noun: str, valid: list, refused: list, batch: bool) -> int:
    """200 when all were kept, 207 when a batch was partly refused; raises ``InvalidInput``
    (400) when a single item, or every item of a batch, was refused."""
    if refused and not batch:
        raise InvalidInput(f"the {noun} was refused", refused[0]["errors"])
    if not valid:
        raise InvalidInput(f"every {noun} in the batch was refused", refused)
    return 207 if refused else 200
