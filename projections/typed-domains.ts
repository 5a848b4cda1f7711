// A node's (type, domain), interned and reference-counted: nodes share one object per pair, so a
// projection that remembers every node's domain pays a Map entry and no string copies. Shared by
// the domain and cross-domain indexes, which each keep their own table (projections never share state).

export interface TypedDomain {
  readonly type: string;
  readonly domain: string;
  nodes: number;
}

export class TypedDomains {
  private readonly byKey = new Map<string, TypedDomain>();

  /** The shared (type, domain) object, its count raised by one. */
  intern(type: string, domain: string): TypedDomain {
    const key = `${type}\u0000${domain}`;
    let typed = this.byKey.get(key);
    if (typed === undefined) {
      typed = { type, domain, nodes: 0 };
      this.byKey.set(key, typed);
    }
    typed.nodes++;
    return typed;
  }

  /** Lowers its count; the last node out drops it. */
  release(typed: TypedDomain): void {
    if (--typed.nodes === 0) this.byKey.delete(`${typed.type}\u0000${typed.domain}`);
  }

  clear(): void {
    this.byKey.clear();
  }
}
