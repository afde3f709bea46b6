// Files the person attaches to a message: which ones the kernel takes, checked here
// first so a 60 MB drop is not sent only to be refused (the kernel checks again and
// decides), and the bytes as they travel: binary buffers of the `send` message, one per
// file in the order of its `attachments`, never base64 in the JSON.
import type { AttachmentMeta, UploadLimits } from "./types";

const MB = 1024 * 1024;
export type { UploadLimits };
/** Until the `uploads` trait says (the kernel refuses more, with a banner). */
export const DEFAULT_LIMITS: UploadLimits = { file_bytes: 20 * MB, message_bytes: 10 * MB - 64 * 1024, count: 10 };

/** Media types by file extension: what the kernel takes. */
const BY_EXTENSION: Record<string, string> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  pdf: "application/pdf",
  csv: "text/csv",
  tsv: "text/tab-separated-values",
  txt: "text/plain",
  md: "text/markdown",
  py: "text/x-python",
  json: "application/json",
  ipynb: "application/x-ipynb+json",
};
const IMAGE_TYPES = new Set(["image/png", "image/jpeg", "image/gif", "image/webp"]);
const TYPES = new Set(Object.values(BY_EXTENSION));

/** For the file picker's `accept`. */
export const ACCEPT = Object.keys(BY_EXTENSION)
  .map((ext) => `.${ext}`)
  .join(",");

/** A file waiting in the composer: its bytes already read, so sending needs no wait. */
export interface PendingFile {
  name: string;
  /** The browser's guess, or the type its extension names. */
  mediaType: string;
  size: number;
  bytes: ArrayBuffer;
}

function extension(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot < 0 ? "" : name.slice(dot + 1).toLowerCase();
}

/** The media type the kernel would take this file as, or "" when it takes none. */
export function mediaTypeOf(name: string, type: string): string {
  const byName = BY_EXTENSION[extension(name)];
  if (byName) return byName;
  // A pasted image may come unnamed ("image.png" in most browsers, "" in some).
  return TYPES.has(type) ? type : "";
}

export function isImage(mediaType: string): boolean {
  return IMAGE_TYPES.has(mediaType);
}

/** "812 B", "14 KB", "3.2 MB". */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < MB) return `${Math.round(bytes / 1024)} KB`;
  const mb = bytes / MB;
  return `${mb < 10 ? mb.toFixed(1) : Math.round(mb)} MB`;
}

/** A short label for the type: "PNG", "PDF", "CSV". */
export function typeLabel(mediaType: string, name = ""): string {
  const ext = extension(name);
  if (ext && BY_EXTENSION[ext]) return ext === "jpeg" ? "JPG" : ext.toUpperCase();
  const sub = mediaType.split("/")[1] ?? "";
  return (sub.replace(/^x-/, "").split(/[+;]/)[0] || "file").toUpperCase();
}

/** Why this file cannot join the ones already attached, or "" when it can. */
export function refusal(
  file: { name: string; type: string; size: number },
  attached: readonly PendingFile[],
  limits: UploadLimits = DEFAULT_LIMITS,
): string {
  const name = file.name || "The pasted file";
  if (limits.count <= 0) return "Attaching files is turned off here.";
  if (!mediaTypeOf(file.name, file.type)) {
    return `${name}: this kind of file cannot be sent (images, PDF, CSV, TSV, text, Markdown, Python, JSON, notebooks).`;
  }
  if (file.size > limits.file_bytes) {
    return `${name} is ${formatSize(file.size)}: at most ${formatSize(limits.file_bytes)} per file.`;
  }
  if (attached.length >= limits.count) return `${name}: at most ${limits.count} files per message.`;
  const total = attached.reduce((n, f) => n + f.size, 0) + file.size;
  if (total > limits.message_bytes) {
    return `${name}: the files would come to ${formatSize(total)}, at most ${formatSize(limits.message_bytes)} per message.`;
  }
  return "";
}

/** A pasted image often has no useful name ("image.png"): give it one that says when. */
export function fileName(file: File, index: number): string {
  if (file.name && file.name !== "image.png") return file.name;
  const ext = extension(file.name) || (file.type.split("/")[1] ?? "png");
  return `pasted-${index + 1}.${ext === "jpeg" ? "jpg" : ext}`;
}

/** The `send` fields and buffers for these files (same order). */
export function wireFiles(files: readonly PendingFile[]): { attachments: AttachmentMeta[]; buffers: ArrayBuffer[] } {
  return {
    attachments: files.map((f) => ({ name: f.name, media_type: f.mediaType, size: f.size })),
    buffers: files.map((f) => f.bytes),
  };
}

/** A base64 PNG (a run's output) as a file to attach. */
export function pngFile(base64: string, name: string): PendingFile {
  const raw = atob(base64);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return { name, mediaType: "image/png", size: bytes.length, bytes: bytes.buffer };
}

/** Read a File's bytes (FileReader where Blob.arrayBuffer is missing: older Safari). */
export function readBytes(file: Blob): Promise<ArrayBuffer> {
  if (typeof file.arrayBuffer === "function") return file.arrayBuffer();
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result as ArrayBuffer);
    reader.onerror = () => reject(reader.error);
    reader.readAsArrayBuffer(file);
  });
}

/** A performance mark for the benchmark (lc-attach-paste .. lc-attach-thumb); absent APIs are fine. */
export function mark(name: "lc-attach-paste" | "lc-attach-thumb"): void {
  try {
    performance.mark(name);
  } catch {
    /* no User Timing here */
  }
}
