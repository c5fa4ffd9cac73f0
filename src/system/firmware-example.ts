/** The version /apidoc's example package installs: newer than the default device's, within its licence. */
export const EXAMPLE_FIRMWARE_VERSION = '4.3.0.2'

/**
 * The example upload of /apidoc: `kraken-emulator firmware pack --version 4.3.0.2 --notes 'Example
 * upgrade package of the Kraken emulator'`, base64 (test/firmware.test.ts checks it verifies).
 */
export const EXAMPLE_FIRMWARE_BASE64 =
  'H4sIAAAAAAAAA+2TzU7DMBCEe85TrHyGdB0bO+mdE0+xje0S2sSR7QAS6rujpKCKXDig8qd8l5VGI8/a1rTUNc7GlD9E360uAyIqKWGciDifiEJpwDOAnCs9+i+0zweGmCis8MtZ88v9EV4yAOZ8aCmxDbB9oL3trl0T2icKds3Z1WjogzdDPTnuJsdJfrQhNr4bZZmLHPPipLvmYCPbwHg4AAveJxfzpt2NzhoNF1VJRMaZwirJK6PqrVblVpbKKVU7yW8QRVWVTpiiFMaQo0JwrSTXxDKA4xTT+TTFsNtnavuDhaHfBTIWeqr3tLPgHaR7C6eVwbbDgZIPLDtmP/3sv4bz31wu47P+o1Tz/nOtl/5/B7NuQLIxwXv94a3VS10WFhYW/h2vDOg9SgAMAAA='
