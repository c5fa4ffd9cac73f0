// The preset file /apidoc shows for POST /apis/v2/presets/import (issue 20: each documented example
// works as sent on the default device). It is written out, not computed, as a file exported by
// GET .../file would be: its data_format stays the one it was written in, so a later migration
// brings its items forward as it does any older file's.

/** A class's configuration: an SRT listener input routed untouched to a multicast output. */
export const PRESET_FILE_EXAMPLE = {
  format: 'kraken-emulator-preset/1',
  data_format: 'kraken-emulator/2',
  name: 'imported-class.cfg',
  saved: 1764417600,
  configuration: {
    inputs: [{
      uuid: '3f6d2a0e-8b1c-4e57-9a2d-6c0b5e7f1a93',
      name: 'UAV-1 FMV (SRT listener)',
      protocol: 'ts_srt',
      srt_mode: 'listener',
      srt_port: 7001,
      srt_latency: 250,
      srt_encryption: 'none'
    }],
    outputs: [{
      uuid: '9c41e7b2-5d0a-4f86-b3e1-2a7d8c6f0e54',
      name: 'TOC multicast',
      protocol: 'ts_udp',
      url: 'udp://239.10.30.10:5000',
      ttl: 64
    }],
    streams: [{
      uuid: 'b2e8f1c4-7a3d-4960-8e5b-1d9c0a6f3b27',
      name: 'UAV-1 to the TOC',
      mode: 'iorouter',
      input: '3f6d2a0e-8b1c-4e57-9a2d-6c0b5e7f1a93',
      outputs: ['9c41e7b2-5d0a-4f86-b3e1-2a7d8c6f0e54'],
      auto_start: true,
      status: 'stopped',
      sub_status: ''
    }],
    transcoders: [],
    metadata: [],
    'metadata.relays': []
  }
}
