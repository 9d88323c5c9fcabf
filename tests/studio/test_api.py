"""The studio's JSON API in process (FastAPI's TestClient) on the shipped models.

One app and work folder serve the whole module, so each model loads once.
"""

import io
import os
import threading
import time
import zipfile

import pytest

pytest.importorskip("fastapi", reason="the studio extra is not installed")
pytest.importorskip("httpx", reason="httpx (FastAPI's TestClient) is not installed")

from fastapi.testclient import TestClient  # noqa: E402

from gensuite.studio import uploads  # noqa: E402
from gensuite.studio.app import create_app  # noqa: E402
from tests.conftest import build_note_sequence  # noqa: E402

FINISHED = ("done", "failed", "cancelled")


def midi_bytes(notes=None) -> bytes:
    """Four bars of a C-major line at 120 qpm as MIDI bytes."""
    import note_seq

    notes = notes or [(60 + (i * 5) % 12, 2 * i, 2 * i + 2) for i in range(32)]
    midi = note_seq.sequence_proto_to_pretty_midi(build_note_sequence(notes))
    buffer = io.BytesIO()
    midi.write(buffer)
    return buffer.getvalue()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("studio") / "work"


@pytest.fixture(scope="module")
def client(work):
    with TestClient(create_app(work_dir=work)) as c:
        yield c


@pytest.fixture(scope="module")
def clips(client):
    """A corpus chorale, an uploaded 4-bar line and a corpus folk tune."""
    chorale = client.post("/api/clips/example", json={"example": "bach-chorales-0"})
    upload = client.post("/api/clips?name=line.mid", content=midi_bytes())
    folk = client.post("/api/clips/example", json={"example": "essen-0"})
    for response in (chorale, upload, folk):
        assert response.status_code == 200, response.text
    return [r.json() for r in (chorale, upload, folk)]


def ok(response, status=200) -> dict:
    assert response.status_code == status, response.text
    return response.json()


def error_of(response, status) -> str:
    assert response.status_code == status, response.text
    message = response.json()["error"]
    assert "\n" not in message and message
    return message


def wait_job(client, job, timeout=60.0) -> dict:
    deadline = time.monotonic() + timeout
    while job["state"] not in FINISHED:
        assert time.monotonic() < deadline, job
        time.sleep(0.1)
        job = ok(client.get(f"/api/jobs/{job['id']}"))
    return job


def files_written_outside(root, work):
    return [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs
            if not os.path.join(d, f).startswith(str(work))]


def test_page_and_static_files(client):
    page = client.get("/")
    assert page.status_code == 200 and "<script src=\"/static/app.js\">" in page.text
    for name in ("app.js", "style.css", "favicon.svg"):
        asset = client.get(f"/static/{name}")
        # Offline: nothing is fetched from elsewhere.
        assert asset.status_code == 200 and "https://" not in asset.text
    assert "https://" not in page.text


def test_models_and_examples(client):
    models = ok(client.get("/api/models"))
    assert "mel_2bar" in {m["name"] for m in models["vae"]}
    assert {m["name"] for m in models["rnn"]} >= {"attention_rnn"}
    examples = ok(client.get("/api/examples"))
    assert {"bach-chorales-0", "essen-0"} <= {e["id"] for e in examples}


def test_clips_show_roll_and_melody(client, clips):
    chorale, line, _ = clips
    assert chorale["melody"].startswith("track 'Soprano'")
    assert len(chorale["roll"]["tracks"]) == 4 and chorale["roll"]["bars"]
    again = ok(client.get(f"/api/clips/{line['id']}"))
    assert again["name"] == "line.mid" and len(again["roll"]["notes"]) == 32
    assert client.get(line["midi"]).content.startswith(b"MThd")
    assert error_of(client.get("/api/clips/nope"), 404) == "clip: no such id 'nope'"
    assert error_of(client.get("/api/clips/..%2Fx"), 404)


def test_sample_then_keep_an_item_as_a_clip(client):
    result = ok(client.post("/api/sample", json={"count": 2, "seed": 3}))
    assert [i["label"] for i in result["items"]] == ["sample 0", "sample 1"]
    assert ok(client.get(f"/api/results/{result['id']}")) == result
    again = ok(client.post("/api/sample", json={"count": 2, "seed": 3}))
    assert [i["roll"] for i in again["items"]] == [i["roll"] for i in result["items"]]
    clip = ok(client.post("/api/clips/from-result", json={"result": result["id"], "item": 1}))
    assert clip["source"] == f"result {result['id']}"
    assert error_of(client.post("/api/clips/from-result",
                                json={"result": result["id"], "item": 5}), 404)


def test_interpolate_steps_and_song(client, clips):
    chorale, line, folk = clips
    steps = ok(client.post("/api/interpolate", json={"a": chorale["id"], "b": line["id"],
                                                     "steps": 3}))
    assert [i["label"] for i in steps["items"]] == ["step 0 (A)", "step 1", "step 2 (B)"]
    assert "track 'Soprano'" in steps["inputs"][0]["caption"]
    assert "bar" in steps["inputs"][1]["caption"]
    song = ok(client.post("/api/interpolate", json={"a": chorale["id"], "b": folk["id"],
                                                    "mode": "song", "bars": 4}))
    assert len(song["items"]) == 1 and "4 bars used" in song["inputs"][0]["caption"]
    # The library's errors come back as one line.
    assert "at most" in error_of(client.post("/api/interpolate", json={
        "a": chorale["id"], "b": folk["id"], "mode": "song", "bars": 250}), 422)
    assert "no track named" in error_of(client.post("/api/interpolate", json={
        "a": chorale["id"], "b": folk["id"], "track": "tuba"}), 400)


