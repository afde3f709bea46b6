import { beforeAll, describe, expect, it } from "vitest";
import { decorateMarkdown, showMarkdown } from "../components/markdown_view";
import { isSafeUrl, renderMarkdown, sanitizeHtml } from "../markdown";
import { mathReady, setMathLoader, typesetMath } from "../math";

// The payloads run through KaTeX too (as in the widget once the math chunk is loaded).
beforeAll(async () => {
  setMathLoader(() => import("../math_engine"));
  expect(await mathReady()).not.toBeNull();
});

const XSS_PAYLOADS: string[] = [
  `<img src=x onerror=alert(1)>`,
  `<img src="https://evil.example/x.png" onload="alert(1)">`,
  `<script>alert(1)</script>`,
  `<SCRIPT SRC=//evil.example/x.js></SCRIPT>`,
  `[click](javascript:alert(1))`,
  `[click](JaVaScRiPt:alert(1))`,
  `[click](  javascript:alert(1))`,
  `[click](&#106;avascript:alert(1))`,
  `[click](&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(1))`,
  `[click](javascript&colon;alert(1))`,
  `[click](java%0ascript:alert(1))`,
  `<javascript:alert(1)>`,
  `[a][r]\n\n[r]: javascript:alert(1)`,
  `<a href="javascript:alert(1)">x</a>`,
  `<a href="jav&#x09;ascript:alert(1)">x</a>`,
  `<a href="&#14;javascript:alert(1)">x</a>`,
  `<a href="javascript&colon;alert(1)">x</a>`,
  `<a href="vbscript:msgbox(1)">x</a>`,
  `<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>`,
  `[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)`,
  `![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)`,
  `![x](javascript:alert(1))`,
  `![x](https://evil.example/a.png "t\\" onerror=\\"alert(1)")`,
  `<iframe src="https://evil.example"></iframe>`,
  `<iframe srcdoc="<script>alert(1)</script>"></iframe>`,
  `<frameset><frame src="javascript:alert(1)"></frameset>`,
  `<svg onload=alert(1)>`,
  `<svg><script>alert(1)</script></svg>`,
  `<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">x</text></a></svg>`,
  `<svg><animate onbegin=alert(1) attributeName=x dur=1s>`,
  `<svg><use href="data:image/svg+xml,<svg id='x' xmlns='http://www.w3.org/2000/svg'><image href='1' onerror='alert(1)'/></svg>#x"/></svg>`,
  `<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>`,
  `<form action="javascript:alert(1)"><input type=submit></form>`,
  `<button formaction="javascript:alert(1)">x</button>`,
  `<form><button formaction=javascript:alert(1)>x</button></form>`,
  `<input autofocus onfocus=alert(1)>`,
  `<div style="background:url(javascript:alert(1))">x</div>`,
  `<p style="position:fixed;inset:0;background:red">overlay</p>`,
  `<style>body{background:red}</style>`,
  `<style>@import 'https://evil.example/x.css';</style>`,
  `<object data="javascript:alert(1)"></object>`,
  `<object data="https://evil.example/x.swf"></object>`,
  `<embed src="javascript:alert(1)">`,
  `<meta http-equiv="refresh" content="0;url=javascript:alert(1)">`,
  `<base href="javascript:/">`,
  `<link rel=stylesheet href="https://evil.example/x.css">`,
  `<details open ontoggle=alert(1)>x</details>`,
  `<body onload=alert(1)>`,
  `<video><source onerror=alert(1)></video>`,
  `<audio src=x onerror=alert(1)>`,
  `<noscript><p title="</noscript><img src=x onerror=alert(1)>">`,
  `<marquee onstart=alert(1)>x</marquee>`,
  `<div onclick="alert(1)" onmouseover="alert(1)">x</div>`,
  `<a href="#" onclick="alert(1)">x</a>`,
  `<isindex action=javascript:alert(1) type=image>`,
  `<template><script>alert(1)</script></template>`,
  `<img srcset="https://evil.example/a.png 1x">`,
  `<table background="javascript:alert(1)"><tr><td>x</td></tr></table>`,
  "```html\n<script>alert(1)</script>\n```",
  "`<img src=x onerror=alert(1)>`",
  `**bold** <b onmouseover=alert(1)>b</b>`,
  // Math: KaTeX runs without trust, its output is sanitized again (math.ts).
  `$\\href{javascript:alert(1)}{click}$`,
  `\\(\\href{javascript:alert(1)}{click}\\)`,
  `$$\\url{javascript:alert(1)}$$`,
  `\\[\\href{data:text/html,<script>alert(1)</script>}{x}\\]`,
  `$\\includegraphics{https://evil.example/x.png}$`,
  `$\\htmlStyle{position:fixed;inset:0;background:red}{x}$`,
  `$\\htmlClass{lc-evil}{x}$ $\\htmlId{x}{y}$ $\\htmlData{onclick=alert(1)}{x}$`,
  `$\\text{<img src=x onerror=alert(1)>}$`,
  `$<script>alert(1)</script>$`,
  `$$</span><img src=x onerror=alert(1)>$$`,
  `$x" onmouseover="alert(1)$`,
  `$\\color{red;background:url(javascript:alert(1))}{x}$`,
  `$\\colorbox{url(https://evil.example/x)}{x}$`,
  `$\\def\\a{\\a\\a}\\a$`,
  `$\\rule{100000em}{100000em}$`,
  `$\\sqrt{x}\\xrightarrow{f}\\cancel{y}$`,
];

