// Rezeptprüfung: the upload shows its progress; a batch of scanned pages reloads its
// status until every page is read; the review of a paper prescription is driven by the
// keyboard (the first field to check has the focus, Enter saves, the form's box of the
// focused field is highlighted, a click on a box focuses its field).
(function () {
  "use strict";

  var upload = document.getElementById("rx-upload");
  var progress = document.getElementById("rx-progress");
  if (upload && progress && window.FormData && window.XMLHttpRequest) {
    upload.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var xhr = new XMLHttpRequest();
      xhr.open("POST", upload.action);
      progress.hidden = false;
      xhr.upload.onprogress = function (e) {
        if (e.lengthComputable) progress.value = Math.round(100 * e.loaded / e.total);
      };
      xhr.onload = function () {
        if (xhr.responseURL && xhr.responseURL.indexOf("/scans/") >= 0) {
          location.href = xhr.responseURL;
          return;
        }
        // E-Rezept files or problems: show the page the server answered with.
        var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
        document.title = doc.title;
        document.body.replaceWith(document.adoptNode(doc.body));
      };
      xhr.onerror = function () {
        progress.hidden = true;
        alert("Hochladen fehlgeschlagen. Bitte erneut versuchen.");
      };
      xhr.send(new FormData(upload));
    });
  }

  function poll() {
    var batch = document.getElementById("rx-batch");
    if (!batch || !batch.dataset.waiting) return;
    setTimeout(function () {
      fetch(location.href, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
        .then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          var fresh = doc.getElementById("rx-batch");
          var cur = document.getElementById("rx-batch");
          if (fresh && cur) cur.replaceWith(fresh);
        })
        .catch(function () { /* tried again below */ })
        .finally(poll);
    }, 1000);
  }
  poll();

  var paper = document.getElementById("rx-paper");
  if (!paper) return;
  function box(key) { return paper.querySelector('rect[data-key="' + key + '"]'); }
  paper.addEventListener("focusin", function (ev) {
    var form = ev.target.closest("form.field");
    paper.querySelectorAll("rect.focus").forEach(function (r) { r.classList.remove("focus"); });
    if (form && box(form.dataset.key)) box(form.dataset.key).classList.add("focus");
  });
  paper.addEventListener("click", function (ev) {
    var rect = ev.target.closest("rect[data-key]");
    if (!rect) return;
    var input = document.getElementById("f-" + rect.dataset.key);
    if (!input) return;
    var details = input.closest("details");
    if (details) details.open = true;
    input.focus();
  });
  // A checkbox saves with Enter too.
  paper.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && ev.target.type === "checkbox") {
      ev.preventDefault();
      ev.target.form.requestSubmit();
    }
  });
  var first = paper.querySelector("form.field.open input:not([type=hidden])") || document.getElementById("rx-confirm");
  if (first) first.focus();
})();
