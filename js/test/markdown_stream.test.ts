import { describe, expect, it } from "vitest";
import { renderMarkdownInto } from "../markdown";
import { IncrementalMarkdown, PLAIN_MAX_CHARS } from "../markdown_stream";

// A small seeded PRNG, so a failure names the seed that reproduces it.
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

const WORDS = [
  "the",
  "model",
  "answer",
  "token",
  "chat",
  "stream",
  "value",
  "data",
  "frame",
  "widget",
  "kernel",
  "list",
];
const INLINE = [
  "**bold text**",
  "*emphasis*",
  "`code()`",
  "[a link](https://example.org/a_b)",
  "$x^2$",
  "\\(e^{i\\pi}+1=0\\)",
  "it costs $5 and $10",
  "snake_case_name",
  "~~gone~~",
  "<b>raw</b>",
  "https://example.org/auto",
  "a\\*b",
  "1 < 2",
];

function sentence(r: () => number, n: number, plain = false): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    out.push(!plain && r() < 0.15 ? INLINE[Math.floor(r() * INLINE.length)] : WORDS[Math.floor(r() * WORDS.length)]);
    if (!plain && r() < 0.05) out.push("\n");
  }
  return out.join(" ").replace(/ \n /g, "\n");
}

function block(r: () => number): string {
  const k = Math.floor(r() * 16);
  switch (k) {
    case 0:
      return `## ${sentence(r, 4, true)}`;
    case 1:
      return `${sentence(r, 5, true)}\n---`;
    case 2:
      return "- one\n- two\n- three";
    case 3:
      return "- loose one\n\n- loose two\n\n  more of two";
    case 4:
      return "1. first\n2. second\n   - nested\n   - items";
    case 5:
      return "```python\ndef f(x):\n    return x * 2\n\n\nprint(f(2))\n```";
    case 6:
      return "| a | b |\n|---|:-:|\n| 1 | 2 |\n| `x` | **y** |";
    case 7:
      return "> a quote\n> that goes on\n\n> another";
    case 8:
      return "$$\n\\sum_{i=1}^n x_i\n$$";
    case 9:
      return "\\[a^2+b^2=c^2\\]";
    case 10:
      return "***";
    case 11:
      return sentence(r, 90 + Math.floor(r() * 200), r() < 0.6); // long: settled in pieces
    case 12:
      return "<div>html block</div>";
    case 13:
      return "    indented code\n    more";
    default:
      return sentence(r, 5 + Math.floor(r() * 30));
  }
}

function doc(r: () => number): string {
  const blocks = Array.from({ length: 3 + Math.floor(r() * 9) }, () => block(r));
  return blocks.reduce((acc, b) => (acc ? acc + (r() < 0.8 ? "\n\n" : "\n") + b : b), "");
}

function chunks(r: () => number, text: string): number[] {
  const cuts = new Set<number>();
  const n = 1 + Math.floor(r() * 25);
  for (let i = 0; i < n; i++) cuts.add(1 + Math.floor(r() * (text.length - 1)));
  return [...cuts, text.length].sort((a, b) => a - b);
}

/** The HTML without the long paragraph's piece wrappers (blocks for layout only). */
function unwrapped(el: HTMLElement): string {
  const copy = el.cloneNode(true) as HTMLElement;
  for (const piece of copy.querySelectorAll(".lc-md-piece")) piece.replaceWith(...piece.childNodes);
  copy.normalize();
  return copy.innerHTML;
}

function oneShot(text: string): string {
  const el = document.createElement("div");
  renderMarkdownInto(el, text, false);
  return el.innerHTML;
}

