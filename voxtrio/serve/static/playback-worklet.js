// Agent speech playback: a queue of PCM16 chunks at `rate`, played at the context rate
// (linear interpolation when they differ), zeros when the queue is empty.
//   {cmd:"push", speechId, pcm}   queue a chunk (ArrayBuffer of Int16 LE)
//   {cmd:"done", speechId}        nothing more will come for that speech
//   {cmd:"clear", speechId|null}  drop queued audio of that speech (all when null) at once
// Reports {speechId, samples, final, cleared} to the page: played source samples per speech, every
// ~100 ms while playing, when a finished speech ran out, and right after a clear.
class PlaybackProcessor extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.step = options.processorOptions.rate / sampleRate; // source samples per output sample
    this.queue = []; // {speechId, data: Int16Array}
    this.offset = 0; // fractional read position in queue[0].data
    this.played = new Map(); // speechId -> source samples played
    this.done = new Set();
    this.sinceReport = 0;
    this.port.onmessage = (e) => this.command(e.data);
  }

  command(m) {
    if (m.cmd === "push") {
      this.queue.push({ speechId: m.speechId, data: new Int16Array(m.pcm) });
      if (!this.played.has(m.speechId)) this.played.set(m.speechId, 0);
    } else if (m.cmd === "done") {
      this.done.add(m.speechId);
      this.finishIfDrained(m.speechId);
    } else if (m.cmd === "clear") {
      const hit = (c) => m.speechId == null || c.speechId === m.speechId;
      const cleared = new Set(this.queue.filter(hit).map((c) => c.speechId));
      if (m.speechId != null) cleared.add(m.speechId);
      const head = this.queue[0];
      if (head && hit(head)) {
        // the part of the head chunk already heard counts as played
        this.played.set(head.speechId, (this.played.get(head.speechId) || 0) + this.offset);
        this.offset = 0;
      }
      this.queue = this.queue.filter((c) => !hit(c));
      for (const id of cleared) this.report(id, true, true);
    }
  }

  report(speechId, final, cleared = false) {
    const samples = Math.floor(this.played.get(speechId) || 0);
    this.port.postMessage({ speechId, samples, final, cleared });
    if (final) {
      this.done.delete(speechId);
      // keep a few finished positions: a late clear of a finished speech reports its end
      if (this.played.size > 16) this.played.delete(this.played.keys().next().value);
    }
  }

  finishIfDrained(speechId) {
    if (this.done.has(speechId) && !this.queue.some((c) => c.speechId === speechId)) {
      this.report(speechId, true);
    }
  }

  process(_inputs, outputs) {
    const out = outputs[0][0];
    for (let i = 0; i < out.length; i++) {
      const head = this.queue[0];
      if (!head) {
        out[i] = 0;
        continue;
      }
      const j = Math.floor(this.offset);
      const a = head.data[j];
      const b = j + 1 < head.data.length ? head.data[j + 1] : a;
      out[i] = (a + (b - a) * (this.offset - j)) / 32768;
      this.offset += this.step;
      if (this.offset >= head.data.length) {
        const used = head.data.length;
        this.offset -= used;
        this.queue.shift();
        this.played.set(head.speechId, (this.played.get(head.speechId) || 0) + used);
        this.finishIfDrained(head.speechId);
      }
    }
    for (let k = 1; k < outputs[0].length; k++) outputs[0][k].set(out);
    this.sinceReport += out.length;
    if (this.sinceReport >= sampleRate / 10 && this.queue.length) {
      this.sinceReport = 0;
      const id = this.queue[0].speechId;
      this.played.set(id, this.played.get(id) || 0);
      this.port.postMessage({
        speechId: id,
        samples: Math.floor(this.played.get(id) + this.offset),
        final: false,
      });
    }
    return true;
  }
}

registerProcessor("voxtrio-playback", PlaybackProcessor);