const FORBIDDEN_TAGS = [
  "script",
  "img",
  "iframe",
  "frame",
  "frameset",
  "object",
  "embed",
  "form",
  "input",
  "button",
  "select",
  "textarea",
  "meta",
  "link",
  "base",
  "style",
  "svg",
  "math",
  "video",
  "audio",
  "source",
  "template",
  "noscript",
  "marquee",
  "use",
];
const URL_ATTRS = [
  "href",
  "src",
  "action",
  "formaction",
  "xlink:href",
  "data",
  "background",
  "poster",
  "srcset",
  "cite",
];

function mount(html: string): HTMLElement {
  const div = document.createElement("div");
  div.innerHTML = html;
  return div;
}

// Inside a typeset formula KaTeX draws with inline layout styles and SVG strokes; nothing else.
const MATH_SVG = new Set(["svg", "path", "line"]);
const MATH_STYLE =
  /^(height|width|min-width|vertical-align|top|bottom|left|margin(-left|-right|-top)?|padding-left|border(-top|-bottom|-right)?-(width|style)|border-color|color|background-color|position|text-shadow)$/;

function assertMathStyle(style: string, payload: string): void {
  for (const decl of style.split(";").filter((d) => d.trim())) {
    const [prop, value] = decl.split(":").map((x) => x.trim().toLowerCase());
    expect(MATH_STYLE.test(prop), `style ${prop} from ${payload}`).toBe(true);
    expect(/url\(|expression|javascript|fixed|sticky/.test(value), `style ${decl} from ${payload}`).toBe(false);
  }
}

function assertInert(root: HTMLElement, payload: string): void {
  for (const tag of FORBIDDEN_TAGS) {
    for (const el of Array.from(root.querySelectorAll(tag))) {
      const mathStroke = MATH_SVG.has(el.tagName.toLowerCase()) && el.parentElement?.closest(".lc-math-done") != null;
      expect(mathStroke, `${tag} from ${payload}`).toBe(true);
    }
  }
  for (const el of Array.from(root.querySelectorAll("*"))) {
    const inMath = el.parentElement?.closest(".lc-math-done") != null;
    if (inMath) expect(el.tagName, `<${el.tagName}> in a formula from ${payload}`).not.toBe("A");
    for (const attr of Array.from(el.attributes)) {
      expect(attr.name.toLowerCase().startsWith("on"), `${attr.name} on <${el.tagName}> from ${payload}`).toBe(false);
      if (attr.name === "style" && inMath) assertMathStyle(attr.value, payload);
      else
        expect(
          ["style", "srcdoc", "formaction", "action"].includes(attr.name.toLowerCase()),
          `${attr.name} from ${payload}`,
        ).toBe(false);
      if (URL_ATTRS.includes(attr.name.toLowerCase()) || attr.name === "data-lc-src") {
        // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what a URL check must strip
        const v = attr.value.replace(/[\s\u0000-\u001f]/g, "").toLowerCase();
        expect(/^(javascript|data|vbscript):/.test(v), `${attr.name}=${attr.value} from ${payload}`).toBe(false);
      }
    }
    if (el.tagName === "A" && el.hasAttribute("href")) {
      expect(el.getAttribute("target")).toBe("_blank");
      expect(el.getAttribute("rel")).toBe("noopener noreferrer");
      expect(isSafeUrl(el.getAttribute("href")!)).toBe(true);
    }
  }
}

describe("markdown sanitization", () => {
  for (const payload of XSS_PAYLOADS) {
    it(`markdown path neutralises ${JSON.stringify(payload).slice(0, 70)}`, () => {
      const root = mount(renderMarkdown(payload));
      assertInert(root, payload);
      // The interactive parts added afterwards (our own Copy / Show image buttons and
      // their icons) must not bring anything from the payload back.
      typesetMath(root);
      decorateMarkdown(root);
      for (const n of root.querySelectorAll(".lc-code-copy, .lc-img-show, svg.lc-icon")) n.remove();
      assertInert(root, payload);
    });
    it(`HTML sanitizer neutralises ${JSON.stringify(payload).slice(0, 70)}`, () => {
      assertInert(mount(sanitizeHtml(payload)), payload);
    });
  }

  it("typesets the math payloads (they are checked after KaTeX, not as placeholders)", () => {
    const href = mount(renderMarkdown(`$\\href{javascript:alert(1)}{click}$`));
    typesetMath(href);
    expect(href.querySelector(".lc-math-done .katex")).not.toBeNull();
    expect(href.querySelector("a")).toBeNull();
    const strokes = mount(renderMarkdown(`$\\sqrt{x}\\xrightarrow{f}\\cancel{y}$`));
    typesetMath(strokes);
    expect(strokes.querySelector(".lc-math-done .katex svg path")).not.toBeNull();
    expect(strokes.querySelector(".lc-math-done [style]")).not.toBeNull();
  });

  it("shows raw HTML written in markdown as text", () => {
    const root = mount(renderMarkdown("Look: <b>bold</b> and <script>x()</script>"));
    expect(root.querySelector("b")).toBeNull();
    expect(root.textContent).toContain("<b>bold</b>");
    expect(root.textContent).toContain("<script>x()</script>");
  });

  it("keeps ordinary markdown: emphasis, lists, tables, inline code", () => {
    const root = mount(renderMarkdown("**b** *i*\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n`x < y`"));
    expect(root.querySelector("strong")?.textContent).toBe("b");
    expect(root.querySelector("em")?.textContent).toBe("i");
    expect(root.querySelectorAll("li")).toHaveLength(2);
    expect(root.querySelector("table td")?.textContent).toBe("1");
    expect(root.querySelector("code")?.textContent).toBe("x < y");
  });

  it("opens links in a new tab with rel=noopener noreferrer", () => {
    const root = mount(renderMarkdown("[docs](https://example.org/docs) and https://example.org/auto"));
    const links = Array.from(root.querySelectorAll("a"));
    expect(links).toHaveLength(2);
    for (const a of links) {
      expect(a.getAttribute("target")).toBe("_blank");
      expect(a.getAttribute("rel")).toBe("noopener noreferrer");
    }
  });

  it("does not load remote images: a placeholder the reader can click instead", () => {
    const el = document.createElement("div");
    showMarkdown(el, "![a chart](https://example.org/chart.png)");
    expect(el.querySelector("img")).toBeNull();
    expect(el.textContent).toContain("Image: a chart");
    const link = el.querySelector("a")!;
    expect(link.getAttribute("href")).toBe("https://example.org/chart.png");
    const show = Array.from(el.querySelectorAll("button")).find((b) => b.textContent === "Show image")!;
    expect(show).toBeTruthy();
    show.click();
    const img = el.querySelector("img")!;
    expect(img.getAttribute("src")).toBe("https://example.org/chart.png");
    expect(img.getAttribute("referrerpolicy")).toBe("no-referrer");
  });

  it("non-remote images become inert text", () => {
    const el = document.createElement("div");
    showMarkdown(el, "![x](data:image/png;base64,AAAA) ![y](/files/local.png)");
    expect(el.querySelector("img")).toBeNull();
    expect(el.querySelectorAll("button")).toHaveLength(0);
    expect(el.textContent).toContain("Image: x");
  });

  it("highlights code blocks and gives each a Copy button", () => {
    const el = document.createElement("div");
    showMarkdown(el, "```python\ndef f(x):\n    return 1\n```\n\n```\nplain\n```");
    const blocks = el.querySelectorAll(".lc-codeblock");
    expect(blocks).toHaveLength(2);
    expect(el.querySelector(".hljs-keyword")?.textContent).toBe("def");
    const copies = el.querySelectorAll('button[aria-label="Copy"]');
    expect(copies).toHaveLength(2);
    expect(el.querySelector(".lc-code-lang")?.textContent).toBe("python");
  });

  it("caches completed renders", () => {
    const text = `cached *once* ${Math.random()}`;
    expect(renderMarkdown(text)).toBe(renderMarkdown(text));
  });

  it("classifies URLs", () => {
    expect(isSafeUrl("https://a.b/c")).toBe(true);
    expect(isSafeUrl("mailto:a@b.c")).toBe(true);
    expect(isSafeUrl("#anchor")).toBe(true);
    expect(isSafeUrl("relative/path?x=1:2")).toBe(true);
    expect(isSafeUrl("java\nscript:alert(1)")).toBe(false);
    expect(isSafeUrl(" JAVASCRIPT:alert(1)")).toBe(false);
    expect(isSafeUrl("data:text/html,x")).toBe(false);
    expect(isSafeUrl("//evil.example/x")).toBe(false);
    expect(isSafeUrl("file:///etc/passwd")).toBe(false);
  });
});
