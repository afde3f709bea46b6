// Math in markdown: `$$…$$`, `\[…\]` (display) and `$…$`, `\(…\)` (inline).
//
// A marked extension turns each complete formula into a placeholder that shows the
// source as written (`<span class="lc-math" data-lc-tex="…">$x^2$</span>`); an
// unfinished one (still streaming) stays plain text. typesetMath() then replaces
// placeholders with KaTeX's HTML, sanitized with a profile of its own. KaTeX and its
// fonts (~0.5 MB) live in a separate chunk that is loaded the first time a formula
// appears, through whatever loader the host registered (setMathLoader): anywidget
// imports our module from a blob: URL, so a relative dynamic import has nothing to
// resolve against; the widget asks the kernel for the chunk instead (widget.ts).
//
// Prices stay text (Pandoc's rule): an opening `$` is followed by a non-space, a
// closing `$` follows a non-space and is not followed by a digit, so
// "it costs $5 and $10" has no formula. `\$` is a literal dollar.
import DOMPurify from "dompurify";
import type { MarkedExtension, Tokens } from "marked";
import { escapeHtml } from "./dom";

export interface MathEngine {
  renderTex(tex: string, display: boolean): string;
}
export type MathLoader = () => Promise<MathEngine>;

interface MathToken extends Tokens.Generic {
  type: "math";
  raw: string;
  tex: string;
  display: boolean;
}

// Block formulas: alone on their lines, no blank line inside (so an unmatched `$$`
// cannot swallow the rest of a reply).
const BLOCK = /^ {0,3}(?:\$\$((?:[^\n]|\n(?![ \t]*\n))+?)\$\$|\\\[((?:[^\n]|\n(?![ \t]*\n))+?)\\\])[ \t]*(?:\n|$)/;
const INLINE_DISPLAY = /^(?:\$\$((?:\\[\s\S]|[^\\$])+?)\$\$|\\\[([\s\S]+?)\\\])/;
const INLINE_PAREN = /^\\\(([\s\S]+?)\\\)/;
const INLINE_DOLLAR = /^\$(?![\s$])((?:\\[^\n]|[^\\$\n])+?)(?<!\s)\$(?!\d)/;

function token(raw: string, tex: string | undefined, display: boolean): MathToken | undefined {
  const body = (tex ?? "").trim();
  return body ? { type: "math", raw, tex: body, display } : undefined;
}

function placeholder(t: MathToken, block: boolean): string {
  const tag = block ? "div" : "span";
  const kind = t.display ? "lc-math-display" : "lc-math-inline";
  return `<${tag} class="lc-math ${kind}" data-lc-tex="${escapeHtml(t.tex)}">${escapeHtml(t.raw.trim())}</${tag}>${block ? "\n" : ""}`;
}

