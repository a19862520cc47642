/**
 * A set kept in the order of a comparator, with O(log n) expected insert, delete, first, last,
 * select by index and rank: a treap (a binary search tree whose nodes also form a heap on random
 * priorities, which keeps it balanced in expectation) with subtree sizes for rank and select.
 * The fair lines keep their ZSET-like indexes in it (lib/core/fair-state.ts).
 */

interface TreapNode<T> {
  readonly value: T;
  readonly priority: number;
  size: number;
  left: TreapNode<T> | undefined;
  right: TreapNode<T> | undefined;
}

function sizeOf<T>(node: TreapNode<T> | undefined): number {
  return node === undefined ? 0 : node.size;
}

function resize<T>(node: TreapNode<T>): void {
  node.size = sizeOf(node.left) + sizeOf(node.right) + 1;
}

function rotateRight<T>(node: TreapNode<T>): TreapNode<T> {
  const top = node.left!;
  node.left = top.right;
  top.right = node;
  resize(node);
  resize(top);
  return top;
}

function rotateLeft<T>(node: TreapNode<T>): TreapNode<T> {
  const top = node.right!;
  node.right = top.left;
  top.left = node;
  resize(node);
  resize(top);
  return top;
}

/** Joins two treaps where every value of `a` orders before every value of `b`. */
function merge<T>(a: TreapNode<T> | undefined, b: TreapNode<T> | undefined): TreapNode<T> | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  if (a.priority > b.priority) {
    a.right = merge(a.right, b);
    resize(a);
    return a;
  }
  b.left = merge(a, b.left);
  resize(b);
  return b;
}

/**
 * Values ordered by `compare`, which must be a total order on the values held (no two compare
 * equal): a value is found, and deleted, by comparing, not by identity.
 */
export class OrderedSet<T> implements Iterable<T> {
  private root: TreapNode<T> | undefined = undefined;
  /** xorshift32 state for the priorities: the shape only affects speed, never the order, so a fixed seed is fine. */
  private seed = 0x2545f491;

  constructor(private readonly compare: (a: T, b: T) => number) {}

  /** How many values the set holds. */
  get size(): number {
    return sizeOf(this.root);
  }

  /** Adds `value` (it must not compare equal to one held). */
  insert(value: T): void {
    this.root = this.insertInto(this.root, { value, priority: this.nextPriority(), size: 1, left: undefined, right: undefined });
  }

  /** Removes the value that compares equal to `value`; whether there was one. */
  delete(value: T): boolean {
    const before = this.size;
    this.root = this.deleteFrom(this.root, value);
    return this.size !== before;
  }

  /** Removes every value. */
  clear(): void {
    this.root = undefined;
  }

  /** The smallest value, undefined when empty. */
  first(): T | undefined {
    let node = this.root;
    if (node === undefined) return undefined;
    while (node.left !== undefined) node = node.left;
    return node.value;
  }

  /** The largest value, undefined when empty. */
  last(): T | undefined {
    let node = this.root;
    if (node === undefined) return undefined;
    while (node.right !== undefined) node = node.right;
    return node.value;
  }

  /** The value with `index` values before it (0: the first), undefined when out of range. */
  at(index: number): T | undefined {
    let node = this.root;
    let i = index;
    while (node !== undefined) {
      const left = sizeOf(node.left);
      if (i < left) node = node.left;
      else if (i === left) return node.value;
      else {
        i -= left + 1;
        node = node.right;
      }
    }
    return undefined;
  }

  /** How many values order strictly before `value` (held or not): ZRANK. */
  rankOf(value: T): number {
    let node = this.root;
    let rank = 0;
    while (node !== undefined) {
      if (this.compare(value, node.value) <= 0) node = node.left;
      else {
        rank += sizeOf(node.left) + 1;
        node = node.right;
      }
    }
    return rank;
  }

  /** The values in order. */
  *[Symbol.iterator](): Iterator<T> {
    const path: TreapNode<T>[] = [];
    let node = this.root;
    while (node !== undefined || path.length > 0) {
      while (node !== undefined) {
        path.push(node);
        node = node.left;
      }
      const next = path.pop()!;
      yield next.value;
      node = next.right;
    }
  }

  private insertInto(node: TreapNode<T> | undefined, fresh: TreapNode<T>): TreapNode<T> {
    if (node === undefined) return fresh;
    node.size++;
    if (this.compare(fresh.value, node.value) < 0) {
      node.left = this.insertInto(node.left, fresh);
      return node.left.priority > node.priority ? rotateRight(node) : node;
    }
    node.right = this.insertInto(node.right, fresh);
    return node.right.priority > node.priority ? rotateLeft(node) : node;
  }

  private deleteFrom(node: TreapNode<T> | undefined, value: T): TreapNode<T> | undefined {
    if (node === undefined) return undefined;
    const c = this.compare(value, node.value);
    if (c === 0) return merge(node.left, node.right);
    if (c < 0) node.left = this.deleteFrom(node.left, value);
    else node.right = this.deleteFrom(node.right, value);
    resize(node);
    return node;
  }

  private nextPriority(): number {
    let x = this.seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.seed = x >>> 0;
    return this.seed;
  }
}
