// TSCC shell: the live socket (status dot and per-user notices).
// Notices are inserted with textContent, never as HTML.
(function () {
  "use strict";
  var url = document.body.dataset.liveUrl;
  var status = document.getElementById("live-status");
  if (!url || !status) return;
  var label = status.querySelector(".live-label");
  var attempt = 0;

  function setState(state) {
    status.dataset.state = state;
    label.textContent = label.dataset["label" + state.charAt(0).toUpperCase() + state.slice(1)] || "";
  }

  function toast(text, level) {
    var box = document.getElementById("toasts");
    var el = document.createElement("div");
    el.className = "toast toast-" + (level || "info");
    el.setAttribute("role", "status");
    el.textContent = text;
    box.appendChild(el);
    setTimeout(function () { el.remove(); }, 8000);
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + url);
    socket.onopen = function () { attempt = 0; setState("open"); };
    socket.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      if (frame.type === "notice") toast(frame.text, frame.level);
    };
    socket.onclose = function (event) {
      setState("closed");
      if (event.code === 4403) return;  // access withdrawn: do not retry
      // Full-jitter exponential backoff, capped at 30 s.
      var delay = Math.random() * Math.min(30000, 1000 * Math.pow(2, attempt++));
      setTimeout(connect, delay);
    };
  }
  connect();
})();

// Countdowns ("in 12 min" / "12 min overdue") tick without a reload. The
// server renders the first text and the two templates, in the viewer's language.
(function () {
  "use strict";
  // The unit templates come from the server, translated (data-units:
  // "minutes|hours and minutes|one day|days"), so the text stays in the
  // viewer's language as it ticks.
  function text(minutes, units) {
    var u = (units || "%(n)d min|%(h)dh %(m)02dm|%(d)d day|%(d)d days").split("|");
    if (minutes < 60) return u[0].replace("%(n)d", minutes);
    var h = Math.floor(minutes / 60), m = minutes % 60;
    if (h < 48) return u[1].replace("%(h)d", h).replace("%(m)02d", (m < 10 ? "0" : "") + m);
    var d = Math.floor(h / 24);
    return (d === 1 ? u[2] : u[3]).replace("%(d)d", d);
  }
  function tick() {
    document.querySelectorAll(".countdown[data-due]").forEach(function (el) {
      var left = Math.floor((Date.parse(el.dataset.due) - Date.now()) / 60000);
      var over = left < 0;
      var template = over ? el.dataset.labelOver : el.dataset.labelIn;
      if (!template) return;
      el.textContent = template.replace("%(t)s", text(Math.abs(left), el.dataset.units));
      el.classList.toggle("is-overdue", over);
      el.classList.toggle("is-running", !over);
    });
  }
  window.tsccTick = tick;  // for tests
  setInterval(tick, 30000);
})();

// Policy editor: "Remove" takes a level row out in place. Without
// JavaScript the button posts the form and the page comes back without it.
document.addEventListener("click", function (event) {
  "use strict";
  var button = event.target.closest && event.target.closest("[data-remove-level]");
  if (!button) return;
  var row = button.closest("[data-level]");
  if (!row) return;
  event.preventDefault();
  row.remove();
});
