// Names (regions, zones, services) as small integers, so host state fits in typed arrays and
// per-service counters can be keyed by one number.
export class Interner {
  private readonly ids = new Map<string, number>();
  readonly names: string[] = [];

  /** The id of `name`, assigning the next one on first sight. */
  intern(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.names.length;
      this.ids.set(name, id);
      this.names.push(name);
    }
    return id;
  }

  /** The id of `name`, or -1 when it was never interned. */
  lookup(name: string): number {
    return this.ids.get(name) ?? -1;
  }

  get size(): number {
    return this.names.length;
  }
}
