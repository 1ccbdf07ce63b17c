// War room: the live timeline and chat over htmx's ws extension.
//
// The server sends HTML fragments that htmx swaps in by id; this file keeps
// them in order. It tracks the highest event sequence shown, says where it is
// ({"type":"resume"}) as the first frame of every connection, drops events it
// already shows, and asks again when a sequence skips ahead. Text from the
// user is only ever sent as JSON or set with textContent, never as HTML.
(function () {
  "use strict";
  var room = document.getElementById("room");
  if (!room) return;

  var timeline = document.getElementById("room-timeline");
  var composer = document.getElementById("room-composer");
  var jump = room.querySelector(".room-jump");
  var MAX_BYTES = Number(room.dataset.maxBytes) || 8192; // the server's frame limit
  // Tests may shorten the timings (window.TSCC_ROOM_TIMINGS, set before load).
  var timings = window.TSCC_ROOM_TIMINGS || {};
  var PING_EVERY = timings.ping || 25000;
  // The server answers every ping: a socket silent for this long is dead even
  // if the browser still calls it open (Wi-Fi switch, a proxy that dropped it).
  var STALE_AFTER = timings.stale || 2 * PING_EVERY + 10000;
  var RESYNC_TIMEOUT = 10000;
  // Kinds of event after which the "Brief me" panel is out of date.
  var BRIEF_KINDS = /^(fact_pinned|fact_unpinned|decision|task_|status_update|summary)/;

  var maxSeq = Number(room.dataset.lastSeq) || 0; // highest event sequence shown
  var aheadSeq = 0; // highest sequence seen but held back because of a gap
  var headerSeq = 0;
  var socket = null; // htmx's socketWrapper (public interface)
  var resyncing = false;
  var resyncTimer = null;
  var stick = true; // follow new messages unless the reader scrolled up
  var unseen = 0;
  var errorTimer = null;
  var pingTimer = null;

  function seqOf(el) {
    var n = parseInt(el && el.getAttribute("data-seq"), 10);
    return isNaN(n) ? null : n;
  }

  timeline.querySelectorAll("article.room-event[data-seq]").forEach(function (a) {
    maxSeq = Math.max(maxSeq, seqOf(a) || 0);
  });
  var header = document.getElementById("room-header");
  headerSeq = seqOf(header) || 0;

  // ---- sending -----------------------------------------------------------
  function bytes(text) {
    return new Blob([text]).size;
  }

  function send(frame) {
    if (!socket) return false;
    var body = JSON.stringify(frame);
    if (bytes(body) > MAX_BYTES) {
      showError(room.dataset.labelTooLong);
      return false;
    }
    socket.send(body); // queued by htmx while reconnecting; sent after the resume
    return true;
  }

  function resume() {
    resyncing = true;
    clearTimeout(resyncTimer);
    resyncTimer = setTimeout(function () { resyncing = false; }, RESYNC_TIMEOUT);
    send({ type: "resume", last_seq: maxSeq });
  }

  // ---- connection state --------------------------------------------------
  function setState(state) {
    room.dataset.state = state;
  }

  room.addEventListener("htmx:wsConnecting", function () { setState("connecting"); });

  var current = null; // the WebSocket now open (htmx replaces it on reconnect)

  var lastFrameAt = Date.now();
  var watchdog = null;

  // A half-open socket never fires "close": replace it and resume from the
  // last sequence shown. The old socket's handlers are detached first so its
  // late close does not start a second reconnect.
  function replaceStaleSocket() {
    var old = current;
    current = null;
    clearInterval(pingTimer);
    if (old) {
      old.onclose = null;
      old.onerror = null;
    }
    setState("closed");
    room.dataset.reconnects = String((Number(room.dataset.reconnects) || 0) + 1);
    if (socket) socket.reconnect(); // closes the old one and opens a new one
  }

  room.addEventListener("htmx:wsOpen", function (event) {
    socket = event.detail.socketWrapper;
    current = event.detail.event && event.detail.event.target;
    lastFrameAt = Date.now();
    clearInterval(watchdog);
    watchdog = setInterval(function () {
      if (room.dataset.state === "open" && Date.now() - lastFrameAt > STALE_AFTER) {
        replaceStaleSocket();
      }
    }, Math.min(5000, STALE_AFTER / 3));
    setState("open");
    resume(); // the first frame on every (re)connect; queued frames follow it
    clearInterval(pingTimer);
    pingTimer = setInterval(function () {
      if (room.dataset.state === "open") send({ type: "ping" });
    }, PING_EVERY);
  });

  room.addEventListener("htmx:wsClose", function (event) {
    var closed = event.detail.event && event.detail.event.target;
    if (current && closed && closed !== current) return; // an old socket htmx replaced
    current = null;
    clearInterval(pingTimer);
    var code = event.detail.event && event.detail.event.code;
    var wrapper = event.detail.socketWrapper;
    if (code >= 4000) {
      // Refused by the server (access withdrawn, bad request): do not retry.
      setState("closed");
      showError(room.dataset.labelForbidden, true);
      return;
    }
    setState("closed");
    // htmx reconnects by itself after 1006/1011/1012/1013 only; a clean
    // close (server restart, proxy timeout) must reconnect too.
    if ([1006, 1011, 1012, 1013].indexOf(code) < 0 && wrapper && document.body.contains(room)) {
      setTimeout(function () { wrapper.reconnect(); }, 500 + Math.random() * 2000);
    }
  });

  // ---- incoming fragments ------------------------------------------------
  // htmx fires htmx:oobBeforeSwap on each target with the fragment it is
  // about to swap in; events already shown (or out of order) are taken out.
  function filterEvents(detail) {
    var gap = false;
    Array.prototype.slice.call(detail.fragment.children).forEach(function (article) {
      var seq = seqOf(article);
      if (seq === null) return;
      if (seq <= maxSeq || document.getElementById("ev-" + seq)) {
        article.remove(); // a duplicate (live copy of a replayed event, or the reverse)
      } else if (seq > maxSeq + 1) {
        article.remove(); // a gap: the missed ones come first, from the database
        aheadSeq = Math.max(aheadSeq, seq);
        gap = true;
      } else {
        maxSeq = seq;
        var kind = article.getAttribute("data-kind") || "";
        if (BRIEF_KINDS.test(kind)) staleBrief();
        if (/^task_/.test(kind)) staleTasks();
      }
    });
    if (!detail.fragment.children.length) detail.shouldSwap = false;
    if (gap && !resyncing) resume();
  }

  function onSync(detail) {
    var node = detail.fragment.firstElementChild;
    var last = seqOf(node);
    resyncing = false;
    clearTimeout(resyncTimer);
    // The server says everything up to `last` has been sent: sequences it
    // did not send are not ours to show, so there is nothing more to wait for.
    if (last !== null && last > maxSeq) maxSeq = last;
    if (node && node.getAttribute("data-more") === "true") {
      resume(); // more were missed than one answer carries
    } else if (aheadSeq > maxSeq) {
      aheadSeq = 0;
      resume();
    }
  }

  var briefTimer = null;
  function staleBrief() {
    clearTimeout(briefTimer);
    briefTimer = setTimeout(function () { htmx.trigger(document.body, "room:stale"); }, 50);
  }

  // Someone created, changed or claimed a task: the task board reloads
  // (#room-tasks listens for room:tasks), but not under a viewer who is
  // typing in it; it tries again until they are done.
  var tasksTimer = null;
  function staleTasks(wait) {
    clearTimeout(tasksTimer);
    tasksTimer = setTimeout(function () {
      if (editingTasks()) staleTasks(1000);
      else htmx.trigger(document.body, "room:tasks");
    }, wait || 300);
  }

  // The same check when a refresh answers: it may have left before the
  // viewer started typing (a slow server); it is dropped and tried again.
  var tasksCard = document.getElementById("room-tasks");
  if (tasksCard) {
    tasksCard.addEventListener("htmx:beforeSwap", function (event) {
      var config = event.detail.requestConfig || {};
      var trigger = config.triggeringEvent;
      if (trigger && trigger.type === "room:tasks" && editingTasks()) {
        event.detail.shouldSwap = false;
        staleTasks(1000);
      }
    });
  }

  function editingTasks() {
    var board = document.getElementById("task-board");
    if (!board) return false;
    var focused = document.activeElement;
    if (board.contains(focused) &&
        (/^(INPUT|TEXTAREA|SELECT)$/.test(focused.tagName) || focused.closest("details[open]"))) {
      return true; // typing, or just opened "Add a task"
    }
    var open = board.querySelector("details[open]");
    return !!open && Array.prototype.some.call(
      open.querySelectorAll("input[type=text], textarea"),
      function (el) { return el.value.trim() !== ""; }
    );
  }

  document.body.addEventListener("htmx:oobBeforeSwap", function (event) {
    var detail = event.detail;
    var id = detail.target && detail.target.id;
    if (id === "room-timeline") {
      filterEvents(detail);
    } else if (id === "room-header") {
      var seq = seqOf(detail.fragment.firstElementChild);
      if (seq !== null && seq < headerSeq) detail.shouldSwap = false; // an older header
      else if (seq !== null) headerSeq = seq;
    } else if (id === "room-sync") {
      onSync(detail);
    } else if (id === "room-error") {
      clearTimeout(errorTimer);
      errorTimer = setTimeout(hideError, 6000);
    }
  });

  room.addEventListener("htmx:wsBeforeMessage", function () { lastFrameAt = Date.now(); });

  room.addEventListener("htmx:wsAfterMessage", function () {
    localize(room);
    if (stick) {
      toBottom();
    } else {
      unseen += 1;
      jump.hidden = false;
    }
  });

  // ---- errors --------------------------------------------------------------
  function showError(text, keep) {
    var box = document.getElementById("room-error");
    if (!box || !text) return;
    box.textContent = text;
    box.hidden = false;
    clearTimeout(errorTimer);
    if (!keep) errorTimer = setTimeout(hideError, 6000);
  }

  function hideError() {
    var box = document.getElementById("room-error");
    if (box) box.hidden = true;
  }

  // ---- scrolling -----------------------------------------------------------
  function atBottom() {
    return timeline.scrollHeight - timeline.scrollTop - timeline.clientHeight < 48;
  }

  function toBottom() {
    timeline.scrollTop = timeline.scrollHeight;
    unseen = 0;
    jump.hidden = true;
  }

  timeline.addEventListener("scroll", function () {
    stick = atBottom();
    if (stick) {
      unseen = 0;
      jump.hidden = true;
    }
  });
  jump.addEventListener("click", function () {
    stick = true;
    toBottom();
  });

  // ---- times in the viewer's zone and language -----------------------------
  var lang = room.dataset.lang || document.documentElement.lang || undefined;
  var zone = room.dataset.timeZone || undefined;
  function makeFormat(options) {
    try {
      return new Intl.DateTimeFormat(lang, Object.assign({ timeZone: zone }, options));
    } catch (e) {
      return new Intl.DateTimeFormat(undefined, options); // unknown zone or language
    }
  }
  var timeFmt = makeFormat({ hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  var dayFmt = makeFormat({ month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  var fullFmt = makeFormat({ dateStyle: "full", timeStyle: "long" });
  var dayKey = makeFormat({ year: "numeric", month: "2-digit", day: "2-digit" });

  function localize(root) {
    var today = dayKey.format(new Date());
    root.querySelectorAll("time[datetime][data-local]").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (isNaN(when.getTime())) return;
      el.textContent = (dayKey.format(when) === today ? timeFmt : dayFmt).format(when);
      el.title = fullFmt.format(when);
    });
  }
  document.body.addEventListener("htmx:afterSettle", function (event) { localize(event.target); });

  // ---- composer --------------------------------------------------------------
  if (composer) {
    var text = composer.elements.text;
    var replyTo = composer.elements.reply_to;
    var replyBox = composer.querySelector(".room-replying");

    composer.addEventListener("submit", function (event) { event.preventDefault(); });
    text.addEventListener("keydown", function (event) {
      // Enter sends; Shift+Enter is a new line; Enter that ends an IME
      // composition (pinyin) only confirms the characters.
      if (event.key !== "Enter" || event.shiftKey || event.isComposing || event.keyCode === 229) return;
      event.preventDefault();
      composer.requestSubmit();
    });

    composer.addEventListener("htmx:wsConfigSend", function (event) {
      var value = text.value;
      if (!value.trim()) {
        event.preventDefault();
        return;
      }
      var reply = parseInt(replyTo.value, 10);
      var body = JSON.stringify({ type: "chat", text: value, reply_to: isNaN(reply) ? null : reply });
      if (bytes(body) > MAX_BYTES) {
        event.preventDefault();
        showError(room.dataset.labelTooLong);
        return;
      }
      event.detail.messageBody = body;
    });
    composer.addEventListener("htmx:wsAfterSend", function () {
      text.value = "";
      clearReply();
      stick = true;
      toBottom();
    });

    function clearReply() {
      replyTo.value = "";
      replyBox.hidden = true;
    }
    composer.querySelector("[data-reply-cancel]").addEventListener("click", function () {
      clearReply();
      text.focus();
    });

    // Reply: the message's own button (data-reply="N"). Pin and decision
    // are ws-send buttons in the event fragment: htmx sends them.
    room.addEventListener("click", function (event) {
      var button = event.target.closest && event.target.closest("[data-reply]");
      if (!button) return;
      var article = button.closest("article.room-event");
      var seq = seqOf(article);
      if (seq === null) return;
      replyTo.value = String(seq);
      var quote = article.querySelector(".room-message") || article;
      var author = article.querySelector(".room-event-author");
      var excerpt = quote.textContent.replace(/\s+/g, " ").trim();
      replyBox.querySelector(".room-replying-quote").textContent =
        "#" + seq + (author ? " " + author.textContent + ": " : " ") +
        (excerpt.length > 80 ? excerpt.slice(0, 80) + "…" : excerpt);
      replyBox.hidden = false;
      text.focus();
    });
  }

  // The task board and forms answer with their own re-rendered piece; the
  // brief follows task and status-update changes.
  document.body.addEventListener("htmx:afterRequest", function (event) {
    var path = event.detail.pathInfo && event.detail.pathInfo.requestPath;
    if (!event.detail.xhr || event.detail.xhr.status >= 300) return; // 4xx carry form errors
    if (/\/join\/$/.test(path || "")) location.reload(); // now a member: the composer and forms
    else if (/\/(tasks|updates)\//.test(path || "")) staleBrief();
  });

  // For tests and the console: drop the connection (it comes back by itself).
  window.tsccRoom = {
    maxSeq: function () { return maxSeq; },
    drop: function () { if (current) current.close(1000); },
  };

  localize(room);
  toBottom();
})();
