// The active chat's settings, opened from the topbar: model (the provider's list, or a
// name typed by hand for servers that do not list theirs), system prompt, temperature,
// max tokens, tools (on or off, and how many model requests a reply may make), and the
// chat's price, budget and context window (cost_fields.ts). The kernel checks everything again (protocol.py) and records only
// what changed; an empty number field means "the default". The list of models is asked
// for each time the panel opens (`list_models`, a request with an answer).
// Closing it with edits not saved (Esc, the topbar button) asks first: save them,
// discard them, or keep editing. Cancel is the explicit discard.
import { h } from "../dom";
import { whyFailed } from "../requests";
import type { ChatSettings, ModelListMsg } from "../types";
import { CostFields, type CostValues } from "./cost_fields";
import { FOCUS, SMALL_BUTTON } from "./ui";

export interface SettingsState {
  settings: ChatSettings;
}

/** The provider's models as this view knows them. */
interface ModelList {
  names: string[];
  loading: boolean;
  error: string;
}

export interface SettingsHandlers {
  onSave: (values: SettingsValues & Partial<CostValues>) => void;
  onClose: () => void;
  /** The provider's models (the kernel asks it in the background). */
  listModels: () => Promise<ModelListMsg>;
}

export interface SettingsValues {
  model: string;
  system_prompt: string;
  temperature: number | null;
  max_tokens: number | null;
  tools: boolean;
  tool_steps: number;
}

export const MAX_TEMPERATURE = 2;
export const MAX_TOKENS = 1_000_000;
export const MAX_TOOL_STEPS = 50;
export const DEFAULT_TOOL_STEPS = 10;
/** A view's settings before the kernel's `chat_settings` arrive. */
export const DEFAULT_SETTINGS: ChatSettings = {
  model: "",
  system_prompt: "",
  temperature: null,
  max_tokens: null,
  tools: true,
  tool_steps: DEFAULT_TOOL_STEPS,
};
const OTHER = "\u0000other"; // the <select> value of "Other…" (never a model name)

const FIELD = "lc:flex lc:flex-col lc:gap-1 lc:text-xs lc:text-muted lc:min-w-0";
const CONTROL =
  "lc:w-full lc:min-w-0 lc:px-2 lc:py-1 lc:border lc:border-line-strong lc:rounded-control lc:bg-surface lc:text-fg " +
  `lc:text-ui lc:focus:border-accent ${FOCUS}`;

/** The form's values, checked like the kernel checks them; a string is the problem. */
export function readValues(
  model: string,
  prompt: string,
  temperature: string,
  maxTokens: string,
  tools = true,
  toolSteps = String(DEFAULT_TOOL_STEPS),
): SettingsValues | string {
  const name = model.trim();
  if (!name) return "Choose a model or type its name.";
  if (name.length > 200) return "The model name is too long (at most 200 characters).";
  if (name.includes("://") || name.startsWith("//")) return "The model must be a name, not a URL.";
  let temp: number | null = null;
  if (temperature.trim()) {
    temp = Number(temperature);
    if (!Number.isFinite(temp) || temp < 0 || temp > MAX_TEMPERATURE)
      return `The temperature must be between 0 and ${MAX_TEMPERATURE}.`;
  }
  let max: number | null = null;
  if (maxTokens.trim()) {
    max = Number(maxTokens);
    if (!Number.isInteger(max) || max < 1 || max > MAX_TOKENS)
      return `Max tokens must be a whole number between 1 and ${MAX_TOKENS.toLocaleString()}.`;
  }
  const steps = Number(toolSteps.trim() || Number.NaN);
  if (!Number.isInteger(steps) || steps < 1 || steps > MAX_TOOL_STEPS)
    return `Tool steps must be a whole number between 1 and ${MAX_TOOL_STEPS}.`;
  return { model: name, system_prompt: prompt, temperature: temp, max_tokens: max, tools, tool_steps: steps };
}

