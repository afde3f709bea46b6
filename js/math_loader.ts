// Loads the math chunk (static/math.js: KaTeX + fonts) from the kernel. anywidget
// imports our module from a blob: URL, so `import("./math.js")` would have nothing to
// resolve against; instead a view asks for the chunk (`load_math`, a request with an
// answer), gets the code as the answer's buffer (`math_chunk`) and imports it from a
// blob: URL of its own, as anywidget does with the main module. KaTeX is loaded once
// per page, by whichever view is open (the newest one asks).
import type { MathEngine } from "./math";
import type { Requests } from "./requests";

const TIMEOUT_MS = 60_000;
const views: Requests[] = [];

/** Let this view's requests load the math chunk; the returned function withdraws it. */
export function offerMathLoader(requests: Requests): () => void {
  views.push(requests);
  return () => {
    const i = views.indexOf(requests);
    if (i !== -1) views.splice(i, 1);
  };
}

/** The loader for setMathLoader: asks the kernel through the newest open view. */
export async function loadMathFromKernel(): Promise<MathEngine> {
  const requests = views[views.length - 1];
  if (!requests) throw new Error("no open view to ask the kernel");
  const { buffers } = await requests.ask("load_math", {}, { timeoutMs: TIMEOUT_MS });
  const chunk = buffers[0];
  if (!chunk) throw new Error("the kernel sent no code");
  const url = URL.createObjectURL(new Blob([chunk as BlobPart], { type: "text/javascript" }));
  try {
    return (await import(/* @vite-ignore */ url)) as MathEngine;
  } finally {
    URL.revokeObjectURL(url);
  }
}
