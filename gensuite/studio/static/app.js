// gensuite studio: the page over the JSON API (docs/studio.md). No framework, no build.
"use strict";

const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
const TRACK_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                       "#8c564b", "#e377c2", "#bcbd22", "#17becf"];
const POLL_MS = 400;

const state = {
  clips: [],          // clips loaded in this tab: {id, name, ...}
  result: null,       // the result shown
  item: 0,            // its item shown
  renders: new Map(), // "result/item/synth/seed/timbres" -> WAV url
  playhead: null,     // the SVG line that follows the audio
  rollDuration: 1,
};

// ----- talking to the server ------------------------------------------------

async function api(path, options = {}) {
  const response = await fetch(path, options);
  const body = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
  return body;
}

const postJson = (path, body) => api(path, {
  method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
});

function say(text, isError = false) {
  $("status").textContent = text;
  $("status").classList.toggle("error", isError);
}

// Run an action from a button: disabled while it runs, errors shown in the status line.
async function busy(button, what, action) {
  button.disabled = true;
  say(`${what}…`);
  try {
    await action();
    say(`${what}: done`);
  } catch (error) {
    say(`${what}: ${error.message}`, true);
  } finally {
    button.disabled = false;
  }
}

const number = (id) => Number($(id).value);

// ----- piano rolls ------------------------------------------------------------

// Draw roll data ({notes: [[pitch, start, end, track]], bars, duration}) into an SVG.
function drawRoll(roll, { width = 900, height = 220, playhead = false } = {}) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("role", "img");
  const notes = roll.notes;
  const duration = Math.max(roll.duration, 0.001);
  const pitches = notes.map((n) => n[0]);
  const low = Math.min(...pitches, 60) - 2;
  const high = Math.max(...pitches, 72) + 2;
  const rowHeight = height / (high - low + 1);
  const x = (t) => (t / duration) * width;
  for (const bar of roll.bars) {
    const line = document.createElementNS(SVG, "line");
    line.setAttribute("x1", x(bar)); line.setAttribute("x2", x(bar));
    line.setAttribute("y1", 0); line.setAttribute("y2", height);
    line.setAttribute("stroke", "#e3e6ec");
    svg.appendChild(line);
  }
  const trackIndex = new Map(roll.tracks.map((t, i) => [t.id, i]));
  for (const [pitch, start, end, track] of notes) {
    const rect = document.createElementNS(SVG, "rect");
    rect.setAttribute("class", "note");
    rect.setAttribute("x", x(start));
    rect.setAttribute("y", (high - pitch) * rowHeight);
    rect.setAttribute("width", Math.max(x(end) - x(start), 1));
    rect.setAttribute("height", Math.max(rowHeight, 1.5));
    rect.setAttribute("rx", 1.5);
    rect.setAttribute("fill", TRACK_COLOURS[(trackIndex.get(track) || 0) % TRACK_COLOURS.length]);
    svg.appendChild(rect);
  }
  if (playhead) {
    const line = document.createElementNS(SVG, "line");
    line.setAttribute("id", "playhead");
    line.setAttribute("y1", 0); line.setAttribute("y2", height);
    line.setAttribute("x1", 0); line.setAttribute("x2", 0);
    line.setAttribute("stroke", "#d62728"); line.setAttribute("stroke-width", 2);
    svg.appendChild(line);
    state.playhead = { line, width };
    state.rollDuration = duration;
  }
  return svg;
}

function rollBox(roll, caption, options) {
  const box = document.createElement("div");
  box.className = "roll";
  if (caption) {
    const text = document.createElement("div");
    text.className = "caption";
    text.textContent = caption;
    box.appendChild(text);
  }
  box.appendChild(drawRoll(roll, options));
  return box;
}

// The playhead follows the audio element, frame by frame while it plays.
function followAudio() {
  const player = $("player");
  if (state.playhead) {
    const t = Math.min(player.currentTime / state.rollDuration, 1);
    const xPos = t * state.playhead.width;
    state.playhead.line.setAttribute("x1", xPos);
    state.playhead.line.setAttribute("x2", xPos);
  }
  if (!player.paused) requestAnimationFrame(followAudio);
}

// ----- clips ---------------------------------------------------------------------

