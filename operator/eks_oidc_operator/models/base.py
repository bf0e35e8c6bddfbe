"""The shared pydantic base: camelCase on the wire, snake_case in Python.

Every model of the resource derives from :class:`CamelModel`, so no other code converts names.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class CamelModel(BaseModel):
    """Base for the resource's models: camelCase aliases, frozen, strict about unknown keys."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        extra="forbid",
    )
