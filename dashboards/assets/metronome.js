// A metronome for the live page: a short click (Web Audio) and a flashing dot at the target cadence.
// Runs entirely in the browser so the beat stays steady whatever the server is doing.
(function () {
  const state = { on: false, bpm: 170, timer: null, audio: null, beats: 0 };

  function click() {
    state.beats += 1;
    const dot = document.getElementById("metronome-beat");
    if (dot) {
      dot.classList.add("on");
      setTimeout(() => dot.classList.remove("on"), 90);
    }
    try {
      if (!state.audio) state.audio = new (window.AudioContext || window.webkitAudioContext)();
      const ctx = state.audio;
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = 1000;
      gain.gain.setValueAtTime(0.3, ctx.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + 0.05);
      osc.connect(gain).connect(ctx.destination);
      osc.start();
      osc.stop(ctx.currentTime + 0.06);
    } catch (e) {
      // no audio (e.g. blocked until the page is touched): the dot still flashes
    }
  }

  function set(on, bpm) {
    state.on = on;
    state.bpm = bpm;
    if (state.timer) clearInterval(state.timer);
    state.timer = null;
    if (on && bpm > 0) state.timer = setInterval(click, 60000 / bpm);
  }

  window.gaitMetronome = state;
  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    gait: {
      metronome: function (value, bpm) {
        const on = Array.isArray(value) && value.includes("on");
        const b = Number(bpm);
        if (on && !(b >= 100 && b <= 230)) {
          set(false, 0);
          return "Choose 100-230 steps per minute.";
        }
        set(on, b);
        return on ? " on: " + b + " per minute" : " off";
      },
    },
  });
})();
