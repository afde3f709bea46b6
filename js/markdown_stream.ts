// Incremental markdown for a growing reply: blocks that are complete are rendered once
// and kept in the DOM; only the tail is rendered again, while streaming and at the end.
//
// marked's block lexer finds the blocks of the text after the settled part. Every block
// but the last non-blank one is complete: text appended later cannot change it (a list
// followed only by blank lines is not complete: a next item would make it loose; a
// paragraph can still become a setext heading or a table header; a fence or `$$` still
// open is the last block). Two things reach back in markdown and are handled apart:
// link reference definitions (`[x]: url`, which change earlier `[x]`) switch this text
// to one-shot rendering, and carriage returns (normalised by marked's lex()) too.
//
// A long last paragraph (a huge reply may be a single one) is settled in pieces: a
// piece ends at a single space between two non-spaces, and is kept only if its inline
// lexing left no unmatched delimiter (`*`, `_`, `` ` ``, `[`, `$`, …) that later text
// could close. <p> + pieces + rest + </p> is then the same HTML as the whole paragraph,
// but for each piece's wrapper (`span.lc-md-piece`, a block): with it, the browser lays
// out only the paragraph's end when text is added, not all of it again (a line ends
// where a piece does, every few thousand characters of a paragraph this long).
//
// Work is bounded per call (budgetMs): what is not rendered yet is shown as plain text
// and the caller calls again on a later frame. Highlighting runs in the blocks' render;
// math placeholders are typeset by typesetMath, and the caller's `decorate` (the code
// blocks' toolbars, components/markdown_view.ts) runs, all only on new blocks.
import type { Token } from "marked";
import { h } from "./dom";
import { lexBlocks, lexInline, renderInlineUncached, renderMarkdownUncached } from "./markdown";
import { typesetMath } from "./math";

