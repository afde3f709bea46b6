// Replies in progress, per chat, built from the kernel's fast path (delta/done custom
// messages) and the `streams` trait snapshot (docs/protocol.md).
//
// - Deltas are queued and applied together at most once per animation frame; how long
//   each waited for its frame is reported (frame_sync.ts times the kernel's deltas).
// - `seq` counts the deltas of one message from 0. A delta whose seq is not the next
//   expected one is a gap: appending stops (the text shown so far stays) and the state
//   waits for `done`, whose text is the full reply. A later `streams` snapshot of the
//   same message that is ahead of what was applied also repairs it.
// - A view rendered mid-stream starts from streams[chat_id] and applies only deltas
//   whose seq is greater than the snapshot's seq.
// - Tool calls (`tool` messages, and the snapshot's `tools`) are queued with the deltas,
//   so a call arrives after the text before its offset. A call's newer state replaces
//   the older by id; the list of calls is a new array whenever one changes (the bubble
//   compares it by reference).
import type { DeltaMsg, DoneMsg, ErrorKind, Message, MessageStatus, Stream, ToolCall, ToolMsg } from "./types";

export interface StreamView {
  chatId: string;
  messageId: number;
  text: string;
  reasoning: string;
  /** seq of the last delta included in `text` (-1: none yet). */
  seq: number;
  /** A delta went missing: appending stopped until `done` (or a newer snapshot). */
  gap: boolean;
  /** Set by `done`: the reply is over; text is the full reply. */
  done: null | { status: MessageStatus; error: string; errorKind: ErrorKind };
  /** The reply's tool calls so far, in the order they were made. */
  tools: ToolCall[];
}

type Queued = DeltaMsg | DoneMsg | ToolMsg;

/** A call's status only moves forward; an older state applied late never undoes a newer one. */
const STATUS_RANK: Record<string, number> = { proposed: 0, waiting: 1, running: 2 };
const rank = (status: string): number => STATUS_RANK[status] ?? 3;

/** `calls` with `call` in it (replacing the same id unless that would go back); the same array if nothing changed. */
export function withCall(calls: ToolCall[], call: ToolCall): ToolCall[] {
  const i = calls.findIndex((c) => c.id === call.id);
  if (i === -1) return [...calls, call];
  const old = calls[i];
  if (rank(call.status) < rank(old.status) || sameCall(old, call)) return calls;
  const next = calls.slice();
  next[i] = call;
  return next;
}

function sameCall(a: ToolCall, b: ToolCall): boolean {
  return (
    a.status === b.status &&
    a.content === b.content &&
    a.ms === b.ms &&
    a.offset === b.offset &&
    a.arguments === b.arguments &&
    a.code === b.code &&
    a.needs_consent === b.needs_consent &&
    (a.images?.length ?? 0) === (b.images?.length ?? 0)
  );
}

export type Scheduler = (cb: () => void) => void;

const defaultScheduler: Scheduler = (cb) => {
  if (typeof requestAnimationFrame === "function") requestAnimationFrame(() => cb());
  else setTimeout(cb, 16);
};

export class StreamStore {
  private states = new Map<string, StreamView>();
  private queue: Queued[] = [];
  private arrivals: number[] = []; // when each queued delta arrived (performance.now)
  private scheduled = false;
  private snapshot: Record<string, Stream> = {};
  private disposed = false;

  constructor(
    private onChange: (chatIds: Set<string>) => void,
    private schedule: Scheduler = defaultScheduler,
    /** The waits (ms) of the deltas a flush applied, from arrival (frame_sync.ts). */
    private onWaits?: (waits: number[]) => void,
  ) {}

  get(chatId: string): StreamView | undefined {
    return this.states.get(chatId);
  }

