"""The wire format of one external work order (docs/inbound.schema.json is generated from it).

Field names follow what 12345 hotline and 一网通办 platforms send; codes (category, area,
unit) are the source's own and are translated by the operator's map (``mapping.py``).
Unknown fields are ignored: a source adding a field must not dead-letter every order.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
ORDER_SCHEMA_VERSION = 1


class Caller(BaseModel):
    """The citizen who called or filed (来电人): personal data, encrypted once registered."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    name: str
    id_number: str
    phone: str


class InboundOrder(BaseModel):
    """One work order (工单) as the source system publishes it."""

    model_config = ConfigDict(extra="ignore", frozen=True,
                              json_schema_extra={"title": "Inbound work order (工单)"})
    schema_version: int = Field(ORDER_SCHEMA_VERSION, ge=1, le=ORDER_SCHEMA_VERSION,
                                description="Raised when a field changes meaning.")
    source: Code = Field(description="The sending system, a key of the map's [sources], "
                                     "e.g. `hotline-12345`, `ywtb`.")
    external_id: Code = Field(description="The order's id in the source system (工单编号); "
                                          "with `source`, the key of idempotent registration.")
    received_at: AwareDatetime | None = Field(
        None, description="When the source received it (business time); default: now.")
    category: Code = Field(description="The source's category code (诉求分类).")
    area: Code = Field(description="The source's administrative area code (行政区划).")
    unit: Code | None = Field(None, description="The source's code of the receiving unit "
                                                "(承办单位); default: the area's district.")
    subject: str = Field(description="Title (标题).")
    content: str = Field(description="What the citizen said (诉求内容).")
    address: str | None = Field(None, description="Free-text address (事发地址).")
    caller: Caller
