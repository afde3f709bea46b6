// Markdown -> sanitized HTML. Model (and user) text never executes and never makes the
// browser fetch anything by itself:
// - raw HTML inside the markdown is shown as text (escaped), never interpreted;
// - DOMPurify then runs on marked's output anyway (defence in depth) with a strict
//   profile: HTML only (no SVG/MathML), no scripts, forms, frames, objects, media,
//   styles, event handlers, or URLs other than http(s)/mailto/relative;
// - links open in a new tab with rel="noopener noreferrer"; a link whose URL is not
//   allowed (javascript:, data:, ...) is its text, never an anchor that does nothing;
// - markdown images become a placeholder link; the image is fetched only when the
//   reader clicks "Show image" (components/markdown_view.ts adds the buttons).
// This module returns sanitized markup only; it builds no controls.
import { Marked, type Token, type Tokens } from "marked";
import DOMPurify from "dompurify";
import hljs from "highlight.js/lib/core";
import bash from "highlight.js/lib/languages/bash";
import c from "highlight.js/lib/languages/c";
import cpp from "highlight.js/lib/languages/cpp";
import css from "highlight.js/lib/languages/css";
import go from "highlight.js/lib/languages/go";
import java from "highlight.js/lib/languages/java";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import markdown from "highlight.js/lib/languages/markdown";
import python from "highlight.js/lib/languages/python";
import rust from "highlight.js/lib/languages/rust";
import sql from "highlight.js/lib/languages/sql";
import typescript from "highlight.js/lib/languages/typescript";
import xml from "highlight.js/lib/languages/xml";
import yaml from "highlight.js/lib/languages/yaml";
import { markedMath, typesetMath } from "./math";
import { escapeHtml } from "./dom";

const LANGUAGES = { bash, c, cpp, css, go, java, javascript, json, markdown, python, rust, sql, typescript, xml, yaml };
for (const [name, lang] of Object.entries(LANGUAGES)) hljs.registerLanguage(name, lang);
hljs.registerAliases(["sh", "shell", "zsh", "console"], { languageName: "bash" });
hljs.registerAliases(["html", "svg"], { languageName: "xml" });

