// test/kraken.global-teardown.mjs: closes the emulators of the global setup
export default async function stopEmulators () {
  await Promise.all(globalThis.krakens.map(kraken => kraken.close()))
}
