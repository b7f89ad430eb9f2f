"""Opening a case's file (附件): the petitioner's attachments and staff's documents, for staff
whose token carries the pii scope, within reach.

A case out of reach is answered as an unknown one (404); within reach without the pii scope
it is a 403, since an attachment (a photo of a paper, a letter) may name people. The file is
sent as a download whose type the browser must not guess (``nosniff``), so a PDF or image
that is also valid HTML or script can never run in the API's origin.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, HTTPException, Path
from fastapi.responses import Response

from adapters.blobs.sniff import EXTENSIONS
from adapters.http.auth import Eng, Staff
from workflows.access import authorize_read
from workflows.errors import AccessDenied

router = APIRouter(tags=["read"])
Sha256 = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$",
                             description="The file's SHA-256, as the case lists it under "
                                         "`attachments` or `documents`.")]
BINARY = {"description": "The file, as a download",
          "content": {"application/octet-stream": {"schema": {"type": "string",
                                                              "format": "binary"}}}}


@router.get("/petitions/{case_id}/attachments/{sha256}", response_class=Response,
            summary="Download an attachment of a case (pii scope)", responses={200: BINARY})
def attachment(case_id: UUID, sha256: Sha256, principal: Staff, eng: Eng) -> Response:
    petition = eng.app.get_petition(case_id)
    authorize_read(principal, petition, eng.app.org)
    if not principal.pii:
        raise AccessDenied("attachments may show personal data: a token with the pii scope "
                           "is needed")
    files = (*petition.attachments, *petition.documents)  # the petitioner's, then staff's
    item = next((a for a in files if a.sha256 == sha256), None)
    data = eng.blobs.get(sha256) if item is not None else None
    if item is None or data is None:
        raise HTTPException(404, "no such attachment on this case")
    short = f"{sha256[:16]}.{EXTENSIONS.get(item.media_type, 'bin')}"
    return Response(data, media_type=item.media_type, headers={
        "Content-Disposition": f"attachment; filename=\"{short}\"; "
                               f"filename*=UTF-8''{quote(item.file_name, safe='')}",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    })