describe("incremental markdown equals the one-shot render", () => {
  for (let seed = 1; seed <= 60; seed++) {
    it(`random document and chunking, seed ${seed}`, () => {
      const r = rng(seed);
      const text = doc(r);
      const el = document.createElement("div");
      const inc = new IncrementalMarkdown(el, { pieceChars: 64 });
      for (const end of chunks(r, text)) {
        const prefix = text.slice(0, end);
        expect(inc.render(prefix)).toBe(true);
        expect(unwrapped(el), `seed ${seed}, prefix of ${end}: ${JSON.stringify(prefix.slice(-80))}`).toBe(
          oneShot(prefix),
        );
      }
    });
  }

  it("with no time budget, each call renders a little more; the end equals the one-shot render", () => {
    for (let seed = 100; seed < 110; seed++) {
      const r = rng(seed);
      const text = doc(r);
      const el = document.createElement("div");
      const inc = new IncrementalMarkdown(el, { pieceChars: 64 });
      for (const end of chunks(r, text)) inc.render(text.slice(0, end), 0);
      let calls = 0;
      while (!inc.render(text, 0)) calls++;
      expect(calls).toBeLessThan(2000);
      expect(unwrapped(el), `seed ${seed}`).toBe(oneShot(text));
    }
  });

  it("shows at most PLAIN_MAX_CHARS of the text it has not rendered yet", () => {
    const text = Array.from({ length: 600 }, (_, i) => `Paragraph ${i} with some words.`).join("\n\n");
    const el = document.createElement("div");
    const inc = new IncrementalMarkdown(el);
    expect(inc.render(text, 0)).toBe(false);
    const rest = el.querySelector(".lc-md-rest");
    expect(rest?.textContent?.length).toBe(PLAIN_MAX_CHARS);
    while (!inc.render(text, 0));
    expect(el.querySelector(".lc-md-rest")).toBeNull();
    expect(el.querySelectorAll("p")).toHaveLength(600);
  });

  it("keeps the DOM of complete blocks while the tail grows", () => {
    const el = document.createElement("div");
    const inc = new IncrementalMarkdown(el);
    inc.render("# Title\n\nFirst paragraph.\n\nSecond");
    const heading = el.querySelector("h1");
    const first = el.querySelectorAll("p")[0];
    inc.render("# Title\n\nFirst paragraph.\n\nSecond paragraph, longer.");
    expect(el.querySelector("h1")).toBe(heading);
    expect(el.querySelectorAll("p")[0]).toBe(first);
    expect(el.querySelectorAll("p")[1].textContent).toBe("Second paragraph, longer.");
  });

  it("settles a huge single paragraph in pieces and keeps them", () => {
    const el = document.createElement("div");
    const inc = new IncrementalMarkdown(el, { pieceChars: 256 });
    const words = Array.from({ length: 3000 }, (_, i) => `t${i}`);
    inc.render(words.slice(0, 1000).join(" "));
    const p = el.querySelector("p") as HTMLParagraphElement;
    const firstPiece = p.firstChild;
    inc.render(words.join(" "));
    expect(el.querySelector("p")).toBe(p);
    expect(p.firstChild).toBe(firstPiece);
    expect(unwrapped(el)).toBe(oneShot(words.join(" ")));
    // each piece a block of its own: adding text lays out only the paragraph's end
    const pieces = p.querySelectorAll(":scope > .lc-md-piece");
    expect(pieces.length).toBeGreaterThan(20);
    expect(
      [...p.childNodes].slice(0, pieces.length).every((n) => (n as Element).classList?.contains("lc-md-piece")),
    ).toBe(true);
  });

  it("turns a long paragraph into a heading when its underline arrives", () => {
    const el = document.createElement("div");
    const inc = new IncrementalMarkdown(el, { pieceChars: 16 });
    const para = Array.from({ length: 60 }, (_, i) => `w${i}`).join(" ");
    inc.render(para);
    inc.render(`${para}\n===`);
    expect(unwrapped(el)).toBe(oneShot(`${para}\n===`));
    expect(el.querySelector("h1")).not.toBeNull();
  });

  it("renders the whole text again when a link definition arrives (it changes earlier blocks)", () => {
    const el = document.createElement("div");
    const inc = new IncrementalMarkdown(el);
    inc.render("See [the docs].\n\nMore text.\n\n");
    expect(el.querySelector("a")).toBeNull();
    const text = "See [the docs].\n\nMore text.\n\n[the docs]: https://example.org/docs\n";
    inc.render(text);
    expect(el.innerHTML).toBe(oneShot(text));
    expect(el.querySelector("a")?.getAttribute("href")).toBe("https://example.org/docs");
  });
});
