// TeX -> HTML with KaTeX, in the lazily loaded math chunk (math_entry.ts). Safe options:
// no trust (so no \href, \url, \includegraphics, \html*), errors shown as text, sizes
// and macro expansion bounded. The output is sanitized again by the caller (math.ts).
import katex from "katex";

export function renderTex(tex: string, display: boolean): string {
  return katex.renderToString(tex, {
    displayMode: display,
    output: "html",
    throwOnError: false,
    trust: false,
    strict: "ignore",
    maxSize: 20,
    maxExpand: 500,
  });
}
