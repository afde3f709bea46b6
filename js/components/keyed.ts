// Keyed reconciliation of a container's children (the message list's bubbles, the
// sidebar's chats): one component per key, kept across updates; new keys are made,
// gone keys removed, and the DOM put in order moving only what is out of place.

export interface KeyedItem {
  readonly el: HTMLElement;
}

export class KeyedChildren<T extends KeyedItem> {
  private items = new Map<string, T>();

  /** `onRemove`: a component leaves (release what it holds; its element is removed here). */
  constructor(
    private parent: HTMLElement,
    private onRemove: (item: T) => void = () => undefined,
  ) {}

  get size(): number {
    return this.items.size;
  }

  /** The keys now shown (a copy). */
  keys(): Set<string> {
    return new Set(this.items.keys());
  }

  has(key: string): boolean {
    return this.items.has(key);
  }

  values(): IterableIterator<T> {
    return this.items.values();
  }

  /**
   * The parent's children become one component per datum, in order: `make` builds the
   * component of a new key, `update` draws every one (`fresh`: just made).
   */
  sync<D>(
    data: readonly D[],
    keyOf: (d: D) => string,
    make: (d: D, i: number) => T,
    update: (item: T, d: D, i: number, fresh: boolean) => void,
  ): void {
    const keep = new Set<string>();
    const wanted: HTMLElement[] = [];
    data.forEach((d, i) => {
      const key = keyOf(d);
      keep.add(key);
      let item = this.items.get(key);
      const fresh = !item;
      if (!item) {
        item = make(d, i);
        this.items.set(key, item);
      }
      update(item, d, i, fresh);
      wanted.push(item.el);
    });
    for (const [key, item] of this.items) {
      if (!keep.has(key)) this.drop(key, item);
    }
    placeInOrder(this.parent, wanted);
  }

  /** Every component leaves. */
  clear(): void {
    for (const [key, item] of this.items) this.drop(key, item);
  }

  private drop(key: string, item: T): void {
    this.onRemove(item);
    item.el.remove();
    this.items.delete(key);
  }
}

/** Make `parent`'s children exactly `wanted`, in order, moving only what is out of place. */
export function placeInOrder(parent: HTMLElement, wanted: readonly HTMLElement[]): void {
  const kids = parent.children;
  wanted.forEach((node, i) => {
    if (kids[i] !== node) parent.insertBefore(node, kids[i] ?? null);
  });
  while (kids.length > wanted.length) kids[kids.length - 1].remove();
}
