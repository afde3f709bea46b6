// The slice of anywidget's model API the front end uses (anywidget >= 0.9),
// and the shapes of the protocol in docs/protocol.md.
export interface AnyModel<T> {
  get<K extends keyof T>(key: K): T[K];
  set<K extends keyof T>(key: K, value: T[K]): void;
  save_changes(): void;
  send(content: unknown, callbacks?: unknown, buffers?: ArrayBuffer[]): void;
  /** The ipywidgets manager (JupyterLab, Notebook 7, Voila: it holds the kernel connection). */
  widget_manager?: unknown;
  // biome-ignore lint/suspicious/noExplicitAny: anywidget's own signature; handlers take event-specific arguments
  on(event: string, callback: (...args: any[]) => void): void;
  // biome-ignore lint/suspicious/noExplicitAny: as above
  off(event: string, callback?: (...args: any[]) => void): void;
}

export type Role = "user" | "assistant" | "system";
export type MessageStatus = "complete" | "stopped" | "length" | "error";
/** What kind of error, when the app offers a remedy ("" otherwise). */
export type ErrorKind = "" | "context_length" | "interrupted" | "tool_steps";

export interface ChatSummary {
  id: string;
  title: string;
  updated_at: string;
  message_count: number;
}

export interface Message {
  id: number;
  role: Role;
  content: string;
  timestamp: string;
  status: MessageStatus;
  error: string;
  error_kind?: ErrorKind;
  // Which version of its turn this message is (from 1) of how many: edits, regenerations.
  version?: number;
  versions?: number;
  // A user message: the kernel context sent with it (one chip per item).
  context?: ContextChip[];
  // An assistant message: runs of its Python blocks, oldest first.
  runs?: CodeRun[];
  // What the model streamed as reasoning ("" = none).
  reasoning?: string;
  // Assistant replies: tokens, speed and model (null for user/system messages and old files).
  usage?: Usage | null;
  // An assistant message: its tool calls, in order (absent in old files).
  tools?: ToolCall[];
  // A user message: the files sent with it (their bytes come with `load_attachment`).
  attachments?: Attachment[];
}

/** A file sent with a user message, as the kernel stored it. */
export interface Attachment {
  name: string;
  // Sniffed from the bytes by the kernel.
  media_type: string;
  size: number;
  // Hex digest of the bytes: the file's id for `load_attachment`.
  sha256: string;
}

/** What the page says of a file it sends; its bytes are the message's buffer at the same index. */
export interface AttachmentMeta {
  name: string;
  // The browser's guess (File.type); the kernel sniffs the bytes.
  media_type: string;
  size: number;
}

/** Where a tool call is in its life: proposed, waiting (for the person's consent), running, ended. */
export type ToolStatus = "proposed" | "waiting" | "running" | "ok" | "error" | "denied" | "stopped";

/** One tool call of a reply (a card in its bubble, at `offset` in its text). */
export interface ToolCall {
  id: string;
  name: string;
  // The JSON text the model wrote (it may be malformed).
  arguments: string;
  // The model request that made the call, from 1.
  step: number;
  // Where in the reply's text the call was made, in characters (code points, as Python counts).
  offset: number;
  status: ToolStatus;
  needs_consent: boolean;
  // "kernel" | "python" | "mcp:<server>"
  source: string;
  // The Python it runs ("" for tools that run none).
  code: string;
  // The result as the model received it ("" before it ended).
  content: string;
  // base64 PNG shown under the result
  images: string[];
  ms: number | null;
}

export interface Usage {
  model: string;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  // The counts are estimated from the text (the provider sent none).
  estimated: boolean;
  ttft_ms: number | null;
  tokens_per_s: number | null;
  // Dollars (from the counts above, estimated ones too); null: no price known.
  cost?: number | null;
}

export interface UsageTotals {
  replies: number;
  prompt_tokens: number;
  completion_tokens: number;
  // Replies whose counts were estimated.
  estimated: number;
  // Dollars summed over the replies with a price; null: none had one.
  cost?: number | null;
}

