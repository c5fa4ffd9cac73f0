// Raised by openStore when the data file (or its journal, or its lock) cannot be used as is.
// The message always starts with the file name so the CLI can print it unchanged, e.g.
// `data/kraken.json: not valid JSON (Unexpected end of JSON input at position 120)`.
export class StoreLoadError extends Error {
  override name = 'StoreLoadError'
}
