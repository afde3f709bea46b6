// Post-build step for widget.css: keep Tailwind v4's output inside the widget.
//
// Tailwind registers the custom properties its utilities use (--tw-border-style,
// --tw-shadow, ...) with global `@property` rules. A registered property shows up in
// the computed style of every element of the page (JupyterLab's too), so this step
// drops those rules and instead applies Tailwind's own fallback for browsers without
// @property (the `@layer properties` block: initial values on every element) to the
// widget's elements only. Then it checks that every style rule of the result is
// scoped to the widget (a `lc:` utility class, or a .livechat-* / .lc-* class), and
// fails the build otherwise.
//
// KaTeX's stylesheet (imported by styles.css) is scoped here too: its `.katex…` rules
// get the widget root in front, its `body` counter reset moves to the root, its
// @font-face rules are dropped (the math chunk registers the fonts itself, from bytes,
// so no URL is ever fetched) and its families are renamed `lcKaTeX_*` to match.
//
//   node scope-css.mjs ../livechat_widget/static/widget.css
import { readFileSync, writeFileSync } from "node:fs";
import { transform } from "lightningcss";

const ROOT = "livechat-root";
const file = process.argv[2];
if (!file) {
  console.error("usage: node scope-css.mjs <widget.css>");
  process.exit(2);
}

const cls = { type: "class", name: ROOT };
const desc = { type: "combinator", value: "descendant" };
const any = { type: "universal" };
const SCOPED_FALLBACK_SELECTORS = [
  [cls],
  [cls, desc, any],
  [cls, desc, any, { type: "pseudo-element", kind: "before" }],
  [cls, desc, any, { type: "pseudo-element", kind: "after" }],
];

/** True for Tailwind's fallback rule `*, ::before, ::after, ::backdrop { --tw-...: ... }`. */
function isPropertiesFallback(rule) {
  return (
    rule.type === "style" &&
    rule.value.selectors.some((s) => s.length === 1 && s[0].type === "universal") &&
    rule.value.declarations.declarations.every((d) => d.property === "custom" && d.value.name.startsWith("--tw-"))
  );
}

let dropped = 0;
let katexRules = 0;
let fontFaces = 0;
let scoped = 0;
const unscoped = [];

function selectorIsScoped(selector) {
  return selector.some(
    (c) =>
      (c.type === "class" && /^(lc:|lc-|livechat-)/.test(c.name)) ||
      c.type === "nesting" ||
      // :is()/:where()/:not()/:has() holding a scoped selector (Tailwind's group-*/has-* variants)
      (c.type === "pseudo-class" && Array.isArray(c.selectors) && c.selectors.some(selectorIsScoped)),
  );
}

/** KaTeX's `.katex…` selector inside the widget root; `body` becomes the root. */
function scopeKatex(selector) {
  const first = selector[0];
  if (first?.type === "type" && first.name === "body" && selector.length === 1) return [cls];
  if (first?.type === "class" && /^katex/.test(first.name)) return [cls, desc, ...selector];
  return selector;
}

const input = readFileSync(file);
const { code } = transform({
  filename: file,
  code: input,
  minify: true,
  visitor: {
    Rule: {
      property() {
        dropped++;
        return [];
      },
      supports(rule) {
        const inner = rule.value.rules;
        if (!inner.length || !inner.every(isPropertiesFallback)) return undefined;
        scoped++;
        // No @supports condition: without @property, every browser needs the fallback.
        return inner.map((r) => ({ ...r, value: { ...r.value, selectors: SCOPED_FALLBACK_SELECTORS } }));
      },
      "font-face"() {
        fontFaces++;
        return [];
      },
      style(rule) {
        const katex = rule.value.selectors.map(scopeKatex);
        const changed = katex.some((s, i) => s !== rule.value.selectors[i]);
        if (changed) {
          katexRules++;
          rule = { ...rule, value: { ...rule.value, selectors: katex } };
        }
        for (const selector of rule.value.selectors) {
          if (!selectorIsScoped(selector)) unscoped.push(JSON.stringify(selector).slice(0, 200));
        }
        return changed ? rule : undefined;
      },
    },
  },
});

const out = code.toString().replace(/\bKaTeX_/g, "lcKaTeX_");
const problems = [...unscoped.map((s) => `unscoped selector: ${s}`)];
if (/@property\b/.test(out)) problems.push("an @property rule is left");
if (/:root\b|:host\b/.test(out)) problems.push("a :root/:host rule is left");
if (/@font-face|url\((?!["']?data:)/.test(out)) problems.push("a font or remote URL is left (fonts come with the math chunk)");
if (problems.length) {
  console.error(`scope-css: ${file} would style elements outside the widget:\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
writeFileSync(file, out);
console.log(
  `scope-css: dropped ${dropped} @property rules and ${fontFaces} @font-face rules, scoped ${scoped} fallback block(s) ` +
    `and ${katexRules} KaTeX rules; ${out.length} bytes`,
);
