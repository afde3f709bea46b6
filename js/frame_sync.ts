// Deltas timed to this page's frames (the kernel side is livechat_widget/frame_clock.py).
//
// The kernel sends a streaming reply's coalesced deltas on a 60 Hz grid of its own. A
// delta then waits here for the next animation frame, up to a frame more. So each
// delta's wait (arrival to the frame that applies it) is measured, and when the waits
// agree (the grid and the frames keep step) the kernel is asked to shift its grid so
// deltas arrive just before a frame: a token then waits about one frame in all
// instead of up to two. When the waits are spread (a slow stream's deltas go out as
// tokens come, or the display's rate is not a multiple of 60 Hz) nothing is asked.

export const GRID_MS = 1000 / 60; // the kernel's grid (frame_clock.FRAME)
// Frames stop while a page is idle and restart in another phase: each stream locks on
// afresh, quickly, after a pause this long.
const PAUSE_MS = 1000;
const FIRST_SAMPLES = 6; // waits of the first estimate of a stream
// Each frame_sync costs the page two status messages (ipykernel publishes busy and
// idle for it) out of its budget of one message per frame: later estimates take a
// second of deltas, and only a phase clearly off is corrected.
const SAMPLES = 60;
const SETTLE_MS = 300; // after asking: the kernel acts on it, then fresh waits count
const MIN_AGREEMENT = 0.6; // mean resultant length of the waits' phases
// The earliest waits (about the 5th percentile) should stay this close to a frame:
// a delta that misses its frame waits a whole frame more.
const TARGET_EARLIEST_MS = 1;
const TOO_CLOSE_MS = 0.3; // ask for earlier deltas when the earliest come closer than this
const TOO_FAR_MS = 3; // ask for later deltas when the earliest wait longer than this
const MAX_SHIFT_MS = 8; // the kernel moves its grid by at most half a frame anyway

export interface FrameSyncOptions {
  /** Asks the kernel to send deltas `shiftMs` later (earlier if negative). */
  send: (shiftMs: number) => void;
  now?: () => number;
}

export class FrameSync {
  readonly view = randomId();
  private samples: number[] = [];
  private quietUntil = 0;
  private asked = false;
  private lastSeen = Number.NEGATIVE_INFINITY;
  private readonly now: () => number;

  constructor(private opts: FrameSyncOptions) {
    this.now = opts.now ?? (() => performance.now());
  }

  /** The waits (ms) of the deltas an animation frame just applied. */
  observe(waits: number[]): void {
    const now = this.now();
    if (now - this.lastSeen > PAUSE_MS) {
      this.samples = [];
      this.asked = false;
      this.quietUntil = 0;
    }
    this.lastSeen = now;
    if (now < this.quietUntil) return;
    // A wait of several frames is a hidden tab or a busy page, not the grid's phase.
    for (const w of waits) if (w >= 0 && w < 3 * GRID_MS) this.samples.push(w);
    if (this.samples.length < (this.asked ? SAMPLES : FIRST_SAMPLES)) return;
    const shift = shiftFor(this.samples);
    this.samples = [];
    if (shift !== null) {
      this.opts.send(Math.round(shift * 100) / 100);
      this.asked = true;
      this.quietUntil = this.now() + SETTLE_MS;
    }
  }
}

/**
 * How much later (ms) deltas should arrive so that nearly all still come before their
 * frame, from their waits for it; null when no change is needed or the waits'
 * phases do not agree.
 */
export function shiftFor(waits: number[], period = GRID_MS): number | null {
  if (!waits.length) return null;
  let c = 0;
  let s = 0;
  for (const w of waits) {
    const angle = (2 * Math.PI * w) / period;
    c += Math.cos(angle);
    s += Math.sin(angle);
  }
  if (Math.hypot(c, s) / waits.length < MIN_AGREEMENT) return null;
  // Unwrap around the circular mean: a delta that just missed its frame waited almost
  // a whole frame, but it arrived *late*, which a negative wait says. Waits past three
  // quarters of a frame count as late; shorter ones as early.
  let mean = (Math.atan2(s, c) / (2 * Math.PI)) * period;
  if (mean < -period / 4) mean += period;
  const unwrapped = waits.map((w) => mean + wrap(w - mean, period)).sort((a, b) => a - b);
  const earliest = unwrapped[Math.floor(unwrapped.length * 0.05)];
  if (earliest >= TOO_CLOSE_MS && earliest <= TOO_FAR_MS) return null;
  return Math.max(-MAX_SHIFT_MS, Math.min(MAX_SHIFT_MS, earliest - TARGET_EARLIEST_MS));
}

/** `x` moved by whole periods into [-period/2, period/2). */
function wrap(x: number, period: number): number {
  return x - period * Math.floor(x / period + 0.5);
}

function randomId(): string {
  const bytes = new Uint8Array(9);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
