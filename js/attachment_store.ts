// The bytes of sent files, as blob URLs, per sha256: each file is asked for once
// (`load_attachment`, a request with an answer) however many thumbnails show it, and
// its URL is revoked when the last one showing it goes. A message this view just sent
// shows the local bytes at once: they are offered here before the kernel names them.
import type { PendingFile } from "./attachments";
import type { Requests } from "./requests";
import type { Attachment } from "./types";

/** Ask the kernel for a file's bytes: the answer's media type and its first buffer. */
export type LoadFile = (chatId: string, sha256: string) => Promise<{ mediaType: string; bytes: BlobPart }>;

interface Entry {
  refs: number;
  url: Promise<string>;
  /** Set once the URL exists (it is revoked with the entry). */
  made: string | null;
}

export class AttachmentStore {
  private entries = new Map<string, Entry>();
  private local: PendingFile[] = [];

  constructor(private load: LoadFile) {}

  /** The files of the message being sent: the kernel will name them by sha256 soon. */
  offerLocal(files: readonly PendingFile[]): void {
    this.local = [...files];
  }

  /** A blob URL for the file (shared; call release(sha256) once per acquire). */
  acquire(chatId: string, att: Attachment): Promise<string> {
    let entry = this.entries.get(att.sha256);
    if (!entry) {
      entry = { refs: 0, url: Promise.resolve(""), made: null };
      const e = entry;
      const local = this.takeLocal(att);
      const bytes = local
        ? Promise.resolve({ mediaType: att.media_type, bytes: local.bytes as BlobPart })
        : this.load(chatId, att.sha256);
      e.url = bytes.then(({ mediaType, bytes }) => {
        const url = URL.createObjectURL(new Blob([bytes], { type: mediaType || att.media_type }));
        // Released while it loaded: nobody shows it.
        if (this.entries.get(att.sha256) !== e) URL.revokeObjectURL(url);
        else e.made = url;
        return url;
      });
      // A failed load is forgotten with its last user, so the file is asked for again later.
      e.url.catch(() => undefined);
      this.entries.set(att.sha256, e);
    }
    entry.refs++;
    return entry.url;
  }

  release(sha256: string): void {
    const entry = this.entries.get(sha256);
    if (!entry || --entry.refs > 0) return;
    this.entries.delete(sha256);
    if (entry.made) URL.revokeObjectURL(entry.made);
  }

  /** How many files have URLs or are loading (for tests). */
  get size(): number {
    return this.entries.size;
  }

  dispose(): void {
    for (const entry of this.entries.values()) if (entry.made) URL.revokeObjectURL(entry.made);
    this.entries.clear();
    this.local = [];
  }

  /** The just-sent file the kernel now names (same size, the same name if it kept it). */
  private takeLocal(att: Attachment): PendingFile | null {
    const sameSize = this.local.filter((f) => f.size === att.size);
    const found = sameSize.find((f) => f.name === att.name) ?? sameSize[0];
    if (!found) return null;
    this.local = this.local.filter((f) => f !== found);
    return found;
  }
}

/** Files' bytes from the kernel, through this view's requests (the answer's buffers[0]). */
export function kernelFiles(requests: Requests): LoadFile {
  return (chat_id, sha256) =>
    requests.ask("load_attachment", { chat_id, sha256 }, { timeoutMs: 120_000 }).then(({ msg, buffers }) => {
      if (!buffers[0]) throw new Error("the kernel sent no bytes");
      return { mediaType: msg.media_type, bytes: buffers[0] as BlobPart };
    });
}
