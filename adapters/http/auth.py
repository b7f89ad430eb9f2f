"""Bearer-token authentication: the header's token becomes a Principal or a 401."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from adapters.engine import Engine, engine
from workflows.access import Principal
from workflows.tokens import Unauthenticated

bearer = HTTPBearer(auto_error=False, description="A token from `petition token issue`.")


def principal(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    eng: Annotated[Engine, Depends(engine)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("a bearer token is required")
    return eng.tokens.authenticate(credentials.credentials)


Staff = Annotated[Principal, Depends(principal)]
Eng = Annotated[Engine, Depends(engine)]