/** Only these URL forms survive: http(s), mailto, in-page anchors, and relative paths. */
export function isSafeUrl(raw: string): boolean {
  // Browsers ignore ASCII whitespace and control characters inside a scheme ("java\tscript:").
  // biome-ignore lint/suspicious/noControlCharactersInRegex: browsers ignore these in URLs, so must the check
  const url = raw.replace(/[\u0000-\u0020\u007f-\u009f\u00ad\u200b-\u200f\u2028\u2029\ufeff]/g, "").toLowerCase();
  if (url === "") return false;
  if (/^(https?:|mailto:)/.test(url)) return true;
  if (url.startsWith("//")) return false; // protocol-relative: treat as remote with unknown scheme
  // Relative: no scheme before the first "/", "?" or "#".
  const colon = url.indexOf(":");
  if (colon === -1) return true;
  const firstDelim = url.search(/[/?#]/);
  return firstDelim !== -1 && firstDelim < colon;
}

export function isRemoteImageUrl(raw: string): boolean {
  return /^https?:\/\//i.test(raw.trim());
}

function highlight(code: string, lang: string): string {
  if (lang && hljs.getLanguage(lang)) {
    try {
      return hljs.highlight(code, { language: lang, ignoreIllegals: true }).value;
    } catch {
      /* fall back to plain text */
    }
  }
  return escapeHtml(code);
}

/** A highlighted code block's markup (`pre.lc-pre`, made a CodeBlock by code_block.ts); `extra`: more classes. */
export function codeHtml(code: string, lang: string, extra = ""): string {
  const cls = extra ? `${PRE} ${extra}` : PRE;
  return `<pre class="${cls}" data-lang="${escapeHtml(lang)}"><code class="hljs lc:[font-family:inherit]">${highlight(code, lang)}</code></pre>`;
}

// Code blocks and image placeholders are styled here (utilities), outside the
// typography plugin's reach (`not-prose`).
const PRE =
  "lc-pre not-prose lc:m-0 lc:py-3 lc:px-3.5 lc:overflow-x-auto lc:bg-transparent lc:text-fg lc:font-mono lc:text-note " +
  "lc:leading-[1.55] lc:whitespace-pre lc:wrap-normal lc:[tab-size:4] lc:@max-compact:p-2.5";
const IMG =
  "lc-img lc:inline-flex lc:items-center lc:gap-1.5 lc:max-w-full lc:py-[3px] lc:pr-1 lc:pl-2 lc:border lc:border-dashed " +
  "lc:border-line-strong lc:rounded-control lc:text-note lc:text-muted lc:[&_a]:truncate";

const marked = new Marked({
  gfm: true,
  breaks: true,
  async: false,
  renderer: {
    // Raw HTML written by the model is displayed as text, never interpreted.
    html(token: Tokens.HTML | Tokens.Tag): string {
      return escapeHtml(token.text);
    },
    code(token: Tokens.Code): string {
      const lang = ((token.lang || "").match(/^[\w+#.-]*/)?.[0] ?? "").toLowerCase();
      return `${codeHtml(token.text.replace(/\n$/, ""), lang)}\n`;
    },
    image(token: Tokens.Image): string {
      const alt = token.text || "image";
      const href = token.href || "";
      if (isRemoteImageUrl(href) && isSafeUrl(href)) {
        return (
          `<span class="${IMG}" data-lc-src="${escapeHtml(href)}">` +
          `<a href="${escapeHtml(href)}" title="${escapeHtml(href)}">Image: ${escapeHtml(alt)}</a></span>`
        );
      }
      return `<span class="${IMG} lc-img-blocked">Image: ${escapeHtml(alt)}</span>`;
    },
  },
});
marked.use(markedMath());

const FORBID_TAGS = [
  "script",
  "style",
  "img",
  "image",
  "iframe",
  "frame",
  "frameset",
  "object",
  "embed",
  "applet",
  "form",
  "input",
  "button",
  "select",
  "option",
  "textarea",
  "label",
  "fieldset",
  "meta",
  "link",
  "base",
  "audio",
  "video",
  "source",
  "track",
  "picture",
  "canvas",
  "dialog",
  "template",
  "noscript",
  "marquee",
  "portal",
  "svg",
  "math",
  "use",
  "foreignobject",
  "animate",
  "set",
  "slot",
];
const FORBID_ATTR = [
  "style",
  "srcset",
  "src",
  "action",
  "formaction",
  "ping",
  "background",
  "poster",
  "xlink:href",
  "autofocus",
  "tabindex",
  "id",
  "name",
  "form",
  "contenteditable",
  "popover",
  "srcdoc",
  "dynsrc",
  "lowsrc",
];

type Purifier = ReturnType<typeof DOMPurify>;
let purifier: Purifier | null = null;
/** The sanitizing pass under way left an <a> without its (unsafe) href. */
let hrefRemoved = false;

function getPurifier(): Purifier {
  if (purifier) return purifier;
  const p = DOMPurify(window);
  p.addHook("afterSanitizeAttributes", (node: Element) => {
    // Any attribute that can carry a URL must be a safe one, whatever the element.
    for (const attr of ["href", "cite", "data-lc-src"]) {
      const v = node.getAttribute?.(attr);
      if (v !== null && v !== undefined && !isSafeUrl(v)) node.removeAttribute(attr);
    }
    const src = node.getAttribute?.("data-lc-src");
    if (src && !isRemoteImageUrl(src)) {
      node.removeAttribute("data-lc-src");
    }
    for (const a of Array.from(node.attributes ?? [])) {
      if (/^on/i.test(a.name)) node.removeAttribute(a.name);
    }
    if (node.tagName === "A") {
      if (node.hasAttribute("href")) {
        node.setAttribute("target", "_blank");
        node.setAttribute("rel", "noopener noreferrer");
      } else {
        node.removeAttribute("target");
        hrefRemoved = true;
      }
    }
  });
  purifier = p;
  return p;
}

/** Sanitize an HTML string with the widget's strict profile; a link that lost its URL
 * becomes its text. */
export function sanitizeHtml(html: string): string {
  hrefRemoved = false;
  const clean = purify(html);
  return hrefRemoved ? unwrapDeadLinks(clean) : clean;
}

/** `<a>` without href (its URL was not allowed) -> its contents, sanitized once more. */
function unwrapDeadLinks(html: string): string {
  const box = document.createElement("template");
  box.innerHTML = html;
  for (const a of Array.from(box.content.querySelectorAll("a:not([href])"))) a.replaceWith(...Array.from(a.childNodes));
  return purify(box.innerHTML);
}

function purify(html: string): string {
  return getPurifier().sanitize(html, {
    USE_PROFILES: { html: true },
    FORBID_TAGS,
    FORBID_ATTR,
    ALLOW_DATA_ATTR: false,
    ADD_ATTR: ["target", "data-lc-src", "data-lang", "data-lc-tex"],
    ADD_URI_SAFE_ATTR: ["data-lc-tex"], // TeX source, never a URL ("a:b" must survive)
    ALLOWED_URI_REGEXP: /^(?:(?:https?|mailto):|[^a-z]|[a-z+.-]+(?:[^a-z+.\-:]|$))/i,
    ALLOW_UNKNOWN_PROTOCOLS: false,
    RETURN_TRUSTED_TYPE: false,
  }) as unknown as string;
}

/** Markdown -> sanitized HTML string (no caching). */
export function renderMarkdownUncached(text: string): string {
  const html = marked.parse(text, { async: false }) as string;
  return sanitizeHtml(html);
}

/** Inline markdown (a paragraph's text, or a piece of it) -> sanitized HTML. */
export function renderInlineUncached(text: string): string {
  return sanitizeHtml(marked.parseInline(text, { async: false }) as string);
}

/** The top-level blocks of `src`, without their inline content (for markdown_stream.ts). */
export function lexBlocks(src: string): Token[] {
  return new marked.Lexer(marked.defaults).blockTokens(src, []);
}

/** The inline tokens of `text` (for markdown_stream.ts). */
export function lexInline(text: string): Token[] {
  return marked.Lexer.lexInline(text, marked.defaults);
}

// Completed messages never change: render each once. Bounded so a long session
// does not grow without limit.
const CACHE_LIMIT = 600;
const cache = new Map<string, string>();

export function renderMarkdown(text: string): string {
  const hit = cache.get(text);
  if (hit !== undefined) return hit;
  const html = renderMarkdownUncached(text);
  if (cache.size >= CACHE_LIMIT) {
    const first = cache.keys().next().value;
    if (first !== undefined) cache.delete(first);
  }
  cache.set(text, html);
  return html;
}

export function markdownCacheSize(): number {
  return cache.size;
}

/**
 * Set sanitized markdown into an element, its formulas typeset. Nothing interactive:
 * components/markdown_view.ts adds the buttons.
 */
export function renderMarkdownInto(el: HTMLElement, text: string, cached = true): void {
  el.innerHTML = cached ? renderMarkdown(text) : renderMarkdownUncached(text);
  typesetMath(el);
}