// How full the active chat's next request would be (the `context_gauge` trait).
export interface ContextGauge {
  // What the next request would send: the system prompt and the history.
  tokens: number;
  // The model's context window; null: unknown (no gauge).
  window: number | null;
  // `tokens` is estimated from the text, not the provider's count.
  estimated: boolean;
}

// Dollars per million tokens (a chat's `prices` setting).
export interface Prices {
  input_per_mtok: number;
  output_per_mtok: number;
}

// A chat's settings (the `chat_settings` trait; the `configure` command).
export interface ChatSettings {
  model: string;
  system_prompt: string;
  temperature: number | null;
  max_tokens: number | null;
  // The model is offered tools in this chat.
  tools: boolean;
  // Model requests per reply at most (1..50; a tool round trip each).
  tool_steps: number;
  // This chat's price (null: LIVECHAT_PRICES or the price table).
  prices?: Prices | null;
  // Dollars this chat may cost; a send past it is refused (null: no budget).
  max_cost?: number | null;
  // The model's context window in tokens (null: what the provider says).
  context_window?: number | null;
}

export interface Stream {
  message_id: number;
  text: string;
  reasoning: string;
  seq: number;
  // The reply's tool calls so far (`tool` messages update them between snapshots).
  tools?: ToolCall[];
}

export interface SearchHit {
  chat_id: string;
  title: string;
  snippet: string;
}

export interface StatsPoint {
  ttft_ms: number | null;
  tokens_per_s: number | null;
  outcome: string;
}

export interface Stats {
  recent: StatsPoint[];
  totals: { replies: number; completed: number; stopped: number; errors: number; tokens: number };
  // Summed over the active chat's replies.
  chat?: UsageTotals;
  // Summed over every chat in the folder.
  overall?: UsageTotals;
}

// Kernel context and code runs
/** A variable sent as context that changed in the kernel since the model saw it. */
export interface StaleItem {
  name: string;
  // In plain words: "1,203 fewer rows, new column `tenure_bucket`".
  change: string;
  // No longer in the kernel: Refresh cannot send it.
  gone: boolean;
}

export interface ContextChip {
  name: string;
  kind: string;
  // Exactly the block of context text the model received for this item.
  text: string;
}

export interface CodeRun {
  code: string;
  status: "ok" | "error" | "interrupted";
  stdout: string;
  result: string;
  error: string;
  // base64 PNG images the code displayed
  images: string[];
}

export interface ContextItem {
  name: string;
  kind: string;
  // size or shape; never a value
  detail: string;
}

/** A ready message for the composer ("Ask livechat" under an error); each view applies an id once. */
export interface Draft {
  // increases; a view applies each id once
  id: number;
  // "" = no draft
  text: string;
  // chips put in the composer, with the text each attaches
  context: ContextChip[];
}

export interface RunningCode {
  // "" = nothing running
  chat_id: string;
  message_id: number;
  code: string;
}

/** The synced traits (kernel -> browser, read-only here). */
export interface Traits {
  title: string;
  height: string;
  theme: "auto" | "light" | "dark";
  model_label: string;
  chats: ChatSummary[];
  active_chat_id: string;
  messages: Message[];
  has_older: boolean;
  streams: Record<string, Stream>;
  busy: boolean;
  error: string;
  stats: Stats;
  // Private chats per browser: the view sends its browser's secret (`claim`).
  per_browser: boolean;
  // Kernel context and code runs
  allow_kernel_context: boolean;
  allow_code: boolean;
  running_code: RunningCode;
  // Variables of the active chat's context that changed since the model saw them.
  stale_context: StaleItem[];
  chat_settings: ChatSettings;
  // Insert as cell (insert_cell.ts): ipylab's front end answered in this page.
  can_insert_cell: boolean;
  // A chat whose file the kernel is reading before it shows ("" = none): a big chat.
  opening: string;
  // Chat files in the folder the kernel could not read (left as they are).
  unreadable: number;
  // Files the page may attach to one message (count 0: attaching is off here).
  uploads: UploadLimits;
  // The composer's `/` templates (slash_menu.ts): built-ins and the person's files.
  prompt_templates: PromptPayload[];
  // How full the active chat's next request would be against the model's window.
  context_gauge: ContextGauge;
  // A ready message for the composer ("Ask livechat" under an error; text "" = none).
  draft: Draft;
  // Compare (compare_panes.ts): the configured clients; the open comparisons by chat id.
  compare_choices: CompareChoice[];
  compares: Record<string, CompareState>;
}

