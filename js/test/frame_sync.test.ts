import { describe, expect, it } from "vitest";
import { FrameSync, GRID_MS, shiftFor } from "../frame_sync";

const spread = (n: number, from: number, to: number) =>
  Array.from({ length: n }, (_, i) => from + ((to - from) * i) / (n - 1));

describe("shiftFor", () => {
  it("asks for later deltas when they wait long for their frame", () => {
    const shift = shiftFor(spread(30, 8, 10));
    // The earliest waits (about 8 ms) should come down to 1 ms.
    expect(shift).toBeGreaterThan(6.5);
    expect(shift).toBeLessThan(7.5);
  });

  it("asks for nothing when the earliest deltas arrive just before their frame", () => {
    expect(shiftFor(spread(30, 1, 3))).toBeNull();
  });

  it("asks for earlier deltas when some just missed their frame", () => {
    // Most arrive 0.5-1.5 ms before the frame; three arrived just after it and waited
    // almost a whole frame: they were late, not early.
    const waits = [...spread(27, 0.5, 1.5), GRID_MS - 0.3, GRID_MS - 0.2, GRID_MS - 0.1];
    const shift = shiftFor(waits);
    expect(shift).not.toBeNull();
    expect(shift as number).toBeLessThan(-1);
  });

  it("asks for nothing when the waits do not agree on a phase", () => {
    expect(shiftFor(spread(30, 0, GRID_MS * 0.97))).toBeNull();
  });

  it("never asks for more than the kernel would move", () => {
    const shift = shiftFor(spread(30, 15.9, 16.1).map((w) => w - GRID_MS / 2));
    expect(Math.abs(shift as number)).toBeLessThanOrEqual(8);
  });
});

describe("FrameSync", () => {
  function setup() {
    let t = 0;
    const sent: number[] = [];
    const sync = new FrameSync({ send: (s) => sent.push(s), now: () => t });
    return { sync, sent, advance: (ms: number) => (t += ms) };
  }

  it("locks on after a few deltas, then waits for fresh ones after asking", () => {
    const { sync, sent, advance } = setup();
    for (let i = 0; i < 5; i++) sync.observe([9]);
    expect(sent).toEqual([]);
    sync.observe([9]);
    expect(sent).toEqual([8]);
    // Right after asking, waits still show the old phase: they do not count.
    for (let i = 0; i < 50; i++) sync.observe([9]);
    expect(sent).toEqual([8]);
    advance(400);
    for (let i = 0; i < 59; i++) sync.observe([9]);
    expect(sent).toEqual([8]);
    sync.observe([9]);
    expect(sent).toEqual([8, 8]);
    // The next stream, after a pause: frames may have restarted in another phase, so
    // it locks on quickly again.
    advance(5000);
    for (let i = 0; i < 6; i++) sync.observe([9]);
    expect(sent).toEqual([8, 8, 8]);
  });

  it("ignores waits of hidden tabs and busy pages", () => {
    const { sync, sent } = setup();
    for (let i = 0; i < 20; i++) sync.observe([500, -1]);
    expect(sent).toEqual([]);
  });
});
