// The data-file format history (README "Data file"). Version 1 is the format every release wrote
// before there were migrations. A change to what a stored item may hold (a stricter rule, a renamed
// field, a new required one) adds one migration: a file here, `v<N>-<what>.ts`, exporting a
// `Migration` that turns a version N-1 Db into version N (the format is stamped for it), and one
// line below; its test opens the committed data file of version N-1 (test/fixtures/data-files/,
// opened by test/data-format.test.ts) and checks what the migration changed. Then bring the
// shipped fixtures to version N and record a file of version N: npx tsx scripts/data-file-fixture.ts.
import { currentVersion, formatOf, type Migration } from '../kernel/store.ts'
import { v2CountryCodes } from './v2-country-codes.ts'
import { v3RecordingLicence } from './v3-recording-licence.ts'

/** MIGRATIONS[i] turns version i + 1 into version i + 2. */
export const MIGRATIONS: readonly Migration[] = [
  v2CountryCodes,
  v3RecordingLicence
]

/** The format this release writes. */
export const CURRENT_FORMAT = formatOf(currentVersion(MIGRATIONS))
