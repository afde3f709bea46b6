// A reply's text with its tool calls in place: the text is cut at the calls' offsets,
// each piece rendered as markdown by a BubbleBody of its own (the last one streams),
// and each call's card (tool_card.ts) sits between the pieces, calls with the same
// offset stacked. Pieces and cards are keyed (a piece by its place, a card by its call
// id), so while a reply streams only the growing piece renders again and a card is
// redrawn only when its call changed. A reply without calls is one piece.
import { h } from "../dom";
import type { ToolCall } from "../types";
import { BubbleBody } from "./bubble_body";
import { KeyedChildren } from "./keyed";
import { type ToolHost, ToolCard } from "./tool_card";

/** What the bubble passes on to the cards (the flow says whether the reply is live). */
export type FlowHost = Omit<ToolHost, "live">;

type Piece = { kind: "text"; key: string; text: string; last: boolean } | { kind: "call"; key: string; call: ToolCall };

type Part = BubbleBody | ToolCard;

const SURROGATE = /[\uD800-\uDFFF]/;

/** The UTF-16 index of code point `offset` in `text` (the kernel counts code points), clamped to the text. */
export function textIndex(text: string, offset: number): number {
  const at = Math.max(0, Math.floor(Number.isFinite(offset) ? offset : 0));
  if (!SURROGATE.test(text)) return Math.min(at, text.length);
  let i = 0;
  for (let n = 0; n < at && i < text.length; n++) {
    const c = text.charCodeAt(i);
    i += c >= 0xd800 && c <= 0xdbff && i + 1 < text.length ? 2 : 1;
  }
  return i;
}

/** The text cut at the calls' offsets, with the calls between the pieces (in offset order, stable). */
export function flowPieces(text: string, calls: readonly ToolCall[]): Piece[] {
  const placed = calls
    .map((call, i) => ({ call, i, at: textIndex(text, call.offset) }))
    .sort((a, b) => a.at - b.at || a.i - b.i);
  const pieces: Piece[] = [];
  let start = 0;
  let n = 0;
  for (const { call, at } of placed) {
    if (at > start) {
      pieces.push({ kind: "text", key: `text:${n++}`, text: text.slice(start, at), last: false });
      start = at;
    }
    pieces.push({ kind: "call", key: `call:${call.id}`, call });
  }
  pieces.push({ kind: "text", key: `text:${n}`, text: text.slice(start), last: true });
  return pieces;
}

export class ReplyFlow {
  readonly el: HTMLElement;
  private parts: KeyedChildren<Part>;
  private texts = new Set<BubbleBody>();
  private calls: readonly ToolCall[] = [];
  private host: FlowHost | null = null;

  /** `onFinal`: a piece's markdown is in place (the reply's code blocks can get their actions). */
  constructor(private onFinal: () => void) {
    this.el = h("div", { class: "lc-reply lc:min-w-0" });
    this.parts = new KeyedChildren<Part>(this.el, (part) => {
      part.destroy();
      if (part instanceof BubbleBody) this.texts.delete(part);
    });
  }

  /** The calls to place (and where their cards send consent); applied by the next update(). */
  setTools(calls: readonly ToolCall[], host: FlowHost): void {
    this.calls = calls;
    this.host = host;
  }

  update(text: string, streaming: boolean, lazy: boolean): void {
    const host: ToolHost | null = this.host && { ...this.host, live: streaming };
    this.parts.sync(
      flowPieces(text, this.calls),
      (p) => p.key,
      (p) => (p.kind === "text" ? this.makeText() : new ToolCard()),
      (part, p) => {
        if (p.kind === "call") {
          if (part instanceof ToolCard && host) part.update(p.call, host);
        } else if (part instanceof BubbleBody) {
          // Text before a call is complete: only the last piece streams (and shows the caret).
          part.el.classList.toggle("lc-md-closed", !p.last);
          part.update(p.text, streaming && p.last, lazy);
        }
      },
    );
  }

  private makeText(): BubbleBody {
    const body = new BubbleBody("assistant", this.onFinal);
    this.texts.add(body);
    return body;
  }

  /** Every piece's markdown is rendered (none deferred, none still in slices). */
  get isFinal(): boolean {
    for (const t of this.texts) if (!t.isFinal) return false;
    return true;
  }

  get isDeferred(): boolean {
    for (const t of this.texts) if (t.isDeferred) return true;
    return false;
  }

  renderDeferred(): void {
    for (const t of this.texts) t.renderDeferred();
  }

  destroy(): void {
    for (const part of this.parts.values()) part.destroy();
  }
}