/** The form's controls. */
function makeControls() {
  const model = h("select", { class: `lc-model-select ${CONTROL}`, "aria-label": "Model" });
  const modelName = h("input", {
    type: "text",
    class: `lc-model-name ${CONTROL}`,
    "aria-label": "Model name",
    maxlength: 200,
    placeholder: "a model name, e.g. llama3.2",
    autocomplete: "off",
    spellcheck: "false",
  });
  const listNote = h("p", { class: "lc-model-note lc:text-micro lc:text-muted", "aria-live": "polite" });
  const prompt = h("textarea", {
    class: `lc-system-prompt ${CONTROL} lc:min-h-[4.5em] lc:max-h-[12em] lc:resize-y`,
    rows: 3,
    "aria-label": "System prompt",
    placeholder: "Instructions the model gets before the conversation",
    maxlength: 100_000,
  });
  const temperature = h("input", {
    type: "number",
    class: `lc-temperature ${CONTROL}`,
    "aria-label": "Temperature",
    min: 0,
    max: MAX_TEMPERATURE,
    step: 0.1,
    placeholder: "default",
    inputmode: "decimal",
  });
  const maxTokens = h("input", {
    type: "number",
    class: `lc-max-tokens ${CONTROL}`,
    "aria-label": "Max tokens",
    min: 1,
    max: MAX_TOKENS,
    step: 1,
    placeholder: "default",
    inputmode: "numeric",
  });
  // daisyUI's toggle: a checkbox (its role says on/off to screen readers).
  const tools = h("input", {
    type: "checkbox",
    class: `lc-tools lc:d-toggle lc:d-toggle-sm lc:checked:text-accent ${FOCUS}`,
  });
  const toolSteps = h("input", {
    type: "number",
    class: `lc-tool-steps ${CONTROL} lc:disabled:opacity-60`,
    "aria-label": "Tool steps",
    min: 1,
    max: MAX_TOOL_STEPS,
    step: 1,
    inputmode: "numeric",
  });
  return { model, modelName, listNote, prompt, temperature, maxTokens, tools, toolSteps };
}

let toolsHintId = 0;

/** The Tools switch with what it means, and the number of steps beside it. */
function toolsFields(tools: HTMLInputElement, toolSteps: HTMLInputElement): HTMLElement[] {
  const hintId = `lc-tools-hint-${++toolsHintId}`;
  tools.setAttribute("aria-describedby", hintId);
  const toggle = h(
    "div",
    { class: FIELD },
    h(
      "label",
      { class: "lc:inline-flex lc:items-center lc:gap-2 lc:text-ui lc:text-fg lc:cursor-pointer" },
      tools,
      "Tools",
    ),
    h(
      "span",
      { id: hintId, class: "lc:text-micro" },
      "The model may look at your variables, run Python (it asks first) and call your functions.",
    ),
  );
  return [toggle, h("label", { class: FIELD }, "Tool steps (model requests per reply)", toolSteps)];
}

export class SettingsPanel {
  readonly el: HTMLElement;
  readonly model: HTMLSelectElement;
  readonly modelName: HTMLInputElement;
  readonly prompt: HTMLTextAreaElement;
  readonly temperature: HTMLInputElement;
  readonly maxTokens: HTMLInputElement;
  readonly tools: HTMLInputElement;
  readonly toolSteps: HTMLInputElement;
  readonly cost = new CostFields();
  private listNote: HTMLElement;
  private problem: HTMLElement;
  private state: SettingsState | null = null;
  private models: ModelList = { names: [], loading: false, error: "" };
  private open = false;
  private dirty = false;
  /** Cancel and Save; hidden while the unsaved-changes question is asked. */
  private actions!: HTMLElement;
  /** "Save your changes?": Keep editing / Discard changes / Save changes. */
  readonly unsaved: HTMLElement;
  private keepEditing: HTMLButtonElement;

  constructor(
    id: string,
    private handlers: SettingsHandlers,
    signal: AbortSignal,
  ) {
    ({
      model: this.model,
      modelName: this.modelName,
      listNote: this.listNote,
      prompt: this.prompt,
      temperature: this.temperature,
      maxTokens: this.maxTokens,
      tools: this.tools,
      toolSteps: this.toolSteps,
    } = makeControls());
    this.problem = h("p", { class: "lc-settings-problem lc:text-xs lc:text-danger-fg", role: "alert", hidden: true });
    const { unsaved, keepEditing } = this.makeUnsaved(signal);
    this.unsaved = unsaved;
    this.keepEditing = keepEditing;
    const { form, cancel } = this.makeForm();
    this.el = h(
      "section",
      {
        class: "lc-settings lc:shrink-0 lc:max-h-[60%] lc:overflow-y-auto lc:p-3 lc:bg-side lc:border-b lc:border-line",
        id,
        "aria-label": "Chat settings",
        hidden: true,
        "data-lc-own-esc": "",
      },
      form,
    );
    this.listenTo(form, cancel, signal);
  }

