// Raised (as a rejection of commit/replace) when the data file cannot be written: a full or
// read-only disk, an I/O error. The write was undone in memory, so it left no trace; the same
// write may succeed later (the route layer answers 503 with Retry-After).
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError'
  /** the errno code of the failure (ENOSPC, EROFS, EIO, ...), when there was one */
  readonly code: string | undefined

  constructor (message: string, cause?: unknown) {
    super(message, { cause })
    const code = (cause as NodeJS.ErrnoException | undefined)?.code
    this.code = typeof code === 'string' ? code : undefined
  }
}
