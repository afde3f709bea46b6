// A ready message the kernel put in the composer (the `draft` trait): "Ask livechat"
// under a cell's error fills it with a prompt and the error's context chip. Each view
// applies a draft once, by its id — a view drawn later (a reload, a second view) still
// gets the draft not yet sent; text "" means none (the kernel clears it once sent).
import type { Draft } from "../types";
import type { Composer } from "./composer";

export class DraftSlot {
  private applied = 0;

  constructor(private composer: Composer) {}

  /** Fill the composer from `draft` unless this view applied it already; true when it did. */
  apply(draft: Draft | undefined): boolean {
    if (!draft || typeof draft.id !== "number" || draft.id <= this.applied) return false;
    this.applied = draft.id;
    if (!draft.text) return false;
    this.composer.fill(draft.text, Array.isArray(draft.context) ? draft.context : []);
    return true;
  }
}