function addClip(clip) {
  if (!state.clips.some((c) => c.id === clip.id)) state.clips.push(clip);
  const list = $("clips");
  list.replaceChildren(...state.clips.map((c) => {
    const li = document.createElement("li");
    const name = document.createElement("span");
    name.textContent = c.name;
    name.title = `${c.source}; melody: ${c.melody}`;
    const show = document.createElement("button");
    show.type = "button";
    show.textContent = "show";
    show.className = "secondary";
    show.addEventListener("click", () => showClip(c));
    li.append(name, show);
    return li;
  }));
  for (const select of document.querySelectorAll(".clip-select")) {
    const chosen = select.value;
    select.replaceChildren(...state.clips.map((c) => new Option(c.name, c.id)));
    if (chosen) select.value = chosen;
  }
  // A newly added clip becomes B (and A/primer when they are unset), so two loads make a pair.
  const [a, b] = [$("interp-a"), $("interp-b")];
  if (state.clips.length >= 2 && a.value === b.value) {
    a.value = state.clips[state.clips.length - 2].id;
    b.value = clip.id;
  }
}

function showClip(clip) {
  showResult({
    id: null, kind: "clip", title: `${clip.name} (${clip.source})`,
    items: [{ index: 0, label: clip.name, midi: clip.midi, roll: clip.roll }],
    inputs: [], files: [], figures: {}, clip: clip.id,
    caption: `melody a model takes: ${clip.melody}`,
  });
}

// ----- results ----------------------------------------------------------------

function renderKey() {
  const r = state.result;
  const synth = $("render-synth").value;
  const seeds = synth === "gansynth" ? JSON.stringify(timbreSeeds()) : "";
  return `${r.id || r.clip}/${state.item}/${synth}/${seeds}`;
}

function timbreSeeds() {
  const seeds = {};
  for (const input of document.querySelectorAll("#timbres input")) {
    seeds[input.dataset.track] = Number(input.value);
  }
  return seeds;
}

function showResult(result) {
  state.result = result;
  state.item = 0;
  $("result-title").textContent = result.title;
  const inputs = result.inputs.map((input) =>
    rollBox(input.roll, `${input.label}: ${input.caption}`, { width: 450, height: 120 }));
  if (result.caption) {
    const note = document.createElement("p");
    note.className = "hint";
    note.textContent = result.caption;
    inputs.push(note);
  }
  $("inputs").replaceChildren(...inputs);
  const slider = $("item-slider");
  slider.max = result.items.length - 1;
  slider.value = 0;
  $("item-picker").hidden = result.items.length < 2;
  $("render-controls").hidden = false;
  $("use-as-clip").hidden = !result.id;
  showItem(0);
}

function showItem(index) {
  const result = state.result;
  const item = result.items[index];
  state.item = index;
  $("item-label").textContent = `${item.label} (${index + 1} of ${result.items.length})`;
  $("roll").replaceChildren(rollBox(item.roll, null, { playhead: true }));
  const seeds = timbreSeeds();
  $("timbres").replaceChildren(...item.roll.tracks.map((track) => {
    const label = document.createElement("label");
    label.textContent = `timbre seed, ${track.name} `;
    const input = document.createElement("input");
    input.type = "number"; input.min = 0; input.dataset.track = track.id;
    input.value = seeds[track.id] ?? track.id;
    label.appendChild(input);
    return label;
  }));
  showAudio(state.renders.get(renderKey()));
}

function showAudio(wav) {
  const player = $("player");
  const item = state.result.items[state.item];
  if (wav) {
    if (!player.src.endsWith(wav)) player.src = wav;
  } else {
    player.removeAttribute("src");
    player.load();
  }
  const links = [["MIDI", item.midi]];
  if (wav) links.push(["WAV", wav]);
  for (const file of state.result.files) links.push([file.label, file.url]);
  $("downloads").replaceChildren(...links.map(([label, url]) => {
    const a = document.createElement("a");
    a.href = url; a.textContent = `download ${label}`; a.download = "";
    return a;
  }));
}

// ----- background jobs ----------------------------------------------------------

// Show a job's progress until it ends; resolves with its result, rejects when it fails.
function watchJob(job, title) {
  const box = document.createElement("div");
  box.className = "job";
  box.dataset.job = job.id;
  const head = document.createElement("div");
  head.textContent = title;
  const bar = document.createElement("progress");
  bar.max = 1;
  const why = document.createElement("div");
  why.className = "why";
  const cancel = document.createElement("button");
  cancel.type = "button"; cancel.className = "secondary"; cancel.textContent = "Cancel";
  cancel.addEventListener("click", () => postJson(`/api/jobs/${job.id}/cancel`, {}).catch(() => {}));
  box.append(head, bar, why, cancel);
  $("jobs").prepend(box);
  return new Promise((resolve, reject) => {
    const update = (current) => {
      bar.value = current.progress;
      why.textContent = current.error || current.message;
      box.classList.toggle("failed", current.state === "failed");
      if (current.state === "done") {
        box.remove();
        resolve(current.result);
      } else if (current.state === "failed" || current.state === "cancelled") {
        cancel.remove();
        setTimeout(() => box.remove(), 8000);
        reject(new Error(current.error || current.state));
      } else {
        setTimeout(() => api(`/api/jobs/${job.id}`).then(update, reject), POLL_MS);
      }
    };
    update(job);
  });
}