  /** A custom message from the kernel; applied on the next frame. */
  receive(msg: Queued): void {
    if (this.disposed) return;
    this.queue.push(msg);
    if (this.onWaits && msg.type === "delta") this.arrivals.push(performance.now());
    if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(() => this.flush());
    }
  }

  /** Apply everything queued (called once per frame). */
  flush(): void {
    this.scheduled = false;
    if (this.disposed || this.queue.length === 0) return;
    const queue = this.queue;
    this.queue = [];
    if (this.onWaits && this.arrivals.length) {
      const now = performance.now();
      this.onWaits(this.arrivals.map((t) => now - t));
      this.arrivals = [];
    }
    const changed = new Set<string>();
    for (const msg of queue) {
      if (this.apply(msg)) changed.add(msg.chat_id);
    }
    if (changed.size) this.onChange(changed);
  }

  /** The `streams` trait changed (a view rendered mid-stream, or a periodic refresh). */
  syncSnapshot(streams: Record<string, Stream> | null | undefined): void {
    this.snapshot = streams ?? {};
    const changed = new Set<string>();
    // A reply the kernel no longer streams and that never got its `done` (its chat was
    // deleted, or it failed before `done` could be sent) is over: drop it.
    for (const [chatId, s] of this.states) {
      if (!s.done && !(chatId in this.snapshot)) {
        this.states.delete(chatId);
        changed.add(chatId);
      }
    }
    for (const [chatId, snap] of Object.entries(this.snapshot)) {
      if (!snap || typeof snap.message_id !== "number") continue;
      const s = this.states.get(chatId);
      if (!s || s.messageId < snap.message_id) {
        this.states.set(chatId, fromSnapshot(chatId, snap));
        changed.add(chatId);
      } else if (s.messageId === snap.message_id && !s.done) {
        if (snap.seq > s.seq) {
          s.text = snap.text;
          s.reasoning = snap.reasoning ?? "";
          s.seq = snap.seq;
          s.gap = false;
          changed.add(chatId);
        }
        // A call's state can change without any text (a consent, a result).
        const tools = (snap.tools ?? []).reduce(withCall, s.tools);
        if (tools !== s.tools) {
          s.tools = tools;
          changed.add(chatId);
        }
      }
    }
    if (changed.size) this.onChange(changed);
  }

  /**
   * The `messages` trait of `chatId` changed: once it holds the streamed message, the
   * streaming state is no longer needed (the message from `messages` replaces it).
   */
  settle(chatId: string, messages: Message[]): boolean {
    const s = this.states.get(chatId);
    if (!s) return false;
    const last = messages.length ? messages[messages.length - 1].id : -1;
    // Only an assistant message ends the stream: ids are positions, and a user message
    // must never be taken for the reply (nor drawn in its bubble).
    const saved = messages.some((m) => m.id === s.messageId && m.role === "assistant");
    if (saved || (s.done && last > s.messageId)) {
      this.states.delete(chatId);
      return true;
    }
    return false;
  }

  dispose(): void {
    this.disposed = true;
    this.queue = [];
    this.arrivals = [];
    this.states.clear();
  }

  private apply(msg: Queued): boolean {
    if (msg.type === "delta") return this.applyDelta(msg);
    if (msg.type === "done") return this.applyDone(msg);
    return this.applyTool(msg);
  }

  /** The state of the reply a delta or a call belongs to (made when it is a newer one); null: an older reply. */
  private stateFor(chatId: string, messageId: number): StreamView | null {
    let s = this.states.get(chatId);
    if (!s || s.messageId < messageId) {
      const snap = this.snapshot[chatId];
      s =
        snap && snap.message_id === messageId
          ? fromSnapshot(chatId, snap)
          : { chatId, messageId, text: "", reasoning: "", seq: -1, gap: false, done: null, tools: [] };
      this.states.set(chatId, s);
    } else if (s.messageId > messageId) {
      return null; // a late message of an older reply
    }
    return s;
  }

  private applyTool(msg: ToolMsg): boolean {
    if (!msg.call || typeof msg.call.id !== "string") return false;
    const s = this.stateFor(msg.chat_id, msg.message_id);
    if (!s) return false;
    const tools = withCall(s.tools, msg.call);
    if (tools === s.tools) return false;
    s.tools = tools;
    return true;
  }

  private applyDelta(msg: DeltaMsg): boolean {
    const s = this.stateFor(msg.chat_id, msg.message_id);
    if (!s || s.done) return false;
    if (msg.seq <= s.seq) return false; // already included (snapshot or duplicate)
    if (s.gap) return false;
    if (msg.seq !== s.seq + 1) {
      s.gap = true; // wait for `done`
      return true;
    }
    s.text += msg.text ?? "";
    s.reasoning += msg.reasoning ?? "";
    s.seq = msg.seq;
    return true;
  }

  private applyDone(msg: DoneMsg): boolean {
    const s = this.states.get(msg.chat_id);
    if (s && s.messageId > msg.message_id) return false;
    // The calls stay shown until the saved message (with its own) replaces the reply.
    const tools = s && s.messageId === msg.message_id ? s.tools : (this.snapshotTools(msg) ?? []);
    this.states.set(msg.chat_id, {
      chatId: msg.chat_id,
      messageId: msg.message_id,
      text: msg.text ?? "",
      reasoning: msg.reasoning ?? "",
      seq: msg.seq,
      gap: false,
      done: { status: msg.status, error: msg.error ?? "", errorKind: msg.error_kind ?? "" },
      tools,
    });
    return true;
  }

  private snapshotTools(msg: DoneMsg): ToolCall[] | undefined {
    const snap = this.snapshot[msg.chat_id];
    return snap && snap.message_id === msg.message_id ? snap.tools : undefined;
  }
}

function fromSnapshot(chatId: string, snap: Stream): StreamView {
  return {
    chatId,
    messageId: snap.message_id,
    text: snap.text ?? "",
    reasoning: snap.reasoning ?? "",
    seq: typeof snap.seq === "number" ? snap.seq : -1,
    gap: false,
    done: null,
    tools: Array.isArray(snap.tools) ? snap.tools : [],
  };
}
