// Dotted software versions ("4.2.1.14"), as the licence's version_limit and firmware packages name them.

/** The numbers of a dotted version. */
export function versionParts (version: string): number[] {
  return version.split('.').map(Number)
}

/** -1, 0 or 1 as `a` is older, the same as or newer than `b`, numerically (`4.10` is above `4.9`; missing parts count as 0). */
export function compareVersions (a: string, b: string): number {
  const x = versionParts(a)
  const y = versionParts(b)
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0)
    if (d !== 0) return Math.sign(d)
  }
  return 0
}

/**
 * Whether a licence's `version_limit` allows `version`. The limit is read to its own precision:
 * "4.99" allows every 4.99.x.y ("valid for software versions up to 4.99") [ours].
 */
export function withinLimit (version: string, limit: string): boolean {
  const depth = versionParts(limit).length
  return compareVersions(versionParts(version).slice(0, depth).join('.'), limit) <= 0
}
