// Requests with answers (docs/protocol.md, "Requests"). A command that expects an answer
// (search, the `@` items, the model list, the math chunk, a file's bytes, an export) carries a request id
// chosen by the view; the kernel answers with one custom message echoing it, or with
// `refused`. Every view of the widget receives every answer: each view keeps its own
// Requests, which uses only answers to requests it made and still wants.
import type {
  AnswerMsg,
  AttachmentMsg,
  Command,
  ContextItemsMsg,
  ExportMsg,
  MathChunkMsg,
  ModelListMsg,
  SearchResultsMsg,
} from "./types";

/** The commands that expect an answer, and the answer each one gets. */
export interface Answers {
  search: SearchResultsMsg;
  list_context: ContextItemsMsg;
  list_models: ModelListMsg;
  load_math: MathChunkMsg;
  load_attachment: AttachmentMsg;
  export: ExportMsg;
}
export type RequestKind = keyof Answers;

/** The `type` of each request kind's answer. */
export const ANSWER_TYPE: { [K in RequestKind]: Answers[K]["type"] } = {
  search: "search_results",
  list_context: "context_items",
  list_models: "model_list",
  load_math: "math_chunk",
  load_attachment: "attachment",
  export: "export",
};

// Only the newest request of these kinds counts: a newer search, a reopened picker, a
// reopened settings panel make the older answer stale. Exports each stand on their own.
const NEWEST_ONLY = new Set<RequestKind>(["search", "list_context", "list_models"]);

/** A request's fields, as the caller gives them (the id is added here). */
export type RequestFields<K extends RequestKind> = Omit<Extract<Command, { type: K }>, "type" | "request">;

/** An answer, with the custom message's binary buffers (export: the file; math_chunk: the code). */
export interface Answer<K extends RequestKind> {
  msg: Answers[K];
  buffers: (ArrayBuffer | ArrayBufferView)[];
}

/** The request was given up by this view (a newer one of its kind, the view closed): nothing to show. */
export class RequestDropped extends Error {
  override name = "RequestDropped";
}

/** The kernel refused the request; the message is its error (the banner shows it too). */
export class RequestRefused extends Error {
  override name = "RequestRefused";
}

/** What to show for a failed request: its error, or null when it was dropped (nothing to show). */
export function whyFailed(err: unknown): string | null {
  if (err instanceof RequestDropped) return null;
  return err instanceof Error ? err.message : String(err);
}

interface Pending {
  kind: RequestKind;
  resolve: (answer: Answer<RequestKind>) => void;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout> | null;
}

const REQUEST_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** A custom message that answers a request (carries `request`), delta/done excepted. */
export function isAnswer(msg: unknown): msg is AnswerMsg {
  if (!msg || typeof msg !== "object") return false;
  const m = msg as { type?: unknown; request?: unknown };
  return typeof m.request === "string" && typeof m.type === "string" && m.type !== "delta" && m.type !== "done";
}

export class Requests {
  private count = 0;
  private pending = new Map<string, Pending>();
  private newest = new Map<RequestKind, string>();
  private closed = false;

  /** `view`: this view's id, unique within the page; request ids are `<view>-<n>`. */
  constructor(
    private send: (cmd: Command) => void,
    readonly view: string = randomId(),
  ) {
    if (!REQUEST_ID.test(`${view}-0`)) throw new Error(`bad view id: ${view}`);
  }

  /** Send a request; the promise settles with its answer (RequestRefused, RequestDropped otherwise). */
  ask<K extends RequestKind>(kind: K, fields: RequestFields<K>, opts: { timeoutMs?: number } = {}): Promise<Answer<K>> {
    if (this.closed) return Promise.reject(new RequestDropped("the view is closed"));
    if (NEWEST_ONLY.has(kind)) this.drop(kind);
    const request = `${this.view}-${++this.count}`;
    const promise = new Promise<Answer<K>>((resolve, reject) => {
      const timer =
        opts.timeoutMs === undefined
          ? null
          : setTimeout(() => this.settle(request)?.reject(new Error("no answer from the kernel")), opts.timeoutMs);
      this.pending.set(request, { kind, resolve: resolve as Pending["resolve"], reject, timer });
    });
    if (NEWEST_ONLY.has(kind)) this.newest.set(kind, request);
    // Registered before it is sent: an answer may come back at once.
    this.send({ ...fields, type: kind, request } as Command);
    return promise;
  }

  /** Give up the open request of `kind` (its answer, if it comes, is dropped). */
  drop(kind: RequestKind): void {
    const id = this.newest.get(kind);
    if (id !== undefined) this.settle(id)?.reject(new RequestDropped(`a newer ${kind} replaced it`));
  }

  /** An answer from the kernel; true when it settled a request of this view. */
  receive(msg: AnswerMsg, buffers: unknown[] = []): boolean {
    const p = this.pending.get(msg.request);
    if (!p) return false; // another view's, or one this view gave up
    if (msg.type !== "refused" && msg.type !== ANSWER_TYPE[p.kind]) return false;
    this.settle(msg.request);
    if (msg.type === "refused") {
      p.reject(new RequestRefused(typeof msg.error === "string" && msg.error ? msg.error : "the kernel refused"));
    } else {
      const bufs = buffers.filter(
        (b): b is ArrayBuffer | ArrayBufferView => b instanceof ArrayBuffer || ArrayBuffer.isView(b),
      );
      p.resolve({ msg, buffers: bufs });
    }
    return true;
  }

  /** The view is going: every open request is dropped, later ones are not sent. */
  dispose(): void {
    this.closed = true;
    for (const id of [...this.pending.keys()]) this.settle(id)?.reject(new RequestDropped("the view is closed"));
  }

  private settle(id: string): Pending | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    this.pending.delete(id);
    if (p.timer !== null) clearTimeout(p.timer);
    if (this.newest.get(p.kind) === id) this.newest.delete(p.kind);
    return p;
  }
}

function randomId(): string {
  const bytes = new Uint8Array(6);
  crypto.getRandomValues(bytes);
  return `v${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}
