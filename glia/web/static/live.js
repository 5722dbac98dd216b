// glia view: keep the parts of a page that follow a live run up to date, without reloading.
// Sections marked data-live="URL" are asked for again with the version they show; the server answers
// 204 (nothing new) or the new section, which replaces the old one. A list marked data-append="URL"
// with data-after="N" gets the turns after N appended. Everything shown was escaped by the server;
// nothing here builds markup from strings.
"use strict";

const PERIOD_MS = 1500;

function parse(text) {
  return new DOMParser().parseFromString(text, "text/html");
}

async function ask(url) {
  const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
  return response.status === 200 ? parse(await response.text()) : null;
}

async function refreshSection(section) {
  const url = section.dataset.live + "?v=" + encodeURIComponent(section.dataset.version || "");
  const doc = await ask(url);
  const fresh = doc && doc.querySelector("[data-version]");
  if (fresh) {
    section.replaceWith(document.importNode(fresh, true));
  }
}

async function appendTurns(list) {
  const url = list.dataset.append + "/" + encodeURIComponent(list.dataset.after || "0") +
    "?v=" + encodeURIComponent(list.dataset.version || "");
  const doc = await ask(url);
  const fragment = doc && doc.getElementById("fragment");
  if (!fragment) {
    return;
  }
  for (const part of fragment.querySelectorAll("[data-replace]")) {
    const target = document.getElementById(part.dataset.replace);
    const replacement = part.firstElementChild;
    if (target && replacement) {
      target.replaceWith(document.importNode(replacement, true));
    }
  }
  for (const turn of fragment.querySelectorAll(".new-turns > section.turn")) {
    const old = document.getElementById(turn.id);
    const node = document.importNode(turn, true);
    if (old) {
      old.replaceWith(node);
    } else {
      list.appendChild(node);
    }
  }
  list.dataset.after = fragment.dataset.after;
  list.dataset.version = fragment.dataset.version;
}

async function tick() {
  try {
    await Promise.all([
      ...Array.from(document.querySelectorAll("[data-live]"), refreshSection),
      ...Array.from(document.querySelectorAll("[data-append]"), appendTurns),
    ]);
  } catch (error) {
    // the server went away for a moment: try again at the next tick
  }
  window.setTimeout(tick, PERIOD_MS);
}

if (document.querySelector("[data-live], [data-append]")) {
  window.setTimeout(tick, PERIOD_MS);
}
