// Titles (a chat's, the app's, a search hit's) come from people, models and older files.
// They are drawn on one line, isolated from the text around them (<bdi>), without bidi
// formatting characters — U+202E can make "txt.exe" read "exe.txt" — or control
// characters, which draw as boxes. Message bodies are not titles: they keep every character.
import { h } from "./dom";

/** Line breaks and tabs: a space in a one-line title. */
const BREAKS = /[\t\n\v\f\r\u0085\u2028\u2029]/g;
/** C0/C1 controls, and bidi embeddings, overrides, isolates and marks. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters a title must not carry
const BIDI_AND_CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** The title as drawn: one line, no bidi formatting or control characters ("" if nothing is left). */
export function plainTitle(title: string): string {
  return title.replace(BREAKS, " ").replace(BIDI_AND_CONTROL, "").replace(/\s+/g, " ").trim();
}

/** The title as an isolated piece of text (its direction its own), or `fallback`. */
export function titleText(title: string, fallback: string): HTMLElement {
  return h("bdi", {}, plainTitle(title) || fallback);
}

/** A file name safe to offer for a download: a plain title, never empty. */
export function plainFileName(name: string, fallback = "chat"): string {
  return plainTitle(name) || fallback;
}
