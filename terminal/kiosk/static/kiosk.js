// Member screen. State arrives as JSON over the WebSocket from the daemon's frame loop; preview frames
// arrive as binary JPEG messages. document.body.dataset.state and #instruction are read by tests and tools.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const body = document.body;
  const STEPS = 5;
  // Icons: simple line drawings (no font or network needed), an animation class per kind of instruction.
  const ICONS = {
    face: '<svg viewBox="0 0 100 100"><ellipse cx="50" cy="50" rx="30" ry="40"/><circle cx="39" cy="44" r="3"/><circle cx="61" cy="44" r="3"/><path d="M38 68 q12 8 24 0"/></svg>',
    back: '<svg viewBox="0 0 100 100"><ellipse cx="50" cy="50" rx="22" ry="30"/><path d="M10 50 h15 M90 50 h-15 M15 43 l-5 7 l5 7 M85 43 l5 7 l-5 7"/></svg>',
    closer: '<svg viewBox="0 0 100 100"><ellipse cx="50" cy="50" rx="14" ry="19"/><path d="M12 20 l18 18 M88 20 l-18 18 M12 80 l18 -18 M88 80 l-18 -18"/></svg>',
    center: '<svg viewBox="0 0 100 100"><ellipse cx="50" cy="50" rx="22" ry="30" stroke-dasharray="6 6"/><path d="M50 5 v15 M50 95 v-15 M5 50 h15 M95 50 h-15"/></svg>',
    turn: '<svg viewBox="0 0 100 100"><ellipse cx="50" cy="52" rx="26" ry="34"/><path d="M20 18 q30 -14 60 0 M72 10 l8 8 l-10 4"/></svg>',
    light: '<svg viewBox="0 0 100 100"><circle cx="50" cy="50" r="18"/><path d="M50 8 v12 M50 80 v12 M8 50 h12 M80 50 h12 M21 21 l8 8 M71 71 l8 8 M21 79 l8 -8 M71 29 l8 -8"/></svg>',
    eye: '<svg viewBox="0 0 100 100"><path d="M8 50 q42 -40 84 0 q-42 40 -84 0z"/><circle cx="50" cy="50" r="12"/></svg>',
    blink: '<svg viewBox="0 0 100 100"><path d="M8 50 q42 30 84 0 M22 62 l-6 10 M50 68 v12 M78 62 l6 10"/></svg>',
    glasses: '<svg viewBox="0 0 100 100"><circle cx="30" cy="52" r="16"/><circle cx="70" cy="52" r="16"/><path d="M46 52 h8 M14 48 l-8 -8 M86 48 l8 -8"/></svg>',
    hand: '<svg viewBox="0 0 100 100"><path d="M30 88 v-48 M42 88 v-62 M54 88 v-62 M66 88 v-52 M30 88 h36"/></svg>',
    check: '<svg viewBox="0 0 100 100"><circle cx="50" cy="50" r="40"/><path d="M30 52 l14 14 l26 -30"/></svg>',
    cross: '<svg viewBox="0 0 100 100"><circle cx="50" cy="50" r="40"/><path d="M34 34 l32 32 M66 34 l-32 32"/></svg>',
    warn: '<svg viewBox="0 0 100 100"><path d="M50 10 l42 78 h-84z M50 40 v24 M50 74 v2"/></svg>',
    clock: '<svg viewBox="0 0 100 100"><circle cx="50" cy="50" r="40"/><path d="M50 22 v28 l18 12"/></svg>',
    touch: '<svg viewBox="0 0 100 100"><circle cx="50" cy="30" r="14"/><path d="M50 44 v40 M36 60 q14 -8 28 0"/></svg>',
  };
  const ICON_OF = {
    NO_FACE: ["face", "pulse"], MULTIPLE_FACES: ["face", "pulse"], FACE_TOO_CLOSE: ["back", "nudge"],
    FACE_TOO_SMALL: ["closer", "nudge"], FACE_OFF_CENTER: ["center", "pulse"], POSE_YAW: ["turn", "nudge"],
    POSE_PITCH: ["turn", "nudge"], POSE_ROLL: ["turn", "nudge"], OCCLUDED_GLASSES: ["glasses", "pulse"],
    OCCLUDED_FACE: ["face", "pulse"], EYES_CLOSED: ["eye", "pulse"], TOO_DARK: ["light", "pulse"],
    TOO_BRIGHT: ["light", "pulse"], UNEVEN_LIGHT: ["light", "pulse"], BLURRY: ["hand", ""], UNSTEADY: ["hand", ""],
    HOLD_STILL: ["hand", ""], LIGHT_FAULT: ["warn", ""], LIVENESS_BLINK: ["blink", "pulse"],
    LIVENESS_BLINK_TWICE: ["blink", "pulse"],
    LIVENESS_TURN_LEFT: ["turn", "nudge"], LIVENESS_TURN_RIGHT: ["turn", "nudge"], LIVENESS_FAILED: ["cross", "bad"],
    CAPTURED: ["check", "ok"], MATCH: ["check", "ok"], NO_MATCH: ["cross", "bad"], RESULT_MATCH: ["check", "ok"],
    RESULT_NO_MATCH: ["cross", "bad"], RESULT_FAILED: ["cross", "bad"], RESULT_TIMEOUT: ["clock", "bad"],
    RESULT_CANCELLED: ["cross", "bad"], SCREEN_WAITING: ["clock", "pulse"], REQUEST_TIMEOUT: ["clock", "bad"],
    SCREEN_IDLE: ["touch", "pulse"], SCREEN_IDLE_WALKUP: ["touch", "pulse"], OOS_CAMERA: ["warn", "bad"],
    OOS_OUTBOX: ["warn", "bad"], OOS_MAINTENANCE: ["warn", "bad"], OOS_STARTING: ["clock", "pulse"],
  };
  const LOCAL = {  // texts the page needs while the daemon is unreachable
    OOS_STARTING: {id: "Terminal sedang dimulai, mohon tunggu", en: "Terminal is starting, please wait"},
    SCREEN_KEYPAD: {id: "Ketik NIK (16 angka) atau nomor KPJ (11 angka)", en: "Type your NIK (16 digits) or KPJ number (11 digits)"},
    SCREEN_WAITING: {id: "Mohon tunggu, menghubungi sistem pusat", en: "Please wait, contacting the central system"},
    BAD_NIK: {id: "NIK harus 16 angka yang valid", en: "A NIK is 16 valid digits"},
    BAD_KPJ: {id: "Nomor KPJ harus 11 angka", en: "A KPJ number has 11 digits"},
  };
  const stats = window.kioskStats = {states: 0, previews: 0, latencies: [], changes: [], connected: false};
  let ws = null, last = null, langs = ["id", "en"], kind = "nik", number = "", keypadUntil = 0, lastKey = "";
  let countdownAt = null, countdownVal = null, downSince = performance.now();

  function put(id, text) { const el = $(id); if (el.textContent !== text) el.textContent = text; }
  function setText(t) {
    put("instruction", t[langs[0]] || "");
    put("instruction-en", langs.length > 1 ? (t[langs[1]] || "") : "");
  }
  function setIcon(code) {
    const [name, anim] = ICON_OF[code] || ["face", ""];
    const el = $("icon");
    if (el.dataset.code === code) return;  // same icon: keep its animation state, no repaint
    el.dataset.code = code;
    el.innerHTML = ICONS[name];
    el.className = anim === "ok" || anim === "bad" ? anim : (anim ? "anim-" + anim : "");
  }
  function showScreen(state) {
    body.dataset.state = state;
    $("keypad").hidden = state !== "keypad";
  }

  function render(s) {
    last = s;
    stats.states++;
    langs = s.languages || langs;
    body.classList.toggle("nocursor", !!s.hide_cursor);
    $("terminal-id").textContent = "Terminal " + (s.terminal_id || "");
    $("support").textContent = s.support_phone ? "Bantuan / Help: " + s.support_phone : "";
    if (s.screen === "idle" && performance.now() < keypadUntil) return;  // the member is typing (or just sent)
    if (s.screen !== "idle") { clearNumber(); keypadUntil = 0; }
    showScreen(s.screen);
    setText(s.text || {});
    setIcon(s.code);
    const live = s.liveness && s.liveness !== s.code;
    $("liveness").hidden = !live;
    if (live) $("liveness").textContent = (s.liveness_text || {})[langs[0]] || "";
    const reason = s.reason_text && s.reason_text[langs[0]];
    $("reason").hidden = !reason;
    $("reason").textContent = reason ? reason + (langs[1] && s.reason_text[langs[1]] ? " / " + s.reason_text[langs[1]] : "") : "";
    body.classList.toggle("match", s.decision === "match");
    body.classList.toggle("fail", !!s.decision && s.decision !== "match");
    const prog = $("progress");
    if (s.step !== undefined && s.screen !== "result") {
      prog.hidden = false;
    }
    if (s.step !== undefined && s.screen !== "result" && prog.dataset.step !== String(s.step)) {
      prog.dataset.step = String(s.step);
      prog.innerHTML = "";
      for (let i = 0; i < (s.steps || STEPS); i++) {
        const li = document.createElement("li");
        li.className = i < s.step ? "done" : (i === s.step ? "now" : "");
        prog.appendChild(li);
      }
    } else if (s.step === undefined || s.screen === "result") { prog.hidden = true; prog.dataset.step = ""; }
    $("oval").classList.toggle("ok", s.framing_ok === true);
    countdownAt = s.remaining_s === null || s.remaining_s === undefined ? null : performance.now();
    countdownVal = s.remaining_s;
    tickCountdown();
    const key = s.screen + "|" + s.code + "|" + (s.liveness || "");
    if (key !== lastKey) {  // latency: from the frame loop's decision (s.ts) to after the next paint
      lastKey = key;
      requestAnimationFrame(() => setTimeout(() => {
        const ms = Date.now() - s.ts * 1000;
        stats.latencies.push(ms);
        stats.changes.push({screen: s.screen, code: s.code, liveness: s.liveness || null, ms: ms});
        if (stats.changes.length > 500) stats.changes.shift();
      }, 0));
    }
  }

  function tickCountdown() {
    const el = $("countdown");
    if (countdownAt === null || body.dataset.state === "result") { el.hidden = true; return; }
    const left = Math.max(0, Math.ceil(countdownVal - (performance.now() - countdownAt) / 1000));
    el.hidden = false;
    const t = "Sisa waktu " + left + " detik / " + left + " s left";
    if (el.textContent !== t) el.textContent = t;  // no relayout when the second has not changed
  }

  // ------------------------------------------------------------------ keypad (the number stays in this page
  // until OK; it is sent once over the loopback socket and cleared; it is never logged or stored here)
  function clearNumber() { number = ""; $("number").textContent = ""; $("number-help").textContent = ""; $("ok").disabled = true; }
  function needLen() { return kind === "nik" ? 16 : 11; }
  function validNik(n) {
    if (!/^[0-9]{16}$/.test(n)) return false;
    const p = +n.slice(0, 2), d = +n.slice(6, 8), m = +n.slice(8, 10);
    return p >= 11 && p <= 94 && ((d >= 1 && d <= 31) || (d >= 41 && d <= 71)) && m >= 1 && m <= 12 && n.slice(12) !== "0000";
  }
  function valid(n) { return kind === "nik" ? validNik(n) : /^[0-9]{11}$/.test(n) && !/^(.)\1*$/.test(n); }
  function showNumber() {
    $("number").textContent = number.replace(/(\d{4})(?=\d)/g, "$1 ") || "\u00a0";
    $("number-help").textContent = number.length + " / " + needLen();
    $("ok").disabled = number.length !== needLen();
    keypadUntil = performance.now() + ((last && last.keypad_idle_s) || 45) * 1000;
  }
  function openKeypad() {
    if (!last || last.screen !== "idle" || !last.keypad) return;
    showScreen("keypad");
    setText(LOCAL.SCREEN_KEYPAD);
    clearNumber();
    showNumber();
  }
  function closeKeypad() { keypadUntil = 0; clearNumber(); if (last) render(last); }
  document.addEventListener("pointerdown", (e) => {
    if (body.dataset.state === "idle" && !e.target.closest("#keypad")) openKeypad();
  });
  $("kinds").addEventListener("click", (e) => {
    const b = e.target.closest("button[data-kind]");
    if (!b) return;
    kind = b.dataset.kind;
    for (const k of document.querySelectorAll(".kind")) k.classList.toggle("on", k === b);
    number = number.slice(0, needLen());
    showNumber();
  });
  $("keys").addEventListener("click", (e) => {
    const b = e.target.closest("button[data-key]");
    if (!b) return;
    if (!number.length) setText(LOCAL.SCREEN_KEYPAD);  // a new attempt: the prompt, not the last error
    if (b.dataset.key === "back") number = number.slice(0, -1);
    else if (number.length < needLen()) number += b.dataset.key;
    showNumber();
  });
  $("cancel").addEventListener("click", closeKeypad);
  $("keypad").addEventListener("submit", (e) => {
    e.preventDefault();
    if (!valid(number)) {  // start again from an empty field, with what was wrong
      clearNumber();
      showNumber();
      setText(kind === "nik" ? LOCAL.BAD_NIK : LOCAL.BAD_KPJ);
      return;
    }
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({type: "start", kind: kind, number: number}));
    keypadUntil = performance.now() + 2000;  // until the daemon's own "waiting" state arrives
    clearNumber();
    showScreen("waiting");
    setText(LOCAL.SCREEN_WAITING);
  });
  setInterval(() => {
    tickCountdown();
    if (body.dataset.state === "keypad" && performance.now() > keypadUntil) closeKeypad();
    if (!stats.connected && performance.now() - downSince > 3000 && body.dataset.state !== "out_of_service") {
      showScreen("out_of_service");  // daemon unreachable (restarting): say so instead of a frozen screen
      setText(LOCAL.OOS_STARTING);
      setIcon("OOS_STARTING");
    }
  }, 250);

  // ------------------------------------------------------------------ socket
  let frameUrl = null;
  function connect() {
    ws = new WebSocket("ws://" + location.host + "/ws");
    ws.binaryType = "blob";
    ws.onopen = () => { stats.connected = true; };
    ws.onmessage = (ev) => {
      if (typeof ev.data !== "string") {
        const url = URL.createObjectURL(ev.data);
        const img = $("frame");
        img.onload = () => { stats.previews++; if (frameUrl) URL.revokeObjectURL(frameUrl); frameUrl = url; };
        img.src = url;
        return;
      }
      const msg = JSON.parse(ev.data);
      if (msg.type === "state") render(msg);
      else if (msg.type === "start_refused") {
        stats.refused = msg.code;
        showScreen("keypad");
        setText(msg.code === "REQUEST_REFUSED" ? (kind === "nik" ? LOCAL.BAD_NIK : LOCAL.BAD_KPJ) : (last ? last.text : {}));
        showNumber();
      } else if (msg.type === "start_sent") stats.requestId = msg.request_id;
    };
    ws.onclose = () => {
      if (stats.connected) downSince = performance.now();
      stats.connected = false;
      // A restarted daemon has a new socket token: fetch the page again for its cookie, then reconnect.
      setTimeout(() => { fetch("/", { cache: "no-store" }).catch(() => {}).finally(connect); }, 1000);
    };
  }
  connect();
})();