/** The marked extension: tokenizers for the four delimiters, placeholders as output. */
export function markedMath(): MarkedExtension {
  return {
    extensions: [
      {
        name: "mathBlock",
        level: "block",
        start: (src: string) => src.match(/^ {0,3}(?:\$\$|\\\[)/m)?.index,
        tokenizer(src: string) {
          const m = BLOCK.exec(src);
          return m ? token(m[0], m[1] ?? m[2], true) : undefined;
        },
        renderer: (t) => placeholder(t as MathToken, true),
      },
      {
        name: "math",
        level: "inline",
        start: (src: string) => {
          const i = src.search(/\$|\\[([]/);
          return i === -1 ? undefined : i;
        },
        tokenizer(src: string) {
          let m = INLINE_DISPLAY.exec(src);
          if (m) return token(m[0], m[1] ?? m[2], true);
          m = INLINE_PAREN.exec(src) ?? INLINE_DOLLAR.exec(src);
          return m ? token(m[0], m[1], false) : undefined;
        },
        renderer: (t) => placeholder(t as MathToken, false),
      },
    ],
  };
}

// ----------------------------------------------------------------- typesetting --

let loader: MathLoader | null = null;
let engine: MathEngine | null = null;
let loading: Promise<MathEngine | null> | null = null;
const waiting = new Set<HTMLElement>();

/** Where KaTeX comes from (the widget registers the kernel; tests import it directly). */
export function setMathLoader(load: MathLoader): void {
  loader = load;
  if (waiting.size && !engine) startLoading();
}

/** Resolves once KaTeX is loaded (null if no loader is registered or it failed). */
export function mathReady(): Promise<MathEngine | null> {
  return engine ? Promise.resolve(engine) : (startLoading() ?? Promise.resolve(null));
}

function startLoading(): Promise<MathEngine | null> | null {
  if (loading || !loader) return loading;
  const load = loader;
  loading = load().then(
    (e) => {
      engine = e;
      for (const root of waiting) if (root.isConnected) typesetMath(root);
      waiting.clear();
      return e;
    },
    (err: unknown) => {
      console.warn("livechat: math could not be loaded; formulas stay as text", err);
      loading = null; // a later formula tries again
      return null;
    },
  );
  return loading;
}

// KaTeX (trust off) writes inline styles for layout only; anything else is dropped.
const STYLE_PROPS = new Set([
  "height",
  "width",
  "min-width",
  "vertical-align",
  "top",
  "bottom",
  "left",
  "margin",
  "margin-left",
  "margin-right",
  "margin-top",
  "padding-left",
  "border-width",
  "border-top-width",
  "border-bottom-width",
  "border-right-width",
  "border-style",
  "border-right-style",
  "border-color",
  "color",
  "background-color",
  "position",
  "text-shadow",
]);
const STYLE_VALUE = /^[#\w.%+\-\s,()]*$/;

export function safeStyle(style: string): string {
  const kept: string[] = [];
  for (const decl of style.split(";")) {
    const colon = decl.indexOf(":");
    if (colon === -1) continue;
    const prop = decl.slice(0, colon).trim().toLowerCase();
    const value = decl.slice(colon + 1).trim();
    if (!STYLE_PROPS.has(prop) || !STYLE_VALUE.test(value) || /(url|image|expression|var|attr)\s*\(/i.test(value))
      continue;
    if (prop === "position" && !/^(relative|absolute)$/i.test(value)) continue;
    kept.push(`${prop}:${value}`);
  }
  return kept.join(";");
}

type Purifier = ReturnType<typeof DOMPurify>;
let mathPurifier: Purifier | null = null;

function getMathPurifier(): Purifier {
  if (mathPurifier) return mathPurifier;
  const p = DOMPurify(window);
  p.addHook("uponSanitizeAttribute", (_node, data) => {
    if (data.attrName === "style") {
      data.attrValue = safeStyle(data.attrValue);
      if (!data.attrValue) data.keepAttr = false;
    }
  });
  mathPurifier = p;
  return p;
}

/** KaTeX's HTML with only what layout needs: spans, its SVG strokes, layout styles. */
export function sanitizeMath(html: string): string {
  return getMathPurifier().sanitize(html, {
    USE_PROFILES: { html: true, svg: true },
    FORBID_TAGS: [
      "a",
      "img",
      "image",
      "use",
      "foreignobject",
      "style",
      "script",
      "animate",
      "animatemotion",
      "animatetransform",
      "set",
      "form",
      "input",
      "button",
      "iframe",
      "object",
      "embed",
      "math",
      "filter",
      "pattern",
    ],
    FORBID_ATTR: [
      "href",
      "xlink:href",
      "src",
      "action",
      "formaction",
      "id",
      "name",
      "tabindex",
      "autofocus",
      "filter",
      "mask",
      "clip-path",
      "fill-rule",
    ],
    ALLOW_DATA_ATTR: false,
    RETURN_TRUSTED_TYPE: false,
  }) as unknown as string;
}

// Formulas repeat across renders of a streaming reply: typeset each source once.
const CACHE_LIMIT = 2000;
const cache = new Map<string, string>();

function typeset(e: MathEngine, tex: string, display: boolean): string {
  const key = `${display ? "D" : "I"}${tex}`;
  let html = cache.get(key);
  if (html === undefined) {
    html = sanitizeMath(e.renderTex(tex, display));
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
    cache.set(key, html);
  }
  return html;
}

/** Replace the formula placeholders under `root` by KaTeX's output (after loading it). */
export function typesetMath(root: HTMLElement): void {
  const pending = root.querySelectorAll<HTMLElement>(".lc-math[data-lc-tex]:not(.lc-math-done)");
  if (!pending.length) return;
  if (!engine) {
    waiting.add(root);
    startLoading();
    return;
  }
  for (const el of Array.from(pending)) {
    const tex = el.getAttribute("data-lc-tex") ?? "";
    el.innerHTML = typeset(engine, tex, el.classList.contains("lc-math-display"));
    el.classList.add("lc-math-done");
    el.setAttribute("role", "math");
    el.setAttribute("aria-label", tex);
  }
}
