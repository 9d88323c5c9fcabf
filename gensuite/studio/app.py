"""The studio's HTTP side: the page, its files and the JSON API (docs/studio.md).

Every error is JSON ``{"error": "one line"}``: gensuite's own errors (bad
parameters 422, unusable files 400, unknown ids 404, refused uploads 413/415
or 400) and FastAPI's validation errors alike. Uploads are raw request bodies
(``curl --data-binary @song.mid``), read with their size limit as they
arrive, so nothing over the limit is held or written anywhere.
"""

from __future__ import annotations

import contextlib
import os

from fastapi import FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from gensuite.common.errors import GensuiteError, ParameterError
from gensuite.studio import uploads
from gensuite.studio.studio import FILES_URL, NotFoundError, Studio

STATIC_DIR = os.path.join(os.path.dirname(__file__), "static")
MAX_SEED = 2**31 - 1


class SampleRequest(BaseModel):
    checkpoint: str = "mel_2bar"
    count: int = Field(4, ge=1, le=16)
    temperature: float = Field(0.5, gt=0, le=5)
    seed: int = Field(0, ge=0, le=MAX_SEED)


class InterpolateRequest(BaseModel):
    checkpoint: str = "mel_2bar"
    a: str
    b: str
    mode: str = Field("steps", pattern="^(song|steps)$")
    steps: int = Field(5, ge=2, le=64)
    temperature: float = Field(0.5, gt=0, le=5)
    seed: int = Field(0, ge=0, le=MAX_SEED)
    bars: int | None = Field(None, ge=1, le=256)
    track: str | None = None


class ContinueRequest(BaseModel):
    clip: str
    checkpoint: str = "attention_rnn"
    primer_steps: int | None = Field(32, ge=1, le=1024)
    length_steps: int = Field(128, ge=2, le=1024)
    temperature: float = Field(1.0, gt=0, le=5)
    count: int = Field(2, ge=1, le=8)
    seed: int = Field(0, ge=0, le=MAX_SEED)


class ExampleRequest(BaseModel):
    example: str


class FromResultRequest(BaseModel):
    result: str
    item: int = Field(0, ge=0)


class RenderRequest(BaseModel):
    result: str | None = None
    item: int | None = Field(None, ge=0)
    clip: str | None = None
    synth: str = Field("soundfont", pattern="^(gansynth|soundfont)$")
    seed: int = Field(0, ge=0, le=MAX_SEED)
    timbres: dict[int, int] = Field(default_factory=dict)


async def read_body(request: Request, *, limit: int, what: str) -> bytes:
    """The request body, refused (413) as soon as it passes ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit():
        uploads.check_size(int(declared), limit=limit, what=what)
    chunks, total = [], 0
    async for chunk in request.stream():
        total += len(chunk)
        uploads.check_size(total, limit=limit, what=what)
        chunks.append(chunk)
    return b"".join(chunks)


def _status(exc: GensuiteError) -> int:
    if isinstance(exc, uploads.UploadError):
        return exc.status
    if isinstance(exc, NotFoundError):
        return 404
    return 422 if isinstance(exc, ParameterError) else 400


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def create_app(*, work_dir: str | os.PathLike, workers: int = 2) -> FastAPI:
    """The studio's web application over a work folder.

    Parameters
    ----------
    work_dir : str or os.PathLike
        Where clips, results and models are kept (created if needed).
    workers : int
        Background jobs (renders, personalisations) running at once.

    Returns
    -------
    FastAPI
        With the :class:`~gensuite.studio.studio.Studio` as ``app.state.studio``.
    """
    studio = Studio(work_dir=work_dir, workers=workers)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        await run_in_threadpool(studio.close)

    app = FastAPI(title="gensuite studio", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.studio = studio

    @app.exception_handler(GensuiteError)
    async def gensuite_error(request, exc: GensuiteError):
        return JSONResponse({"error": _one_line(exc)}, status_code=_status(exc))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request, exc: RequestValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "request"
        return JSONResponse({"error": _one_line(f"{where}: {first.get('msg', 'invalid')}")},
                            status_code=422)

    @app.exception_handler(HTTPException)
    async def http_error(request, exc: HTTPException):
        return JSONResponse({"error": _one_line(exc.detail)}, status_code=exc.status_code)

    @app.get("/", include_in_schema=False)
    def index():
        return FileResponse(os.path.join(STATIC_DIR, "index.html"))

    @app.get("/api/models")
    def models():
        return studio.list_models()

    @app.get("/api/examples")
    def examples():
        return studio.list_examples()

    @app.post("/api/clips")
    async def upload_clip(request: Request, name: str = Query("upload.mid", max_length=200)):
        data = await read_body(request, limit=uploads.MAX_MIDI_BYTES, what=name)
        return await run_in_threadpool(studio.add_clip, data, name=name)

    @app.post("/api/clips/example")
    def example_clip(body: ExampleRequest):
        return studio.example_clip(body.example)

    @app.post("/api/clips/from-result")
    def clip_from_result(body: FromResultRequest):
        return studio.clip_from_result(body.result, body.item)

    @app.get("/api/clips/{clip_id}")
    def clip(clip_id: str):
        return studio.clip(clip_id)

    @app.post("/api/sample")
    def sample(body: SampleRequest):
        return studio.sample(**body.model_dump())

    @app.post("/api/interpolate")
    def interpolate(body: InterpolateRequest):
        return studio.interpolate(**body.model_dump())

    @app.post("/api/continue")
    def continue_clip(body: ContinueRequest):
        return studio.continue_clip(**body.model_dump())

    @app.get("/api/results/{result_id}")
    def result(result_id: str):
        return studio.result(result_id)

    @app.post("/api/render", status_code=202)
    def render(body: RenderRequest):
        return studio.start_render(**body.model_dump()).to_dict()

    @app.post("/api/personalize", status_code=202)
    async def personalize(request: Request, name: str = Query("upload.zip", max_length=200),
                          checkpoint: str = "mel_2bar",
                          num_steps: int | None = Query(None, ge=1, le=100_000),
                          latent_size: int | None = Query(None, ge=1, le=64),
                          seed: int = Query(0, ge=0, le=MAX_SEED)):
        data = await read_body(request, limit=uploads.MAX_ZIP_BYTES, what=name)
        job = await run_in_threadpool(
            lambda: studio.start_personalize(data, name=name, checkpoint=checkpoint,
                                             num_steps=num_steps, latent_size=latent_size,
                                             seed=seed))
        return job.to_dict()

    @app.get("/api/jobs/{job_id}")
    def job(job_id: str):
        return _job(studio, job_id).to_dict()

    @app.post("/api/jobs/{job_id}/cancel")
    def cancel(job_id: str):
        found = _job(studio, job_id)
        found.cancel()
        return found.to_dict()

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.mount(FILES_URL, StaticFiles(directory=studio.work_dir), name="files")
    return app


def _job(studio: Studio, job_id: str):
    found = studio.jobs.get(job_id)
    if found is None:
        raise NotFoundError(f"job: no such id {job_id!r}")
    return found
