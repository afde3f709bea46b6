// What a message bubble shows (the list builds it from a message or the reply streaming)
// and how it sits in the list.
import type { AttachmentStore } from "../attachment_store";
import type { Attachment, CodeRun, ContextChip, ErrorKind, MessageStatus, Role, ToolCall, Usage } from "../types";
import type { CodeRunState } from "./code_runs";

export interface BubbleData {
  chatId: string;
  id: number;
  role: Role;
  content: string;
  timestamp: string;
  status: MessageStatus | "streaming";
  error: string;
  errorKind?: ErrorKind;
  reasoning?: string;
  /** Which version of its turn (from 1) of how many; absent = the only one. */
  version?: number;
  versions?: number;
  /** A user message: the kernel context sent with it. */
  context?: ContextChip[];
  /** A user message: the files sent with it. */
  attachments?: Attachment[];
  /** An assistant message: runs of its Python blocks. */
  runs?: CodeRun[];
  /** An assistant message: its tool calls (cards at their offsets in the text). */
  tools?: ToolCall[];
  usage?: Usage | null;
}

export interface BubbleOptions {
  /** The newest message of the chat (Regenerate / Retry are offered only there). */
  isLast: boolean;
  /** A reply is in progress in this chat. */
  busy: boolean;
  /**
   * Defer the markdown render until renderDeferred() (the list calls it when the
   * bubble nears the viewport); until then the text is shown plain.
   */
  lazy?: boolean;
  /** Run on Python blocks (assistant messages). */
  code?: CodeRunState;
  /** The bytes of sent files (thumbnails); the same store for every bubble of a view. */
  files?: AttachmentStore;
}
