/* The waiting-room screen: a two-tone chime when a ticket is called, and the clock.
   Browsers keep sound off until someone interacts with the page, so a "Turn on sound" button
   unlocks it once; the choice is remembered on this screen (localStorage). */
(function () {
  "use strict";

  var STORAGE_KEY = "kontor.display.sound";
  var audio = null;

  function remembered() {
    try { return window.localStorage.getItem(STORAGE_KEY) === "on"; } catch (e) { return false; }
  }

  function remember() {
    try { window.localStorage.setItem(STORAGE_KEY, "on"); } catch (e) { /* private mode: ask again next time */ }
  }

  function context() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) { return null; }
    if (!audio) { audio = new Context(); }
    return audio;
  }

  function soundButton() { return document.getElementById("display-sound"); }

  function updateButton() {
    var button = soundButton();
    if (!button) { return; }
    // Shown while sound is not running yet: never asked, or the browser still blocks it.
    button.hidden = !!(audio && audio.state === "running");
  }

  function unlock() {
    var ctx = context();
    if (!ctx) { return; }
    remember();
    ctx.resume().then(updateButton, updateButton);
  }

  /* One tone: a soft attack and a long fade, so it sounds like a bell rather than a beep. */
  function tone(ctx, frequency, start, length) {
    var oscillator = ctx.createOscillator();
    var gain = ctx.createGain();
    oscillator.type = "sine";
    oscillator.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, start);
    gain.gain.exponentialRampToValueAtTime(0.6, start + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + length);
    oscillator.connect(gain);
    gain.connect(ctx.destination);
    oscillator.start(start);
    oscillator.stop(start + length + 0.05);
  }

  function chime() {
    if (!audio || audio.state !== "running") { return; }
    var now = audio.currentTime;
    tone(audio, 659.25, now, 0.9);        // E5
    tone(audio, 523.25, now + 0.45, 1.2); // C5
  }

  // The screen's clock follows the server's, not the TV's (which may never have been set).
  var offset = 0;

  function setOffset() {
    var clock = document.getElementById("display-clock");
    var served = clock ? Date.parse(clock.getAttribute("datetime") || "") : NaN;
    offset = isNaN(served) ? 0 : served - Date.now();
  }

  function tickClock() {
    var clock = document.getElementById("display-clock");
    if (!clock || !window.Intl) { return; }
    try {
      clock.textContent = new Intl.DateTimeFormat("sv-SE", {
        hour: "2-digit", minute: "2-digit", timeZone: clock.getAttribute("data-timezone") || undefined
      }).format(new Date(Date.now() + offset));
    } catch (e) { /* unknown zone: keep the server's time */ }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var button = soundButton();
    if (button) {
      button.addEventListener("click", unlock);
      button.hidden = false;
    }
    if (remembered()) {
      // Chosen before on this screen: try at once (kiosk browsers allow it), else at the first touch.
      unlock();
      document.addEventListener("pointerdown", unlock, { once: true });
      document.addEventListener("keydown", unlock, { once: true });
    }
    setOffset();
    tickClock();
    window.setInterval(tickClock, 5000);
  });

  document.addEventListener("htmx:sseMessage", function (event) {
    if (event.detail && event.detail.type === "call") { chime(); }
  });
})();