def test_continue_a_clip(client, clips):
    result = ok(client.post("/api/continue", json={"clip": clips[1]["id"], "count": 1,
                                                   "length_steps": 64}))
    assert result["inputs"][0]["caption"].endswith("32 steps from bar 1")
    assert result["items"][0]["roll"]["duration"] == pytest.approx(8.0, abs=0.2)
    assert "greater than the primer" in error_of(client.post("/api/continue", json={
        "clip": clips[1]["id"], "length_steps": 16}), 422)


def test_render_soundfont_and_gansynth(client):
    result = ok(client.post("/api/sample", json={"count": 1, "seed": 5}))
    for synth in ("soundfont", "gansynth"):
        job = ok(client.post("/api/render", json={"result": result["id"], "item": 0,
                                                  "synth": synth, "timbres": {"0": 7}}), 202)
        job = wait_job(client, job)
        assert job["state"] == "done", job
        wav = client.get(job["result"]["wav"])
        assert wav.content[:4] == b"RIFF" and synth in job["result"]["wav"]


def test_cancel_a_job(client):
    studio = client.app.state.studio
    started = threading.Event()

    def work(job):
        started.set()
        while True:  # stops at the first report after the cancel
            job.report(message="working")
            time.sleep(0.01)

    job = studio.jobs.submit(work, kind="test")
    assert started.wait(10)
    ok(client.post(f"/api/jobs/{job.id}/cancel"))
    assert wait_job(client, job.to_dict())["state"] == "cancelled"
    assert error_of(client.get("/api/jobs/nope"), 404)


def test_personalize_on_a_zip_then_sample(client, clips, work):
    members = {f"songs/{i}.mid": midi_bytes([(62 + (j * (i + 2)) % 10, 2 * j, 2 * j + 2)
                                              for j in range(32)]) for i in range(3)}
    job = ok(client.post("/api/personalize?name=mine.zip&num_steps=50",
                         content=zip_bytes(members)), 202)
    job = wait_job(client, job)
    assert job["state"] == "done", job
    name = job["result"]["checkpoint"]
    models = ok(client.get("/api/models"))["vae"]
    assert {"name": name, "label": "mine (personalised)", "kind": "music_vae"} in models
    assert not [p for p in os.listdir(work / "models") if p.endswith(".partial")]
    assert len(ok(client.post("/api/sample", json={"checkpoint": name, "count": 2}))["items"]) == 2


@pytest.mark.parametrize("path, body, status, says", [
    ("/api/clips?name=big.mid", b"MThd" + b"\0" * uploads.MAX_MIDI_BYTES, 413, "limit of 2 MB"),
    ("/api/clips?name=a.txt", b"hello, not music", 415, "not a MIDI file"),
    ("/api/clips?name=bad.mid", b"MThd\0\0\0\6garbage", 400, "MIDI ("),
    ("/api/personalize?name=x.zip", b"PK not really", 415, "not a zip file"),
    ("/api/personalize?name=evil.zip", zip_bytes({"../../evil.mid": b"MThd"}), 400,
     "outside the upload's folder"),
    ("/api/personalize?name=abs.zip", zip_bytes({"/tmp/evil.mid": b"MThd"}), 400,
     "outside the upload's folder"),
    ("/api/personalize?name=many.zip",
     zip_bytes({f"{i}.mid": b"MThd" for i in range(uploads.MAX_ZIP_MIDI_FILES + 1)}), 400,
     "over the limit of 500"),
    ("/api/personalize?name=text.zip", zip_bytes({"a.txt": b"hi"}), 400, "no .mid or .midi"),
])
def test_bad_uploads_are_refused_and_write_nothing_outside(client, work, path, body, status,
                                                          says):
    root = work.parent
    before = set(files_written_outside(root, work))
    assert says in error_of(client.post(path, content=body), status)
    assert set(files_written_outside(root, work)) == before
    assert not os.listdir(work / "uploads")


def test_oversize_zip_is_refused_from_its_length(client):
    response = client.post("/api/personalize?name=huge.zip", content=b"PK",
                           headers={"Content-Length": str(uploads.MAX_ZIP_BYTES + 1)})
    assert "limit of 50 MB" in error_of(response, 413)


def test_bad_parameters_are_one_line_422(client):
    assert error_of(client.post("/api/sample", json={"count": 0}), 422).startswith("count:")
    assert "no music_vae or latent_hierarchy model named 'x'" in error_of(
        client.post("/api/sample", json={"checkpoint": "x"}), 422)
    assert error_of(client.post("/api/render", json={"synth": "organ"}), 422).startswith("synth")
    assert error_of(client.get("/api/nothing"), 404)


def test_two_concurrent_requests_both_succeed(client, clips):
    bodies = [("/api/sample", {"count": 2, "seed": 11}),
              ("/api/interpolate", {"a": clips[0]["id"], "b": clips[1]["id"], "steps": 2})]
    responses = [None] * len(bodies)

    def call(i):
        responses[i] = client.post(bodies[i][0], json=bodies[i][1])

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert [r.status_code for r in responses] == [200, 200], [r.text for r in responses]
