// A ChatApp on a FakeModel, mounted in the document, for the component tests.
import type { Traits } from "../types";
import { ChatApp } from "../widget";
import { FakeModel } from "./fake_model";

type Schedule = (cb: () => void) => void;
const mounted: ChatApp[] = [];

/** Mount a ChatApp; `schedule` runs its frame callbacks (by default at once). */
export function mountApp(over: Partial<Traits> = {}, schedule: Schedule = (cb) => cb(), model = new FakeModel(over)) {
  const host = document.createElement("div");
  document.body.append(host);
  const app = new ChatApp(model, host, { schedule });
  mounted.push(app);
  return { model, app, root: app.root, host };
}

/** For afterEach: destroy every app mounted so far and empty the document. */
export function unmountAll(): void {
  for (const app of mounted.splice(0)) app.destroy();
  document.body.replaceChildren();
}

/** Let answered requests settle (their promises resolve in microtasks). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}
