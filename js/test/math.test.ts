import { beforeAll, describe, expect, it } from "vitest";
import { renderMarkdown } from "../markdown";
import { mathReady, safeStyle, setMathLoader, typesetMath } from "../math";

beforeAll(async () => {
  setMathLoader(() => import("../math_engine"));
  expect(await mathReady()).not.toBeNull();
});

function show(md: string): HTMLElement {
  const div = document.createElement("div");
  div.innerHTML = renderMarkdown(md);
  typesetMath(div);
  return div;
}

const formulas = (root: HTMLElement) => Array.from(root.querySelectorAll<HTMLElement>(".lc-math"));

describe("math", () => {
  it("renders the four delimiters with KaTeX", () => {
    const root = show("Inline $x^2$ and \\(e^{i\\pi}+1=0\\).\n\n$$\\int_0^1 x\\,dx$$\n\n\\[a^2+b^2=c^2\\]");
    const f = formulas(root);
    expect(f.map((e) => e.getAttribute("aria-label"))).toEqual([
      "x^2",
      "e^{i\\pi}+1=0",
      "\\int_0^1 x\\,dx",
      "a^2+b^2=c^2",
    ]);
    for (const e of f) expect(e.querySelector(".katex")).not.toBeNull();
    expect(f.map((e) => e.classList.contains("lc-math-display"))).toEqual([false, false, true, true]);
    expect(root.querySelectorAll(".katex-display")).toHaveLength(2);
  });

  it("keeps prices as text", () => {
    for (const md of ["it costs $5 and $10", "between $5 and $ 10", "US$5 or US$10.", "pay $5, $10, or $20 today"]) {
      const root = show(md);
      expect(formulas(root), md).toHaveLength(0);
      expect(root.textContent?.trim()).toBe(md);
    }
  });

  it("keeps an escaped dollar literal and code spans untouched", () => {
    const root = show("\\$x\\$ and `$y$` and\n\n```\n$z$\n```");
    expect(formulas(root)).toHaveLength(0);
    expect(root.textContent).toContain("$x$");
    expect(root.textContent).toContain("$y$");
    expect(root.textContent).toContain("$z$");
  });

  it("renders only complete formulas while streaming", () => {
    expect(formulas(show("so $x^"))).toHaveLength(0);
    expect(show("so $x^").textContent).toContain("$x^");
    expect(formulas(show("a\n\n$$\n\\sum_i x_i"))).toHaveLength(0);
    expect(formulas(show("so \\(e^{i"))).toHaveLength(0);
    // Unclosed, `\(` is CommonMark's escaped parenthesis until the `\)` arrives.
    expect(show("so \\(e^{i").textContent).toContain("(e^{i");
    expect(formulas(show("a\n\n$$\n\\sum_i x_i\n$$\n"))).toHaveLength(1);
  });

  it("shows the source as written until KaTeX is there, backslashes included", () => {
    const div = document.createElement("div");
    div.innerHTML = renderMarkdown("\\(e^{i\\pi}+1=0\\)");
    expect(div.textContent?.trim()).toBe("\\(e^{i\\pi}+1=0\\)");
  });

  it("shows TeX errors as text, without throwing", () => {
    const root = show("$\\frac{1}{$ and $\\undefinedmacro{x}$");
    expect(root.querySelector(".katex-error")).not.toBeNull();
  });

  it("keeps only layout styles", () => {
    expect(safeStyle("height:1em;position:fixed;top:-2em;background:url(x);color:red;width:expression(alert(1))")).toBe(
      "height:1em;top:-2em;color:red",
    );
  });
});