// ----- wiring ----------------------------------------------------------------------

function fillModels(models) {
  for (const select of document.querySelectorAll(".vae-models")) {
    const chosen = select.value || "mel_2bar";
    select.replaceChildren(...models.vae.map((m) => new Option(m.label, m.name)));
    select.value = models.vae.some((m) => m.name === chosen) ? chosen : models.vae[0]?.name;
  }
  if (!models.gansynth.length) $("render-synth").options[1].disabled = true;
}

async function upload(file, path) {
  return api(`${path}${path.includes("?") ? "&" : "?"}name=${encodeURIComponent(file.name)}`,
             { method: "POST", body: file, headers: { "Content-Type": "application/octet-stream" } });
}

function wire() {
  $("upload-midi").addEventListener("change", (event) => {
    const file = event.target.files[0];
    if (!file) return;
    busy(event.target, `uploading ${file.name}`, async () => {
      const clip = await upload(file, "/api/clips");
      addClip(clip);
      showClip(clip);
    });
  });
  $("load-example").addEventListener("click", (event) => busy(event.target, "loading the example",
    async () => {
      const clip = await postJson("/api/clips/example", { example: $("example").value });
      addClip(clip);
      showClip(clip);
    }));
  $("sample").addEventListener("click", (event) => busy(event.target, "sampling", async () => {
    showResult(await postJson("/api/sample", {
      checkpoint: $("sample-model").value, temperature: number("sample-temperature"),
      count: number("sample-count"), seed: number("sample-seed"),
    }));
  }));
  $("interpolate").addEventListener("click", (event) => busy(event.target, "interpolating",
    async () => {
      if (!$("interp-a").value || !$("interp-b").value) throw new Error("load two clips first");
      showResult(await postJson("/api/interpolate", {
        checkpoint: $("interp-model").value, a: $("interp-a").value, b: $("interp-b").value,
        mode: $("interp-mode").value, steps: number("interp-steps"),
        temperature: number("interp-temperature"), track: $("interp-track").value || null,
      }));
    }));
  $("continue").addEventListener("click", (event) => busy(event.target, "continuing", async () => {
    if (!$("continue-clip").value) throw new Error("load a primer clip first");
    showResult(await postJson("/api/continue", {
      clip: $("continue-clip").value, primer_steps: number("continue-primer-steps"),
      length_steps: number("continue-length"), temperature: number("continue-temperature"),
      count: number("continue-count"), seed: number("continue-seed"),
    }));
  }));
  $("personalize").addEventListener("click", (event) => busy(event.target, "personalising",
    async () => {
      const file = $("upload-zip").files[0];
      if (!file) throw new Error("choose a zip of MIDI files first");
      const job = await upload(file, `/api/personalize?num_steps=${number("personalize-steps")}`);
      const done = await watchJob(job, `personalising on ${file.name}`);
      fillModels(await api("/api/models"));
      $("sample-model").value = done.checkpoint;
    }));
  $("render").addEventListener("click", (event) => busy(event.target, "rendering", async () => {
    const result = state.result;
    const key = renderKey();
    const synth = $("render-synth").value;
    const seeds = timbreSeeds();
    const target = result.id ? { result: result.id, item: state.item } : { clip: result.clip };
    const job = await postJson("/api/render", { ...target, synth, timbres: seeds });
    const item = result.items[state.item];
    const done = await watchJob(job, `rendering ${item.label} (${synth})`);
    state.renders.set(key, done.wav);
    if (state.result === result && renderKey() === key) showAudio(done.wav);
  }));
  $("use-as-clip").addEventListener("click", (event) => busy(event.target, "keeping as a clip",
    async () => {
      addClip(await postJson("/api/clips/from-result",
                             { result: state.result.id, item: state.item }));
    }));
  $("item-slider").addEventListener("input", (event) => showItem(Number(event.target.value)));
  $("render-synth").addEventListener("change", () => showAudio(state.renders.get(renderKey())));
  $("timbres").addEventListener("change", () => showAudio(state.renders.get(renderKey())));
  $("player").addEventListener("play", () => requestAnimationFrame(followAudio));
  $("player").addEventListener("seeked", followAudio);
}

async function start() {
  wire();
  try {
    const [models, examples] = await Promise.all([api("/api/models"), api("/api/examples")]);
    fillModels(models);
    $("example").replaceChildren(...examples.map((e) =>
      new Option(`${e.collection}: ${e.piece}`, e.id)));
    say("ready");
  } catch (error) {
    say(`could not load: ${error.message}`, true);
  }
}

start();