  private makeForm(): { form: HTMLFormElement; cancel: HTMLButtonElement } {
    const save = h(
      "button",
      { type: "submit", class: `${SMALL_BUTTON} lc:bg-accent lc:text-on-accent lc:hover:bg-accent-hover` },
      "Save",
    );
    const cancel = h(
      "button",
      { type: "button", class: `${SMALL_BUTTON} lc:bg-surface lc:border lc:border-line-strong lc:hover:bg-hover` },
      "Cancel",
    );
    this.actions = h("div", { class: "lc:col-span-full lc:flex lc:justify-end lc:gap-2" }, cancel, save);
    const form = h(
      "form",
      { class: "lc:grid lc:grid-cols-2 lc:gap-x-3 lc:gap-y-2 lc:@max-compact:grid-cols-1", novalidate: true },
      h("label", { class: `${FIELD} lc:col-span-full` }, "Model", this.model, this.modelName, this.listNote),
      h("label", { class: `${FIELD} lc:col-span-full` }, "System prompt", this.prompt),
      h("label", { class: FIELD }, "Temperature", this.temperature),
      h("label", { class: FIELD }, "Max tokens", this.maxTokens),
      ...toolsFields(this.tools, this.toolSteps),
      ...this.cost.fields(),
      this.problem,
      this.actions,
      this.unsaved,
    );
    return { form, cancel };
  }

  /** The question asked when the panel would close with edits not saved. */
  private makeUnsaved(signal: AbortSignal): { unsaved: HTMLElement; keepEditing: HTMLButtonElement } {
    const button = (label: string, cls: string, onClick: () => void) => {
      const b = h("button", { type: "button", class: `${SMALL_BUTTON} ${cls}` }, label);
      b.addEventListener("click", onClick, { signal });
      return b;
    };
    const quiet = "lc:bg-surface lc:border lc:border-line-strong lc:hover:bg-hover";
    const keepEditing = button("Keep editing", quiet, () => this.keepEditingNow());
    const discard = button("Discard changes", quiet, () => this.handlers.onClose());
    const save = button("Save changes", "lc:bg-accent lc:text-on-accent lc:hover:bg-accent-hover", () => {
      this.showUnsaved(false);
      this.submit();
    });
    const unsaved = h(
      "div",
      {
        class:
          "lc-settings-unsaved lc:col-span-full lc:flex lc:flex-wrap lc:items-center lc:justify-end lc:gap-2 " +
          "lc:py-2 lc:px-2.5 lc:rounded-item lc:bg-surface lc:border lc:border-line-strong",
        role: "group",
        "aria-label": "Unsaved changes",
        hidden: true,
      },
      h("p", { class: "lc:flex-1 lc:min-w-40 lc:text-ui lc:text-fg" }, "Save your changes to this chat's settings?"),
      keepEditing,
      discard,
      save,
    );
    return { unsaved, keepEditing };
  }

  private listenTo(form: HTMLFormElement, cancel: HTMLButtonElement, signal: AbortSignal): void {
    form.addEventListener(
      "submit",
      (e) => {
        e.preventDefault();
        this.submit();
      },
      { signal },
    );
    cancel.addEventListener("click", () => this.handlers.onClose(), { signal });
    form.addEventListener(
      "input",
      () => {
        this.dirty = true;
        this.problem.hidden = true;
      },
      { signal },
    );
    this.model.addEventListener("change", () => this.drawModelName(), { signal });
    this.tools.addEventListener("change", () => this.drawToolSteps(), { signal });
    this.el.addEventListener(
      "keydown",
      (e) => {
        // Keys typed here belong to the widget (not JupyterLab's shortcuts); Esc closes
        // (asking first when edits are not saved), or, in the question, keeps editing.
        e.stopPropagation();
        if (e.key === "Escape") {
          e.preventDefault();
          if (this.asking) this.keepEditingNow();
          else this.requestClose();
        }
      },
      { signal },
    );
  }

  get isOpen(): boolean {
    return this.open;
  }

  /** Close, unless edits are not saved: then ask (save, discard, or keep editing). */
  requestClose(): void {
    if (!this.open) return;
    if (this.hasChanges()) this.showUnsaved(true);
    else this.handlers.onClose();
  }

  /** The form differs from the chat's saved settings. */
  hasChanges(): boolean {
    const s = this.state?.settings;
    if (!this.open || !this.dirty || !s) return false;
    const number = (v: number | null | undefined) => (v === null || v === undefined ? "" : String(v));
    const bad =
      this.temperature.validity.badInput || this.maxTokens.validity.badInput || this.toolSteps.validity.badInput;
    return (
      bad ||
      this.chosenModel() !== (s.model ?? "") ||
      this.prompt.value !== (s.system_prompt ?? "") ||
      this.temperature.value.trim() !== number(s.temperature) ||
      this.maxTokens.value.trim() !== number(s.max_tokens) ||
      this.tools.checked !== (s.tools ?? true) ||
      this.toolSteps.value.trim() !== String(s.tool_steps ?? DEFAULT_TOOL_STEPS) ||
      this.cost.changed(s)
    );
  }

