// KaTeX's fonts, bundled into the math chunk (esbuild's binary loader) and registered
// with the FontFace API: nothing is fetched from a URL, and the widget's stylesheet
// stays small until a formula appears. The families get an `lc` prefix (the CSS is
// renamed to match in scope-css.mjs), so another KaTeX on the page is not disturbed.
import amsRegular from "katex/dist/fonts/KaTeX_AMS-Regular.woff2";
import caligraphicBold from "katex/dist/fonts/KaTeX_Caligraphic-Bold.woff2";
import caligraphicRegular from "katex/dist/fonts/KaTeX_Caligraphic-Regular.woff2";
import frakturBold from "katex/dist/fonts/KaTeX_Fraktur-Bold.woff2";
import frakturRegular from "katex/dist/fonts/KaTeX_Fraktur-Regular.woff2";
import mainBold from "katex/dist/fonts/KaTeX_Main-Bold.woff2";
import mainBoldItalic from "katex/dist/fonts/KaTeX_Main-BoldItalic.woff2";
import mainItalic from "katex/dist/fonts/KaTeX_Main-Italic.woff2";
import mainRegular from "katex/dist/fonts/KaTeX_Main-Regular.woff2";
import mathBoldItalic from "katex/dist/fonts/KaTeX_Math-BoldItalic.woff2";
import mathItalic from "katex/dist/fonts/KaTeX_Math-Italic.woff2";
import sansBold from "katex/dist/fonts/KaTeX_SansSerif-Bold.woff2";
import sansItalic from "katex/dist/fonts/KaTeX_SansSerif-Italic.woff2";
import sansRegular from "katex/dist/fonts/KaTeX_SansSerif-Regular.woff2";
import scriptRegular from "katex/dist/fonts/KaTeX_Script-Regular.woff2";
import size1Regular from "katex/dist/fonts/KaTeX_Size1-Regular.woff2";
import size2Regular from "katex/dist/fonts/KaTeX_Size2-Regular.woff2";
import size3Regular from "katex/dist/fonts/KaTeX_Size3-Regular.woff2";
import size4Regular from "katex/dist/fonts/KaTeX_Size4-Regular.woff2";
import typewriterRegular from "katex/dist/fonts/KaTeX_Typewriter-Regular.woff2";

const FONTS: [family: string, weight: string, style: string, data: Uint8Array<ArrayBuffer>][] = [
  ["KaTeX_AMS", "400", "normal", amsRegular],
  ["KaTeX_Caligraphic", "700", "normal", caligraphicBold],
  ["KaTeX_Caligraphic", "400", "normal", caligraphicRegular],
  ["KaTeX_Fraktur", "700", "normal", frakturBold],
  ["KaTeX_Fraktur", "400", "normal", frakturRegular],
  ["KaTeX_Main", "700", "normal", mainBold],
  ["KaTeX_Main", "700", "italic", mainBoldItalic],
  ["KaTeX_Main", "400", "italic", mainItalic],
  ["KaTeX_Main", "400", "normal", mainRegular],
  ["KaTeX_Math", "700", "italic", mathBoldItalic],
  ["KaTeX_Math", "400", "italic", mathItalic],
  ["KaTeX_SansSerif", "700", "normal", sansBold],
  ["KaTeX_SansSerif", "400", "italic", sansItalic],
  ["KaTeX_SansSerif", "400", "normal", sansRegular],
  ["KaTeX_Script", "400", "normal", scriptRegular],
  ["KaTeX_Size1", "400", "normal", size1Regular],
  ["KaTeX_Size2", "400", "normal", size2Regular],
  ["KaTeX_Size3", "400", "normal", size3Regular],
  ["KaTeX_Size4", "400", "normal", size4Regular],
  ["KaTeX_Typewriter", "400", "normal", typewriterRegular],
];

export function installFonts(): void {
  if (typeof FontFace === "undefined" || typeof document === "undefined" || !document.fonts) return;
  for (const [family, weight, style, data] of FONTS) {
    const face = new FontFace(`lc${family}`, data, { weight, style, display: "block" });
    document.fonts.add(face);
    void face.load().catch(() => undefined); // a font that fails leaves KaTeX's fallback glyphs
  }
}
