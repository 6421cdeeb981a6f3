// Upload with a file picker or by drag and drop, checked against the limits before sending.
// Without this file the form posts to /assignments/{id}/upload, which does the same upload.
"use strict";

(function () {
  const form = document.getElementById("upload");
  if (!form) return;
  const input = document.getElementById("files");
  const drop = document.getElementById("drop");
  const chosen = document.getElementById("chosen");
  const error = document.getElementById("upload-error");
  const button = document.getElementById("upload-button");
  const progress = document.getElementById("upload-progress");
  const maxFiles = Number(form.dataset.maxFiles);
  const maxFile = Number(form.dataset.maxFileBytes);
  const maxTotal = Number(form.dataset.maxUploadBytes);
  const accepted = form.dataset.accept.split(",");

  function size(n) {
    if (n >= 1048576) return (n / 1048576).toFixed(1) + " MB";
    return n >= 1024 ? Math.ceil(n / 1024) + " kB" : n + " bytes";
  }

  function refuse(message) {
    error.textContent = message;
    error.hidden = !message;
    if (message) error.scrollIntoView({block: "nearest"});
  }

  /** The first limit the chosen files break, in the words the server would use. */
  function problem(files) {
    if (files.length === 0) return "Choose at least one file.";
    if (files.length > maxFiles) return files.length + " files chosen; the limit is " + maxFiles + ".";
    let total = 0;
    for (const f of files) {
      const ext = f.name.slice(f.name.lastIndexOf(".")).toLowerCase();
      if (!accepted.includes(ext)) return f.name + ": only " + accepted.join(", ") + " files are accepted.";
      if (f.size === 0) return f.name + " is empty.";
      if (f.size > maxFile) return f.name + " is " + size(f.size) + "; the limit per file is " + size(maxFile) + ".";
      total += f.size;
    }
    if (total > maxTotal) return "The files are " + size(total) + " in all; the limit is " + size(maxTotal) + ".";
    return "";
  }

  function show() {
    chosen.replaceChildren(...Array.from(input.files, function (f) {
      const li = document.createElement("li");
      li.textContent = f.name + " (" + size(f.size) + ")";
      return li;
    }));
    refuse(input.files.length ? problem(input.files) : "");
  }

  /** The API's refusal as one sentence: {detail: {message}}, {detail: "..."} or a list. */
  function message(status, body) {
    const d = body && body.detail;
    if (d && typeof d === "object" && !Array.isArray(d) && d.message) return d.message;
    if (typeof d === "string") return d;
    if (Array.isArray(d)) return d.map(function (e) { return e.msg; }).join("; ");
    return "The upload was refused (HTTP " + status + ").";
  }

  input.addEventListener("change", show);
  for (const el of form.querySelectorAll(".js-only")) el.hidden = false;
  drop.addEventListener("dragover", function (e) { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", function () { drop.classList.remove("over"); });
  drop.addEventListener("drop", function (e) {
    e.preventDefault();
    drop.classList.remove("over");
    input.files = e.dataTransfer.files;
    show();
  });

  form.addEventListener("submit", async function (e) {
    e.preventDefault();
    const wrong = problem(input.files);
    if (wrong) { refuse(wrong); return; }
    refuse("");
    const body = new FormData();
    for (const f of input.files) body.append("files", f, f.name);
    button.disabled = true;
    progress.textContent = "Uploading…";
    try {
      const r = await fetch(form.dataset.api, {method: "POST", body: body, credentials: "same-origin",
                                               headers: {"X-CSRF-Token": dlgradeCsrf(), "Accept": "application/json"}});
      let answer = null;
      try { answer = await r.json(); } catch (_) { answer = null; }
      if (r.status === 201 && answer) { window.location.assign("/submissions/" + answer.id); return; }
      if (r.status === 401) { refuse("You are logged out: log in again (nothing was handed in)."); return; }
      refuse(message(r.status, answer));
    } catch (_) {
      refuse("The upload did not reach the server; check your connection and try again.");
    }
    button.disabled = false;
    progress.textContent = "";
  });
})();
