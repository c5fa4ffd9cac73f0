import fc from 'fast-check'

/**
 * Other spellings of one URL path: what an attacker tries to slip a path past a guard that reads
 * the URL differently from the router. Each spelling applies one to three manglings at random
 * places; most still reach the same route on some server on the way, some reach nothing.
 */
const KINDS = [
  'percent', 'percent-lower', 'percent-segment', 'double', 'triple', 'upper', 'upper-segment',
  'backslash', 'backslash-encoded', 'slash-encoded', 'dot', 'dot-encoded', 'dotdot', 'dotdot-encoded',
  'semicolon', 'double-slash', 'trailing', 'fullwidth', 'overlong'
] as const
type Kind = typeof KINDS[number]

interface Mangle { kind: Kind, at: number, pick: number }

const TRAILING = ['/', '%20', '%00', '%09', '.', '%2e', '?', '#', '%3f', ';', '/.', '%2f']

function hex (c: string, lower = false): string {
  const h = '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')
  return lower ? h.toLowerCase() : h
}

/** Index of the n-th (modulo) character of `path` satisfying `test`, or -1. */
function nth (path: string, n: number, test: (c: string, i: number) => boolean): number {
  const found: number[] = []
  for (let i = 1; i < path.length; i++) if (test(path[i]!, i)) found.push(i)
  return found.length === 0 ? -1 : found[n % found.length]!
}

function splice (path: string, i: number, remove: number, insert: string): string {
  return i < 0 ? path : path.slice(0, i) + insert + path.slice(i + remove)
}

const plain = (c: string) => /[A-Za-z0-9_-]/.test(c)
const letter = (c: string) => /[a-z]/.test(c)
const slash = (c: string) => c === '/'

function apply (path: string, { kind, at, pick }: Mangle): string {
  switch (kind) {
    case 'percent': { const i = nth(path, at, plain); return splice(path, i, 1, hex(path[i] ?? '')) }
    case 'percent-lower': { const i = nth(path, at, letter); return splice(path, i, 1, hex(path[i] ?? '', true)) }
    case 'percent-segment': {
      const segments = path.split('/')
      const k = 1 + (at % Math.max(1, segments.length - 1))
      segments[k] = [...(segments[k] ?? '')].map(c => plain(c) ? hex(c) : c).join('')
      return segments.join('/')
    }
    case 'double': { const i = nth(path, at, plain); return splice(path, i, 1, '%25' + hex(path[i] ?? '').slice(1)) }
    case 'triple': { const i = nth(path, at, plain); return splice(path, i, 1, '%2525' + hex(path[i] ?? '').slice(1)) }
    case 'upper': { const i = nth(path, at, letter); return splice(path, i, 1, (path[i] ?? '').toUpperCase()) }
    case 'upper-segment': {
      const segments = path.split('/')
      const k = 1 + (at % Math.max(1, segments.length - 1))
      segments[k] = (segments[k] ?? '').toUpperCase()
      return segments.join('/')
    }
    case 'backslash': return splice(path, nth(path, at, slash), 1, '\\')
    case 'backslash-encoded': return splice(path, nth(path, at, slash), 1, pick % 2 === 0 ? '%5C' : '%5c')
    case 'slash-encoded': return splice(path, nth(path, at, slash), 1, pick % 2 === 0 ? '%2F' : '%2f')
    case 'dot': return splice(path, nth(path, at, slash), 1, '/./')
    case 'dot-encoded': return splice(path, nth(path, at, slash), 1, pick % 2 === 0 ? '/%2e/' : '/%2E/')
    case 'dotdot': return splice(path, nth(path, at, slash), 1, '/x/../')
    case 'dotdot-encoded': return splice(path, nth(path, at, slash), 1, ['/x/%2e%2e/', '/x/%2E%2E/', '/x/.%2e/', '/x%2f..%2f'][pick % 4]!)
    case 'semicolon': return splice(path, nth(path, at, slash), 1, pick % 2 === 0 ? ';p=1/' : ';/')
    case 'double-slash': return splice(path, nth(path, at, slash), 1, '//')
    case 'trailing': return path + TRAILING[pick % TRAILING.length]!
    case 'fullwidth': {
      // U+FF41.. (fullwidth a..z) as UTF-8 %-escapes: a normalizing server may fold them to ASCII.
      const i = nth(path, at, letter)
      const code = 0xff41 + ((path[i] ?? 'a').charCodeAt(0) - 97)
      return splice(path, i, 1, encodeURIComponent(String.fromCharCode(code)))
    }
    case 'overlong': return splice(path, nth(path, at, slash), 1, pick % 2 === 0 ? '%C0%AF' : '%E0%80%AF')
  }
}

/** Spellings of `path` other than itself. */
export function spellingsOf (path: string): fc.Arbitrary<string> {
  const mangle = fc.record({ kind: fc.constantFrom(...KINDS), at: fc.nat(64), pick: fc.nat(64) })
  return fc.array(mangle, { minLength: 1, maxLength: 3 })
    .map(mangles => mangles.reduce(apply, path))
    .filter(spelled => spelled !== path)
}

export const SPELLING_KINDS: readonly string[] = KINDS
