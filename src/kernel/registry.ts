import type { Resource } from './define-resource.ts'

/** The set of resources an app serves, with the lookups the kernel needs. */
export class Registry {
  readonly resources: readonly Resource[]
  private readonly byCollection = new Map<string, Resource>()
  private readonly byPlural = new Map<string, Resource>()

  constructor (resources: readonly Resource[]) {
    this.resources = resources
    for (const r of resources) {
      if (this.byCollection.has(r.collection)) throw new Error(`two resources use the collection ${r.collection}`)
      this.byCollection.set(r.collection, r)
      if (r.parent === undefined) this.byPlural.set(r.plural, r)
    }
  }

  get (collection: string): Resource | undefined {
    return this.byCollection.get(collection)
  }

  /** A top-level resource by its plural path segment. */
  top (plural: string): Resource | undefined {
    return this.byPlural.get(plural)
  }

  childrenOf (parent: Resource): Resource[] {
    return this.resources.filter(r => r.parent === parent)
  }

  childByPlural (parent: Resource, plural: string): Resource | undefined {
    return this.resources.find(r => r.parent === parent && r.plural === plural)
  }

  idField (collection: string): string {
    return this.byCollection.get(collection)?.idField ?? 'uuid'
  }
}
