// dlgrade's pages work without this file; it adds conveniences on top of them.
"use strict";

/** The session's CSRF token, for requests scripts make (header X-CSRF-Token). */
function dlgradeCsrf() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}
