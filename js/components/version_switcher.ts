// The `‹ 2/3 ›` switcher under a message with versions (edits of a user message,
// regenerated replies). It only asks: the kernel records the choice and sends back the
// branch to show.
import { h } from "../dom";
import { FOCUS } from "./ui";

export interface SwitcherState {
  /** Shown at all (a message with one version has no switcher). */
  shown: boolean;
  label: string;
  /** The version the ‹ / › buttons ask for, null at either end. */
  prev: number | null;
  next: number | null;
}

/** What the switcher shows for version `version` (from 1) of `versions`. */
export function switcherState(version: number, versions: number): SwitcherState {
  const total = Number.isInteger(versions) && versions > 0 ? versions : 1;
  const current = Number.isInteger(version) ? Math.min(Math.max(version, 1), total) : 1;
  return {
    shown: total > 1,
    label: `${current}/${total}`,
    prev: current > 1 ? current - 1 : null,
    next: current < total ? current + 1 : null,
  };
}

const ARROW =
  "lc-version-step lc:inline-grid lc:place-items-center lc:size-6 lc:rounded-control lc:text-sm lc:leading-none " +
  `lc:hover:bg-hover lc:hover:text-fg lc:disabled:opacity-35 lc:disabled:hover:bg-transparent ${FOCUS}`;

export class VersionSwitcher {
  readonly el: HTMLElement;
  readonly prevBtn: HTMLButtonElement;
  readonly nextBtn: HTMLButtonElement;
  private label: HTMLElement;
  private state: SwitcherState = switcherState(1, 1);

  /** `onSelect(version)`; `canSelect()` false (a reply streaming) makes the arrows inert. */
  constructor(onSelect: (version: number) => void, canSelect: () => boolean, signal?: AbortSignal) {
    this.prevBtn = h(
      "button",
      { type: "button", class: ARROW, "aria-label": "Previous version", title: "Previous version" },
      "‹",
    );
    this.nextBtn = h(
      "button",
      { type: "button", class: ARROW, "aria-label": "Next version", title: "Next version" },
      "›",
    );
    this.label = h("span", { class: "lc-version-label lc:px-0.5 lc:text-meta lc:tabular-nums" });
    this.el = h(
      "span",
      {
        class:
          "lc-versions lc:inline-flex lc:items-center lc:text-muted lc:group-data-[busy=true]/log:opacity-50 " +
          "lc:group-data-[busy=true]/log:pointer-events-none",
        role: "group",
        hidden: true,
      },
      this.prevBtn,
      this.label,
      this.nextBtn,
    );
    const step = (target: number | null) => {
      if (target !== null && canSelect()) onSelect(target);
    };
    this.prevBtn.addEventListener("click", () => step(this.state.prev), { signal });
    this.nextBtn.addEventListener("click", () => step(this.state.next), { signal });
  }

  update(version: number, versions: number): void {
    const s = switcherState(version, versions);
    this.state = s;
    this.el.hidden = !s.shown;
    this.label.textContent = s.label;
    this.el.setAttribute("aria-label", `Version ${s.label.replace("/", " of ")}`);
    this.prevBtn.disabled = s.prev === null;
    this.nextBtn.disabled = s.next === null;
  }
}
