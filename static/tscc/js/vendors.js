// The ops board: the server says "figures changed" over the board socket
// (an empty fragment swapped into #vboard-changed); the board then fetches
// itself again over HTTP, at most once per delay, so a burst of posts costs
// one refresh. The 30 s poll stays as the fallback.
(function () {
  "use strict";
  var live = document.getElementById("vboard-live");
  if (!live) return;
  var delay = Number(live.dataset.delay) || 1500;
  var timer = null;
  document.body.addEventListener("htmx:oobAfterSwap", function (event) {
    var target = event.detail.target;
    if (!target || target.id !== "vboard-changed" || timer) return;
    timer = setTimeout(function () {
      timer = null;
      var board = document.getElementById("vendor-board");
      if (board) htmx.trigger(board, "board:changed");
    }, delay);
  });
})();
