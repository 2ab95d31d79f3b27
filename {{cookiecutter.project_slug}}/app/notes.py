"""An example resource, end to end: a table (app/models.py), its migration, two
routes and their tests. It shows the pattern; replace it with your own.

Answers that are not 2xx are problem+json, as the service's errors are: 404 for
a note that does not exist, 409 for a title already taken, 503 while the
database cannot be reached (app/database.py).
"""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError

from app.database import UNAVAILABLE_RESPONSE, Session
from app.middleware import Problem
from app.models import Note

router = APIRouter(prefix="/notes", tags=["notes"], responses=UNAVAILABLE_RESPONSE)


class NoteIn(BaseModel):
    title: Annotated[str, Field(min_length=1, max_length=200)]
    body: Annotated[str, Field(max_length=10_000)] = ""


class NoteOut(NoteIn):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime


def _problem(status: int, description: str) -> dict[int | str, dict[str, Any]]:
    return {
        status: {
            "description": description,
            "content": {"application/problem+json": {}},
        }
    }


@router.post(
    "",
    status_code=201,
    responses=_problem(409, "A note with this title exists"),
)
async def create_note(note: NoteIn, session: Session, response: Response) -> NoteOut:
    """Create a note; its title must be unique."""
    row = Note(title=note.title, body=note.body)
    session.add(row)
    try:
        await session.flush()  # the request's end commits (app/database.py)
    except IntegrityError as error:
        raise Problem(409, f"A note titled {note.title!r} exists.") from error
    await session.refresh(row)  # created_at, which PostgreSQL set
    response.headers["Location"] = f"/notes/{row.id}"
    return NoteOut.model_validate(row)


@router.get("/{note_id}", responses=_problem(404, "No note has this id"))
async def read_note(note_id: int, session: Session) -> NoteOut:
    """Read one note."""
    row = await session.get(Note, note_id)
    if row is None:
        raise Problem(404, f"No note has the id {note_id}.")
    return NoteOut.model_validate(row)
