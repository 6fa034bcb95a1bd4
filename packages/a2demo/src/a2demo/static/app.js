// The demo page: a drawing canvas, a photo form and the model-card list, on the JSON API.
"use strict";

const canvas = document.getElementById("canvas");
const ctx = canvas.getContext("2d");

function clearCanvas() {
  ctx.fillStyle = "#000";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
}

function setupDrawing() {
  let drawing = false;
  let last = null;
  const point = (event) => {
    const box = canvas.getBoundingClientRect();
    return [(event.clientX - box.left) * canvas.width / box.width,
            (event.clientY - box.top) * canvas.height / box.height];
  };
  canvas.addEventListener("pointerdown", (event) => {
    drawing = true;
    last = point(event);
    canvas.setPointerCapture(event.pointerId);
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    const next = point(event);
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = 18;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.beginPath();
    ctx.moveTo(last[0], last[1]);
    ctx.lineTo(next[0], next[1]);
    ctx.stroke();
    last = next;
  });
  const stop = () => { drawing = false; };
  canvas.addEventListener("pointerup", stop);
  canvas.addEventListener("pointercancel", stop);
}

function renderResult(element, result) {
  const out = element.querySelector(".out");
  out.textContent = "";
  if (result.state !== "ready") {
    const note = document.createElement("p");
    note.className = "warn";
    note.textContent = result.state === "not_trained"
      ? "Not trained yet. " + result.detail : "Unavailable: " + result.detail;
    out.appendChild(note);
    return;
  }
  const label = document.createElement("div");
  label.className = "label";
  label.textContent = result.label;
  out.appendChild(label);
  for (const row of result.top_k) {
    const bar = document.createElement("div");
    bar.className = "bar";
    const fill = document.createElement("span");
    fill.className = "fill";
    fill.style.width = Math.round(120 * row.probability) + "px";
    const text = document.createElement("span");
    text.textContent = `${row.label}: ${(100 * row.probability).toFixed(1)}%`;
    bar.append(fill, text);
    out.appendChild(bar);
  }
  const run = document.createElement("div");
  run.className = "run";
  run.textContent = `${result.run} run, ${result.inference_ms} ms`
    + (result.run === "quick" ? " (quick smoke run: low accuracy)" : "");
  out.appendChild(run);
}

async function postImage(url, blob, filename) {
  const form = new FormData();
  form.append("image", blob, filename);
  const response = await fetch(url, { method: "POST", body: form });
  let body;
  try { body = await response.json(); } catch (error) { body = { detail: response.statusText }; }
  return { status: response.status, body };
}

async function classifyDigit() {
  const error = document.getElementById("digit-error");
  error.textContent = "";
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
  const { status, body } = await postImage("/api/digit", blob, "digit.png");
  if (body.input_28x28) document.getElementById("digit-input").src = body.input_28x28;
  if (body.models) {
    for (const element of document.querySelectorAll("#digit-results .model")) {
      renderResult(element, body.models[element.dataset.model]);
    }
  }
  if (status >= 400) error.textContent = `${status}: ${body.detail}`;
  loadStatus();
}

async function classifyPhoto(event) {
  event.preventDefault();
  const error = document.getElementById("photo-error");
  error.textContent = "";
  const file = document.getElementById("photo-file").files[0];
  if (!file) { error.textContent = "Choose a photo first."; return; }
  const preview = document.getElementById("photo-preview");
  preview.src = URL.createObjectURL(file);
  preview.alt = "the uploaded photo";
  const element = document.querySelector('#photos .model[data-model="animals"]');
  const { status, body } = await postImage("/api/photo?k=3", file, file.name);
  if (status === 200) renderResult(element, body);
  else {
    element.querySelector(".out").textContent = "";
    error.textContent = `${status}: ${body.detail}`;
    if (status === 503) renderResult(element, { state: body.state, detail: body.detail });
  }
  loadStatus();
}

async function loadStatus() {
  const list = document.getElementById("model-status");
  const response = await fetch("/api/models");
  const models = await response.json();
  list.textContent = "";
  for (const model of Object.values(models)) {
    const item = document.createElement("li");
    item.dataset.model = model.key;
    item.dataset.state = model.state;
    const state = { ready: "ready", available: "graded run found (loads on first use)",
                    not_trained: "not trained yet", error: "cannot be loaded" }[model.state];
    item.textContent = `${model.title} (${model.task}): ${state}`
      + (model.run ? `, ${model.run} run` : "") + (model.message ? `. ${model.message}` : "");
    list.appendChild(item);
  }
}

async function loadCards() {
  const list = document.getElementById("card-list");
  const cards = await (await fetch("/api/cards")).json();
  list.textContent = "";
  if (!cards.length) {
    list.innerHTML = "<li>No model cards yet: <code>make grade</code> writes them.</li>";
  }
  for (const card of cards) {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = card.url;
    link.target = "_blank";
    link.textContent = card.name;
    item.append(link, card.source === "run" ? " (card text from the run)" : "");
    list.appendChild(item);
  }
}

clearCanvas();
setupDrawing();
document.getElementById("clear-canvas").addEventListener("click", clearCanvas);
document.getElementById("classify-digit").addEventListener("click", classifyDigit);
document.getElementById("photo-form").addEventListener("submit", classifyPhoto);
loadStatus();
loadCards();
