// The live inbox: the server tells of new and changed requests (server-sent events, ids
// only); the list then reloads its part of the page. Urgent requests get a sound, a
// highlighted counter and, where the user allowed it, a browser notification that says
// only that there is something urgent, never what.
(function () {
  "use strict";
  var root = document.getElementById("inbox");
  if (!root || !window.EventSource) return;
  var live = document.getElementById("inbox-live");
  var notifyButton = document.getElementById("inbox-notify");
  var title = document.title;
  var pending = null;

  function reload(urgent) {
    if (pending) { pending.urgent = pending.urgent || urgent; return; }
    pending = { urgent: urgent };
    fetch(location.href, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("inbox-list");
        var list = document.getElementById("inbox-list");
        if (fresh && list) list.replaceWith(fresh);
        if (pending.urgent) cue();
      })
      .catch(function () { /* the next event or a reload shows it */ })
      .finally(function () { pending = null; });
  }

  function cue() {
    var list = document.getElementById("inbox-list");
    if (list) list.classList.add("flash");
    if (document.hidden) document.title = "(!) " + title;
    beep();
    if (window.Notification && Notification.permission === "granted") {
      new Notification("Tresen: neues dringendes Anliegen", { body: "Bitte den Posteingang ansehen.", tag: "tresen-urgent" });
    }
  }

  var audio = null;
  function beep() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var o = audio.createOscillator(), g = audio.createGain();
      o.frequency.value = 880;
      g.gain.setValueAtTime(0.2, audio.currentTime);
      g.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.6);
      o.connect(g); g.connect(audio.destination);
      o.start(); o.stop(audio.currentTime + 0.6);
    } catch (e) { /* no audio: the visual cue remains */ }
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) document.title = title;
  });

  if (notifyButton && window.Notification && Notification.permission === "default") {
    notifyButton.hidden = false;
    notifyButton.addEventListener("click", function () {
      Notification.requestPermission().then(function () { notifyButton.hidden = true; });
    });
  }

  var source = new EventSource(root.dataset.events);
  var lost = false;
  source.addEventListener("open", function () {
    live.hidden = false;
    // Back after a lost connection: what came meanwhile was not heard.
    if (lost) reload(false);
    lost = false;
  });
  source.addEventListener("error", function () { live.hidden = true; lost = true; });
  source.addEventListener("request", function (e) {
    var ev = {};
    try { ev = JSON.parse(e.data); } catch (err) { return; }
    reload(!!ev.urgent);
  });
})();
