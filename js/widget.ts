// Entry point of the front end: anywidget calls render() once per view.
// Placeholder until the widget issue lands: it shows the title trait.
import type { AnyModel } from "./types";

interface Model {
  title: string;
}

function render({ model, el }: { model: AnyModel<Model>; el: HTMLElement }) {
  el.classList.add("livechat-root");
  const title = document.createElement("div");
  title.className = "lc:p-4 lc:font-semibold";
  const update = () => {
    title.textContent = model.get("title");
  };
  update();
  model.on("change:title", update);
  el.append(title);
  return () => model.off("change:title", update);
}

export default { render };
