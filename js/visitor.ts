// Private chats per browser (livechat_widget/visitors.py): this browser's random
// 128-bit secret, kept in localStorage so every page of this site in this browser
// profile finds the same chats. The kernel keeps the chats under a hash of it.
const STORAGE_KEY = "livechat-visitor-secret";
const SECRET = /^[0-9a-f]{32}$/;

function randomSecret(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Where the secret lives; `undefined` = storage the browser refuses (then the chats
 *  last as long as the page). */
function defaultStorage(): Storage | undefined {
  try {
    return globalThis.localStorage ?? undefined;
  } catch {
    return undefined; // e.g. storage disabled for this site
  }
}

let pageSecret: string | null = null;

/** This browser's secret: the stored one, or a new one that is stored. */
export function visitorSecret(storage: Storage | undefined = defaultStorage()): string {
  try {
    const stored = storage?.getItem(STORAGE_KEY);
    if (stored && SECRET.test(stored)) return stored;
    const fresh = randomSecret();
    storage?.setItem(STORAGE_KEY, fresh);
    if (storage) return fresh;
  } catch {
    // storage full or refused: fall through to a secret for this page only
  }
  pageSecret ??= randomSecret();
  return pageSecret;
}
