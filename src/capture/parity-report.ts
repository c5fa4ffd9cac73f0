import { diffLines } from 'diff'
import escape from 'escape-html'
import type { Difference, ParityResult } from './parity.ts'

const KIND_TITLE: Record<Difference['kind'], string> = {
  status: 'status', header: 'header', cookie: 'cookie', body: 'body', keys: 'key set', type: 'type', format: 'value format'
}

/** The summary a terminal shows: counts, then the differences, new ones marked. */
export function summaryText (result: ParityResult, known: ReadonlySet<string>): string {
  const fresh = result.differences.filter(d => !known.has(d.id))
  const lines = [
    `parity with ${result.target}: ${result.compared} exchanges compared, ${result.identical} identical, ${result.different} different` +
      (result.skipped > 0 ? `, ${result.skipped} skipped` : ''),
    `${result.differences.length} difference(s), ${fresh.length} not in the baseline`
  ]
  for (const d of result.differences) lines.push(`  ${known.has(d.id) ? 'known' : 'NEW  '} ${describe(d)}`)
  lines.push('by endpoint (compared / identical / different):')
  for (const e of result.endpoints) lines.push(`  ${e.endpoint}  ${e.compared} / ${e.identical} / ${e.different}`)
  return lines.join('\n') + '\n'
}

function describe (d: Difference): string {
  return `${d.scope}: ${KIND_TITLE[d.kind]} ${d.field}: device ${d.device}, emulator ${d.emulator}`
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ')

/** The Markdown report: summary, each difference once (new ones first), the endpoints, what the seed could not hold. */
export function markdownReport (result: ParityResult, known: ReadonlySet<string>): string {
  const out: string[] = []
  out.push(`# Parity report: ${result.target}`, '')
  out.push(`- exchanges compared: ${result.compared}`, `- identical: ${result.identical}`, `- different: ${result.different}`)
  if (result.skipped > 0) out.push(`- skipped (no answer, or a body too large to keep): ${result.skipped}`)
  const fresh = result.differences.filter(d => !known.has(d.id))
  out.push(`- differences: ${result.differences.length} (${fresh.length} not in the baseline)`, '')
  out.push('## Differences', '')
  if (result.differences.length === 0) out.push('None: every answer of the emulator has the shape of the device\'s.', '')
  else {
    out.push('| | where | what | field | device | emulator | exchanges |', '|---|---|---|---|---|---|---|')
    for (const d of ordered(result.differences, known)) {
      out.push(`| ${known.has(d.id) ? 'known' : '**new**'} | ${cell(d.scope)} | ${KIND_TITLE[d.kind]} | \`${cell(d.field)}\` | ${cell(d.device)} | ${cell(d.emulator)} | ${seqList(d)} |`)
    }
    out.push('')
  }
  out.push('## By endpoint', '', '| endpoint | compared | identical | different |', '|---|---|---|---|')
  for (const e of result.endpoints) out.push(`| \`${cell(e.endpoint)}\` | ${e.compared} | ${e.identical} | ${e.different} |`)
  out.push('')
  if (result.unrepresented.length > 0) {
    out.push('## Not in the seed', '', 'What the capture shows that the emulator\'s fixtures cannot hold (the replay ran without it):', '')
    for (const u of result.unrepresented) out.push(`- ${u}`)
    out.push('')
  }
  return out.join('\n')
}

function ordered (differences: readonly Difference[], known: ReadonlySet<string>): Difference[] {
  return [...differences].sort((a, b) => Number(known.has(a.id)) - Number(known.has(b.id)) || a.id.localeCompare(b.id))
}

function seqList (d: Difference): string {
  const shown = d.seqs.slice(0, 8).map(s => `#${s}`).join(', ')
  return d.seqs.length > 8 ? `${shown} (+${d.seqs.length - 8})` : shown
}

/** The HTML report: the same tables, and for each difference the first exchange showing it, device and emulator side by side. */
export function htmlReport (result: ParityResult, known: ReadonlySet<string>): string {
  const e = (s: string | number) => escape(String(s))
  const rows = ordered(result.differences, known).map(d =>
    `<tr class="${known.has(d.id) ? 'known' : 'new'}"><td>${known.has(d.id) ? 'known' : 'new'}</td><td>${e(d.scope)}</td><td>${e(KIND_TITLE[d.kind])}</td><td><code>${e(d.field)}</code></td><td>${e(d.device)}</td><td>${e(d.emulator)}</td><td>${d.seqs.map(s => `<a href="#x${s}">#${s}</a>`).slice(0, 8).join(' ')}</td></tr>`)
  const sides: string[] = []
  for (const [seq, sample] of [...result.samples].sort((a, b) => a[0] - b[0])) {
    const left = JSON.stringify(sample.device, null, 2) ?? ''
    const right = JSON.stringify(sample.emulator, null, 2) ?? ''
    let l = ''
    let r = ''
    for (const part of diffLines(left, right)) {
      const text = e(part.value)
      if (part.added === true) r += `<ins>${text}</ins>`
      else if (part.removed === true) l += `<del>${text}</del>`
      else { l += text; r += text }
    }
    sides.push(`<section id="x${seq}"><h3>#${seq} <code>${e(sample.request)}</code></h3><div class="sides"><div><h4>device</h4><pre>${l}</pre></div><div><h4>emulator</h4><pre>${r}</pre></div></div></section>`)
  }
  const endpoints = result.endpoints.map(p => `<tr><td><code>${e(p.endpoint)}</code></td><td>${p.compared}</td><td>${p.identical}</td><td>${p.different}</td></tr>`)
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Parity report: ${e(result.target)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left}
tr.new td:first-child{font-weight:bold;color:#a00}.sides{display:grid;grid-template-columns:1fr 1fr;gap:1em}pre{background:#f6f6f6;padding:.5em;overflow:auto}
del{background:#fdd;text-decoration:none}ins{background:#dfd;text-decoration:none}</style></head>
<body><h1>Parity report: ${e(result.target)}</h1>
<p>${result.compared} exchanges compared, ${result.identical} identical, ${result.different} different${result.skipped > 0 ? `, ${result.skipped} skipped` : ''}; ${result.differences.length} difference(s), ${result.differences.filter(d => !known.has(d.id)).length} not in the baseline.</p>
<h2>Differences</h2>
${rows.length === 0 ? '<p>None.</p>' : `<table><tr><th></th><th>where</th><th>what</th><th>field</th><th>device</th><th>emulator</th><th>exchanges</th></tr>${rows.join('\n')}</table>`}
<h2>Side by side</h2>
${sides.length === 0 ? '<p>Nothing to show.</p>' : sides.join('\n')}
<h2>By endpoint</h2>
<table><tr><th>endpoint</th><th>compared</th><th>identical</th><th>different</th></tr>${endpoints.join('\n')}</table>
${result.unrepresented.length === 0 ? '' : `<h2>Not in the seed</h2><ul>${result.unrepresented.map(u => `<li>${e(u)}</li>`).join('')}</ul>`}
</body></html>
`
}
