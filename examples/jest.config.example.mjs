// jest.config.mjs: beside package.json
export default {
  transform: {}, // the tests are native ESM: run Jest with NODE_OPTIONS=--experimental-vm-modules
  // The emulators start in plain Node, outside Jest's module sandbox (which cannot load some of
  // the emulator's ESM-only dependencies before Node 24.9), and tests reach them over HTTPS.
  globalSetup: './test/kraken.global-setup.mjs',
  globalTeardown: './test/kraken.global-teardown.mjs'
}
