// The voxtrio page: microphone -> /ws/browser as 20 ms PCM16 frames, agent speech back
// through a clearable playback queue, live transcript and states. Protocol: docs/protocols.md
// ("The browser audio socket"). No build step; plain browser APIs.
"use strict";

const RATE = 16000; // what the page captures and announces in hello
const $ = (id) => document.getElementById(id);

// Counters for people debugging and for the end-to-end test (tests/serve/test_browser_page.py).
const stats = (window.voxtrio = {
  status: "idle", // idle | connecting | connected | closed | error
  readyRate: null,
  framesSent: 0,
  framesReceived: 0,
  bytesReceived: 0,
  samplesPlayed: 0, // agent samples (at readyRate) the playback worklet has played
  speeches: 0,
  clears: 0,
  clearAcks: [], // {speech_id, position_ms} answered after each clear
  levelPeak: 0, // highest 20 ms RMS level of the microphone (0..1)
  transcript: [], // {role, text, final, turnId}
  closeCode: null,
});

let ctx = null;
let ws = null;
let mic = null;
let playback = null;
let currentSpeech = null;
const playedSoFar = new Map(); // speechId -> samples, to count samplesPlayed increments
const lines = new Map(); // transcript entry -> its <li>
// ?processing=off turns the browser's echo cancellation, noise suppression and gain off
const processing = new URLSearchParams(location.search).get("processing") !== "off";

function setStatus(status, text) {
  stats.status = status;
  $("status").textContent = text || status;
}

function socketUrl() {
  const url = new URL("/ws/browser", location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  const token = new URLSearchParams(location.search).get("token");
  if (token) url.searchParams.set("token", token); // browsers cannot set headers on a socket
  return url.href;
}

async function start() {
  $("start").disabled = true;
  setStatus("connecting", "starting the microphone…");
  try {
    try {
      ctx = new AudioContext({ sampleRate: RATE }); // the browser resamples the mic for us
    } catch (_) {
      ctx = new AudioContext(); // refused: the capture worklet resamples instead
    }
    await ctx.audioWorklet.addModule("/static/capture-worklet.js");
    await ctx.audioWorklet.addModule("/static/playback-worklet.js");
    mic = await navigator.mediaDevices.getUserMedia({
      audio: {
        channelCount: 1,
        echoCancellation: processing,
        noiseSuppression: processing,
        autoGainControl: processing,
      },
    });
  } catch (err) {
    setStatus("error", `microphone unavailable: ${err.message || err}`);
    $("start").disabled = false;
    return;
  }
  await ctx.resume();
  connect();
}

function connect() {
  setStatus("connecting", "connecting…");
  ws = new WebSocket(socketUrl());
  ws.binaryType = "arraybuffer";
  ws.onopen = () => {
    ws.send(JSON.stringify({ type: "hello", sample_rate: RATE, format: "pcm16" }));
    startCapture();
  };
  ws.onmessage = (e) => (typeof e.data === "string" ? onControl(JSON.parse(e.data)) : onAudio(e.data));
  ws.onclose = (e) => {
    stats.closeCode = e.code;
    setStatus("closed", `disconnected (${e.code}${e.reason ? ": " + e.reason : ""})`);
    stop();
  };
  ws.onerror = () => setStatus("error", "connection failed");
  $("stop").disabled = false;
}

function startCapture() {
  const source = ctx.createMediaStreamSource(mic);
  const node = new AudioWorkletNode(ctx, "voxtrio-capture", {
    numberOfInputs: 1,
    numberOfOutputs: 0,
    processorOptions: { targetRate: RATE },
  });
  node.port.onmessage = ({ data }) => {
    if (ws && ws.readyState === WebSocket.OPEN) {
      ws.send(data.pcm); // binary frame: 20 ms PCM16 LE
      stats.framesSent++;
    }
    stats.levelPeak = Math.max(stats.levelPeak, data.level);
    $("level").style.width = `${Math.min(100, Math.sqrt(data.level) * 200)}%`;
  };
  source.connect(node);
}

function startPlayback(rate) {
  playback = new AudioWorkletNode(ctx, "voxtrio-playback", {
    numberOfInputs: 0,
    outputChannelCount: [1],
    processorOptions: { rate },
  });
  playback.port.onmessage = ({ data }) => onPlayed(data);
  playback.connect(ctx.destination);
}

function onPlayed({ speechId, samples, cleared }) {
  const before = playedSoFar.get(speechId) || 0;
  if (samples > before) stats.samplesPlayed += samples - before;
  playedSoFar.set(speechId, Math.max(before, samples));
  if (playedSoFar.size > 16) playedSoFar.delete(playedSoFar.keys().next().value);
  const positionMs = Math.floor((samples * 1000) / stats.readyRate);
  send({ type: "played", speech_id: speechId, position_ms: positionMs });
  if (cleared) stats.clearAcks.push({ speech_id: speechId, position_ms: positionMs });
}

function onAudio(buf) {
  stats.framesReceived++;
  stats.bytesReceived += buf.byteLength;
  if (playback && currentSpeech) {
    playback.port.postMessage({ cmd: "push", speechId: currentSpeech, pcm: buf }, [buf]);
  }
}

function onControl(m) {
  switch (m.type) {
    case "ready":
      stats.readyRate = m.sample_rate;
      startPlayback(m.sample_rate);
      setStatus("connected", "connected: talk to the agent");
      break;
    case "speech":
      currentSpeech = m.speech_id;
      stats.speeches++;
      break;
    case "speech_done":
      playback.port.postMessage({ cmd: "done", speechId: m.speech_id });
      if (currentSpeech === m.speech_id) currentSpeech = null;
      break;
    case "clear": // barge-in: the worklet drops the queue and reports where it stopped
      stats.clears++;
      playback.port.postMessage({ cmd: "clear", speechId: m.speech_id ?? null });
      if (m.speech_id == null || currentSpeech === m.speech_id) currentSpeech = null;
      break;
    case "state":
      $("agent-state").textContent = m.agent;
      $("user-state").textContent = m.user;
      break;
    case "transcript":
      showTranscript(m);
      break;
    case "error":
      setStatus("error", `server: ${m.message}`);
      break;
  }
}

// One line per (role, turn): interim texts replace each other until the final one.
function showTranscript({ role, text, final, turn_id: turnId }) {
  const list = $("transcript");
  let entry = stats.transcript.find((t) => !t.final && t.role === role && t.turnId === turnId);
  if (!entry) {
    entry = { role, text, final, turnId };
    lines.set(entry, list.appendChild(document.createElement("li")));
    stats.transcript.push(entry);
  }
  entry.text = text;
  entry.final = final;
  const li = lines.get(entry);
  li.className = `${role}${final ? "" : " interim"}`;
  li.textContent = text;
  li.scrollIntoView({ block: "end" });
}

function send(message) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
}

function stop() {
  if (ws && ws.readyState === WebSocket.OPEN) {
    send({ type: "bye" });
    ws.close(1000);
    setStatus("closed", "stopped");
  }
  ws = null;
  if (mic) mic.getTracks().forEach((t) => t.stop());
  if (ctx) ctx.close();
  mic = ctx = playback = null;
  currentSpeech = null;
  $("level").style.width = "0";
  $("start").disabled = false;
  $("stop").disabled = true;
}

$("start").addEventListener("click", start);
$("stop").addEventListener("click", stop);
