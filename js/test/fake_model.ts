// A fake anywidget model: get/set/on/off/send/save_changes, plus helpers to change a
// trait (firing change:<name>) and to deliver a custom message, as the kernel would; its
// fake kernel answers requests (commands with a `request` id) by echoing their id.
import { ANSWER_TYPE, type Answers, type RequestKind } from "../requests";
import type { AnyModel, Traits } from "../types";

/** An answer's fields, without the type and the id (which the fake kernel fills in). */
export type AnswerFields<K extends RequestKind> = Omit<Answers[K], "type" | "request">;

export const CHAT_A = "11111111-1111-4111-8111-111111111111";
export const CHAT_B = "22222222-2222-4222-8222-222222222222";

export function baseTraits(over: Partial<Traits> = {}): Traits {
  return {
    title: "Chat",
    height: "600px",
    theme: "auto",
    model_label: "demo model (offline)",
    chats: [
      { id: CHAT_A, title: "First chat", updated_at: new Date().toISOString(), message_count: 2 },
      { id: CHAT_B, title: "Second chat", updated_at: new Date(Date.now() - 3600e3).toISOString(), message_count: 4 },
    ],
    active_chat_id: CHAT_A,
    messages: [
      {
        id: 0,
        role: "user",
        content: "Hello there",
        timestamp: "2025-01-01T10:00:00.000Z",
        status: "complete",
        error: "",
      },
      {
        id: 1,
        role: "assistant",
        content: "Hi! Here is `code`:\n\n```python\nprint(1)\n```",
        timestamp: "2025-01-01T10:00:01.000Z",
        status: "complete",
        error: "",
      },
    ],
    has_older: false,
    streams: {},
    busy: false,
    error: "",
    stats: { recent: [], totals: { replies: 0, completed: 0, stopped: 0, errors: 0, tokens: 0 } },
    per_browser: false,
    allow_kernel_context: true,
    allow_code: true,
    running_code: { chat_id: "", message_id: -1, code: "" },
    stale_context: [],
    chat_settings: {
      model: "fake-model",
      system_prompt: "",
      temperature: null,
      max_tokens: null,
      tools: true,
      tool_steps: 10,
    },
    can_insert_cell: false,
    context_gauge: { tokens: 0, window: null, estimated: true },
    compare_choices: [],
    compares: {},
    opening: "",
    unreadable: 0,
    uploads: { file_bytes: 20 * 1024 * 1024, message_bytes: 10 * 1024 * 1024 - 64 * 1024, count: 10 },
    prompt_templates: [],
    draft: { id: 0, text: "", context: [] },
    ...over,
  };
}

export class FakeModel implements AnyModel<Traits> {
  state: Traits;
  /** The host's widget manager (a test gives it a kernel to interrupt). */
  widget_manager?: unknown;
  sent: any[] = [];
  /** The binary buffers of each sent message, by index in `sent` ([] when none). */
  sentBuffers: unknown[][] = [];
  handlers = new Map<string, Set<(...args: any[]) => void>>();
  /** Answers the fake kernel gives at once, by request kind (unset: the test answers by hand). */
  kernel: { [K in RequestKind]?: (cmd: any) => AnswerFields<K> } = {};

  constructor(over: Partial<Traits> = {}) {
    this.state = baseTraits(over);
  }
  get<K extends keyof Traits>(key: K): Traits[K] {
    return this.state[key];
  }
  set<K extends keyof Traits>(key: K, value: Traits[K]): void {
    this.state[key] = value;
  }
  save_changes(): void {}
  send(content: unknown, _callbacks?: unknown, buffers: unknown[] = []): void {
    this.sent.push(content);
    this.sentBuffers.push(buffers);
    const cmd = content as { type: RequestKind; request?: string };
    const reply = this.kernel[cmd.type];
    if (reply && cmd.request) this.custom({ ...reply(cmd), type: ANSWER_TYPE[cmd.type], request: cmd.request });
  }
  /** The newest request of `kind` any view sent. */
  lastRequest(kind: RequestKind): any {
    const found = this.sent.filter((c) => c.type === kind && typeof c.request === "string").pop();
    if (!found) throw new Error(`no ${kind} request was sent`);
    return found;
  }
  /** The kernel answers a request (by default the newest of its kind). */
  answer<K extends RequestKind>(
    kind: K,
    fields: AnswerFields<K>,
    opts: { request?: string; buffers?: unknown[] } = {},
  ): void {
    const request = opts.request ?? this.lastRequest(kind).request;
    this.custom({ ...fields, type: ANSWER_TYPE[kind], request }, opts.buffers ?? []);
  }
  /** The kernel refuses a request (by default the newest of its kind). */
  refuse(kind: RequestKind, error: string, request?: string): void {
    this.custom({ type: "refused", request: request ?? this.lastRequest(kind).request, error });
  }
  on(event: string, cb: (...args: any[]) => void): void {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event)!.add(cb);
  }
  off(event: string, cb?: (...args: any[]) => void): void {
    if (!cb) this.handlers.delete(event);
    else this.handlers.get(event)?.delete(cb);
  }
  listenerCount(): number {
    let n = 0;
    for (const s of this.handlers.values()) n += s.size;
    return n;
  }
  /** Kernel changed traits (all fire after the values are set, like one hold_sync). */
  update(changes: Partial<Traits>): void {
    Object.assign(this.state, changes);
    for (const k of Object.keys(changes)) for (const cb of this.handlers.get(`change:${k}`) ?? []) cb();
  }
  custom(msg: unknown, buffers: unknown[] = []): void {
    for (const cb of this.handlers.get("msg:custom") ?? []) cb(msg, buffers);
  }
  lastSent(): any {
    return this.sent[this.sent.length - 1];
  }
}
