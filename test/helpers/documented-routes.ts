import type { KrakenApp } from '../../src/app.ts'
import { PARENT_KEY } from '../../src/kernel/define-resource.ts'

export interface Operation { method: string, path: string }

/** Every operation /apidoc/json documents (the routes a client can know of). */
export async function documentedOperations (app: KrakenApp): Promise<Operation[]> {
  const res = await app.inject({ method: 'GET', url: '/apidoc/json' })
  const doc = res.json() as { paths: Record<string, Record<string, unknown>> }
  const out: Operation[] = []
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const method of Object.keys(ops)) {
      if (['get', 'post', 'put', 'patch', 'delete'].includes(method)) out.push({ method: method.toUpperCase(), path })
    }
  }
  return out
}

/** The access a documented path declares (`{param}` written as in /apidoc), from the app's route table. */
export function accessOf (app: KrakenApp, op: Operation): string {
  const url = op.path.replace(/\{(\w+)\}/g, ':$1')
  const route = app.kraken.routes.routes.find(r => r.method === op.method && r.url === url)
  if (route === undefined) throw new Error(`${op.method} ${op.path} is documented but not in the route table`)
  return route.access
}

/** Fills `{param}` with a real id when a resource owns the parameter (so the 401 is not a 404
 *  in disguise), else with a plausible name. */
export function concrete (app: KrakenApp, path: string): string {
  const { registry, store } = app.kraken
  let parent: string | undefined
  return path.replace(/\{(\w+)\}/g, (_m, param: string) => {
    const resource = registry.resources.find(r => r.paramName === param)
    const item = resource === undefined ? undefined : store.list(resource.collection).find(i => resource.parent === undefined || i[PARENT_KEY] === parent)
    const id = resource === undefined || item === undefined ? 'webserver' : String(item[resource.idField])
    parent = id
    return encodeURIComponent(id)
  })
}
