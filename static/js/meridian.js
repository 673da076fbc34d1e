// Moments are rendered in UTC by the server; show them in the viewer's time zone, UTC on hover.
(function () {
  "use strict";
  var zone = "";
  try {
    zone = new Intl.DateTimeFormat([], { timeZoneName: "short" })
      .formatToParts(new Date()).filter(function (p) { return p.type === "timeZoneName"; })[0].value;
  } catch (e) { zone = ""; }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function local(el) {
    if (el.dataset.local) { return; }
    var d = new Date(el.getAttribute("datetime"));
    if (isNaN(d.getTime())) { return; }
    var day = d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
    var time = pad(d.getHours()) + ":" + pad(d.getMinutes());
    var kind = el.dataset.kind || "datetime";
    var text = kind === "time" ? time : day + " " + time;
    if (kind === "seconds") { text += ":" + pad(d.getSeconds()); }
    el.textContent = zone ? text + " " + zone : text;
    el.dataset.local = "1";
  }
  function all(root) { (root || document).querySelectorAll("time[data-kind]").forEach(local); }
  document.addEventListener("DOMContentLoaded", function () { all(document); });
  document.addEventListener("htmx:afterSwap", function (event) { all(event.target); });
  document.addEventListener("htmx:afterSettle", function () { all(document); });
}());

// Polls marked data-poll-when-visible skip their turn while the tab is hidden (a trigger filter
// would need eval, which the Content-Security-Policy forbids).
document.addEventListener("htmx:confirm", function (event) {
  var trigger = event.detail.triggeringEvent;
  if (document.visibilityState !== "visible" && trigger && trigger.type === "hx:poll:trigger" &&
      event.target.hasAttribute("data-poll-when-visible")) {
    event.preventDefault();
  }
});
