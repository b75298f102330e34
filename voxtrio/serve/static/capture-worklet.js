// Microphone capture: mono Float32 quanta at the context rate -> PCM16 LE frames of 20 ms
// at `targetRate`, posted to the page as transferable ArrayBuffers with their RMS level.
// The page asks for an AudioContext at targetRate, so usually no resampling happens here;
// where the browser refused that rate, a linear resampler bridges the gap (good enough for
// speech recognition; the mic is band-limited far below either Nyquist).
class CaptureProcessor extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.targetRate = options.processorOptions.targetRate;
    this.frameSamples = Math.round(this.targetRate * 0.02);
    this.step = sampleRate / this.targetRate; // input samples per output sample
    this.pos = 0; // fractional read position into `prev` + current quantum
    this.prev = 0; // last input sample of the previous quantum (for interpolation)
    this.frame = new Int16Array(this.frameSamples);
    this.filled = 0;
    this.sumSquares = 0;
  }

  push(x) {
    const s = Math.max(-1, Math.min(1, x));
    this.frame[this.filled++] = s < 0 ? s * 0x8000 : s * 0x7fff;
    this.sumSquares += s * s;
    if (this.filled === this.frameSamples) {
      const level = Math.sqrt(this.sumSquares / this.frameSamples);
      const buf = this.frame.buffer;
      this.port.postMessage({ pcm: buf, level }, [buf]);
      this.frame = new Int16Array(this.frameSamples); // the old one was transferred
      this.filled = 0;
      this.sumSquares = 0;
    }
  }

  process(inputs) {
    const input = inputs[0] && inputs[0][0];
    if (!input) return true; // no mic yet: keep the node alive
    if (this.step === 1) {
      for (let i = 0; i < input.length; i++) this.push(input[i]);
      return true;
    }
    // positions are relative to `prev` at index -1 and input[0] at index 0
    while (this.pos < input.length - 1) {
      const i = Math.floor(this.pos);
      const frac = this.pos - i;
      const a = i < 0 ? this.prev : input[i];
      this.push(a + (input[i + 1] - a) * frac);
      this.pos += this.step;
    }
    this.pos -= input.length;
    this.prev = input[input.length - 1];
    return true;
  }
}

registerProcessor("voxtrio-capture", CaptureProcessor);