/** A configured compare client: its label and model (never its base URL or key). */
export interface CompareChoice {
  label: string;
  model: string;
}

/** One candidate's reply in a comparison ("Model A"... and model "" while blind). */
export interface ComparePane {
  label: string;
  model: string;
  text: string; // covered by compare_delta messages up to the state's seq
  reasoning: string;
  status: "streaming" | "complete" | "stopped" | "length" | "error";
  error: string;
  message_id: number | null; // the saved version, once saved
  ttft_ms: number | null;
  tokens_per_s: number | null;
  tokens: number | null;
  cost: number | null;
  finished: number; // 0 while streaming; 1 for the first to end, 2 for the next...
}

/** A chat's comparison, streaming or waiting for Keep. */
export interface CompareState {
  chat_id: string;
  seq: number;
  blind: boolean;
  streaming: boolean;
  panes: ComparePane[];
}

/** New pieces of every pane that has some: at most one message a frame in all. */
export interface CompareDeltaMsg {
  type: "compare_delta";
  chat_id: string;
  seq: number;
  panes: { pane: number; text: string; reasoning: string }[];
}

/** A prompt template: `/name` fills the composer with its body (never a path). */
export interface PromptPayload {
  name: string;
  description: string;
  body: string;
  // its `{{name}}` placeholders, in order of first use
  placeholders: string[];
  // `@` items attached with it when the kernel offers them, e.g. "recent cells"
  context: string[];
  // "built-in" | "yours"
  source: string;
}

export interface UploadLimits {
  file_bytes: number;
  message_bytes: number;
  count: number;
}

export type ChatModel = AnyModel<Traits>;

export interface DeltaMsg {
  type: "delta";
  chat_id: string;
  message_id: number;
  seq: number;
  text: string;
  reasoning: string;
}

export interface DoneMsg {
  type: "done";
  chat_id: string;
  message_id: number;
  seq: number;
  text: string;
  reasoning: string;
  status: MessageStatus;
  error: string;
  error_kind?: ErrorKind;
}

/** A tool call of a streaming reply was made or changed state (newer replaces older, by call id). */
export interface ToolMsg {
  type: "tool";
  chat_id: string;
  message_id: number;
  call: ToolCall;
}

/** A chat's file format for export (chat menu). */
export type ExportFormat = "markdown" | "json" | "ipynb";

/** The kernel's answer to an `export` command; the file's bytes are its one buffer. */
export interface ExportMsg {
  type: "export";
  chat_id: string;
  request: string;
  format: ExportFormat;
  filename: string;
  mime: string;
}

/** The answer to `load_attachment`; the custom message's buffers[0] is the file's bytes. */
export interface AttachmentMsg {
  type: "attachment";
  request: string;
  sha256: string;
  media_type: string;
}

/** The answer to `load_math`; the custom message's buffers[0] is the math chunk's code. */
export interface MathChunkMsg {
  type: "math_chunk";
  request: string;
}

// Answers to requests (commands with a `request` id). Every view of the widget receives
// them; only the view that made the request uses one, and drops an answer to a request
// it has since given up (a newer search, a closed picker).

/** The answer to `search`. */
export interface SearchResultsMsg {
  type: "search_results";
  request: string;
  query: string;
  hits: SearchHit[];
}

/** The answer to `list_context`: what the kernel offers now (never values). */
export interface ContextItemsMsg {
  type: "context_items";
  request: string;
  items: ContextItem[];
}