  private get asking(): boolean {
    return !this.unsaved.hidden;
  }

  private showUnsaved(show: boolean): void {
    this.unsaved.hidden = !show;
    this.actions.hidden = show;
    if (show) this.keepEditing.focus({ preventScroll: true });
  }

  private keepEditingNow(): void {
    this.showUnsaved(false);
    this.prompt.focus({ preventScroll: true });
  }

  setOpen(open: boolean): void {
    if (open === this.open) return;
    this.open = open;
    this.el.hidden = !open;
    this.showUnsaved(false);
    if (open) {
      this.dirty = false;
      this.problem.hidden = true;
      this.fill();
      this.askModels();
      this.model.focus({ preventScroll: true });
    }
  }

  update(state: SettingsState): void {
    this.state = state;
    this.redraw();
  }

  private askModels(): void {
    this.setModels({ names: this.models.names, loading: true, error: "" });
    this.handlers.listModels().then(
      (msg) =>
        this.setModels({ names: Array.isArray(msg.names) ? msg.names : [], loading: false, error: msg.error || "" }),
      (err: unknown) => {
        const error = whyFailed(err);
        if (error !== null) this.setModels({ names: this.models.names, loading: false, error });
      },
    );
  }

  private setModels(models: ModelList): void {
    this.models = models;
    this.redraw();
  }

  private redraw(): void {
    if (!this.open) return;
    // What the person is typing stays; only the list of models is redrawn under it.
    if (!this.dirty) this.fill();
    else this.drawModels(this.model.value === OTHER ? "" : this.model.value);
  }

  private fill(): void {
    const s = this.state?.settings;
    if (!s) return;
    this.modelName.value = "";
    this.drawModels(s.model);
    this.prompt.value = s.system_prompt ?? "";
    this.temperature.value = s.temperature === null || s.temperature === undefined ? "" : String(s.temperature);
    this.maxTokens.value = s.max_tokens === null || s.max_tokens === undefined ? "" : String(s.max_tokens);
    this.tools.checked = s.tools ?? true;
    this.toolSteps.value = String(s.tool_steps ?? DEFAULT_TOOL_STEPS);
    this.cost.fill(s);
    this.drawToolSteps();
  }

  /** Steps mean nothing with tools off: the field rests (its value is kept and sent). */
  private drawToolSteps(): void {
    this.toolSteps.disabled = !this.tools.checked;
  }

  /** The model select: the provider's list, the chosen model if it is not listed, "Other…". */
  private drawModels(chosen: string): void {
    const models = this.models;
    const names = [...models.names];
    if (chosen && !names.includes(chosen)) names.unshift(chosen);
    const options = names.map((n) => h("option", { value: n }, n));
    options.push(h("option", { value: OTHER }, names.length ? "Other (type a name)…" : "Type a name…"));
    this.model.replaceChildren(...options);
    this.model.value = chosen ? chosen : OTHER;
    this.drawModelName();
    let note = "";
    if (models.loading) note = "Asking the provider for its models…";
    else if (models.error) note = `${models.error} Type a model name instead.`;
    else if (models.names.length)
      note = `${models.names.length} model${models.names.length === 1 ? "" : "s"} listed by the provider.`;
    else note = "The provider lists no models: type a name.";
    this.listNote.textContent = note;
    this.listNote.classList.toggle("lc:text-danger-fg", !!models.error);
  }

  private drawModelName(): void {
    this.modelName.hidden = this.model.value !== OTHER;
  }

  private chosenModel(): string {
    return this.model.value === OTHER ? this.modelName.value.trim() : this.model.value;
  }

  private submit(): void {
    const values = readValues(
      this.chosenModel(),
      this.prompt.value,
      this.temperature.value,
      this.maxTokens.value,
      this.tools.checked,
      this.toolSteps.value,
    );
    const cost = this.cost.read();
    const problem = typeof values === "string" ? values : typeof cost === "string" ? cost : "";
    if (typeof values === "string" || typeof cost === "string") {
      this.problem.textContent = problem;
      this.problem.hidden = false;
      return;
    }
    this.handlers.onSave({ ...values, ...cost });
    this.dirty = false;
  }
}
