// A regrade's progress on an assignment's staff page: while submissions are queued or
// running, the server's own progress fragment is fetched again every two seconds. Without
// this file, a <noscript> refresh reloads the page instead.
"use strict";

(function () {
  function poll() {
    const p = document.getElementById("progress");
    if (!p || p.dataset.busy !== "yes") return;
    setTimeout(async function () {
      const r = await fetch(p.dataset.fragment, {credentials: "same-origin"});
      if (r.redirected) { window.location.reload(); return; }  // logged out: the page says so
      if (r.ok) p.outerHTML = await r.text();
      poll();
    }, 2000);
  }
  poll();
})();
