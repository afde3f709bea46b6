// The composer's `/` commands, without the DOM: what `/name value` at the start of the
// composer means, the menu's entries (the chat's actions and the kernel's prompt
// templates), and how a template expands — each `{{x}}` naming an `@` item the kernel
// offers (or a chip already chosen) is filled with that name and the item attached, a
// typed value fills the first placeholder left, the rest stays `{{x}}` for the person.
import type { ChatSettings, Command, PromptPayload } from "./types";

/** The chat's own commands; `arg` names what they need after the name. */
export interface SlashAction {
  kind: "action";
  name: "new" | "clear" | "model" | "system" | "compare";
  description: string;
  arg?: string;
}

export interface SlashTemplate {
  kind: "template";
  name: string;
  description: string;
  prompt: PromptPayload;
}

export type SlashEntry = SlashAction | SlashTemplate;

export const ACTIONS: SlashAction[] = [
  { kind: "action", name: "new", description: "Start a new chat" },
  { kind: "action", name: "clear", description: "Archive this chat (as the chat list's Archive does)" },
  { kind: "action", name: "model", description: "Use another model in this chat", arg: "NAME" },
  { kind: "action", name: "system", description: "Set this chat's system prompt", arg: "TEXT" },
  { kind: "action", name: "compare", description: "Send the next message to 2-4 models side by side" },
];

/** What an action asks of the chat (widget.ts turns it into a command). */
export type SlashRun =
  | { type: "new_chat" }
  | { type: "clear" }
  | { type: "model"; model: string }
  | { type: "system"; text: string }
  | { type: "compare" };

const COMMAND = /^\/([A-Za-z0-9_-]*)(?:([ \t\n])([\s\S]*))?$/;
export const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** `/name value` at the start of the text: the name, whether a separator followed it, the value. */
export interface Typed {
  name: string;
  spaced: boolean;
  value: string;
}

export function parseSlash(text: string): Typed | null {
  const m = COMMAND.exec(text);
  if (!m) return null;
  return { name: m[1].toLowerCase(), spaced: m[2] !== undefined, value: (m[3] ?? "").trim() };
}

/** The menu's entries: the templates (a person's replaces nothing here: the kernel did that), then the actions. */
export function entries(prompts: readonly PromptPayload[]): SlashEntry[] {
  const templates: SlashEntry[] = prompts.map((prompt) => ({
    kind: "template",
    name: prompt.name,
    description: prompt.description,
    prompt,
  }));
  return [...templates, ...ACTIONS];
}

/** Entries whose name contains the query, names starting with it first. */
export function filterEntries(all: readonly SlashEntry[], query: string): SlashEntry[] {
  const q = query.toLowerCase();
  const hits = all.filter((e) => e.name.includes(q));
  return hits.sort((a, b) => Number(!a.name.startsWith(q)) - Number(!b.name.startsWith(q)));
}

/** What running an action with `value` asks for, or what is missing (no command is sent). */
export function actionRun(action: SlashAction, value: string): SlashRun | string {
  if (action.name === "new") return { type: "new_chat" };
  if (action.name === "clear") return { type: "clear" };
  if (action.name === "compare") return { type: "compare" };
  if (action.name === "model") {
    return value ? { type: "model", model: value } : "Type the model's name after /model, e.g. /model gpt-4o-mini.";
  }
  return value ? { type: "system", text: value } : "Type the system prompt after /system, e.g. /system Be brief.";
}

/**
 * The command an action sends: `shown` is the chat on screen (the one /clear archives),
 * `target` the chat new settings are for, `settings` its current ones (configure sends all).
 */
export function slashCommand(run: SlashRun, shown: string, target: string, settings: ChatSettings): Command | string {
  if (run.type === "new_chat") return run;
  if (run.type === "compare") return "Choose the models to compare above the message box.";
  if (run.type === "clear") return shown ? { type: "clear", chat_id: shown } : "There is no chat to archive yet.";
  const change = run.type === "model" ? { model: run.model } : { system_prompt: run.text };
  return { type: "configure", chat_id: target, ...settings, ...change };
}

export interface Expansion {
  text: string;
  /** `@` items to attach as chips, in order. */
  attach: string[];
  /** Where the placeholders left unfilled are, in the text. */
  unfilled: [number, number][];
}

/**
 * The template's body with what is known filled in. `offered`: the `@` items the kernel
 * offers now (empty when kernel context is off); `chosen`: the chips already attached.
 */
export function expand(
  prompt: PromptPayload,
  value: string,
  offered: readonly string[],
  chosen: readonly string[],
): Expansion {
  const items = new Set(offered);
  const known = (name: string) => items.has(name) || chosen.includes(name);
  const attach: string[] = [];
  const add = (name: string) => {
    if (items.has(name) && !chosen.includes(name) && !attach.includes(name)) attach.push(name);
  };
  const names = [...prompt.body.matchAll(PLACEHOLDER)].map((m) => m[1]);
  const filled = new Map<string, string>();
  for (const name of names) if (known(name)) filled.set(name, name);
  const first = names.find((name) => !filled.has(name));
  let tail = "";
  if (value && first !== undefined) filled.set(first, value);
  else if (value) tail = `\n\n${value}`; // nothing left to fill: the value follows the prompt
  const text = prompt.body.replace(PLACEHOLDER, (whole, name: string) => filled.get(name) ?? whole) + tail;
  for (const name of names) if (filled.get(name) === name) add(name);
  if (value) add(value); // `/summary df`: the typed name is an item too
  for (const name of prompt.context) add(name);
  return { text, attach, unfilled: placeholderRanges(text) };
}

/** Where each `{{x}}` of the text is. */
export function placeholderRanges(text: string): [number, number][] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => [m.index ?? 0, (m.index ?? 0) + m[0].length]);
}

/** The next placeholder at or after `from` (or the last one before `from`, going back). */
export function nextPlaceholder(text: string, from: number, back = false): [number, number] | null {
  const ranges = placeholderRanges(text);
  if (back) return ranges.filter(([start]) => start < from).pop() ?? null;
  return ranges.find(([start]) => start >= from) ?? null;
}
