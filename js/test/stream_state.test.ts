import { describe, expect, it } from "vitest";
import { StreamStore } from "../stream_state";
import type { DeltaMsg, DoneMsg } from "../types";

const CHAT = "11111111-1111-4111-8111-111111111111";
const OTHER = "22222222-2222-4222-8222-222222222222";

function delta(seq: number, text: string, message_id = 3, chat_id = CHAT, reasoning = ""): DeltaMsg {
  return { type: "delta", chat_id, message_id, seq, text, reasoning };
}
function done(text: string, seq: number, status: DoneMsg["status"] = "complete", message_id = 3, error = ""): DoneMsg {
  return { type: "done", chat_id: CHAT, message_id, seq, text, reasoning: "", status, error };
}

function setup() {
  const frames: (() => void)[] = [];
  const changes: Set<string>[] = [];
  const store = new StreamStore(
    (ids) => changes.push(ids),
    (cb) => frames.push(cb),
  );
  const frame = () => {
    const fs = frames.splice(0);
    for (const f of fs) f();
  };
  return { store, frames, changes, frame };
}

describe("StreamStore", () => {
  it("applies queued deltas together, at most once per animation frame", () => {
    const { store, frames, changes, frame } = setup();
    store.receive(delta(0, "Hel"));
    store.receive(delta(1, "lo"));
    store.receive(delta(2, " world"));
    expect(frames).toHaveLength(1); // one frame requested for three deltas
    expect(store.get(CHAT)).toBeUndefined(); // nothing applied before the frame
    frame();
    expect(store.get(CHAT)?.text).toBe("Hello world");
    expect(store.get(CHAT)?.seq).toBe(2);
    expect(changes).toHaveLength(1);
    store.receive(delta(3, "!"));
    expect(frames).toHaveLength(1);
    frame();
    expect(store.get(CHAT)?.text).toBe("Hello world!");
  });

  it("appends reasoning separately", () => {
    const { store, frame } = setup();
    store.receive(delta(0, "", 3, CHAT, "thinking "));
    store.receive(delta(1, "Answer", 3, CHAT, "more"));
    frame();
    expect(store.get(CHAT)?.reasoning).toBe("thinking more");
    expect(store.get(CHAT)?.text).toBe("Answer");
  });

  it("ignores duplicate deltas", () => {
    const { store, frame } = setup();
    store.receive(delta(0, "a"));
    store.receive(delta(1, "b"));
    store.receive(delta(1, "b"));
    store.receive(delta(0, "a"));
    frame();
    expect(store.get(CHAT)?.text).toBe("ab");
  });

  it("stops appending at a seq gap and repairs from done", () => {
    const { store, frame } = setup();
    store.receive(delta(0, "one "));
    store.receive(delta(1, "two "));
    store.receive(delta(3, "four ")); // seq 2 lost
    store.receive(delta(4, "five"));
    frame();
    const s = store.get(CHAT)!;
    expect(s.gap).toBe(true);
    expect(s.text).toBe("one two "); // nothing after the gap is appended
    store.receive(done("one two three four five", 4));
    frame();
    const d = store.get(CHAT)!;
    expect(d.text).toBe("one two three four five");
    expect(d.gap).toBe(false);
    expect(d.done).toEqual({ status: "complete", error: "", errorKind: "" });
  });

  it("a gap in the very first delta waits too", () => {
    const { store, frame } = setup();
    store.receive(delta(2, "late"));
    frame();
    expect(store.get(CHAT)?.gap).toBe(true);
    expect(store.get(CHAT)?.text).toBe("");
    store.receive(done("full", 5, "stopped"));
    frame();
    expect(store.get(CHAT)?.text).toBe("full");
    expect(store.get(CHAT)?.done?.status).toBe("stopped");
  });

  it("a view rendered mid-stream starts from the snapshot and applies only later deltas", () => {
    const { store, frame } = setup();
    store.syncSnapshot({ [CHAT]: { message_id: 3, text: "abc", reasoning: "", seq: 2 } });
    expect(store.get(CHAT)?.text).toBe("abc");
    store.receive(delta(1, "b")); // already in the snapshot
    store.receive(delta(2, "c")); // already in the snapshot
    store.receive(delta(3, "d"));
    frame();
    expect(store.get(CHAT)?.text).toBe("abcd");
    expect(store.get(CHAT)?.gap).toBe(false);
  });

  it("uses the snapshot when the first delta a view sees is mid-stream", () => {
    const { store, frame } = setup();
    // The trait is there before the view's store knows about the chat.
    store.syncSnapshot({ [CHAT]: { message_id: 3, text: "xy", reasoning: "", seq: 1 } });
    store.receive(delta(2, "z"));
    frame();
    expect(store.get(CHAT)?.text).toBe("xyz");
  });

  it("a newer snapshot repairs a gap before done", () => {
    const { store, frame } = setup();
    store.receive(delta(0, "a"));
    store.receive(delta(2, "c"));
    frame();
    expect(store.get(CHAT)?.gap).toBe(true);
    store.syncSnapshot({ [CHAT]: { message_id: 3, text: "abc", reasoning: "", seq: 2 } });
    expect(store.get(CHAT)?.gap).toBe(false);
    store.receive(delta(3, "d"));
    frame();
    expect(store.get(CHAT)?.text).toBe("abcd");
  });

  it("an older snapshot never rewinds what was applied", () => {
    const { store, frame } = setup();
    store.receive(delta(0, "a"));
    store.receive(delta(1, "b"));
    store.receive(delta(2, "c"));
    frame();
    store.syncSnapshot({ [CHAT]: { message_id: 3, text: "a", reasoning: "", seq: 0 } });
    expect(store.get(CHAT)?.text).toBe("abc");
  });

  it("keeps streams of several chats apart", () => {
    const { store, frame } = setup();
    store.receive(delta(0, "A", 3, CHAT));
    store.receive(delta(0, "B", 7, OTHER));
    store.receive(delta(1, "A", 3, CHAT));
    frame();
    expect(store.get(CHAT)?.text).toBe("AA");
    expect(store.get(OTHER)?.text).toBe("B");
  });

  it("a new reply replaces the previous one; late deltas of the old reply are ignored", () => {
    const { store, frame } = setup();
    store.receive(delta(0, "old", 3));
    store.receive(done("old!", 1, "complete", 3));
    store.receive(delta(0, "new", 5));
    store.receive(delta(1, "stale", 3));
    frame();
    expect(store.get(CHAT)?.messageId).toBe(5);
    expect(store.get(CHAT)?.text).toBe("new");
  });

  it("settles once the messages trait holds the streamed message", () => {
    const { store, frame } = setup();
    store.receive(delta(0, "hi"));
    frame();
    const msg = { id: 2, role: "user" as const, content: "q", timestamp: "", status: "complete" as const, error: "" };
    expect(store.settle(CHAT, [msg])).toBe(false);
    store.receive(done("hi", 0));
    frame();
    expect(store.settle(CHAT, [msg, { ...msg, id: 3, role: "assistant", content: "hi" }])).toBe(true);
    expect(store.get(CHAT)).toBeUndefined();
  });

  it("a user message holding the stream's id does not settle it (ids are positions)", () => {
    const { store, frame } = setup();
    store.receive(delta(0, "hi", 3));
    frame();
    const user = {
      id: 3,
      role: "user" as const,
      content: "next prompt",
      timestamp: "",
      status: "complete" as const,
      error: "",
    };
    expect(store.settle(CHAT, [user])).toBe(false);
    expect(store.get(CHAT)?.messageId).toBe(3);
    expect(store.settle(CHAT, [{ ...user, role: "assistant" }])).toBe(true);
  });

  it("a reply that leaves the streams trait without its done is over (its chat was deleted)", () => {
    const { store, frame } = setup();
    const snap = { message_id: 3, text: "", reasoning: "", seq: -1 };
    store.syncSnapshot({ [CHAT]: snap, [OTHER]: { ...snap, message_id: 7 } });
    store.receive(delta(0, "partial"));
    frame();
    expect(store.get(CHAT)?.text).toBe("partial");
    store.syncSnapshot({ [OTHER]: { ...snap, message_id: 7 } });
    expect(store.get(CHAT)).toBeUndefined();
    expect(store.get(OTHER)?.messageId).toBe(7); // still streaming
    // A reply that ended with its done stays until the messages trait holds it.
    store.receive({ ...done("all", 0, "complete", 7), chat_id: OTHER });
    frame();
    store.syncSnapshot({});
    expect(store.get(OTHER)?.done?.status).toBe("complete");
  });

  it("done without any delta (a view that missed them all) shows the full text", () => {
    const { store, frame } = setup();
    store.receive(done("complete reply", 9, "length"));
    frame();
    expect(store.get(CHAT)?.text).toBe("complete reply");
    expect(store.get(CHAT)?.done?.status).toBe("length");
  });

  it("dispose drops queued work", () => {
    const { store, frames, changes } = setup();
    store.receive(delta(0, "a"));
    store.dispose();
    for (const f of frames) f();
    expect(changes).toHaveLength(0);
  });

  it("reports how long each delta applied in a frame waited for it", () => {
    const frames: (() => void)[] = [];
    const waits: number[][] = [];
    const store = new StreamStore(
      () => undefined,
      (cb) => frames.push(cb),
      (w) => waits.push(w),
    );
    store.receive(delta(0, "a"));
    store.receive(delta(1, "b"));
    store.receive(done("ab", 1));
    for (const f of frames.splice(0)) f();
    expect(waits).toHaveLength(1);
    expect(waits[0]).toHaveLength(2); // the deltas only: `done` is not on the grid
    for (const w of waits[0]) expect(w).toBeGreaterThanOrEqual(0);
    expect(store.get(CHAT)?.text).toBe("ab");
  });
});
