// Live progress of one submission: the API's event stream says something changed, and the
// page's own fragment (rendered by the server, as on a reload) is swapped in. Without this
// file, a <noscript> refresh reloads the page every few seconds until grading ends.
"use strict";

(function () {
  const live = document.getElementById("live");
  if (!live || live.dataset.final === "yes") return;
  let busy = false, again = false, source = null;

  async function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    try {
      const r = await fetch(live.dataset.fragment, {credentials: "same-origin"});
      if (r.redirected) { window.location.reload(); return; }  // logged out: the page says so
      if (r.ok) live.innerHTML = await r.text();
    } finally {
      busy = false;
      if (again) { again = false; refresh(); }
    }
  }

  function finished(status) { return status === "graded" || status === "error"; }

  function listen() {
    source = new EventSource(live.dataset.events);
    source.addEventListener("submission", function (e) {
      const s = JSON.parse(e.data);
      if (finished(s.status)) { source.close(); live.dataset.final = "yes"; }
      refresh();
    });
    source.addEventListener("timeout", function () { source.close(); listen(); });
    // A dropped connection reconnects by itself; a refusal (logged out) closes the stream,
    // and the page's own request then shows why.
    source.addEventListener("error", function () {
      if (source.readyState === EventSource.CLOSED) refresh();
    });
  }

  if (window.EventSource) {
    listen();
  } else {
    const timer = setInterval(async function () {
      await refresh();
      const st = document.getElementById("status");
      if (st && finished(st.dataset.status)) clearInterval(timer);
    }, 3000);
  }
})();
