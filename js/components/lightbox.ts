// A sent image at full size: a modal <dialog> with the image and its name. Esc, the
// close button or a click on the backdrop close it, and focus goes back to the
// thumbnail that opened it. The dialog sits inside the widget's root so its scoped
// styles and theme reach it (the top layer keeps the DOM parent's inherited values).
import { h, icon } from "../dom";
import { formatSize } from "../attachments";
import { iconButton } from "./ui";

export interface LightboxImage {
  url: string;
  name: string;
  size: number;
}

/** Open the image over the page; `onClose` runs once it is closed (release what it holds). */
export function openLightbox(opener: HTMLElement, image: LightboxImage, onClose: () => void): HTMLDialogElement {
  const close = h("button", {
    type: "button",
    class: iconButton("lc:size-8 lc:text-muted"),
    "aria-label": "Close",
    title: "Close (Esc)",
  });
  close.append(icon("x", 16));
  const title = h("h2", { class: "lc:m-0 lc:flex-1 lc:min-w-0 lc:truncate lc:text-ui lc:font-semibold" }, image.name);
  const dialog = h(
    "dialog",
    {
      class:
        "lc-lightbox lc:m-auto lc:p-0 lc:max-w-[min(96vw,1200px)] lc:max-h-[92vh] lc:bg-surface lc:text-fg lc:border " +
        "lc:border-line-strong lc:rounded-box lc:shadow-float lc:backdrop:bg-black/60",
      "aria-label": image.name,
      // Esc here closes the dialog; the widget's own Esc (Stop a reply) leaves it alone.
      "data-lc-own-esc": "",
    },
    h(
      "div",
      { class: "lc:flex lc:items-center lc:gap-2 lc:py-1.5 lc:ps-3 lc:pe-1.5 lc:border-b lc:border-line" },
      title,
      h("span", { class: "lc:shrink-0 lc:text-micro lc:text-muted" }, formatSize(image.size)),
      close,
    ),
    h(
      "div",
      { class: "lc:p-2 lc:overflow-auto lc:max-h-[calc(92vh-48px)]" },
      h("img", {
        src: image.url,
        alt: image.name,
        class: "lc-lightbox-image lc:block lc:max-w-full lc:h-auto lc:mx-auto",
      }),
    ),
  );
  let closed = false;
  const finish = () => {
    if (closed) return;
    closed = true;
    dialog.remove();
    onClose();
    if (opener.isConnected) opener.focus({ preventScroll: true });
  };
  const shut = () => {
    if (typeof dialog.close === "function" && dialog.open) dialog.close();
    finish();
  };
  close.addEventListener("click", shut);
  // Esc: the browser's own `cancel` closes a modal dialog; handled here too where it is not (jsdom).
  dialog.addEventListener("keydown", (e) => {
    e.stopPropagation(); // JupyterLab's shortcuts must not see keys typed here
    if (e.key !== "Escape") return;
    e.preventDefault();
    shut();
  });
  dialog.addEventListener("close", finish);
  // A click on the backdrop lands on the dialog itself (its content covers the rest).
  dialog.addEventListener("click", (e) => {
    if (e.target === dialog) shut();
  });
  (opener.closest(".livechat-root") ?? document.body).append(dialog);
  if (typeof dialog.showModal === "function") dialog.showModal();
  else dialog.setAttribute("open", "");
  close.focus();
  return dialog;
}
