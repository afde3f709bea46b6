// The controls of rendered markdown (markdown.ts returns sanitized markup only): each
// code block gets its toolbar (code_block.ts), blocks that scroll sideways take keyboard
// focus, and a remote image's placeholder gets "Show image": the image is fetched only
// when the reader clicks it. Everything here is made with DOM APIs, never from model text.
import { h, icon } from "../dom";
import { isRemoteImageUrl, isSafeUrl, renderMarkdownInto } from "../markdown";
import { focusableScrollers, wrapCodeBlocks } from "./code_block";
import { FOCUS } from "./ui";

/** Add the controls to rendered, sanitized markdown under `root` (again: only to what is new). */
export function decorateMarkdown(root: HTMLElement): void {
  focusableScrollers(root);
  wrapCodeBlocks(root);
  addShowImage(root);
}

/** Markdown into `el`, sanitized, with its controls. */
export function showMarkdown(el: HTMLElement, text: string, cached = true): void {
  renderMarkdownInto(el, text, cached);
  decorateMarkdown(el);
}

function addShowImage(root: HTMLElement): void {
  for (const span of Array.from(root.querySelectorAll<HTMLElement>("span.lc-img[data-lc-src]"))) {
    if (span.querySelector("button")) continue;
    const src = span.getAttribute("data-lc-src") || "";
    if (!isRemoteImageUrl(src) || !isSafeUrl(src)) continue;
    const show = h(
      "button",
      {
        type: "button",
        class: `lc-img-show lc:py-0.5 lc:px-2 lc:rounded-md lc:border lc:border-line-strong lc:text-xs lc:text-fg lc:whitespace-nowrap lc:hover:bg-hover ${FOCUS}`,
      },
      "Show image",
    );
    show.addEventListener("click", () => {
      const alt = span.querySelector("a")?.textContent?.replace(/^Image: /, "") ?? "";
      const img = h("img", {
        alt,
        referrerpolicy: "no-referrer",
        loading: "lazy",
        class: "lc:m-0 lc:max-w-full lc:h-auto lc:rounded-control",
      });
      img.src = src;
      span.replaceChildren(img);
    });
    span.prepend(icon("image", 14));
    span.append(show);
  }
}