const REF_DEF = /^ {0,3}\[[^\]\n]+\]:/m;
const UNMATCHED = /[\\`*_~[\]<$]/;

export interface StreamOptions {
  /** A last paragraph longer than this is settled in pieces of about this size. */
  pieceChars?: number;
  /** Adds controls to newly rendered markup (none by default). */
  decorate?: (fresh: HTMLElement) => void;
}

interface Paragraph {
  start: number; // offset of the paragraph in the text
  end: number; // where it ended at the last render (the end of the text if it was last)
  el: HTMLElement;
  nl: Text; // the newline after </p>, as in marked's output
  cut: number; // its text[0:cut] is settled as pieces
  nodes: number; // the pieces' child nodes in `el`
  stuck: boolean; // a piece left an unmatched delimiter: no more pieces
}

const now = (): number => (typeof performance !== "undefined" ? performance.now() : Date.now());

export class IncrementalMarkdown {
  private text = "";
  private settledEnd = 0; // text[0:settledEnd] is in the first `settledNodes` child nodes
  private settledNodes = 0;
  private para: Paragraph | null = null;
  private defsCheckedTo = 0;
  private previous = "";
  private oneShot = false;
  private readonly pieceChars: number;
  private readonly decorate: (fresh: HTMLElement) => void;

  constructor(
    readonly el: HTMLElement,
    opts: StreamOptions = {},
  ) {
    this.pieceChars = opts.pieceChars ?? 4096;
    this.decorate = opts.decorate ?? (() => undefined);
  }

  /** True when the text seen so far is rendered whole (no reference definitions). */
  get incremental(): boolean {
    return !this.oneShot;
  }

  /**
   * Render `text` into the element. Returns false if the budget ran out first: the rest
   * is shown as plain text, and another call (with the same or a longer text) goes on.
   */
  render(text: string, budgetMs = Number.POSITIVE_INFINITY): boolean {
    const deadline = now() + budgetMs;
    if (!text.startsWith(this.text.slice(0, this.settledEnd))) this.reset();
    this.previous = this.text;
    this.text = text;
    if (!this.oneShot && this.hasReachBack(text)) {
      this.reset();
      this.oneShot = true;
    }
    if (this.oneShot) {
      this.el.innerHTML = renderMarkdownUncached(text);
      typesetMath(this.el);
      this.decorate(this.el);
      return true;
    }
    const tokens = this.growingParagraph(text) ?? lexBlocks(text.slice(this.settledEnd));
    let worked = false; // each call renders something, so a zero budget still progresses
    this.dropUnsettled();
    let last = tokens.length - 1;
    while (last >= 0 && tokens[last].type === "space") last--;

    let offset = this.settledEnd;
    for (let i = 0; i < last; i++) {
      const raw = tokens[i].raw;
      if (i > 0 && now() > deadline) return this.showRest();
      worked = true;
      if (this.para && this.para.start === offset && tokens[i].type === "paragraph") {
        this.finishParagraph(textOf(tokens[i]));
        this.para = null;
      } else {
        this.dropParagraph();
        this.append(renderMarkdownUncached(raw));
      }
      offset += raw.length;
      this.settledEnd = offset;
      this.settledNodes = this.el.childNodes.length;
    }
    if (last < 0) return true;
    const tail = tokens[last];
    if (tail.type === "paragraph" && textOf(tail).length > 2 * this.pieceChars) {
      if (this.para?.start !== offset) this.startParagraph(offset);
      const para = this.para as Paragraph;
      para.end = offset + textOf(tail).length;
      if (!this.extendParagraph(textOf(tail), deadline, worked)) {
        return this.showRest(para.start + para.cut);
      }
      this.finishParagraph(textOf(tail));
      return true;
    }
    this.dropParagraph();
    if (worked && now() > deadline && text.length - offset > this.pieceChars) return this.showRest();
    this.append(renderMarkdownUncached(text.slice(offset)));
    return true;
  }

  /** The long paragraph became something else (a heading, a table): start it over. */
  private dropParagraph(): void {
    this.para?.el.remove();
    this.para?.nl.remove();
    this.para = null;
  }

  private reset(): void {
    this.el.replaceChildren();
    this.text = "";
    this.settledEnd = 0;
    this.settledNodes = 0;
    this.para = null;
    this.defsCheckedTo = 0;
    this.oneShot = false;
  }

  /** A link reference definition or a carriage return in the text not checked yet. */
  private hasReachBack(text: string): boolean {
    const from = text.lastIndexOf("\n", Math.max(0, this.defsCheckedTo - 1)) + 1;
    const cr = text.includes("\r", this.defsCheckedTo);
    this.defsCheckedTo = text.length;
    return cr || REF_DEF.test(text.slice(from));
  }

  /**
   * The tokens when the text only grew the long last paragraph's last line, which starts
   * with a letter (so it cannot turn into a setext underline or a table row): that
   * paragraph, longer, with no lexing (lexing a 1.4 MB line takes ~100 ms).
   */
  private growingParagraph(text: string): Token[] | null {
    const p = this.para;
    const old = this.previous;
    if (!p || p.start !== this.settledEnd || p.end !== old.length || !text.startsWith(old)) return null;
    if (text.includes("\n", old.length)) return null;
    const lineStart = Math.max(p.start, old.lastIndexOf("\n", old.length - 1) + 1);
    if (!/^[A-Za-z]/.test(text.slice(lineStart, lineStart + 1))) return null;
    const raw = text.slice(p.start);
    return [{ type: "paragraph", raw, text: raw, tokens: [] }];
  }

  /** Remove what is not settled (keeping a long paragraph's element and its pieces). */
  private dropUnsettled(): void {
    const nodes = this.el.childNodes;
    for (let i = nodes.length - 1; i >= this.settledNodes; i--) {
      if (nodes[i] !== this.para?.el && nodes[i] !== this.para?.nl) nodes[i].remove();
    }
    if (this.para) {
      const inner = this.para.el.childNodes;
      for (let i = inner.length - 1; i >= this.para.nodes; i--) inner[i].remove();
    }
  }

  /** Insert sanitized HTML at the end; it gets its controls (decorate), formulas KaTeX. */
  private append(html: string, into: HTMLElement = this.el): void {
    if (!html) return;
    const box = document.createElement("div");
    box.innerHTML = html;
    this.decorate(box);
    into.append(fragmentOf(box));
    typesetMath(into);
  }

  private startParagraph(start: number): void {
    const el = h("p", {});
    const nl = document.createTextNode("\n");
    this.el.append(el, nl);
    this.para = { start, end: start, el, nl, cut: 0, nodes: 0, stuck: false };
  }

  /** Settle more pieces of the long last paragraph; false if the budget ran out. */
  private extendParagraph(text: string, deadline: number, worked: boolean): boolean {
    const p = this.para;
    if (!p) return true;
    let pieces = worked ? 1 : 0;
    while (!p.stuck && text.length - p.cut > 2 * this.pieceChars) {
      if (pieces++ > 0 && now() > deadline) return false;
      const end = pieceEnd(text, p.cut + this.pieceChars);
      if (end <= p.cut) break;
      const piece = text.slice(p.cut, end);
      if (unmatched(piece)) {
        p.stuck = true;
        break;
      }
      const wrapper = h("span", { class: "lc-md-piece" });
      this.append(renderInlineUncached(piece), wrapper);
      p.el.append(wrapper);
      p.nodes = p.el.childNodes.length;
      p.cut = end;
    }
    return true;
  }

  /** The paragraph's text after its pieces, as its last child nodes. */
  private finishParagraph(text: string): void {
    const p = this.para;
    if (!p) return;
    const inner = p.el.childNodes;
    for (let i = inner.length - 1; i >= p.nodes; i--) inner[i].remove();
    this.append(renderInlineUncached(text.slice(p.cut)), p.el);
  }

  /**
   * Show text[from:] as plain text after what is rendered; the next call goes on. Only
   * its first PLAIN_MAX_CHARS: laying out a huge text node every frame (an unpaced
   * reply outruns rendering by megabytes) would stall the page for longer than
   * rendering the rest takes.
   */
  private showRest(from = this.settledEnd): false {
    const rest = h("div", { class: "lc-md-rest lc:whitespace-pre-wrap" });
    rest.textContent = this.text.slice(from, from + PLAIN_MAX_CHARS);
    this.el.append(rest);
    return false;
  }
}

/** At most this much not-yet-rendered text is shown as plain text (see showRest). */
export const PLAIN_MAX_CHARS = 8192;

/** The end of a piece near `target`: a single space between two non-spaces. */
function pieceEnd(text: string, target: number): number {
  for (let i = target; i < text.length - 1; i++) {
    if (text[i] === " " && /\S/.test(text[i - 1]) && /\S/.test(text[i + 1])) return i;
  }
  return -1;
}

/** A delimiter left as text by the inline lexer could still pair with a later one. */
function unmatched(piece: string): boolean {
  return UNMATCHED.test(piece) && lexInline(piece).some((t) => t.type === "text" && UNMATCHED.test(t.raw));
}

function textOf(token: Token): string {
  return "text" in token && typeof token.text === "string" ? token.text : "";
}

function fragmentOf(box: HTMLElement): DocumentFragment {
  const frag = document.createDocumentFragment();
  while (box.firstChild) frag.append(box.firstChild);
  return frag;
}
