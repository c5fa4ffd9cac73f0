// The import graph of src/, read with the TypeScript compiler's own pre-processor: every
// `import`, `import type`, `export ... from`, `import()` and `declare module '...'`, so type-only
// edges count like any other (a type cycle still ties the files together).
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import ts from 'typescript'

export interface ModuleImport {
  /** The specifier as written. */
  specifier: string
  /** The resolved file (relative to the root, `/`-separated) for a relative specifier. */
  file: string | undefined
}

/** Every .ts file under `dir` (relative to `root`, `/`-separated), sorted. */
export function sourceFiles (root: string, dir: string): string[] {
  const out: string[] = []
  const walk = (rel: string): void => {
    for (const entry of readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const child = `${rel}/${entry.name}`
      if (entry.isDirectory()) walk(child)
      else if (entry.name.endsWith('.ts')) out.push(child)
    }
  }
  walk(dir)
  return out.sort()
}

/** The imports of one source text; relative specifiers are resolved against `file`. */
export function importsOf (file: string, text: string): ModuleImport[] {
  const info = ts.preProcessFile(text, true, true)
  const specifiers = [...info.importedFiles, ...(info.ambientExternalModules ?? []).map(fileName => ({ fileName }))]
  return specifiers.map(({ fileName: specifier }) => ({
    specifier,
    file: specifier.startsWith('.') ? path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier)) : undefined
  }))
}

/** file -> its imports, for every .ts file under `dir`. */
export function moduleGraph (root: string, dir: string): Map<string, ModuleImport[]> {
  const graph = new Map<string, ModuleImport[]>()
  for (const file of sourceFiles(root, dir)) graph.set(file, importsOf(file, readFileSync(path.join(root, file), 'utf8')))
  return graph
}

/**
 * The import cycles: one per strongly connected component of more than one file (or a file that
 * imports itself), given as a path that starts and ends at the same file, followed by the
 * component's files when the path does not visit them all.
 */
export function findCycles (graph: ReadonlyMap<string, readonly ModuleImport[]>): string[][] {
  const edges = (file: string): string[] => [...new Set((graph.get(file) ?? []).flatMap(i => i.file !== undefined && graph.has(i.file) ? [i.file] : []))]
  // Tarjan's algorithm, iterative so a deep graph cannot overflow the stack.
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const onStack = new Set<string>()
  const stack: string[] = []
  const components: string[][] = []
  let next = 0
  for (const start of graph.keys()) {
    if (index.has(start)) continue
    const work: Array<{ file: string, children: string[], at: number }> = []
    const enter = (file: string): void => {
      index.set(file, next)
      low.set(file, next)
      next++
      stack.push(file)
      onStack.add(file)
      work.push({ file, children: edges(file), at: 0 })
    }
    enter(start)
    while (work.length > 0) {
      const frame = work[work.length - 1]!
      if (frame.at < frame.children.length) {
        const child = frame.children[frame.at++]!
        if (!index.has(child)) enter(child)
        else if (onStack.has(child)) low.set(frame.file, Math.min(low.get(frame.file)!, index.get(child)!))
        continue
      }
      work.pop()
      const parent = work[work.length - 1]
      if (parent !== undefined) low.set(parent.file, Math.min(low.get(parent.file)!, low.get(frame.file)!))
      if (low.get(frame.file) === index.get(frame.file)) {
        const component: string[] = []
        for (;;) {
          const file = stack.pop()!
          onStack.delete(file)
          component.push(file)
          if (file === frame.file) break
        }
        if (component.length > 1 || edges(frame.file).includes(frame.file)) components.push(component)
      }
    }
  }
  return components.map(component => {
    const cycle = cycleThrough(component, edges)
    return cycle.length - 1 === component.length ? cycle : [...cycle, `(${component.length} files tangled: ${[...component].sort().join(', ')})`]
  })
}

/** One concrete cycle inside a strongly connected component (shortest from its first file, by BFS). */
function cycleThrough (component: string[], edges: (file: string) => string[]): string[] {
  const members = new Set(component)
  const start = [...component].sort()[0]!
  const previous = new Map<string, string>()
  const queue = [start]
  while (queue.length > 0) {
    const file = queue.shift()!
    for (const child of edges(file)) {
      if (!members.has(child)) continue
      if (child === start) {
        const path = [start]
        for (let at: string | undefined = file; at !== undefined && at !== start; at = previous.get(at)) path.splice(1, 0, at)
        return [...path, start]
      }
      if (!previous.has(child)) {
        previous.set(child, file)
        queue.push(child)
      }
    }
  }
  return [start, start]
}
