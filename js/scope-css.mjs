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
      style(rule) {
        for (const selector of rule.value.selectors) {
          if (!selectorIsScoped(selector)) unscoped.push(JSON.stringify(selector).slice(0, 200));
        }
        return undefined;
      },
    },
  },
});

const out = code.toString();
const problems = [...unscoped.map((s) => `unscoped selector: ${s}`)];
if (/@property\b/.test(out)) problems.push("an @property rule is left");
if (/:root\b|:host\b/.test(out)) problems.push("a :root/:host rule is left");
if (problems.length) {
  console.error(`scope-css: ${file} would style elements outside the widget:\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
writeFileSync(file, out);
console.log(`scope-css: dropped ${dropped} @property rules, scoped ${scoped} fallback block(s); ${out.length} bytes`);
