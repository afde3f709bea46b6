// Entry of the lazily loaded math chunk (static/math.js): KaTeX and its fonts.
// The main bundle never imports this file; see math.ts for how it is loaded.
import { installFonts } from "./math_fonts";

installFonts();
export { renderTex } from "./math_engine";
