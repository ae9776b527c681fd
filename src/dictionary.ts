// Plain objects keyed by outside data (check names from the environment, node names from the
// apiserver, header names from clients) must have no prototype: with one, a key such as
// `__proto__` replaces the prototype instead of adding an entry, and `constructor` or
// `toString` read inherited functions.

/** An empty object without a prototype, for use as a string-keyed dictionary. */
export function dictionary<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}