/** The answer to `list_models` (`error` "" when the provider answered). */
export interface ModelListMsg {
  type: "model_list";
  request: string;
  names: string[];
  error: string;
}

/** A request that could not be answered; `error` is also shown in the banner. */
export interface RefusedMsg {
  type: "refused";
  request: string;
  error: string;
}

/** Every custom message the kernel sends. */
export type KernelMsg =
  | DeltaMsg
  | DoneMsg
  | ToolMsg
  | CompareDeltaMsg
  | ExportMsg
  | MathChunkMsg
  | AttachmentMsg
  | SearchResultsMsg
  | ContextItemsMsg
  | ModelListMsg
  | RefusedMsg;

/** The answers a request can get (all but the streaming fast path). */
export type AnswerMsg = Exclude<KernelMsg, DeltaMsg | DoneMsg | ToolMsg | CompareDeltaMsg>;

/** Messages the browser sends (docs/protocol.md, "Browser -> kernel"). */
export type Command =
  // attachments: one per binary buffer of the message, in the same order
  | { type: "send"; text: string; chat_id: string; context?: string[]; attachments?: AttachmentMeta[] }
  | { type: "stop"; chat_id: string }
  | { type: "regenerate"; chat_id: string }
  | { type: "retry"; chat_id: string }
  | { type: "retry_shorter"; chat_id: string }
  // Leave the oldest turns out of what the model is sent; nothing is sent now.
  | { type: "trim_history"; chat_id: string }
  | { type: "new_chat" }
  | { type: "select_chat"; chat_id: string }
  | { type: "rename"; chat_id: string; title: string }
  | { type: "delete"; chat_id: string }
  | { type: "clear"; chat_id: string }
  | { type: "search"; query: string; request: string }
  | { type: "load_older"; chat_id: string; before: number }
  | { type: "dismiss_error" }
  // The `/` menu opened: the kernel reads the prompt folders again if they changed.
  | { type: "refresh_prompts" }
  | { type: "edit"; chat_id: string; message_id: number; text: string }
  | { type: "select_version"; chat_id: string; message_id: number; version: number }
  // Compare: the message to 2-4 candidates at once; keep one pane's reply.
  | { type: "compare"; text: string; chat_id: string; candidates: string[]; blind?: boolean }
  | { type: "compare_keep"; chat_id: string; pane: number }
  // Chats as data
  | { type: "export"; chat_id: string; format: ExportFormat; request: string }
  | { type: "claim"; secret: string }
  | { type: "load_math"; request: string }
  // The bytes of a file of a message (answered with `attachment`).
  | { type: "load_attachment"; request: string; chat_id: string; sha256: string }
  // Kernel context and code runs
  | { type: "list_context"; request: string }
  // Hide stale context items until their values change again.
  | { type: "ignore_stale"; chat_id: string; names: string[] }
  | { type: "run_code"; chat_id: string; message_id: number; code: string }
  | {
      type: "configure";
      chat_id: string;
      model: string;
      system_prompt: string;
      temperature: number | null;
      max_tokens: number | null;
      tools: boolean;
      tool_steps: number;
      // Optional (left out: unchanged; null: back to the default).
      prices?: Prices | null;
      max_cost?: number | null;
      context_window?: number | null;
    }
  | { type: "list_models"; request: string }
  // Insert as cell: the stored block goes into a new cell below the active one.
  | { type: "insert_cell"; chat_id: string; message_id: number; code: string }
  // Deltas timed to the page's frames (frame_sync.ts): shift the kernel's grid.
  | { type: "frame_sync"; view: string; shift_ms: number }
  // The person's answer to a tool call waiting for consent.
  | { type: "tool_consent"; chat_id: string; call_id: string; decision: ToolDecision };

/** Allow this call once, allow the tool for the rest of the chat, or deny this call. */
export type ToolDecision = "once" | "chat" | "deny";

export type SendCommand = (cmd: Command) => void;
