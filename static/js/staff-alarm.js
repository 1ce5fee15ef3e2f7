/* The alarm on staff pages (counters, front desk): when the live stream sends an "alarm" event,
   its banner appears (the page's sse-swap does that) and this plays a loud, repeating two-tone
   siren until someone presses "Silence". Also flashes the page title for a tab in the background. */
(function () {
  "use strict";

  var audio = null;
  var timer = null;
  var title = null;

  function context() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) { return null; }
    if (!audio) { audio = new Context(); }
    if (audio.state === "suspended") { audio.resume(); }
    return audio;
  }

  // Staff pages are used all day: any click or key press lets the page make sound later.
  function prime() { context(); }
  document.addEventListener("pointerdown", prime, { once: true });
  document.addEventListener("keydown", prime, { once: true });

  function siren() {
    var ctx = context();
    if (!ctx) { return; }
    var now = ctx.currentTime;
    [0, 0.35].forEach(function (offset, index) {
      var oscillator = ctx.createOscillator();
      var gain = ctx.createGain();
      oscillator.type = "square";
      oscillator.frequency.value = index === 0 ? 960 : 720;
      gain.gain.setValueAtTime(0.0001, now + offset);
      gain.gain.exponentialRampToValueAtTime(0.5, now + offset + 0.02);
      gain.gain.setValueAtTime(0.5, now + offset + 0.3);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + offset + 0.34);
      oscillator.connect(gain);
      gain.connect(ctx.destination);
      oscillator.start(now + offset);
      oscillator.stop(now + offset + 0.35);
    });
  }

  function silenceButtonFor(banner) {
    var button = banner.querySelector("[data-alarm-silence]");
    if (button) { return button; }
    // A page that renders its own banner without a button gets one.
    button = document.createElement("button");
    button.type = "button";
    button.className = "alarm-silence";
    button.setAttribute("data-alarm-silence", "");
    button.textContent = document.documentElement.lang === "fi" ? "Hiljennä"
      : document.documentElement.lang === "en" ? "Silence" : "Tysta";
    banner.appendChild(button);
    return button;
  }

  function start(banner) {
    stop();
    title = document.title;
    document.body.classList.add("alarm-on");
    siren();
    timer = window.setInterval(function () {
      siren();
      document.title = document.title === title ? "⚠ " + title : title;
    }, 700);
    var button = silenceButtonFor(banner);
    button.focus();
  }

  function stop() {
    if (timer !== null) { window.clearInterval(timer); timer = null; }
    if (title !== null) { document.title = title; title = null; }
    document.body.classList.remove("alarm-on");
  }

  document.addEventListener("htmx:sseMessage", function (event) {
    if (!event.detail || event.detail.type !== "alarm") { return; }
    var banner = event.target;
    if (!banner || !banner.textContent.trim()) { return; }  // nothing shown: nothing to sound
    start(banner);
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-alarm-silence]");
    if (!button) { return; }
    stop();
    button.disabled = true;
  });
})();
